// The one protocol between the extension host (or the CLI) and the engine worker (a child process).
// Both sides import this module; every message is checked on arrival with the checkers below.
//
// host → worker: request (with id), cancel (by id), shutdown
// worker → host: ready (once), response (ok or structured error), progress (per request id), log

import { arr, bool, CheckError, Checked, float32s, int, literal, nullable, num, numbers, obj, optional, record, str, union, unknownValue } from './check';
import { ErrorData, isErrorData } from './errors';

export const PROTOCOL_VERSION = 1;

export const TASK_KINDS = ['text-classifier', 'causal-lm', 'tabular-classifier', 'tabular-regressor'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
const taskKind = literal(...TASK_KINDS);

// ---- Shared shapes -------------------------------------------------------------------------------

/** Which model to use: a Hugging Face export folder or a single .onnx file. */
export const modelRef = obj({
  path: str,
  /** For a folder holding several .onnx files: which one (relative to the folder, or absolute). */
  onnxFile: optional(str),
  /** Override of the detected task. */
  task: optional(taskKind),
});
export type ModelRef = Checked<typeof modelRef>;

export const tensorSpec = obj({
  name: str,
  type: str,
  shape: arr(union(int, str)),
});
export type TensorSpec = Checked<typeof tensorSpec>;

export const modelInfo = obj({
  path: str,
  format: literal('hf-folder', 'onnx-file'),
  onnxFile: str,
  /** Every .onnx file the folder offers, relative to the folder. */
  onnxCandidates: arr(str),
  task: taskKind,
  taskSource: literal('override', 'config', 'metadata', 'graph'),
  inputs: arr(tensorSpec),
  outputs: arr(tensorSpec),
  labels: nullable(arr(str)),
  featureNames: nullable(arr(str)),
  opset: nullable(int),
  producer: nullable(str),
  sizeBytes: int,
  sha256: str,
  maxLength: nullable(int),
  modelType: nullable(str),
  architectures: arr(str),
  vocabSize: nullable(int),
  externalData: bool,
});
export type ModelInfo = Checked<typeof modelInfo>;

export const tokenSpan = obj({
  id: int,
  /** The token as the tokenizer's vocabulary spells it. */
  token: str,
  /** Character span in the user's text; -1/-1 for special tokens added by the tokenizer. */
  start: int,
  end: int,
  special: bool,
});
export type TokenSpan = Checked<typeof tokenSpan>;

export const truncation = obj({
  originalTokens: int,
  keptTokens: int,
  maxLength: int,
  /** Characters of the user's text covered by the kept tokens. */
  keptChars: int,
});
export type Truncation = Checked<typeof truncation>;

export const runInfo = obj({
  /** What was computed ('predict', 'attention', …) and with which parameters: enough to rerun it. */
  method: str,
  parameters: record(unknownValue),
  modelSha256: str,
  engineVersion: str,
  onnxruntimeVersion: str,
  tokenizersVersion: nullable(str),
  nodeVersion: str,
  batchSize: int,
  threads: int,
  seed: nullable(int),
});
export type RunInfo = Checked<typeof runInfo>;

const scoredLabel = obj({ index: int, label: str, probability: num, logit: num });
export type ScoredLabel = Checked<typeof scoredLabel>;

const nextToken = obj({ id: int, token: str, text: str, logit: num, probability: num });
export type NextToken = Checked<typeof nextToken>;

export const textClassification = obj({
  kind: literal('text-classification'),
  text: str,
  tokens: arr(tokenSpan),
  truncation: nullable(truncation),
  logits: numbers,
  probabilities: numbers,
  /** All labels with their scores, in the model's label order. */
  labels: arr(scoredLabel),
  predicted: scoredLabel,
});
export type TextClassification = Checked<typeof textClassification>;

export const nextTokenPrediction = obj({
  kind: literal('next-token'),
  text: str,
  tokens: arr(tokenSpan),
  truncation: nullable(truncation),
  /** Next-token logits at the last position, over the whole vocabulary. */
  logits: numbers,
  top: arr(nextToken),
  /** Greedy continuation, when requested. */
  generated: nullable(obj({ tokens: arr(nextToken), text: str })),
});
export type NextTokenPrediction = Checked<typeof nextTokenPrediction>;

export const tabularPrediction = obj({
  kind: literal('tabular'),
  row: numbers,
  outputs: numbers,
  /** For classifiers: per-label scores; null for regressors. */
  labels: nullable(arr(scoredLabel)),
  predicted: nullable(scoredLabel),
  value: nullable(num),
});
export type TabularPrediction = Checked<typeof tabularPrediction>;

export type Prediction = TextClassification | NextTokenPrediction | TabularPrediction;
const prediction = (v: unknown, w: string): Prediction => {
  const kind = (v as { kind?: unknown } | null)?.kind;
  if (kind === 'text-classification') return textClassification(v, w);
  if (kind === 'next-token') return nextTokenPrediction(v, w);
  if (kind === 'tabular') return tabularPrediction(v, w);
  throw new CheckError(`${w}.kind`, 'a prediction kind');
};

// ---- Methods --------------------------------------------------------------------------------------

export const versionsResult = obj({
  protocol: int,
  engine: str,
  onnxruntime: str,
  tokenizers: nullable(str),
  node: str,
  pid: int,
});
export type Versions = Checked<typeof versionsResult>;

export const predictParams = obj({
  model: modelRef,
  texts: optional(arr(str)),
  rows: optional(arr(numbers)),
  /** How many next tokens to list for a causal LM (default 10). */
  topK: optional(int),
  /** Greedily generate this many tokens after the prompt (causal LM). */
  generate: optional(int),
  /** Cap on tokens per text; the model's own maximum applies when smaller. */
  maxTokens: optional(int),
});
export type PredictParams = Checked<typeof predictParams>;

export const predictResult = obj({
  model: modelInfo,
  run: runInfo,
  predictions: arr(prediction),
});
export type PredictResult = Checked<typeof predictResult>;

export const describeParams = obj({ model: modelRef });
export type DescribeParams = Checked<typeof describeParams>;

export const engineSettings = obj({
  /** Intra-op threads for ONNX Runtime; 0 lets the engine choose. */
  threads: int,
  /** Upper bound for one batch's tensors, in MB; the batch size follows from it. */
  maxMemoryMB: int,
  /** Where rewritten models are cached (the extension's storage, or ~/.cache/loupe for the CLI). */
  cacheDir: optional(str),
});
export type EngineSettings = Checked<typeof engineSettings>;

export const attentionParams = obj({
  model: modelRef,
  text: str,
  maxTokens: optional(int),
  /** Layer indices to return (default: all). */
  layers: optional(arr(int)),
  /** Head indices to return (default: all). */
  heads: optional(arr(int)),
  /** Hide special tokens ([CLS], [SEP], <s>, …) and renormalize each row over the rest. */
  hideSpecial: optional(bool),
});
export type AttentionParams = Checked<typeof attentionParams>;

export const attentionResult = obj({
  model: modelInfo,
  run: runInfo,
  text: str,
  tokens: arr(tokenSpan),
  truncation: nullable(truncation),
  numLayers: int,
  numHeads: int,
  /** The layer and head indices present in `attention`, in order. */
  layers: arr(int),
  heads: arr(int),
  /** Indices into `tokens` of the rows/columns shown (all, or all but the special tokens). */
  shown: arr(int),
  hideSpecial: bool,
  /** layers × heads × query × key over the shown tokens, row-major. */
  attention: float32s,
  /** Mean over all heads of each returned layer: layers × query × key. */
  headMean: float32s,
  /** Attention rollout (Abnar & Zuidema 2020) through all layers: query × key. */
  rollout: float32s,
  /** The Softmax node each layer was read from. */
  sources: arr(str),
});
export type AttentionResult = Checked<typeof attentionResult>;

export const ATTRIBUTION_METHODS = ['occlusion', 'lime', 'kernelshap', 'ig', 'gradxinput', 'saliency', 'smoothgrad', 'gradshap', 'attention-gradient'] as const;
export const BASELINES = ['pad', 'mask', 'unk', 'zero', 'delete'] as const;
const outputKind = literal('logit', 'probability', 'logprob');

/** What the attribution explains: a class, the next token, a continuation, or a greedy generation. */
export const attributionTarget = (v: unknown, w: string): Checked<typeof targetClass> | Checked<typeof targetNext> | Checked<typeof targetContinuation> | Checked<typeof targetGenerate> => {
  const kind = (v as { kind?: unknown } | null)?.kind;
  if (kind === 'class') return targetClass(v, w);
  if (kind === 'next-token') return targetNext(v, w);
  if (kind === 'continuation') return targetContinuation(v, w);
  if (kind === 'generate') return targetGenerate(v, w);
  throw new CheckError(`${w}.kind`, 'one of "class", "next-token", "continuation", "generate"');
};
const targetClass = obj({ kind: literal('class'), index: optional(int), output: optional(outputKind) });
const targetNext = obj({ kind: literal('next-token'), tokenId: optional(int), output: optional(outputKind) });
const targetContinuation = obj({ kind: literal('continuation'), text: optional(str), ids: optional(arr(int)), output: optional(literal('logprob', 'probability')) });
const targetGenerate = obj({ kind: literal('generate'), maxTokens: int, output: optional(outputKind) });
export type AttributionTarget = ReturnType<typeof attributionTarget>;

export const explainParams = obj({
  model: modelRef,
  text: str,
  methods: arr(literal(...ATTRIBUTION_METHODS)),
  target: optional(attributionTarget),
  /** What an absent token becomes, for the perturbation methods and IG alike. */
  baseline: optional(literal(...BASELINES)),
  samples: optional(int),
  /** SmoothGrad / GradientSHAP noise σ, relative to the RMS of the input's embeddings. */
  noise: optional(num),
  steps: optional(int),
  rule: optional(literal('gausslegendre', 'riemann_trapezoid', 'riemann_left', 'riemann_right', 'riemann_middle')),
  window: optional(int),
  seed: optional(int),
  /** Gradient methods: exact gradients of the ONNX graph, finite differences, or auto (exact when possible). */
  gradients: optional(literal('auto', 'exact', 'finite-differences')),
  maxTokens: optional(int),
  faithfulness: optional(bool),
  words: optional(bool),
});
export type ExplainParams = Checked<typeof explainParams>;

const resolvedTarget = obj({
  kind: literal('class', 'next-token', 'continuation'),
  output: outputKind,
  index: nullable(int),
  label: nullable(str),
  continuation: arr(int),
  continuationText: nullable(str),
  value: num,
  baselineValue: nullable(num),
});

const faithfulnessFigures = obj({
  comprehensiveness: numbers,
  sufficiency: numbers,
  comprehensivenessMean: num,
  sufficiencyMean: num,
  deletion: obj({ removed: numbers, values: numbers, aopc: num }),
});

const attributionStep = {
  target: resolvedTarget,
  tokens: arr(tokenSpan),
  scores: numbers,
  attributed: arr(bool),
  completenessGap: nullable(num),
  fit: nullable(obj({ intercept: num, r2: nullable(num), exact: bool, evaluated: int, drawn: int })),
  faithfulness: nullable(
    obj({ removal: literal('pad', 'mask', 'unk', 'delete'), fractions: numbers, counts: arr(int), attribution: faithfulnessFigures, random: faithfulnessFigures, randomSeed: int }),
  ),
  words: nullable(arr(obj({ start: int, end: int, text: str, tokens: arr(int), score: num }))),
  warnings: arr(str),
};

export const explanation = obj({
  ...attributionStep,
  text: str,
  truncation: nullable(truncation),
  method: literal(...ATTRIBUTION_METHODS),
  parameters: record(unknownValue),
  seed: int,
  plannedForwardPasses: int,
  forwardPasses: int,
  batchSize: int,
  generation: nullable(obj({ tokens: arr(tokenSpan), text: str, steps: arr(obj(attributionStep)) })),
});
export type Explanation = Checked<typeof explanation>;

export const explainResult = obj({ model: modelInfo, run: runInfo, explanations: arr(explanation) });
export type ExplainResult = Checked<typeof explainResult>;

export const planResult = obj({ numTokens: int, plans: arr(obj({ method: literal(...ATTRIBUTION_METHODS), forwardPasses: int })) });
export type PlanResult = Checked<typeof planResult>;

/** Every method: its params checker and result checker. Add a method here and both sides see it. */
export const METHODS = {
  versions: { params: obj({}), result: versionsResult },
  configure: { params: engineSettings, result: obj({}) },
  describe: { params: describeParams, result: modelInfo },
  predict: { params: predictParams, result: predictResult },
  attention: { params: attentionParams, result: attentionResult },
  /** How many forward passes an explanation will take, before running it. */
  plan: { params: explainParams, result: planResult },
  explain: { params: explainParams, result: explainResult },
} as const;

export type MethodName = keyof typeof METHODS;
export type ParamsOf<M extends MethodName> = Checked<(typeof METHODS)[M]['params']>;
export type ResultOf<M extends MethodName> = Checked<(typeof METHODS)[M]['result']>;

// ---- Messages -------------------------------------------------------------------------------------

export interface RequestMessage<M extends MethodName = MethodName> {
  type: 'request';
  id: number;
  method: M;
  params: ParamsOf<M>;
}
export interface CancelMessage {
  type: 'cancel';
  id: number;
}
export interface ShutdownMessage {
  type: 'shutdown';
}
export type HostToWorker = RequestMessage | CancelMessage | ShutdownMessage;

export interface ReadyMessage {
  type: 'ready';
  versions: Versions;
}
export interface ProgressMessage {
  type: 'progress';
  id: number;
  done: number;
  total: number;
  message?: string;
}
export interface LogMessage {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}
export type ResponseMessage =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: ErrorData };
export type WorkerToHost = ReadyMessage | ProgressMessage | LogMessage | ResponseMessage;

function isMethodName(v: unknown): v is MethodName {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(METHODS, v);
}

/** Checks a message arriving at the worker. Throws CheckError naming the bad field. */
export function checkHostToWorker(v: unknown): HostToWorker {
  const m = obj({ type: literal('request', 'cancel', 'shutdown') })(v, 'message');
  if (m.type === 'shutdown') return { type: 'shutdown' };
  const id = int((v as { id?: unknown }).id, 'message.id');
  if (m.type === 'cancel') return { type: 'cancel', id };
  const method = (v as { method?: unknown }).method;
  if (!isMethodName(method)) throw new CheckError('message.method', `one of ${Object.keys(METHODS).join(', ')}`);
  const params = METHODS[method].params((v as { params?: unknown }).params, 'params');
  return { type: 'request', id, method, params } as RequestMessage;
}

/** Checks a message arriving at the host. Results are checked by `checkResult` once the method is known. */
export function checkWorkerToHost(v: unknown): WorkerToHost {
  const m = obj({ type: literal('ready', 'progress', 'log', 'response') })(v, 'message');
  const r = v as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready', versions: versionsResult(r.versions, 'versions') };
    case 'progress':
      return {
        type: 'progress',
        id: int(r.id, 'id'),
        done: num(r.done, 'done'),
        total: num(r.total, 'total'),
        message: optional(str)(r.message, 'message'),
      };
    case 'log':
      return { type: 'log', level: literal('info', 'warn', 'error')(r.level, 'level'), message: str(r.message, 'message') };
    case 'response': {
      const id = int(r.id, 'id');
      if (bool(r.ok, 'ok')) return { type: 'response', id, ok: true, result: r.result };
      if (!isErrorData(r.error)) throw new CheckError('error', 'an error with a known code and a message');
      return { type: 'response', id, ok: false, error: r.error };
    }
  }
}

export function checkResult<M extends MethodName>(method: M, value: unknown): ResultOf<M> {
  return METHODS[method].result(value, 'result') as ResultOf<M>;
}
