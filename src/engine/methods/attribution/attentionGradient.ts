// Attention-gradient relevance (Chefer, Gur & Wolf 2021, "Generic Attention-model Explainability
// for Interpreting Bi-Modal and Encoder-Decoder Transformers", self-attention rule):
//   R = I;  for each layer in order:  Ā = E_h[(∇A ⊙ A)⁺],  R ← R + Ā·R
// with A the layer's attention probabilities and ∇A the exact gradient of the target with respect
// to them. A token's score is the row of R − I at the position the target is read from (the
// identity, each token's relevance to itself, is left out as Chefer et al. leave out the [CLS]
// column): position 0 for a classifier whose first token is special ([CLS]), else the last input
// position; for a continuation, the rows of every position that predicts one of its tokens.

import { LoupeError } from '../../../protocol/errors';
import type { MethodOutput } from './method';
import type { Problem } from './problem';
import { GradientRunner } from './gradientRunner';
import type { Runner } from './runner';

export { attentionTaps } from './gradientModel';

/** The query rows the target reads. */
export function targetRows(p: Problem): number[] {
  const n = p.ids.length;
  if (p.readout.kind === 'continuation') return p.readout.continuation.map((_, j) => n - 1 + j);
  if (p.readout.kind === 'class' && p.tokens[0]?.special) return [0];
  return [n - 1];
}

/** The relevance of the target's input: R (tokens × tokens, row-major) and each layer's Ā, in order. */
export interface Relevance {
  size: number;
  relevance: Float64Array;
  layerMaps: Float64Array[];
}

/** Accumulates R through the layers from one forward-and-backward row (the text and any continuation). */
export async function relevanceMatrix(p: Problem, runner: Runner, g: GradientRunner, taps: string[]): Promise<Relevance> {
  const row = { ids: p.ids.concat(p.continuation), prefixLen: p.ids.length };
  const S = row.ids.length;
  const [x] = await runner.gather([row.ids]);
  // R starts as the identity.
  let R = new Float64Array(S * S);
  for (let i = 0; i < S; i++) R[i * S + i] = 1;
  const layerMaps: Float64Array[] = [];
  await g.rows(row, 1, (_, dst) => dst.set(x!), p.readout, (_, out) => {
    for (const t of taps) {
      const tap = out.taps[t];
      if (!tap) throw new LoupeError('UNSUPPORTED', `No gradient reaches the attention tensor ${t}: the target does not depend on it.`);
      const [, heads, q, k] = tap.dims;
      if (q !== S || k !== S) throw new LoupeError('UNSUPPORTED', `The attention tensor ${t} has shape [${tap.dims.join(', ')}]; Loupe expects [1, heads, ${S}, ${S}].`);
      const bar = new Float64Array(S * S);
      for (let h = 0; h < heads!; h++) {
        const off = h * S * S;
        for (let j = 0; j < S * S; j++) {
          const v = tap.grad[off + j]! * tap.value[off + j]!;
          if (v > 0) bar[j] += v / heads!;
        }
      }
      layerMaps.push(bar);
      // R ← R + Ā·R
      const next = Float64Array.from(R);
      for (let a = 0; a < S; a++) {
        for (let m = 0; m < S; m++) {
          const w = bar[a * S + m]!;
          if (w === 0) continue;
          for (let c = 0; c < S; c++) next[a * S + c] += w * R[m * S + c]!;
        }
      }
      R = next;
    }
  });
  return { size: S, relevance: R, layerMaps };
}

/** Token scores from R: the target rows of R − I over the input positions. */
export function relevanceScores(p: Problem, rel: Relevance): { values: number[]; positions: number[] } {
  const S = rel.size;
  const R = rel.relevance;
  const positions = p.ids.map((_, i) => i);
  const rows = targetRows(p);
  const values = positions.map((i) => rows.reduce((s, q) => s + R[q * S + i]! - (q === i ? 1 : 0), 0));
  return { values, positions };
}

export async function attentionGradient(p: Problem, runner: Runner, g: GradientRunner, taps: string[]): Promise<MethodOutput> {
  const { values, positions } = relevanceScores(p, await relevanceMatrix(p, runner, g, taps));
  return { values, positions, baselineValue: null, completenessGap: null, fit: null };
}

/** The run's gradient runner that fetches the attention taps (the model's one gradient copy, as the other exact-gradient methods use). */
const withTaps = new WeakMap<Runner, Promise<GradientRunner>>();
export function attentionGradientRunner(runner: Runner, taps: string[]): Promise<GradientRunner> {
  let g = withTaps.get(runner);
  if (!g) {
    g = GradientRunner.open(runner, taps);
    withTaps.set(runner, g);
  }
  return g;
}
