// Numbers for the explanation view: ranks with ties averaged, Spearman's rank correlation, and the
// per-method normalisation of scores for shading.

/** Ranks (1-based) with ties given their average rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k]![1]] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman's ρ of two equally long lists (Pearson over their ranks); null under 2 values or no variance. */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  const n = Math.min(a.length, b.length);
  if (n < 2) return null;
  const ra = ranks(a.slice(0, n));
  const rb = ranks(b.slice(0, n));
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i]! - ma;
    const db = rb[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return null;
  return sab / Math.sqrt(saa * sbb);
}

/** The largest |score| over the attributed tokens (0 when none): shades are score / this. */
export function maxMagnitude(scores: readonly number[], attributed: readonly boolean[]): number {
  let m = 0;
  scores.forEach((s, i) => {
    if (attributed[i] && Number.isFinite(s)) m = Math.max(m, Math.abs(s));
  });
  return m;
}

export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(1);
  return x.toFixed(digits);
}
