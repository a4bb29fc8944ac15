// Gradient methods on the exact gradient (reverse-mode differentiation of the ONNX graph,
// gradientModel.ts), one forward-and-backward row per evaluation point:
//   saliency      ‖∇_i f(x)‖₂ per token
//   gradxinput    ∇_i f(x) · x_i
//   ig            Σ_k w_k ∇_i f(b + α_k (x − b)) · (x_i − b_i), with the rule's nodes α_k and weights
//                 w_k (Captum's LayerIntegratedGradients on the word embeddings); one row per step,
//                 plus the baseline's row for f(b)
// Positions and baselines are those of the finite-difference methods (gradients.ts).

import type { MethodOutput } from './method';
import type { Problem } from './problem';
import { gradientPositions, GradientBaseline } from './gradients';
import type { GradientRunner } from './gradientRunner';
import { quadrature, IgRule } from './quadrature';
import type { Runner } from './runner';

function fullRow(p: Problem): { ids: number[]; prefixLen: number } {
  return { ids: p.ids.concat(p.continuation), prefixLen: p.ids.length };
}

/** ∇f at the input's own embeddings, and those embeddings. */
async function gradientAtInput(p: Problem, runner: Runner, g: GradientRunner): Promise<{ x: Float32Array; grad: Float32Array; value: number }> {
  const row = fullRow(p);
  const [x] = await runner.gather([row.ids]);
  let grad = new Float32Array(0);
  let value = NaN;
  await g.rows(row, 1, (_, dst) => dst.set(x!), p.readout, (_, out) => {
    grad = Float32Array.from(out.grad);
    value = out.value;
  });
  return { x: x!, grad, value };
}

const allInputPositions = (p: Problem): number[] => p.ids.map((_, i) => i);

export async function exactSaliency(p: Problem, runner: Runner, g: GradientRunner): Promise<MethodOutput> {
  const { grad } = await gradientAtInput(p, runner, g);
  const H = g.hidden;
  const positions = allInputPositions(p);
  const values = positions.map((i) => {
    let s = 0;
    for (let j = i * H; j < (i + 1) * H; j++) s += grad[j]! * grad[j]!;
    return Math.sqrt(s);
  });
  return { values, positions, baselineValue: null, completenessGap: null, fit: null };
}

export async function exactGradientTimesInput(p: Problem, runner: Runner, g: GradientRunner): Promise<MethodOutput> {
  const { x, grad } = await gradientAtInput(p, runner, g);
  const H = g.hidden;
  const positions = allInputPositions(p);
  const values = positions.map((i) => {
    let s = 0;
    for (let j = i * H; j < (i + 1) * H; j++) s += grad[j]! * x[j]!;
    return s;
  });
  return { values, positions, baselineValue: null, completenessGap: null, fit: null };
}

export interface BaselinePath {
  /** The input's embeddings, the baseline's, and x − b ([len × hidden] each). */
  x: Float32Array;
  b: Float32Array;
  diff: Float32Array;
  /** The positions that move from the baseline to the input (and are scored). */
  positions: number[];
}

/** The straight path from the baseline to the input: an id baseline's embeddings, or zeros, at the moving positions. */
export async function baselinePath(p: Problem, runner: Runner, hidden: number, baseline: GradientBaseline): Promise<BaselinePath> {
  const row = fullRow(p);
  const n = p.ids.length;
  const positions = gradientPositions(p, baseline.keepSpecial);
  const moving = new Set(positions);
  const baseIds = row.ids.map((id, i) => (i < n && moving.has(i) && baseline.id !== null ? baseline.id : id));
  const gathered = await runner.gather(baseline.id !== null ? [row.ids, baseIds] : [row.ids]);
  const x = gathered[0]!;
  const b = baseline.id !== null ? gathered[1]! : Float32Array.from(x);
  if (baseline.id === null) for (const i of positions) b.fill(0, i * hidden, (i + 1) * hidden);
  const diff = new Float32Array(x.length);
  for (let j = 0; j < x.length; j++) diff[j] = x[j]! - b[j]!;
  return { x, b, diff, positions };
}

/** Σ_j grad_ij · d_ij for each position i, added with weight w into acc. */
export function accumulateDot(acc: Float64Array, grad: ArrayLike<number>, d: ArrayLike<number>, positions: number[], hidden: number, w: number): void {
  for (const i of positions) {
    let s = 0;
    for (let j = i * hidden; j < (i + 1) * hidden; j++) s += grad[j]! * d[j]!;
    acc[i] += w * s;
  }
}

export async function exactIntegratedGradients(p: Problem, runner: Runner, g: GradientRunner, baseline: GradientBaseline, steps: number, rule: IgRule): Promise<MethodOutput> {
  const row = fullRow(p);
  const H = g.hidden;
  const { b, diff, positions } = await baselinePath(p, runner, H, baseline);

  const { alphas, weights } = quadrature(rule, steps);
  // Row 0 is the baseline (α = 0), for f(b); rows 1…steps the rule's nodes.
  const alphaOf = (r: number): number => (r === 0 ? 0 : alphas[r - 1]!);
  const acc = new Float64Array(p.ids.length);
  let fb = NaN;
  await g.rows(
    row,
    steps + 1,
    (r, dst) => {
      const a = alphaOf(r);
      for (let j = 0; j < dst.length; j++) dst[j] = b[j]! + a * diff[j]!;
    },
    p.readout,
    (r, out) => {
      if (r === 0) {
        fb = out.value;
        return;
      }
      accumulateDot(acc, out.grad, diff, positions, H, weights[r - 1]!);
    },
  );
  const values = positions.map((i) => acc[i]!);
  const sum = values.reduce((a, v) => a + v, 0);
  return { values, positions, baselineValue: fb, completenessGap: sum - (p.fx - fb), fit: null };
}

export const exactGradientPasses = {
  /** gather + one row */
  atInput: (): number => 2,
  ig: (steps: number, baselineIsId: boolean): number => (baselineIsId ? 2 : 1) + steps + 1,
};
