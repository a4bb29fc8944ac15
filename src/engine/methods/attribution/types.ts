// The request and result of a token attribution, in plain numbers (the worker protocol maps them to
// its own checked types).

import type { TokenSpan, Truncation } from '../../../protocol/workerProtocol';
import type { IgRule } from './quadrature';

export const ATTRIBUTION_METHODS = ['occlusion', 'lime', 'kernelshap', 'ig', 'gradxinput', 'saliency', 'smoothgrad', 'gradshap', 'attention-gradient', 'layer-gradxact'] as const;
export type AttributionMethod = (typeof ATTRIBUTION_METHODS)[number];

/** What an absent token becomes: a [PAD]/[MASK]/[UNK] id, removal, or (gradients) a zero embedding. */
export const BASELINES = ['pad', 'mask', 'unk', 'zero', 'delete'] as const;
export type Baseline = (typeof BASELINES)[number];

/** The scalar of the output that is explained. */
export type OutputKind = 'logit' | 'probability' | 'logprob';

export type TargetRequest =
  /** Text classifier: one class (default: the predicted one). */
  | { kind: 'class'; index?: number; output?: OutputKind }
  /** Causal LM: the next token after the text (default: the argmax). */
  | { kind: 'next-token'; tokenId?: number; output?: OutputKind }
  /** Causal LM: a given continuation; f = the sum of its tokens' log-probabilities ('probability': their product). */
  | { kind: 'continuation'; text?: string; ids?: number[]; output?: 'logprob' | 'probability' }
  /** Causal LM: greedily generate up to `maxTokens` tokens and attribute each to every token before it. */
  | { kind: 'generate'; maxTokens: number; output?: OutputKind };

export interface LimeOptions {
  /** 'lime': the lime package's text sampler (remove a uniform number 1…M of tokens); 'bernoulli': each token kept with p = 0.5 (Captum's default). */
  sampling?: 'lime' | 'bernoulli';
  /** Kernel width on 100 × cosine distance (the lime package's text explainer: 25). */
  kernelWidth?: number;
  /** 'ridge' (the lime package's default, alpha 1), 'lasso' (Captum's default, alpha 0.01) or 'linear'. */
  regressor?: 'ridge' | 'lasso' | 'linear';
  alpha?: number;
}

export interface AttributionRequest {
  method: AttributionMethod;
  /** Default: the predicted class (classifier) or the argmax next token (causal LM), as a logit. */
  target?: TargetRequest;
  /** Default: 'pad' when the tokenizer has a pad token, else 'delete' (perturbations) or 'zero' (gradients). */
  baseline?: Baseline;
  /** Gradient baselines: keep special tokens at their own embeddings (default true, as Captum's text tutorials do). */
  keepSpecialInBaseline?: boolean;
  /** LIME / KernelSHAP samples (default 500); SmoothGrad / GradientSHAP noise samples (default 50). */
  samples?: number;
  /** SmoothGrad / GradientSHAP: noise σ relative to the RMS of the input's embeddings (defaults 0.1 and 0). */
  noise?: number;
  /** Integrated Gradients steps (default 50). */
  steps?: number;
  /** Integrated Gradients rule (default 'gausslegendre', Captum's default). */
  rule?: IgRule;
  /** Occlusion window (default 1: leave-one-out); stride 1. */
  window?: number;
  /** Seed of every random choice (default 0). */
  seed?: number;
  /** KernelSHAP enumerates all 2^M coalitions up to this many tokens (default 12). */
  exactMaxTokens?: number;
  lime?: LimeOptions;
  /** Central finite-difference step, relative to the token's direction (default 1e-2; see gradients.ts). */
  fdStep?: number;
  /** How gradient methods get ∇f: 'exact' (the differentiated ONNX graph), 'finite-differences', or 'auto' (exact when the graph can be differentiated; the default). */
  gradients?: GradientMode;
  /** Truncate the text to this many tokens (default: the model's maximum). */
  maxTokens?: number | null;
  /** Upper bound of one batch's tensors (default 1024 MB), and an optional cap on rows per batch. */
  maxMemoryMB?: number;
  maxBatchSize?: number;
  /** Compute comprehensiveness, sufficiency and the deletion curve (default true). */
  faithfulness?: boolean | FaithfulnessOptions;
  /** Also merge sub-tokens into words by their character spans (default false). */
  words?: boolean;
  /** layer-gradxact: a block index (its output; default the next-to-last block, the last one's input) or a tensor name. */
  layer?: number | string;
}

export interface FaithfulnessOptions {
  /** Fractions of the tokens removed or kept (default ERASER's 1, 5, 10, 20, 50 %). */
  fractions?: number[];
  /** Points of the deletion curve after the unperturbed one (default min(M, 20)). */
  curvePoints?: number;
}

export interface ResolvedTarget {
  kind: 'class' | 'next-token' | 'continuation';
  output: OutputKind;
  /** The class index, or the next token's id; null for a continuation. */
  index: number | null;
  /** The class label, or the next token as text. */
  label: string | null;
  /** Continuation ids and their text (empty otherwise). */
  continuation: number[];
  continuationText: string | null;
  /** f(x): the explained scalar on the unperturbed input. */
  value: number;
  /** f(baseline): on the all-absent input (KernelSHAP, IG); null where the method has none. */
  baselineValue: number | null;
}

export interface WordScore {
  /** Character span in the text. */
  start: number;
  end: number;
  text: string;
  /** Indices of the tokens merged into this word. */
  tokens: number[];
  score: number;
}

export interface FaithfulnessCurve {
  /** Tokens removed at each point (0 first). */
  removed: number[];
  /** f after removing them. */
  values: number[];
  /** Mean of f(x) − f(x without the top k) over the points (k = 0 included): AOPC. */
  aopc: number;
}

export interface FaithfulnessFigures {
  /** Per fraction: f(x) − f(x without the top tokens). */
  comprehensiveness: number[];
  /** Per fraction: f(x) − f(only the top tokens). */
  sufficiency: number[];
  comprehensivenessMean: number;
  sufficiencyMean: number;
  deletion: FaithfulnessCurve;
}

export interface Faithfulness {
  /** How tokens were removed: the baseline's id, or deletion. */
  removal: 'pad' | 'mask' | 'unk' | 'delete';
  fractions: number[];
  /** Tokens counted in each fraction: max(1, ceil(fraction × M)). */
  counts: number[];
  /** The ranking of this result: scores in decreasing order (most positive first). */
  attribution: FaithfulnessFigures;
  /** A seeded random ranking, as the floor. */
  random: FaithfulnessFigures;
  randomSeed: number;
}

export interface FitInfo {
  intercept: number;
  /** Weighted R² of the surrogate on its samples (LIME, KernelSHAP). */
  r2: number | null;
  /** KernelSHAP: every coalition was evaluated (exact Shapley values). */
  exact: boolean;
  /** Distinct coalitions evaluated / samples drawn. */
  evaluated: number;
  drawn: number;
}

/** One explained scalar: the scores of every token for it. */
export interface AttributionStep {
  target: ResolvedTarget;
  /** The tokens the scores are over (the text's, then the generated ones before this step). */
  tokens: TokenSpan[];
  /** One score per token; 0 where `attributed` is false. */
  scores: number[];
  /** Tokens that received a score (special tokens are never perturbed; see `special` on the token). */
  attributed: boolean[];
  /** Σ scores − (f(x) − f(baseline)), where the method promises completeness (IG, KernelSHAP); else null. */
  completenessGap: number | null;
  fit: FitInfo | null;
  faithfulness: Faithfulness | null;
  words: WordScore[] | null;
  /** What a user should know about these numbers (e.g. an IG integral that did not converge). */
  warnings: string[];
}

export const GRADIENT_MODES = ['auto', 'exact', 'finite-differences'] as const;
export type GradientMode = (typeof GRADIENT_MODES)[number];

export interface AttributionParameters {
  method: AttributionMethod;
  /** How the gradient was obtained (gradient methods), else null. */
  gradients: 'exact' | 'finite-differences' | null;
  /** Why exact gradients were not used (ops without a vector-Jacobian product), when they were not. */
  gradientFallback: string | null;
  baseline: Baseline;
  keepSpecialInBaseline: boolean | null;
  samples: number | null;
  noise: number | null;
  steps: number | null;
  rule: IgRule | null;
  window: number | null;
  exactMaxTokens: number | null;
  lime: Required<LimeOptions> | null;
  fdStep: number | null;
  target: TargetRequest;
  maxTokens: number | null;
  faithfulness: Required<FaithfulnessOptions> | null;
  words: boolean;
  /** layer-gradxact: the tensor attributed (resolved from a block index), and that block; else null. */
  layer: string | null;
  layerBlock: number | null;
}

export interface AttributionResult extends AttributionStep {
  text: string;
  truncation: Truncation | null;
  method: AttributionMethod;
  /** Every parameter, defaults filled in: enough to rerun it. */
  parameters: AttributionParameters;
  seed: number;
  /** Forward passes (model rows) planned before the run, and run. */
  plannedForwardPasses: number;
  forwardPasses: number;
  /** The largest batch used. */
  batchSize: number;
  /** Generation mode: every generated token, attributed to all the tokens before it. */
  generation: { tokens: TokenSpan[]; text: string; steps: AttributionStep[] } | null;
}
