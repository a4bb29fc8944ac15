// Permutation importance over a numeric table, in two definitions:
//   sklearn:    importance = score(X) − score(X with the column(s) permuted), per repeat; the mean
//               and (population) std over n_repeats, as sklearn.inspection.permutation_importance.
//               As sklearn does: the baseline is scored on all rows, max_samples rows are drawn once
//               for the permuted scores, and every column is shuffled with the same sequence of
//               permutations (one per repeat).
//   label-free: importance = 1/N · Σ_j Σ_k (y_jk − y_jk,perm)², the mean squared change of the
//               model's outputs (all output components) when the column(s) are permuted.
// Work runs in batches of rows; cancellation is checked and progress reported between batches.

import { LoupeError } from '../../../protocol/errors';
import type { FeatureImportance, Scoring } from '../../../protocol/workerProtocol';
import type { Work } from '../../inference/predict';
import { Rng } from '../attribution/rng';
import { Predictions, score } from './scoring';
import type { TabularRunner } from './tabularRunner';

export interface FeatureGroup {
  name: string;
  columns: string[];
  /** Feature positions (columns of X) permuted together. */
  indices: number[];
}

export interface PermutationSpec {
  X: Float64Array;
  n: number;
  width: number;
  groups: FeatureGroup[];
  definition: 'sklearn' | 'label-free';
  scoring: Scoring | null;
  /** Class indices or regression targets, one per row (sklearn definition). */
  y: Float64Array | null;
  repeats: number;
  seed: number;
  maxSamples: number | undefined;
  /** Given row draw and permutations (parity replay) instead of seeded ones. */
  replay?: { rows: number[]; perms: number[][][] };
}

export interface PermutationOutcome {
  baselineScore: number | null;
  features: FeatureImportance[];
  rowsScored: number;
}

/** Rows scored for max_samples: a count (> 1) or a fraction (0, 1], as sklearn reads it. */
export function rowsForMaxSamples(n: number, maxSamples: number | undefined): number {
  if (maxSamples === undefined) return n;
  if (!(maxSamples > 0)) throw new LoupeError('BAD_REQUEST', `maxSamples must be a fraction in (0, 1] or a row count, not ${maxSamples}.`);
  if (maxSamples <= 1) return Math.max(1, Math.floor(maxSamples * n));
  if (!Number.isInteger(maxSamples)) throw new LoupeError('BAD_REQUEST', `maxSamples above 1 is a row count and must be whole, not ${maxSamples}.`);
  return Math.min(n, maxSamples);
}

/** The rows scored and one permutation per repeat, from the seed (or the replay). */
export function drawPermutations(spec: Pick<PermutationSpec, 'n' | 'repeats' | 'seed' | 'maxSamples' | 'replay' | 'groups'>): { rows: Int32Array; perms: (g: number, r: number) => Int32Array } {
  if (spec.replay) {
    const { rows, perms } = spec.replay;
    const m = rows.length;
    rows.forEach((r) => {
      if (!Number.isInteger(r) || r < 0 || r >= spec.n) throw new LoupeError('BAD_REQUEST', `Replayed row index ${r} is outside the ${spec.n} rows used.`);
    });
    if (perms.length !== spec.groups.length) throw new LoupeError('BAD_REQUEST', `The replay gives permutations for ${perms.length} features; the run has ${spec.groups.length}.`);
    const checked = perms.map((byRepeat, g) => {
      if (byRepeat.length !== spec.repeats) throw new LoupeError('BAD_REQUEST', `The replay gives ${byRepeat.length} repeats for feature ${g + 1}; the run has ${spec.repeats}.`);
      return byRepeat.map((p) => {
        const seen = new Uint8Array(m);
        for (const i of p) {
          if (!Number.isInteger(i) || i < 0 || i >= m || seen[i]) throw new LoupeError('BAD_REQUEST', `A replayed permutation of feature ${g + 1} is not a permutation of 0…${m - 1}.`);
          seen[i] = 1;
        }
        if (p.length !== m) throw new LoupeError('BAD_REQUEST', `A replayed permutation of feature ${g + 1} has ${p.length} entries, not ${m}.`);
        return Int32Array.from(p);
      });
    });
    return { rows: Int32Array.from(rows), perms: (g, r) => checked[g]![r]! };
  }
  const rng = new Rng(spec.seed);
  const m = rowsForMaxSamples(spec.n, spec.maxSamples);
  const rows = m < spec.n ? Int32Array.from(rng.subset(spec.n, m)) : Int32Array.from({ length: spec.n }, (_, i) => i);
  const perms = Array.from({ length: spec.repeats }, () => Int32Array.from(rng.permutation(m)));
  return { rows, perms: (_g, r) => perms[r]! };
}

/** Model rows a run takes: every row once (the baseline), then the scored rows per feature and repeat. */
export function forwardRowsFor(rows: number, rowsScored: number, groups: number, repeats: number): number {
  return rows + rowsScored * groups * repeats;
}

export async function permutationImportance(runner: TabularRunner, spec: PermutationSpec, work: Work): Promise<PermutationOutcome> {
  if (spec.repeats < 1 || spec.repeats > 1000) throw new LoupeError('BAD_REQUEST', `repeats must be from 1 to 1000, not ${spec.repeats}.`);
  const { rows, perms } = drawPermutations(spec);
  const m = rows.length;
  const W = spec.width;
  // The scored rows, in the model's input type, row-major.
  const Xs = runner.buffer(m);
  for (let i = 0; i < m; i++) for (let k = 0; k < W; k++) Xs[i * W + k] = spec.X[rows[i]! * W + k]!;
  const ys = spec.y ? Float64Array.from(rows, (r) => spec.y![r]!) : null;
  const total = forwardRowsFor(spec.n, m, spec.groups.length, spec.repeats);
  let done = 0;
  const B = runner.batchRows;
  const batch = runner.buffer(Math.min(B, spec.n));

  // Unpermuted outputs of every row: sklearn scores the baseline on all rows, even with max_samples.
  let all: Float64Array | null = null;
  for (let start = 0; start < spec.n; start += B) {
    work.token.throwIfCancelled();
    const n = Math.min(B, spec.n - start);
    for (let j = 0; j < n * W; j++) batch[j] = spec.X[start * W + j]!;
    const out = await runner.run(batch, n);
    all ??= new Float64Array(spec.n * runner.outWidth);
    all.set(out, start * runner.outWidth);
    done += n;
    work.progress(done, total, 'Baseline');
  }
  const C = runner.outWidth;
  const baselineScore = spec.definition === 'sklearn' ? score(spec.scoring!, spec.y!, { n: spec.n, width: C, P: all!, kind: runner.meaning }) : null;
  // The scored rows' unpermuted outputs, for the label-free definition.
  const base = new Float64Array(m * C);
  for (let i = 0; i < m; i++) base.set(all!.subarray(rows[i]! * C, (rows[i]! + 1) * C), i * C);
  const predictions = (P: Float64Array): Predictions => ({ n: m, width: C, P, kind: runner.meaning });

  const features: FeatureImportance[] = [];
  // For one group, each block of rows is run once per repeat with the group's columns overwritten in
  // place (values gathered from a column-major copy, so random reads stay within one column) and
  // restored after the block's last repeat: rows are never copied, and a block stays in cache over
  // its repeats. Outputs are kept per repeat for the scorers (repeats × rows × outputs).
  const Xt = runner.buffer(m);
  for (let i = 0; i < m; i++) for (let k = 0; k < W; k++) Xt[k * m + i] = Xs[i * W + k]!;
  const widest = Math.max(1, ...spec.groups.map((g) => g.indices.length));
  const saved = new Float64Array(B * widest);
  const permuted = spec.definition === 'sklearn' ? Array.from({ length: spec.repeats }, () => new Float64Array(m * C)) : [];
  for (let g = 0; g < spec.groups.length; g++) {
    const group = spec.groups[g]!;
    const cols = group.indices;
    const squared = new Float64Array(spec.repeats);
    for (let start = 0; start < m; start += B) {
      const n = Math.min(B, m - start);
      const view = Xs.subarray(start * W, (start + n) * W);
      for (let j = 0; j < cols.length; j++) for (let i = 0; i < n; i++) saved[j * B + i] = view[i * W + cols[j]!]!;
      try {
        for (let r = 0; r < spec.repeats; r++) {
          work.token.throwIfCancelled();
          const perm = perms(g, r);
          for (let j = 0; j < cols.length; j++) {
            const k = cols[j]!;
            const col = k * m;
            for (let i = 0; i < n; i++) view[i * W + k] = Xt[col + perm[start + i]!]!;
          }
          const out = await runner.run(view, n);
          if (spec.definition === 'label-free') {
            const o = start * C;
            let sq = 0;
            for (let j = 0; j < n * C; j++) sq += (base[o + j]! - out[j]!) ** 2;
            squared[r]! += sq;
          } else permuted[r]!.set(out, start * C);
          done += n;
          work.progress(done, total, `Permuting ${group.name}`);
        }
      } finally {
        for (let j = 0; j < cols.length; j++) for (let i = 0; i < n; i++) view[i * W + cols[j]!] = saved[j * B + i]!;
      }
    }
    const values = Array.from({ length: spec.repeats }, (_, r) => (spec.definition === 'label-free' ? squared[r]! / m : baselineScore! - score(spec.scoring!, ys!, predictions(permuted[r]!))));
    features.push({ name: group.name, columns: group.columns, ...meanStd(values), values });
  }
  return { baselineScore, features, rowsScored: m };
}

/** Mean and population standard deviation (numpy's default, as sklearn's importances_std). */
export function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}
