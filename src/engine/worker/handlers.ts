// What the engine does for each protocol method. Independent of how messages arrive (IPC or a test).

import * as os from 'node:os';
import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import { EngineSettings, ExplainParams, MethodName, ParamsOf, PROTOCOL_VERSION, ResultOf, RunInfo } from '../../protocol/workerProtocol';
import type { CancelToken, ProgressFn } from '../cancellation';
import { classifyTexts, predictNextTokens, predictRows, Predictions } from '../inference/predict';
import { computeAttention } from '../methods/attention';
import { relevanceForView } from '../methods/attentionRelevance';
import { attribute, planAttribution, type AttributionRequest } from '../methods/attribution';
import { modelBlockOutputs } from '../methods/attribution/layerGradXAct';
import { findAttention } from '../model/attentionGraph';
import { loadModel, type LoadedModel } from '../model/loadModel';
import { importanceHandlers } from './importanceHandlers';
import { ENGINE_VERSION, ONNXRUNTIME_VERSION, TOKENIZERS_VERSION } from '../versions';

export const DEFAULT_SETTINGS: EngineSettings = { threads: 0, maxMemoryMB: 1024 };

export interface EngineState {
  settings: EngineSettings;
}

export function effectiveThreads(settings: EngineSettings): number {
  // Fixed, not adaptive: the thread count is part of what makes results reproducible.
  return settings.threads > 0 ? settings.threads : Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
}

type Handler<M extends MethodName> = (params: ParamsOf<M>, state: EngineState, token: CancelToken, progress: ProgressFn) => Promise<ResultOf<M>>;
type Handlers = { [M in MethodName]: Handler<M> };

export const handlers: Handlers = {
  versions: async () => ({
    protocol: PROTOCOL_VERSION,
    engine: ENGINE_VERSION,
    onnxruntime: ONNXRUNTIME_VERSION,
    tokenizers: TOKENIZERS_VERSION,
    node: process.versions.node,
    pid: process.pid,
  }),

  configure: async (params, state) => {
    if (params.threads < 0 || params.threads > 256) throw new LoupeError('BAD_REQUEST', `threads must be between 0 (automatic) and 256, not ${params.threads}.`);
    if (params.maxMemoryMB < 64) throw new LoupeError('BAD_REQUEST', `maxMemoryMB must be at least 64, not ${params.maxMemoryMB}.`);
    state.settings = { ...params };
    return {};
  },

  describe: async (params, state) => (await loadModel(params.model, effectiveThreads(state.settings))).info,

  attentionSupport: async (params, state) => {
    const model = await loadModel(params.model, effectiveThreads(state.settings));
    if (!model.tokenizer) return { readable: false, layers: 0, reason: `${model.info.task} models have no attention to read.` };
    try {
      return { readable: true, layers: findAttention(model.facts.graph, model.facts.opset, model.info.onnxFile).length, reason: null };
    } catch (e) {
      if (e instanceof LoupeError && e.code === 'UNSUPPORTED') return { readable: false, layers: 0, reason: e.message };
      throw e;
    }
  },

  predict: async (params, state, token, progress) => {
    const threads = effectiveThreads(state.settings);
    const model = await loadModel(params.model, threads);
    token.throwIfCancelled();
    const work = { token, progress };
    const opts = {
      topK: Math.max(1, Math.min(params.topK ?? 10, 1000)),
      generate: Math.max(0, Math.min(params.generate ?? 0, 1024)),
      maxTokens: params.maxTokens ?? null,
      maxMemoryMB: state.settings.maxMemoryMB,
    };
    let out: Predictions;
    const task = model.info.task;
    if (task === 'text-classifier' || task === 'causal-lm') {
      if (!params.texts || params.texts.length === 0) throw new LoupeError('EMPTY_INPUT', `${model.info.path} is a text model: give it a text.`);
      out = task === 'text-classifier' ? await classifyTexts(model, params.texts, opts, work) : await predictNextTokens(model, params.texts, opts, work);
    } else {
      if (!params.rows) throw new LoupeError('BAD_REQUEST', `${model.info.path} is a tabular model: give it rows of numbers.`);
      out = await predictRows(model, params.rows, work);
    }
    const { topK, generate, maxTokens } = opts;
    const run = runInfo('predict', { topK, generate, maxTokens }, model.info.sha256, out.batchSize, threads, null);
    return { model: model.info, run, predictions: out.predictions };
  },

  plan: async (params, state) => {
    const model = await textModel(params, effectiveThreads(state.settings));
    const plans = attributionRequests(params, state.settings).map((req) => ({ req, plan: planAttribution(model, params.text, req) }));
    const blocks = params.methods.includes('layer-gradxact') ? blockOutputsOrNone(model) : undefined;
    return { numTokens: plans[0]!.plan.numTokens, plans: plans.map(({ req, plan }) => ({ method: req.method, forwardPasses: plan.forwardPasses, gradients: plan.parameters.gradients ?? null })), blocks };
  },

  explain: async (params, state, token, progress) => {
    const threads = effectiveThreads(state.settings);
    const model = await textModel(params, threads);
    const requests = attributionRequests(params, state.settings);
    const env = { cacheDir: cacheDir(state.settings), threads, maxMemoryMB: state.settings.maxMemoryMB };
    // Progress runs over all methods together, in forward passes.
    const budgets = requests.map((req) => planAttribution(model, params.text, req).forwardPasses);
    const total = budgets.reduce((a, b) => a + b, 0);
    let before = 0;
    const explanations = [];
    for (let i = 0; i < requests.length; i++) {
      const offset = before;
      const r = await attribute(model, params.text, requests[i]!, env, { token, progress: (done, _t, message) => progress(offset + done, total, message ?? requests[i]!.method) });
      explanations.push({ ...r, parameters: { ...r.parameters } });
      before += budgets[i]!;
    }
    const { methods, target, baseline, samples, noise, steps, rule, window, seed, gradients, maxTokens, faithfulness, words, layer } = params;
    const batchSize = Math.max(...explanations.map((e) => e.batchSize));
    return {
      model: model.info,
      run: runInfo('explain', { methods, target, baseline, samples, noise, steps, rule, window, gradients, maxTokens, faithfulness, words, layer }, model.info.sha256, batchSize, threads, seed ?? 0),
      explanations,
    };
  },

  attention: async (params, state, token, progress) => {
    const threads = effectiveThreads(state.settings);
    const model = await attentionModel(params.model, threads);
    const result = await computeAttention(model, params, { cacheDir: cacheDir(state.settings), threads }, { token, progress });
    const { maxTokens, layers, heads, hideSpecial, relevance } = params;
    if (relevance) {
      const env = { cacheDir: cacheDir(state.settings), threads, maxMemoryMB: state.settings.maxMemoryMB };
      result.relevance = await relevanceForView(model, params.text, maxTokens ?? null, hideSpecial ?? false, env, { token, progress });
    }
    return { model: model.info, run: runInfo('attention', { maxTokens, layers, heads, hideSpecial: hideSpecial ?? false, relevance: relevance ?? false }, model.info.sha256, 1, threads, null), ...result };
  },

  attentionRelevance: async (params, state, token, progress) => {
    const threads = effectiveThreads(state.settings);
    const model = await attentionModel(params.model, threads);
    const env = { cacheDir: cacheDir(state.settings), threads, maxMemoryMB: state.settings.maxMemoryMB };
    return relevanceForView(model, params.text, params.maxTokens ?? null, params.hideSpecial ?? false, env, { token, progress });
  },

  ...importanceHandlers,
};

/** A text model, whose attention can be asked for. */
async function attentionModel(ref: ParamsOf<'attention'>['model'], threads: number): Promise<LoadedModel> {
  const model = await loadModel(ref, threads);
  if (model.info.task !== 'text-classifier' && model.info.task !== 'causal-lm') {
    throw new LoupeError('BAD_REQUEST', `${model.info.path} is a ${model.info.task}: attention needs a text model.`, { file: model.info.onnxFile });
  }
  return model;
}

/** The block outputs offered for layer-gradxact; none when the graph has no blocks Loupe can find (a tensor can still be named). */
function blockOutputsOrNone(model: LoadedModel): string[] | undefined {
  try {
    return modelBlockOutputs(model);
  } catch (e) {
    if (e instanceof LoupeError) return undefined;
    throw e;
  }
}

/** One engine request per method: the shared settings of an `explain` call. */
function attributionRequests(params: ExplainParams, settings: EngineSettings): AttributionRequest[] {
  if (params.methods.length === 0) throw new LoupeError('BAD_REQUEST', 'Name at least one attribution method.');
  return params.methods.map((method) => ({
    method,
    target: params.target,
    baseline: params.baseline,
    samples: params.samples,
    noise: params.noise,
    steps: params.steps,
    rule: params.rule,
    window: params.window,
    gradients: params.gradients,
    seed: params.seed ?? 0,
    maxTokens: params.maxTokens ?? null,
    faithfulness: params.faithfulness ?? true,
    words: params.words ?? false,
    layer: method === 'layer-gradxact' ? params.layer : undefined,
    maxMemoryMB: settings.maxMemoryMB,
  }));
}

async function textModel(params: ExplainParams, threads: number): Promise<LoadedModel> {
  const model = await loadModel(params.model, threads);
  if (!model.tokenizer) throw new LoupeError('BAD_REQUEST', `${model.info.path} is a ${model.info.task}: token attributions need a text model.`, { file: model.info.onnxFile });
  if (params.text.trim() === '') throw new LoupeError('EMPTY_INPUT', 'The text is empty: there is nothing to explain.');
  return model;
}

/** Where rewritten models are cached: the host's choice, else a folder in the OS's temp dir. */
export function cacheDir(settings: EngineSettings): string {
  return settings.cacheDir ?? path.join(os.tmpdir(), 'loupe-cache');
}

export function runInfo(method: string, parameters: Record<string, unknown>, modelSha256: string, batchSize: number, threads: number, seed: number | null): RunInfo {
  // JSON drops undefined values, so the recorded parameters are exactly what a rerun needs.
  const clean = JSON.parse(JSON.stringify(parameters)) as Record<string, unknown>;
  return {
    method,
    parameters: clean,
    modelSha256,
    engineVersion: ENGINE_VERSION,
    onnxruntimeVersion: ONNXRUNTIME_VERSION,
    tokenizersVersion: TOKENIZERS_VERSION,
    nodeVersion: process.versions.node,
    batchSize,
    threads,
    seed,
  };
}
