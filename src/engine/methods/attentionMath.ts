// Aggregations of attention maps, on row-major Float32Arrays of n × n matrices.

/** Mean over `heads` matrices of size n × n stored one after the other. */
export function meanOverHeads(maps: Float32Array, heads: number, n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let h = 0; h < heads; h++) {
    const base = h * n * n;
    for (let i = 0; i < n * n; i++) out[i]! += maps[base + i]!;
  }
  for (let i = 0; i < n * n; i++) out[i]! /= heads;
  return out;
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return out;
}

/**
 * Attention rollout (Abnar & Zuidema 2020): each layer's head-mean A becomes 0.5·A + 0.5·I with
 * rows renormalised, and the layers are multiplied from the first up: R = Â_L · … · Â_1.
 */
export function rollout(layerMeans: Float32Array[], n: number): Float32Array {
  let r: Float64Array | null = null;
  for (const a of layerMeans) {
    const hat = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const v = 0.5 * a[i * n + j]! + (i === j ? 0.5 : 0);
        hat[i * n + j] = v;
        sum += v;
      }
      if (sum > 0) for (let j = 0; j < n; j++) hat[i * n + j]! /= sum;
    }
    r = r === null ? hat : matmul(hat, r, n);
  }
  return Float32Array.from(r ?? new Float64Array(n * n));
}

/** Keeps the rows and columns `keep` of each n × n matrix and renormalises each row to sum to 1. */
export function keepTokens(maps: Float32Array, count: number, n: number, keep: number[], renormalize: boolean): Float32Array {
  const m = keep.length;
  const out = new Float32Array(count * m * m);
  for (let c = 0; c < count; c++) {
    for (let qi = 0; qi < m; qi++) {
      const src = c * n * n + keep[qi]! * n;
      const dst = c * m * m + qi * m;
      let sum = 0;
      for (let ki = 0; ki < m; ki++) {
        const v = maps[src + keep[ki]!]!;
        out[dst + ki] = v;
        sum += v;
      }
      if (renormalize && sum > 0) for (let ki = 0; ki < m; ki++) out[dst + ki]! /= sum;
    }
  }
  return out;
}
