// Integration rules for Integrated Gradients, as Captum defines them (captum.attr._utils.
// approximation_methods), so that the same rule and step count give Captum's numbers:
//   gausslegendre       nodes and weights of Gauss–Legendre on [0, 1]
//   riemann_left        α = 0, 1/n, …, 1 − 1/n;              weights 1/n
//   riemann_right       α = 1/n, …, 1;                        weights 1/n
//   riemann_middle      α = 1/2n, 3/2n, …, 1 − 1/2n;          weights 1/n
//   riemann_trapezoid   α = linspace(0, 1, n);  weights 1/n with the first and last halved.
// Captum's trapezoid weights sum to 1 − 1/n, not 1: its completeness gap is about f·/n by design,
// which the result's gap shows. It is kept as Captum has it, for parity.

export const IG_RULES = ['gausslegendre', 'riemann_trapezoid', 'riemann_left', 'riemann_right', 'riemann_middle'] as const;
export type IgRule = (typeof IG_RULES)[number];

export interface Quadrature {
  alphas: number[];
  weights: number[];
}

/** P_n(z) and P_{n-1}(z) by the three-term recurrence. */
function legendre(n: number, z: number): [number, number] {
  let p0 = 1;
  let p1 = z;
  for (let k = 2; k <= n; k++) {
    const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
    p0 = p1;
    p1 = p2;
  }
  return [p1, p0];
}

/** Gauss–Legendre nodes and weights on [-1, 1], ascending (as numpy.polynomial.legendre.leggauss). */
export function legendreGauss(n: number): { x: number[]; w: number[] } {
  if (n === 1) return { x: [0], w: [2] };
  const x = new Array<number>(n);
  const w = new Array<number>(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    // Tricomi's initial guess for the i-th largest root, then Newton on P_n.
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let iter = 0; iter < 100; iter++) {
      const [p, q] = legendre(n, z);
      const dz = p / ((n * (z * p - q)) / (z * z - 1));
      z -= dz;
      if (Math.abs(dz) < 1e-15) break;
    }
    const [p, q] = legendre(n, z);
    const dp = (n * (z * p - q)) / (z * z - 1);
    const weight = 2 / ((1 - z * z) * dp * dp);
    x[i] = -z;
    x[n - 1 - i] = z;
    w[i] = weight;
    w[n - 1 - i] = weight;
  }
  if (n % 2 === 1) x[(n - 1) / 2] = 0;
  return { x, w };
}

export function quadrature(rule: IgRule, n: number): Quadrature {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`steps must be a positive integer, not ${n}`);
  if (rule === 'gausslegendre') {
    const { x, w } = legendreGauss(n);
    return { alphas: x.map((v) => 0.5 * (1 + v)), weights: w.map((v) => 0.5 * v) };
  }
  if (n < 2) throw new RangeError(`the Riemann rules need at least 2 steps, not ${n}`);
  const weights = new Array<number>(n).fill(1 / n);
  let alphas: number[];
  switch (rule) {
    case 'riemann_trapezoid':
      weights[0] = 1 / n / 2;
      weights[n - 1] = 1 / n / 2;
      alphas = Array.from({ length: n }, (_, i) => i / (n - 1));
      break;
    case 'riemann_left':
      alphas = Array.from({ length: n }, (_, i) => i / n);
      break;
    case 'riemann_right':
      alphas = Array.from({ length: n }, (_, i) => (i + 1) / n);
      break;
    case 'riemann_middle':
      alphas = Array.from({ length: n }, (_, i) => (i + 0.5) / n);
      break;
  }
  return { alphas, weights };
}
