// Faithfulness of a ranking (DeYoung et al., ERASER, 2020; Samek et al., 2017), over the tokens that
// can be removed (the non-special ones), ranked by score, most positive first:
//   comprehensiveness(q) = f(x) − f(x without its top q·M tokens)       (higher: the top tokens matter)
//   sufficiency(q)       = f(x) − f(only its top q·M tokens)            (lower: they suffice)
// for q in 1, 5, 10, 20, 50 % (at least one token each), averaged as ERASER reports them; and the
// deletion curve f(x without its top k tokens) at evenly spaced k, with its AOPC, the mean of
// f(x) − f(x without the top k) over the curve's points (k = 0 included). The same figures for a
// seeded random ranking are the floor a useful attribution must beat. Tokens are removed the way the
// run's baseline removes them ([PAD]/[MASK]/[UNK] or deletion).

import { maskedRow, Problem } from './problem';
import { deriveSeed, Rng } from './rng';
import type { Runner, Row } from './runner';
import type { Faithfulness, FaithfulnessFigures, FaithfulnessOptions } from './types';

export const FAITHFULNESS_DEFAULTS: Required<FaithfulnessOptions> = { fractions: [0.01, 0.05, 0.1, 0.2, 0.5], curvePoints: 20 };

export function faithfulnessOptions(o: boolean | FaithfulnessOptions | undefined): Required<FaithfulnessOptions> | null {
  if (o === false) return null;
  const given = typeof o === 'object' ? o : {};
  return { fractions: given.fractions ?? FAITHFULNESS_DEFAULTS.fractions, curvePoints: given.curvePoints ?? FAITHFULNESS_DEFAULTS.curvePoints };
}

export function fractionCounts(M: number, fractions: number[]): number[] {
  return fractions.map((q) => Math.min(M, Math.max(1, Math.ceil(q * M - 1e-9))));
}

export function curveCounts(M: number, points: number): number[] {
  const P = Math.min(M, points);
  return Array.from({ length: P }, (_, j) => Math.round(((j + 1) * M) / P));
}

export function faithfulnessPasses(M: number, o: Required<FaithfulnessOptions>): number {
  return 2 * (2 * o.fractions.length + Math.min(M, o.curvePoints));
}

/** Feature indices (into p.features) by decreasing score; ties by position. */
export function rankFeatures(scores: number[], p: Problem): number[] {
  return p.features.map((_, k) => k).sort((a, b) => scores[p.features[b]!]! - scores[p.features[a]!]! || a - b);
}

async function figures(p: Problem, runner: Runner, order: number[], o: Required<FaithfulnessOptions>, replacement: number | null): Promise<FaithfulnessFigures> {
  const M = p.features.length;
  const rank = new Array<number>(M);
  order.forEach((k, r) => (rank[k] = r));
  const counts = fractionCounts(M, o.fractions);
  const curve = curveCounts(M, o.curvePoints);
  const rows: Row[] = [
    ...counts.map((c) => maskedRow(p, (k) => rank[k]! >= c, replacement)),
    ...counts.map((c) => maskedRow(p, (k) => rank[k]! < c, replacement)),
    ...curve.map((c) => maskedRow(p, (k) => rank[k]! >= c, replacement)),
  ];
  const f = await runner.values(rows, p.readout);
  const F = counts.length;
  const comprehensiveness = counts.map((_, i) => p.fx - f[i]!);
  const sufficiency = counts.map((_, i) => p.fx - f[F + i]!);
  const values = [p.fx, ...curve.map((_, j) => f[2 * F + j]!)];
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    comprehensiveness,
    sufficiency,
    comprehensivenessMean: mean(comprehensiveness),
    sufficiencyMean: mean(sufficiency),
    deletion: { removed: [0, ...curve], values, aopc: mean(values.map((v) => p.fx - v)) },
  };
}

export async function faithfulness(
  p: Problem,
  runner: Runner,
  scores: number[],
  o: Required<FaithfulnessOptions>,
  removal: 'pad' | 'mask' | 'unk' | 'delete',
  replacement: number | null,
): Promise<Faithfulness> {
  const M = p.features.length;
  const randomSeed = deriveSeed(p.seed, 0x7a17);
  const attribution = await figures(p, runner, rankFeatures(scores, p), o, replacement);
  const random = await figures(p, runner, new Rng(randomSeed).permutation(M), o, replacement);
  return { removal, fractions: o.fractions, counts: fractionCounts(M, o.fractions), attribution, random, randomSeed };
}
