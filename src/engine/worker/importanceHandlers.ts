// The dataset methods of the worker protocol: describeDataset, planImportance, importance, explainRow.

import { LoupeError } from '../../protocol/errors';
import type { ImportanceParams, MethodName, ModelInfo, ParamsOf, ResultOf } from '../../protocol/workerProtocol';
import type { CancelToken, ProgressFn } from '../cancellation';
import { describeDataset } from '../data/describe';
import { isTextTask } from '../data/mapping';
import { MAX_TABULAR_BATCH } from '../inference/batching';
import { planTabular, resolveRun, tabularImportance } from '../methods/importance/tabularImportance';
import { DEFAULT_SHAP_SAMPLES, explainTabularRow } from '../methods/importance/tabularShap';
import { DEFAULT_TEXT_ROWS, planText, textDatasetImportance } from '../methods/importance/textDataset';
import { loadModel } from '../model/loadModel';
import { cacheDir, effectiveThreads, EngineState, runInfo } from './handlers';

function textClassifier(info: ModelInfo): void {
  if (info.task !== 'text-classifier') throw new LoupeError('BAD_REQUEST', `${info.path} is a ${info.task}: token importance over a dataset needs a text classifier.`, { file: info.onnxFile });
}

type DatasetMethod = 'describeDataset' | 'planImportance' | 'importance' | 'explainRow';
type Handler<M extends MethodName> = (params: ParamsOf<M>, state: EngineState, token: CancelToken, progress: ProgressFn) => Promise<ResultOf<M>>;

/** What a rerun needs, as recorded in runInfo.parameters (the data file by path; its rows by count). */
function recordedParameters(params: ImportanceParams, resolved: { definition: string; scoring: string | null; repeats: number; rowBudget: number; target: string | null }): Record<string, unknown> {
  const { data, mapping, groups, maxSamples, imputation, permutations, textColumn, method, textRows, samples, baseline, maxTokens, topRows } = params;
  return {
    data,
    mapping,
    target: resolved.target,
    definition: resolved.definition,
    scoring: resolved.scoring,
    repeats: resolved.repeats,
    maxSamples,
    rowBudget: resolved.rowBudget,
    groups,
    imputation: imputation ?? 'none',
    replayed: permutations !== undefined,
    textColumn,
    method,
    textRows,
    samples,
    baseline,
    maxTokens,
    topRows,
  };
}

export const importanceHandlers: { [M in DatasetMethod]: Handler<M> } = {
  describeDataset: async (params, state, token) => {
    const model = params.model ? (await loadModel(params.model, effectiveThreads(state.settings))).info : null;
    return describeDataset(params, model, token);
  },

  planImportance: async (params, state, token) => {
    const model = await loadModel(params.model, effectiveThreads(state.settings));
    if (isTextTask(model.info)) {
      textClassifier(model.info);
      const t = await planText(model, params, state.settings.maxMemoryMB, { token, progress: () => undefined });
      return { rows: t.rows, rowsExact: true, rowsScored: t.rows, features: 0, repeats: 0, forwardRows: t.forwardRows };
    }
    const resolved = await resolveRun(model.info, params);
    const desc = await describeDataset({ data: params.data, scanRows: 1 }, null, token);
    const rows = params.permutations ? params.permutations.rows.length : desc.rows;
    const plan = planTabular(rows, resolved.groups.length, resolved.repeats, params.permutations ? undefined : params.maxSamples, resolved.rowBudget);
    return { rows: desc.rows, rowsExact: desc.rowsExact, features: resolved.groups.length, repeats: resolved.repeats, ...plan };
  },

  importance: async (params, state, token, progress) => {
    const threads = effectiveThreads(state.settings);
    const model = await loadModel(params.model, threads);
    if (isTextTask(model.info)) {
      textClassifier(model.info);
      const env = { cacheDir: cacheDir(state.settings), threads, maxMemoryMB: state.settings.maxMemoryMB };
      const t = await textDatasetImportance(model, params, env, { token, progress });
      const { method, baseline, samples, maxTokens } = t.request;
      return {
        model: model.info,
        run: runInfo('importance', { ...recordedParameters(params, { definition: 'label-free', scoring: null, repeats: 0, rowBudget: params.textRows ?? DEFAULT_TEXT_ROWS, target: null }), textColumn: t.text.textColumn, method, baseline, samples, maxTokens }, model.info.sha256, 1, threads, params.seed ?? 0),
        kind: 'text',
        dataset: t.dataset,
        definition: 'label-free',
        scoring: null,
        baselineScore: null,
        repeats: 0,
        features: [],
        text: t.text,
        forwardRows: t.forwardRows,
        warnings: t.warnings,
      };
    }
    const r = await tabularImportance(model, params, { token, progress });
    return {
      model: model.info,
      run: runInfo('importance', recordedParameters(params, r.resolved), model.info.sha256, MAX_TABULAR_BATCH, threads, r.resolved.seed),
      kind: 'tabular',
      dataset: r.dataset,
      definition: r.resolved.definition,
      scoring: r.resolved.scoring,
      baselineScore: r.baselineScore,
      repeats: r.resolved.repeats,
      features: r.features,
      text: null,
      forwardRows: r.forwardRows,
      warnings: r.warnings,
    };
  },

  explainRow: async (params, state, token, progress) => {
    const threads = effectiveThreads(state.settings);
    const model = await loadModel(params.model, threads);
    if (isTextTask(model.info)) throw new LoupeError('BAD_REQUEST', `${model.info.path} is a ${model.info.task}: explain a text with "explain"; explainRow takes a tabular model.`, { file: model.info.onnxFile });
    const r = await explainTabularRow(model, params, { token, progress });
    const { data, mapping, row, background, samples, classIndex, imputation } = params;
    const warnings = Math.abs(r.completenessGap) > 1e-6 ? [`The scores miss f(x) − f(background) by ${r.completenessGap.toExponential(2)}.`] : [];
    return {
      model: model.info,
      run: runInfo('explainRow', { data, mapping, row, background: r.backgroundRows, samples: samples ?? DEFAULT_SHAP_SAMPLES, classIndex, imputation: imputation ?? 'none' }, model.info.sha256, MAX_TABULAR_BATCH, threads, params.seed ?? 0),
      row: params.row,
      features: r.names.map((name, k) => ({ name, column: r.mapping[k]!.column, value: r.x[k]!, score: r.phi[k]! })),
      baseValue: r.fEmpty,
      value: r.fx,
      target: r.target,
      backgroundRows: r.backgroundRows,
      fit: r.fit,
      warnings: background !== undefined && r.backgroundRows < background ? [...warnings, `The file has only ${r.backgroundRows} rows for the background.`] : warnings,
    };
  },
};
