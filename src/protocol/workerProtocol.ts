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
  /** Also compute the attention-gradient relevance (Chefer et al. 2021) of the predicted class or next token. */
  relevance: optional(bool),
});
export type AttentionParams = Checked<typeof attentionParams>;

/** The attention view's relevance mode, computed when the user first picks it: the text and settings of the attention run it completes. */
export const attentionRelevanceParams = obj({ model: modelRef, text: str, maxTokens: optional(int), hideSpecial: optional(bool) });
export type AttentionRelevanceParams = Checked<typeof attentionRelevanceParams>;

/**
 * Attention-gradient relevance (Chefer et al. 2021) of one target: R = I, R += Ā·R through the layers,
 * Ā = E_h[(∇A ⊙ A)⁺], over the shown tokens (special tokens dropped, not renormalized).
 */
export const attentionRelevance = obj({
  /** Why it could not be computed (e.g. the operators that cannot be differentiated), else null. */
  unavailable: nullable(str),
  /** The explained target: the predicted class or next token, and its logit. */
  target: nullable(obj({ kind: str, index: int, label: str, value: num })),
  /** The query rows (indices into `tokens`) whose R − I row the attention-gradient token attribution reads. */
  rows: arr(int),
  /** R: query × key; empty when unavailable. */
  matrix: float32s,
  /** Ā of every layer: layers × query × key; empty when unavailable. */
  layerMaps: float32s,
});
export type AttentionRelevance = Checked<typeof attentionRelevance>;

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
  /** When asked for: the attention-gradient relevance, or why the graph cannot give it. */
  relevance: optional(attentionRelevance),
});
export type AttentionResult = Checked<typeof attentionResult>;

export const ATTRIBUTION_METHODS = ['occlusion', 'lime', 'kernelshap', 'ig', 'gradxinput', 'saliency', 'smoothgrad', 'gradshap', 'attention-gradient', 'layer-gradxact'] as const;
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
  /** layer-gradxact: a transformer block's index (its output) or a tensor name (default: the next-to-last block, the last one's input). */
  layer: optional(union(int, str)),
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

export const planResult = obj({
  numTokens: int,
  /** `gradients`: how a gradient method would get its gradients on this model (null: not a gradient method). */
  plans: arr(obj({ method: literal(...ATTRIBUTION_METHODS), forwardPasses: int, gradients: optional(nullable(literal('exact', 'finite-differences'))) })),
  /** When layer-gradxact is planned: each transformer block's output tensor, in order (absent when they cannot be found). */
  blocks: optional(arr(str)),
});
export type PlanResult = Checked<typeof planResult>;

/** Whether a model's attention can be read (eager attention: a Softmax whose result multiplies the values). */
export const attentionSupportResult = obj({ readable: bool, layers: int, reason: nullable(str) });
export type AttentionSupport = Checked<typeof attentionSupportResult>;
// ---- Datasets and feature importance (issue #5) --------------------------------------------------

export const DATASET_FORMATS = ['csv', 'jsonl'] as const;
export const IMPORTANCE_DEFINITIONS = ['sklearn', 'label-free'] as const;
/** sklearn's scorer names; every one is "greater is better" (the error scorings are negated). */
export const SCORINGS = ['accuracy', 'balanced_accuracy', 'roc_auc', 'neg_log_loss', 'r2', 'neg_mean_squared_error', 'neg_mean_absolute_error'] as const;
export type Scoring = (typeof SCORINGS)[number];
/** What a missing numeric value becomes: 'none' makes it an error naming its row and column. */
export const IMPUTATIONS = ['none', 'mean', 'median', 'zero', 'drop-rows'] as const;
export type Imputation = (typeof IMPUTATIONS)[number];

/** A data file: CSV (header row, RFC 4180) or JSONL (one object per line). Never written to. */
export const datasetRef = obj({
  path: str,
  /** Default: from the extension (.jsonl/.ndjson → jsonl, else csv). */
  format: optional(literal(...DATASET_FORMATS)),
  /** CSV delimiter (one character); sniffed from the first lines when absent. */
  delimiter: optional(str),
});
export type DatasetRef = Checked<typeof datasetRef>;

export const datasetColumn = obj({
  name: str,
  /** Position in the header (CSV) or first-seen key order (JSONL). */
  index: int,
  /** 'numeric' when every non-missing scanned value parses strictly as a number. */
  type: literal('numeric', 'text', 'empty'),
  /** Empty cells (or null/absent keys) among the scanned rows. */
  missing: int,
  /** Non-empty cells that are not numbers, among the scanned rows; the first one is named. */
  nonNumeric: int,
  firstNonNumeric: nullable(obj({ row: int, value: str })),
  /** Distinct values among the scanned rows, counted up to 50 (null: more than 50). */
  distinct: nullable(int),
  examples: arr(str),
  min: nullable(num),
  max: nullable(num),
  mean: nullable(num),
});
export type DatasetColumn = Checked<typeof datasetColumn>;

/** A model feature (input column) and the dataset column that feeds it. */
export const featureMapping = obj({ feature: str, column: str });
export type FeatureMapping = Checked<typeof featureMapping>;

export const describeDatasetParams = obj({
  data: datasetRef,
  /** With a model, the answer suggests how its features map to columns and which column is the target. */
  model: optional(modelRef),
  /** Rows read to infer column types (default 10,000); the row count itself covers the whole file. */
  scanRows: optional(int),
});
export type DescribeDatasetParams = Checked<typeof describeDatasetParams>;

export const datasetDescription = obj({
  path: str,
  format: literal(...DATASET_FORMATS),
  delimiter: nullable(str),
  sizeBytes: int,
  columns: arr(datasetColumn),
  /** Data rows (not counting the header or empty lines). */
  rows: int,
  /** False when the file was too large to count and `rows` is an estimate from its size. */
  rowsExact: bool,
  scannedRows: int,
  /** Present when a model was given. */
  suggestion: nullable(
    obj({
      /** 'name' when the model has feature names (model.loupe.json or its input), else 'order'. */
      by: literal('name', 'order'),
      mapping: arr(featureMapping),
      /** Model features no column feeds (mapping by name), and why a mapping could not be made. */
      unmatched: arr(str),
      problems: arr(str),
      /** Columns not fed to the model, most likely target first. */
      targetCandidates: arr(str),
      target: nullable(str),
      /** For a text model: the text columns, the likeliest first. */
      textColumns: arr(str),
      textColumn: nullable(str),
      definition: literal(...IMPORTANCE_DEFINITIONS),
      scoring: nullable(literal(...SCORINGS)),
      /** The model's features (names, or "feature 1…n" for an unnamed input). */
      modelFeatures: arr(str),
    }),
  ),
});
export type DatasetDescription = Checked<typeof datasetDescription>;

export const importanceParams = obj({
  model: modelRef,
  data: datasetRef,
  /** Model feature → column, for every model feature. Default: by name when the model has names, else by order. */
  mapping: optional(arr(featureMapping)),
  /** The target column; absent or null means none (then only the label-free definition applies). */
  target: optional(nullable(str)),
  /** Default: 'sklearn' with a target, 'label-free' without. */
  definition: optional(literal(...IMPORTANCE_DEFINITIONS)),
  /** Default: accuracy for classifiers, r2 for regressors. */
  scoring: optional(literal(...SCORINGS)),
  /** n_repeats (default 5). */
  repeats: optional(int),
  /** random_state of the permutations and of the row sampling (default 0). */
  seed: optional(int),
  /** sklearn's max_samples: a count of rows (> 1) or a fraction (0, 1]; default all rows used. */
  maxSamples: optional(num),
  /** Rows kept from the file; above it a uniform reservoir sample (seeded) is taken. Default 100,000. */
  rowBudget: optional(int),
  /** Columns permuted together (e.g. one-hot groups), named by dataset column; one importance per group. */
  groups: optional(arr(obj({ name: str, columns: arr(str) }))),
  imputation: optional(literal(...IMPUTATIONS)),
  /**
   * Replay given permutations (parity checks against sklearn): `rows` are indices into the rows used
   * (sklearn's max_samples draw), `perms[f][r]` a permutation of 0..rows.length-1 for feature (or group) f, repeat r.
   */
  permutations: optional(obj({ rows: arr(int), perms: arr(arr(arr(int))) })),
  // Text datasets (a text model and a text column):
  textColumn: optional(str),
  /** Attribution method run on each sampled row (default occlusion). */
  method: optional(literal(...ATTRIBUTION_METHODS)),
  /** Rows to explain, sampled uniformly with `seed` (default 50). */
  textRows: optional(int),
  samples: optional(int),
  baseline: optional(literal(...BASELINES)),
  maxTokens: optional(int),
  /** How many of the most influential rows to list (default 10). */
  topRows: optional(int),
});
export type ImportanceParams = Checked<typeof importanceParams>;

export const featureImportance = obj({
  /** The model feature's name, or the group's name. */
  name: str,
  /** The dataset columns permuted together for it. */
  columns: arr(str),
  mean: num,
  std: num,
  /** One value per repeat (sklearn's importances[i]). */
  values: numbers,
});
export type FeatureImportance = Checked<typeof featureImportance>;

export const datasetUsage = obj({
  path: str,
  format: literal(...DATASET_FORMATS),
  delimiter: nullable(str),
  sizeBytes: int,
  /** Data rows in the file. */
  rowsInFile: int,
  /** Rows kept after the row budget (reservoir) and dropped rows. */
  rowsUsed: int,
  /** Rows each permutation is scored on (max_samples). */
  rowsScored: int,
  sampled: bool,
  droppedRows: int,
  columns: arr(datasetColumn),
  mapping: arr(featureMapping),
  mappingBy: literal('name', 'order', 'explicit'),
  target: nullable(str),
  /** Class labels the target values were matched to (classifiers). */
  labels: nullable(arr(str)),
  imputation: literal(...IMPUTATIONS),
  imputed: arr(obj({ column: str, count: int, value: num })),
});
export type DatasetUsage = Checked<typeof datasetUsage>;

export const tokenImportance = obj({
  token: str,
  /** Occurrences among the explained rows, and rows it occurs in (frequency = rows / rows explained). */
  count: int,
  rows: int,
  frequency: num,
  meanAbs: num,
  meanSigned: num,
});
export type TokenImportance = Checked<typeof tokenImportance>;

export const textImportance = obj({
  textColumn: str,
  method: literal(...ATTRIBUTION_METHODS),
  rowsExplained: int,
  /** 1-based data rows explained, in file order. */
  rows: arr(int),
  overall: arr(tokenImportance),
  perClass: arr(obj({ index: int, label: str, rows: int, tokens: arr(tokenImportance) })),
  /** Rows with the highest influence (sum of |score|), highest first. */
  topRows: arr(obj({ row: int, text: str, predicted: str, influence: num, tokens: arr(obj({ token: str, score: num })) })),
  forwardPasses: int,
});
export type TextImportance = Checked<typeof textImportance>;

export const importanceResult = obj({
  model: modelInfo,
  run: runInfo,
  kind: literal('tabular', 'text'),
  dataset: datasetUsage,
  definition: literal(...IMPORTANCE_DEFINITIONS),
  scoring: nullable(literal(...SCORINGS)),
  /** The score on unpermuted rows (sklearn); for label-free, null. */
  baselineScore: nullable(num),
  repeats: int,
  /** In model-feature (or group) order; empty for text datasets. */
  features: arr(featureImportance),
  text: nullable(textImportance),
  /** Rows run through the model. */
  forwardRows: int,
  warnings: arr(str),
});
export type ImportanceResult = Checked<typeof importanceResult>;

export const importancePlan = obj({
  rows: int,
  rowsExact: bool,
  rowsScored: int,
  features: int,
  repeats: int,
  /** Rows the model will run: rowsScored × (1 + features × repeats), or the text method's passes. */
  forwardRows: int,
});
export type ImportancePlan = Checked<typeof importancePlan>;

export const explainRowParams = obj({
  model: modelRef,
  data: datasetRef,
  mapping: optional(arr(featureMapping)),
  /** The 1-based data row to explain. */
  row: int,
  /** Background rows drawn from the dataset (default 100), with `seed`. */
  background: optional(int),
  /** KernelSHAP coalitions (default: exact when 2^features is small, else 2048). */
  samples: optional(int),
  seed: optional(int),
  /** Class index explained (default: the predicted class); ignored for regressors. */
  classIndex: optional(int),
  imputation: optional(literal(...IMPUTATIONS)),
});
export type ExplainRowParams = Checked<typeof explainRowParams>;

export const rowExplanation = obj({
  model: modelInfo,
  run: runInfo,
  row: int,
  features: arr(obj({ name: str, column: str, value: num, score: num })),
  /** Expected model output over the background, and the row's output; scores sum to their difference. */
  baseValue: num,
  value: num,
  target: obj({ index: nullable(int), label: nullable(str), output: literal('probability', 'value') }),
  backgroundRows: int,
  fit: obj({ exact: bool, evaluated: int, r2: nullable(num) }),
  warnings: arr(str),
});
export type RowExplanation = Checked<typeof rowExplanation>;

/** Every method: its params checker and result checker. Add a method here and both sides see it. */
export const METHODS = {
  versions: { params: obj({}), result: versionsResult },
  configure: { params: engineSettings, result: obj({}) },
  describe: { params: describeParams, result: modelInfo },
  predict: { params: predictParams, result: predictResult },
  attention: { params: attentionParams, result: attentionResult },
  /** The attention-gradient relevance alone, over the tokens an attention run with the same params shows. */
  attentionRelevance: { params: attentionRelevanceParams, result: attentionRelevance },
  /** How many forward passes an explanation will take, before running it. */
  plan: { params: explainParams, result: planResult },
  explain: { params: explainParams, result: explainResult },
  /** Whether the model's attention can be read, without running it (the dashboard shows it). */
  attentionSupport: { params: describeParams, result: attentionSupportResult },
  /** Columns, types, missing values and a suggested mapping to a model's features. */
  describeDataset: { params: describeDatasetParams, result: datasetDescription },
  /** Rows and forward passes an importance run will take, before running it. */
  planImportance: { params: importanceParams, result: importancePlan },
  importance: { params: importanceParams, result: importanceResult },
  /** KernelSHAP for one tabular row against a background sample of the dataset. */
  explainRow: { params: explainRowParams, result: rowExplanation },
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
