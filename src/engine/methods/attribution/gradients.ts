// Integrated Gradients and Gradient × Input on ONNX, without autograd.
//
// The model is rewritten so that its word embeddings are an input (embeddingGraph.ts). A token's
// attribution needs only the derivative of f along that token's own direction d_i (for IG,
// d_i = x_i − b_i; for Gradient × Input, d_i = x_i), which a central finite difference gives from two
// forward passes:
//     ∇_i f(e) · d_i ≈ [f(e + h·d_i) − f(e − h·d_i)] / 2h        (only token i moves)
// IG_i = Σ_k w_k ∇_i f(b + α_k (x − b)) · d_i over the rule's nodes α_k and weights w_k, which is
// Captum's LayerIntegratedGradients on the word-embedding layer; Gradient × Input is ∇_i f(x) · x_i.
//
// The step h is relative to the token's direction, so the same h suits any embedding scale. Its
// default, 1e-2, balances the two errors of a float32 model: truncation, O(h²·f‴), and rounding,
// about ε·|f| / h with ε the float32 noise of a forward pass (~1e-7…1e-6 relative). Measured
// against Captum's LayerIntegratedGradients (relative L2 of the token scores, 6 inputs):
//   h = 3e-2: 6e-4 … 2e-3   h = 1e-2: 7e-5 … 2.4e-4   h = 3e-3: 2e-5 … 1.9e-4   h = 1e-3: 3e-5 … 5e-4
// Below 3e-3 rounding takes over; 1e-2 keeps a margin for bigger models, whose float32 noise is
// larger, at a truncation error far below the 2 % the references are held to.
//
// Baselines: 'zero' (a zero embedding), or the embedding of [PAD] / [MASK] / [UNK] (read through the
// model's own Gather). Special tokens keep their own embeddings unless keepSpecial is false; an LM
// continuation always does. A token whose baseline equals itself gets exactly 0.

import { LoupeError } from '../../../protocol/errors';
import type { MethodOutput } from './method';
import type { Problem } from './problem';
import { quadrature, IgRule } from './quadrature';
import type { Runner } from './runner';

export const DEFAULT_FD_STEP = 1e-2;

export interface GradientBaseline {
  /** Replacement id, or null for the zero embedding. */
  id: number | null;
  keepSpecial: boolean;
}

/** The positions that get a gradient score: every input token, or the non-special ones when specials stay at their own embeddings. */
export function gradientPositions(p: Problem, keepSpecial: boolean): number[] {
  return keepSpecial ? p.features : p.ids.map((_, i) => i);
}

export function igPasses(positions: number, steps: number, baselineIsId: boolean): number {
  // The embeddings of x (and of the baseline ids), f(baseline), then two passes per position and step.
  return (baselineIsId ? 2 : 1) + 1 + 2 * positions * steps;
}

export function gradXInputPasses(positions: number): number {
  return 1 + 2 * positions;
}

function checkStep(h: number): void {
  if (!(h > 0 && h < 0.5)) throw new LoupeError('BAD_REQUEST', `fdStep must be between 0 and 0.5, not ${h}.`);
}

export async function integratedGradients(p: Problem, runner: Runner, baseline: GradientBaseline, steps: number, rule: IgRule, h: number): Promise<MethodOutput> {
  checkStep(h);
  const full = p.ids.concat(p.continuation);
  const n = p.ids.length;
  const positions = gradientPositions(p, baseline.keepSpecial);
  const moving = new Set(positions);
  const baseIds = full.map((id, i) => (i < n && moving.has(i) && baseline.id !== null ? baseline.id : id));
  const gathered = await runner.gather(baseline.id !== null ? [full, baseIds] : [full]);
  const x = gathered[0]!;
  const H = x.length / full.length;
  // The baseline embeddings: gathered for an id baseline, zero at the moving positions otherwise.
  const b = baseline.id !== null ? gathered[1]! : Float32Array.from(x);
  if (baseline.id === null) for (const i of positions) b.fill(0, i * H, (i + 1) * H);
  const diff = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) diff[j] = x[j]! - b[j]!;

  const row = { ids: full, prefixLen: n };
  const [fb] = await runner.embeddedValues(row, 1, (_, dst) => dst.set(b), p.readout);
  const { alphas, weights } = quadrature(rule, steps);
  const P = positions.length;
  // Row r: step k = ⌊r / 2P⌋, position positions[⌊(r mod 2P) / 2⌋], sign + for even r, − for odd.
  const f = await runner.embeddedValues(
    row,
    2 * P * steps,
    (r, dst) => {
      const k = Math.floor(r / (2 * P));
      const i = positions[Math.floor((r % (2 * P)) / 2)]!;
      const alpha = alphas[k]!;
      for (let j = 0; j < dst.length; j++) dst[j] = b[j]! + alpha * diff[j]!;
      const shifted = alpha + (r % 2 === 0 ? h : -h);
      for (let j = i * H; j < (i + 1) * H; j++) dst[j] = b[j]! + shifted * diff[j]!;
    },
    p.readout,
  );
  const values = new Array<number>(P).fill(0);
  for (let k = 0; k < steps; k++) {
    for (let q = 0; q < P; q++) {
      const plus = f[k * 2 * P + 2 * q]!;
      const minus = f[k * 2 * P + 2 * q + 1]!;
      values[q] += (weights[k]! * (plus - minus)) / (2 * h);
    }
  }
  const sum = values.reduce((a, v) => a + v, 0);
  return { values, positions, baselineValue: fb!, completenessGap: sum - (p.fx - fb!), fit: null };
}

export async function gradientTimesInput(p: Problem, runner: Runner, h: number): Promise<MethodOutput> {
  checkStep(h);
  const full = p.ids.concat(p.continuation);
  const n = p.ids.length;
  const [x] = await runner.gather([full]);
  const H = x!.length / full.length;
  // Every input token (special ones too: Gradient × Input has no baseline to keep them at).
  const positions = p.ids.map((_, i) => i);
  const P = positions.length;
  const f = await runner.embeddedValues(
    { ids: full, prefixLen: n },
    2 * P,
    (r, dst) => {
      dst.set(x!);
      const i = positions[Math.floor(r / 2)]!;
      const scale = 1 + (r % 2 === 0 ? h : -h);
      for (let j = i * H; j < (i + 1) * H; j++) dst[j] = scale * x![j]!;
    },
    p.readout,
  );
  const values = positions.map((_, q) => (f[2 * q]! - f[2 * q + 1]!) / (2 * h));
  return { values, positions, baselineValue: null, completenessGap: null, fit: null };
}
