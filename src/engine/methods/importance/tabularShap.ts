// KernelSHAP for one tabular row against a background sample drawn from the dataset (as
// shap.KernelExplainer): the value of a coalition S is the mean over the background rows b of
// f(x_S, b_not S); f(∅) is the background's mean output. Coalitions and the constrained fit are
// the token attributions' own (methods/attribution/kernelShap).

import { LoupeError } from '../../../protocol/errors';
import type { ExplainRowParams, FeatureMapping } from '../../../protocol/workerProtocol';
import { readRow } from '../../data/row';
import { loadTable } from '../../data/table';
import { argmax } from '../../inference/math';
import type { Work } from '../../inference/predict';
import type { LoadedModel } from '../../model/loadModel';
import { shapCoalitions, shapleyFit } from '../attribution/kernelShap';
import { resolveRun } from './tabularImportance';
import { TabularRunner } from './tabularRunner';

export const DEFAULT_BACKGROUND = 100;
export const DEFAULT_SHAP_SAMPLES = 2048;
/** Up to this many features every coalition is evaluated (exact Shapley values). */
export const EXACT_MAX_FEATURES = 12;

export interface RowShap {
  mapping: FeatureMapping[];
  names: string[];
  x: Float64Array;
  phi: number[];
  fEmpty: number;
  fx: number;
  target: { index: number | null; label: string | null; output: 'probability' | 'value' };
  backgroundRows: number;
  fit: { exact: boolean; evaluated: number; r2: number | null };
  completenessGap: number;
  forwardRows: number;
}

export async function explainTabularRow(model: LoadedModel, params: ExplainRowParams, work: Work): Promise<RowShap> {
  const resolved = await resolveRun(model.info, { model: params.model, data: params.data, mapping: params.mapping, target: null, definition: 'label-free' });
  const columns = resolved.mapping.map((m) => m.column);
  const seed = params.seed ?? 0;
  const B = params.background ?? DEFAULT_BACKGROUND;
  if (!Number.isInteger(B) || B < 1 || B > 10_000) throw new LoupeError('BAD_REQUEST', `background must be from 1 to 10000 rows, not ${B}.`);
  const samples = params.samples ?? DEFAULT_SHAP_SAMPLES;
  if (!Number.isInteger(samples) || samples < 2 || samples > 100_000) throw new LoupeError('BAD_REQUEST', `samples must be from 2 to 100000, not ${samples}.`);
  const x = await readRow(params.data, columns, params.row, work.token);
  const bg = await loadTable({ ref: params.data, features: columns, target: null, text: null, rowBudget: B, seed, imputation: params.imputation ?? 'none' }, work.token, () => undefined);
  const M = columns.length;
  const runner = new TabularRunner(model, M);

  const one = runner.buffer(1);
  one.set(x);
  const first = Float64Array.from(await runner.run(one, 1));
  const classifier = runner.meaning === 'probabilities';
  if (runner.meaning === 'labels') throw new LoupeError('UNSUPPORTED', runner.output.zipmapHint ?? 'KernelSHAP needs probabilities or values; the model gives only labels.', { file: model.info.onnxFile });
  const index = classifier ? (params.classIndex ?? argmax(first)) : 0;
  if (index < 0 || index >= runner.outWidth) throw new LoupeError('BAD_REQUEST', `classIndex must be from 0 to ${runner.outWidth - 1}, not ${index}.`);
  const C = runner.outWidth;
  const fx = first[index]!;

  const c = shapCoalitions(M, samples, seed, EXACT_MAX_FEATURES);
  const masks = [new Uint8Array(M), ...c.masks];
  const values = new Float64Array(masks.length);
  const total = masks.length * bg.n;
  const rowsPerBatch = Math.max(bg.n, Math.floor(runner.batchRows / bg.n) * bg.n);
  const batch = runner.buffer(rowsPerBatch);
  let done = 0;
  // Coalitions go through the model in batches of whole background blocks.
  for (let m0 = 0; m0 < masks.length; ) {
    work.token.throwIfCancelled();
    const count = Math.min(masks.length - m0, rowsPerBatch / bg.n);
    for (let j = 0; j < count; j++) {
      const mask = masks[m0 + j]!;
      for (let b = 0; b < bg.n; b++) {
        const o = (j * bg.n + b) * M;
        for (let k = 0; k < M; k++) batch[o + k] = mask[k] ? x[k]! : bg.X[b * M + k]!;
      }
    }
    const out = await runner.run(batch, count * bg.n);
    for (let j = 0; j < count; j++) {
      let s = 0;
      for (let b = 0; b < bg.n; b++) s += out[(j * bg.n + b) * C + index]!;
      values[m0 + j] = s / bg.n;
    }
    m0 += count;
    done += count * bg.n;
    work.progress(done, total, 'KernelSHAP');
  }
  const fEmpty = values[0]!;
  const fit = shapleyFit(M, c, Array.from(values.subarray(1)), fEmpty, fx);
  const names = resolved.groups.map((g) => g.name);
  return {
    mapping: resolved.mapping,
    names,
    x,
    phi: fit.phi,
    fEmpty,
    fx,
    target: classifier ? { index, label: model.info.labels?.[index] ?? String(index), output: 'probability' } : { index: null, label: null, output: 'value' },
    backgroundRows: bg.n,
    fit: { exact: c.exact, evaluated: masks.length, r2: fit.r2 },
    completenessGap: fit.completenessGap,
    forwardRows: runner.forwardRows,
  };
}
