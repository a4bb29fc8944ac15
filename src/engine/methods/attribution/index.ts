// Token attributions for text models, as pure functions over a LoadedModel:
//   resolveParameters(model, req)          every parameter with its default filled in (validated)
//   plannedForwardPasses(params, shape)    how many forward passes (model rows) a run will take
//   planAttribution(model, text, req)      the same for a given text (tokenizes it)
//   attribute(model, text, req, env, work) the run: tokens, target, scores, completeness, faithfulness
// Methods: occlusion (leave-one-out or a sliding window), LIME, KernelSHAP (perturbations of token
// ids), Integrated Gradients and Gradient × Input (finite differences on the word embeddings).
// Targets: a class (logit, probability, log-probability), the next token, a continuation, or every
// token of a greedy generation (a matrix, as inseq shows it).

import * as path from 'node:path';
import { LoupeError } from '../../../protocol/errors';
import type { TokenSpan, Truncation } from '../../../protocol/workerProtocol';
import { argmax } from '../../inference/math';
import type { Work } from '../../inference/predict';
import type { LoadedModel } from '../../model/loadModel';
import { faithfulness, faithfulnessOptions, faithfulnessPasses } from './faithfulness';
import { attentionGradient, attentionGradientRunner, attentionTaps, relevanceMatrix, targetRows, type Relevance } from './attentionGradient';
import { gradientShap, smoothGrad } from './noisyGradients';
import { exactGradientPasses, exactGradientTimesInput, exactIntegratedGradients, exactSaliency } from './exactGradients';
import { gradientSupport } from './gradientModel';
import { gradientRunner } from './gradientRunner';
import { DEFAULT_FD_STEP, gradientTimesInput, gradXInputPasses, igPasses, integratedGradients } from './gradients';
import { kernelShap, kernelShapPasses } from './kernelShap';
import { layerGradientRunner, layerGradientXActivation, resolveLayer, type ResolvedLayer } from './layerGradXAct';
import { lime, limeOptions, limePasses } from './lime';
import type { MethodOutput } from './method';
import { occlusion, occlusionPasses } from './occlusion';
import type { Problem } from './problem';
import { IG_RULES } from './quadrature';
import { deriveSeed } from './rng';
import { Readout, RunEnv, Runner, transform } from './runner';
import { baselineTokens, BaselineTokens, defaultTokenBaseline, replacementId, TokenBaseline } from './specialTokens';
import {
  ATTRIBUTION_METHODS,
  AttributionParameters,
  AttributionRequest,
  AttributionResult,
  AttributionMethod,
  AttributionStep,
  BASELINES,
  GRADIENT_MODES,
  GradientMode,
  ResolvedTarget,
  TargetRequest,
} from './types';
import { aggregateWords } from './words';

export * from './types';
export type { RunEnv } from './runner';

const GRADIENT_METHODS = new Set(['ig', 'gradxinput', 'saliency', 'smoothgrad', 'gradshap', 'attention-gradient', 'layer-gradxact']);
/** Methods that need the whole gradient, which finite differences cannot give at a sensible cost. */
const EXACT_ONLY = new Set(['saliency', 'smoothgrad', 'gradshap', 'attention-gradient', 'layer-gradxact']);
/** Methods with a baseline embedding, as Integrated Gradients has. */
const PATH_METHODS = new Set(['ig', 'gradshap']);

/** How a gradient method gets ∇f: exact when the graph can be differentiated (or required), else finite differences. */
function resolveGradients(model: LoadedModel, method: AttributionMethod, mode: GradientMode): { gradients: 'exact' | 'finite-differences'; fallback: string | null } {
  const file = model.info.onnxFile;
  if (!GRADIENT_MODES.includes(mode)) throw bad(`Unknown gradients mode "${String(mode)}" (one of ${GRADIENT_MODES.join(', ')}).`);
  if (mode === 'finite-differences') {
    if (EXACT_ONLY.has(method)) throw bad(`${method} needs exact gradients; finite differences give only directional derivatives.`);
    return { gradients: 'finite-differences', fallback: null };
  }
  let support: ReturnType<typeof gradientSupport>;
  try {
    support = gradientSupport(model);
  } catch (e) {
    // No word embeddings to differentiate (a fused or merged export): the run says why, as it
    // always did; planning goes on, so that the other methods can still be planned.
    if (e instanceof LoupeError && mode === 'auto') return { gradients: EXACT_ONLY.has(method) ? 'exact' : 'finite-differences', fallback: null };
    throw e;
  }
  if (support.ok) return { gradients: 'exact', fallback: null };
  const why = `${path.basename(file)} has operators Loupe cannot differentiate on the path to the output: ${support.ops.join(', ')}`;
  if (mode === 'exact') throw new LoupeError('UNSUPPORTED', `${why}. Use gradients "auto" or "finite-differences".`, { file });
  // A method that needs the whole gradient fails when it runs (gradientRunner.ts says why), not when planned.
  if (EXACT_ONLY.has(method)) return { gradients: 'exact', fallback: null };
  return { gradients: 'finite-differences', fallback: why };
}
const bad = (message: string, file?: string): LoupeError => new LoupeError('BAD_REQUEST', message, { file });

function intIn(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw bad(`${name} must be an integer from ${lo} to ${hi}, not ${v}.`);
  return v;
}

function textModel(model: LoadedModel): void {
  const task = model.info.task;
  if (!model.tokenizer || (task !== 'text-classifier' && task !== 'causal-lm')) {
    throw bad(`${model.info.path} is a ${task}: token attributions need a text classifier or a causal language model.`, model.info.onnxFile);
  }
}

/** Every parameter of a run, defaults filled in and checked. */
export function resolveParameters(model: LoadedModel, req: AttributionRequest): AttributionParameters {
  textModel(model);
  const file = model.info.onnxFile;
  if (!ATTRIBUTION_METHODS.includes(req.method)) throw bad(`Unknown attribution method "${String(req.method)}" (one of ${ATTRIBUTION_METHODS.join(', ')}).`);
  const lm = model.info.task === 'causal-lm';
  const target: TargetRequest = req.target ?? (lm ? { kind: 'next-token' } : { kind: 'class' });
  if (lm && target.kind === 'class') throw bad(`${path.basename(model.info.path)} is a causal language model: explain a next token, a continuation or a generation, not a class.`, file);
  if (!lm && target.kind !== 'class') throw bad(`${path.basename(model.info.path)} is a text classifier: its target is a class, not a ${target.kind}.`, file);
  if (target.kind === 'generate') intIn('target.maxTokens', target.maxTokens, 1, 256);
  if (target.kind === 'continuation' && !target.text && !(target.ids && target.ids.length > 0)) throw bad('A continuation target needs its text or ids.');

  const tokens = baselineTokens(model.tokenizer!);
  const gradient = GRADIENT_METHODS.has(req.method);
  const baseline = req.baseline ?? (gradient && PATH_METHODS.has(req.method) && tokens.pad === null ? 'zero' : defaultTokenBaseline(tokens));
  if (!BASELINES.includes(baseline)) throw bad(`Unknown baseline "${String(baseline)}" (one of ${BASELINES.join(', ')}).`);
  if (!gradient && baseline === 'zero') throw bad(`The zero baseline is an embedding: ${req.method} replaces token ids (pad, mask, unk) or deletes them.`);
  if (PATH_METHODS.has(req.method) && baseline === 'delete') throw bad(`${req.method === 'ig' ? 'Integrated Gradients' : 'GradientSHAP'} needs a baseline of the same length: zero, pad, mask or unk, not delete.`);
  if (gradient && !PATH_METHODS.has(req.method) && baseline === 'zero') throw bad(`${req.method} has no baseline; the baseline only says how faithfulness removes tokens (pad, mask, unk or delete).`);
  if (baseline !== 'zero') replacementId(baseline, tokens, file);

  const noisy = req.method === 'smoothgrad' || req.method === 'gradshap';
  const noise = noisy ? (req.noise ?? (req.method === 'smoothgrad' ? 0.1 : 0)) : null;
  if (noise !== null && !(noise >= 0 && noise <= 10)) throw bad(`noise must be between 0 and 10, not ${noise}.`);
  const uses = {
    samples: req.method === 'lime' || req.method === 'kernelshap' || noisy,
    steps: req.method === 'ig',
    window: req.method === 'occlusion',
  };
  const rule = req.rule ?? 'gausslegendre';
  if (!IG_RULES.includes(rule)) throw bad(`Unknown integration rule "${String(rule)}" (one of ${IG_RULES.join(', ')}).`);
  const steps = uses.steps ? intIn('steps', req.steps ?? 50, rule === 'gausslegendre' ? 1 : 2, 1000) : null;
  const grad = gradient ? resolveGradients(model, req.method, req.gradients ?? 'auto') : null;
  const fdStep = grad?.gradients === 'finite-differences' ? (req.fdStep ?? DEFAULT_FD_STEP) : null;
  if (fdStep !== null && !(fdStep > 0 && fdStep < 0.5)) throw bad(`fdStep must be between 0 and 0.5, not ${fdStep}.`);
  if (req.lime?.kernelWidth !== undefined && !(req.lime.kernelWidth > 0)) throw bad(`lime.kernelWidth must be > 0, not ${req.lime.kernelWidth}.`);
  const lo = req.method === 'lime' ? limeOptions(req.lime) : null;
  if (lo && lo.regressor !== 'linear' && !(lo.alpha > 0)) throw bad(`lime.alpha must be > 0, not ${lo.alpha}.`);
  if (req.layer !== undefined && req.method !== 'layer-gradxact') throw bad(`layer is a parameter of layer-gradxact, not of ${req.method}.`);
  const layer = req.method === 'layer-gradxact' ? layerOf(model, req.layer) : null;
  return {
    method: req.method,
    gradients: grad?.gradients ?? null,
    gradientFallback: grad?.fallback ?? null,
    baseline,
    keepSpecialInBaseline: PATH_METHODS.has(req.method) ? (req.keepSpecialInBaseline ?? true) : null,
    samples: uses.samples ? intIn('samples', req.samples ?? (noisy ? 50 : 500), noisy ? 1 : 2, 100_000) : null,
    noise,
    steps,
    rule: uses.steps ? rule : null,
    window: uses.window ? intIn('window', req.window ?? 1, 1, 4096) : null,
    exactMaxTokens: req.method === 'kernelshap' ? intIn('exactMaxTokens', req.exactMaxTokens ?? 12, 0, 20) : null,
    lime: lo,
    fdStep,
    target,
    maxTokens: req.maxTokens ?? null,
    faithfulness: faithfulnessOptions(req.faithfulness),
    words: req.words ?? false,
    layer: layer?.tensor ?? null,
    layerBlock: layer?.block ?? null,
  };
}

/**
 * The layer of layer-gradxact. The default (the last block's input) is left unresolved (null) when the graph
 * has no block to find, so that planning every method goes on; the run then says why.
 */
function layerOf(model: LoadedModel, layer: number | string | undefined): ResolvedLayer | null {
  try {
    return resolveLayer(model, layer);
  } catch (e) {
    if (layer === undefined && e instanceof LoupeError) return null;
    throw e;
  }
}

export interface PlanShape {
  /** Tokens of the input, special ones included. */
  numTokens: number;
  /** Its non-special tokens: those perturbed and scored. */
  numFeatures: number;
  /** The model's maximum length (bounds a generation). */
  maxLength?: number;
}

/** The seed of generation step k (step 0 uses the run's seed). */
export function stepSeed(seed: number, k: number): number {
  return k === 0 ? seed : deriveSeed(seed, k);
}

function stepPasses(p: AttributionParameters, n: number, M: number, seed: number): number {
  let passes = 1; // f(x), which also resolves the target
  switch (p.method) {
    case 'occlusion':
      passes += occlusionPasses(M, p.window!);
      break;
    case 'lime':
      passes += limePasses(M, p.samples!, seed, p.lime!.sampling);
      break;
    case 'kernelshap':
      passes += kernelShapPasses(M, p.samples!, seed, p.exactMaxTokens!);
      break;
    case 'ig':
      passes += p.gradients === 'exact' ? exactGradientPasses.ig(p.steps!, p.baseline !== 'zero') : igPasses(p.keepSpecialInBaseline ? M : n, p.steps!, p.baseline !== 'zero');
      break;
    case 'gradxinput':
      passes += p.gradients === 'exact' ? exactGradientPasses.atInput() : gradXInputPasses(n);
      break;
    case 'saliency':
    case 'attention-gradient':
    case 'layer-gradxact':
      passes += exactGradientPasses.atInput();
      break;
    case 'smoothgrad':
      passes += 1 + p.samples!;
      break;
    case 'gradshap':
      passes += (p.baseline !== 'zero' ? 2 : 1) + p.samples! + 1;
      break;
  }
  if (p.faithfulness) passes += faithfulnessPasses(M, p.faithfulness);
  return passes;
}

/** Forward passes (rows through the model) of a run on an input of this shape, with the given seed. */
export function plannedForwardPasses(params: AttributionParameters, shape: PlanShape, seed = 0): number {
  if (shape.numFeatures < 1) throw new LoupeError('EMPTY_INPUT', 'The text has no token to attribute (only special tokens).');
  if (params.target.kind !== 'generate') return stepPasses(params, shape.numTokens, shape.numFeatures, seed);
  const K = Math.min(params.target.maxTokens, (shape.maxLength ?? Infinity) - shape.numTokens);
  let total = 0;
  for (let k = 0; k < K; k++) total += stepPasses(params, shape.numTokens + k, shape.numFeatures + k, stepSeed(seed, k));
  return total;
}

interface Encoded {
  ids: number[];
  tokens: TokenSpan[];
  truncation: Truncation | null;
  continuation: number[];
  maxLength: number;
}

function encode(model: LoadedModel, text: string, params: AttributionParameters): Encoded {
  if (text.trim().length === 0) throw new LoupeError('EMPTY_INPUT', 'The text is empty: there is nothing to attribute.');
  const tokenizer = model.tokenizer!;
  const limit = params.maxTokens !== null ? Math.min(params.maxTokens, model.maxLength) : model.maxLength;
  let continuation: number[] = [];
  const t = params.target;
  if (t.kind === 'continuation') {
    if (t.ids && t.ids.length > 0) continuation = t.ids;
    else continuation = tokenizer.encode(t.text!, Number.MAX_SAFE_INTEGER).tokens.filter((x) => x.start >= 0).map((x) => x.id);
    if (continuation.length === 0) throw bad('The continuation has no tokens.');
    const vocab = model.info.vocabSize;
    if (vocab !== null && continuation.some((id) => !Number.isInteger(id) || id < 0 || id >= vocab)) throw bad(`Continuation ids must be token ids from 0 to ${vocab - 1}.`);
  }
  // A generation needs room for its tokens: a long text is truncated to leave it.
  const generated = t.kind === 'generate' ? t.maxTokens : 0;
  const room = limit - continuation.length - generated;
  if (room < 1) {
    throw bad(
      generated > 0
        ? `Generating ${generated} tokens leaves no room for the text within ${limit} tokens.`
        : `The continuation (${continuation.length} tokens) leaves no room for the text within ${limit} tokens.`,
    );
  }
  const enc = tokenizer.encode(text, room);
  return { ids: enc.ids, tokens: enc.tokens, truncation: enc.truncation, continuation, maxLength: limit };
}

export interface AttributionPlan {
  parameters: AttributionParameters;
  numTokens: number;
  numFeatures: number;
  forwardPasses: number;
}

/** What a run on this text will take, before running it. */
export function planAttribution(model: LoadedModel, text: string, req: AttributionRequest): AttributionPlan {
  const parameters = resolveParameters(model, req);
  const enc = encode(model, text, parameters);
  const numFeatures = enc.tokens.filter((t) => !t.special).length;
  const seed = req.seed ?? 0;
  return {
    parameters,
    numTokens: enc.ids.length,
    numFeatures,
    forwardPasses: plannedForwardPasses(parameters, { numTokens: enc.ids.length, numFeatures, maxLength: enc.maxLength }, seed),
  };
}

function readoutOf(model: LoadedModel, params: AttributionParameters, index: number, continuation: number[]): Readout {
  const t = params.target;
  const output = t.output ?? (t.kind === 'continuation' ? 'logprob' : 'logit');
  if (t.kind === 'continuation') return { kind: 'continuation', output, index: -1, continuation };
  return { kind: model.info.task === 'causal-lm' ? 'next-token' : 'class', output, index, continuation: [] };
}

/** What one step explains: the model and its runner, the resolved parameters, and the input. */
interface StepInput {
  model: LoadedModel;
  runner: Runner;
  params: AttributionParameters;
  tokens: BaselineTokens;
  ids: number[];
  spans: TokenSpan[];
  /** Positions that are scored (the non-special tokens, and any generated ones). */
  features: number[];
  continuation: number[];
  seed: number;
}

/** The positions scored: every token that is not special. */
function featurePositions(spans: TokenSpan[]): number[] {
  return spans.map((t, i) => (t.special ? -1 : i)).filter((i) => i >= 0);
}

/** The problem of one step: the target resolved on the unperturbed input, whose pass gives f(x). */
async function resolveProblem({ model, runner, params, tokens, ids, spans, features, continuation, seed }: StepInput): Promise<Problem> {
  const file = model.info.onnxFile;
  const t = params.target;
  // Resolve the target on the unperturbed input; the same pass gives f(x).
  let readout: Readout;
  let fx: number;
  if (t.kind === 'continuation') {
    readout = readoutOf(model, params, -1, continuation);
    [fx] = await runner.values([{ ids: ids.concat(continuation), prefixLen: ids.length }], readout);
  } else {
    const logits = await runner.logits({ ids, prefixLen: ids.length });
    const requested = t.kind === 'class' ? t.index : t.kind === 'next-token' ? t.tokenId : undefined;
    if (requested !== undefined && (!Number.isInteger(requested) || requested < 0 || requested >= logits.length)) {
      throw bad(`${t.kind === 'class' ? 'Class' : 'Token id'} ${requested} does not exist: the model has ${logits.length} ${t.kind === 'class' ? 'classes' : 'tokens'} (0 to ${logits.length - 1}).`, file);
    }
    const index = requested ?? argmax(logits);
    readout = readoutOf(model, params, index, []);
    fx = transform(logits, index, readout.output);
  }
  return { ids, tokens: spans, features, continuation, readout, fx: fx!, seed, emptyRow: tokens.empty };
}

/** What the target is, as a result reports it. */
function resolvedTarget(model: LoadedModel, readout: Readout, continuation: number[], value: number, baselineValue: number | null): ResolvedTarget {
  return {
    kind: readout.kind,
    output: readout.output,
    index: readout.kind === 'continuation' ? null : readout.index,
    label:
      readout.kind === 'class'
        ? (model.info.labels?.[readout.index] ?? `LABEL_${readout.index}`)
        : readout.kind === 'next-token'
          ? model.tokenizer!.decode([readout.index])
          : model.tokenizer!.decode(continuation),
    continuation,
    continuationText: readout.kind === 'continuation' ? model.tokenizer!.decode(continuation) : null,
    value,
    baselineValue,
  };
}

async function runStep(input: StepInput, text: string): Promise<AttributionStep> {
  const { model, runner, params, tokens, ids, spans, continuation } = input;
  const file = model.info.onnxFile;
  const p = await resolveProblem(input);
  const { readout, fx } = p;

  const removal: TokenBaseline = params.baseline === 'zero' ? defaultTokenBaseline(tokens) : params.baseline;
  const replacement = replacementId(removal, tokens, file);
  // The baseline embedding of the path methods (ig, gradshap): the replacement id's, or zeros.
  const baseline = { id: params.baseline === 'zero' ? null : replacement, keepSpecial: params.keepSpecialInBaseline! };
  let out: MethodOutput;
  switch (params.method) {
    case 'occlusion':
      out = await occlusion(p, runner, params.window!, replacement);
      break;
    case 'lime':
      out = await lime(p, runner, params.samples!, params.lime!, replacement);
      break;
    case 'kernelshap':
      out = await kernelShap(p, runner, params.samples!, params.exactMaxTokens!, replacement);
      break;
    case 'ig':
      out =
        params.gradients === 'exact'
          ? await exactIntegratedGradients(p, runner, await gradientRunner(runner), baseline, params.steps!, params.rule!)
          : await integratedGradients(p, runner, baseline, params.steps!, params.rule!, params.fdStep!);
      break;
    case 'gradxinput':
      out = params.gradients === 'exact' ? await exactGradientTimesInput(p, runner, await gradientRunner(runner)) : await gradientTimesInput(p, runner, params.fdStep!);
      break;
    case 'saliency':
      out = await exactSaliency(p, runner, await gradientRunner(runner));
      break;
    case 'smoothgrad':
      out = await smoothGrad(p, runner, await gradientRunner(runner), params.samples!, params.noise!);
      break;
    case 'gradshap':
      out = await gradientShap(p, runner, await gradientRunner(runner), baseline, params.samples!, params.noise!);
      break;
    case 'attention-gradient': {
      const taps = attentionTaps(model);
      out = await attentionGradient(p, runner, await attentionGradientRunner(runner, taps), taps);
      break;
    }
    case 'layer-gradxact': {
      const tensor = params.layer ?? resolveLayer(model, undefined).tensor;
      out = await layerGradientXActivation(p, runner, await layerGradientRunner(runner, tensor), tensor);
      break;
    }
  }
  const scores = new Array<number>(ids.length).fill(0);
  const attributed = new Array<boolean>(ids.length).fill(false);
  out.positions.forEach((pos, q) => {
    scores[pos] = out.values[q]!;
    attributed[pos] = true;
  });
  const target = resolvedTarget(model, readout, continuation, fx, out.baselineValue);
  const warnings: string[] = [];
  if (params.gradientFallback) warnings.push(`${params.gradientFallback}; finite differences were used instead of exact gradients.`);
  if (params.method === 'ig' && out.completenessGap !== null && out.baselineValue !== null) {
    const change = Math.abs(fx! - out.baselineValue);
    if (Math.abs(out.completenessGap) > 0.05 * change + 1e-6) {
      warnings.push(
        `The scores sum to ${(fx! - out.baselineValue + out.completenessGap).toPrecision(4)} where f(x) − f(baseline) = ${(fx! - out.baselineValue).toPrecision(4)}: ` +
          `the integral has not converged (${params.rule}, ${params.steps} steps). More steps, Gauss–Legendre, or another baseline ` +
          '(a zero embedding is a singular point for models that normalize each embedding directly) should close the gap.',
      );
    }
  }
  if (params.method === 'layer-gradxact') {
    const rows = new Set(targetRows(p));
    if (out.positions.every((pos, q) => rows.has(pos) || out.values[q] === 0)) {
      warnings.push(
        `Only the position${rows.size > 1 ? 's' : ''} the target is read from got a gradient at ${params.layer ?? 'this layer'}: after the last attention, each position reaches only its own output. ` +
          'An earlier block spreads the attribution over the tokens.',
      );
    }
  }
  const faith = params.faithfulness ? await faithfulness(p, runner, scores, params.faithfulness, removal, replacement) : null;
  return {
    target,
    tokens: spans,
    scores,
    attributed,
    completenessGap: out.completenessGap,
    fit: out.fit,
    faithfulness: faith,
    words: params.words ? aggregateWords(text, spans, scores) : null,
    warnings,
  };
}

/** Attributes the model's output on `text` to its tokens. */
export async function attribute(model: LoadedModel, text: string, req: AttributionRequest, env: RunEnv, work: Work): Promise<AttributionResult> {
  const params = resolveParameters(model, req);
  const seed = req.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw bad(`seed must be a non-negative integer, not ${seed}.`);
  const enc = encode(model, text, params);
  const features = featurePositions(enc.tokens);
  const planned = plannedForwardPasses(params, { numTokens: enc.ids.length, numFeatures: features.length, maxLength: enc.maxLength }, seed);
  const runner = new Runner(model, { ...env, maxMemoryMB: req.maxMemoryMB ?? env.maxMemoryMB, maxBatchSize: req.maxBatchSize ?? env.maxBatchSize }, work, planned);
  const tokens = baselineTokens(model.tokenizer!);
  work.token.throwIfCancelled();

  const steps: AttributionStep[] = [];
  const generated: TokenSpan[] = [];
  if (params.target.kind !== 'generate') {
    steps.push(await runStep({ model, runner, params, tokens, ids: enc.ids, spans: enc.tokens, features, continuation: enc.continuation, seed }, text));
  } else {
    const K = Math.min(params.target.maxTokens, enc.maxLength - enc.ids.length);
    const stepParams: AttributionParameters = { ...params, target: { kind: 'next-token', output: params.target.output } };
    for (let k = 0; k < K; k++) {
      const ids = enc.ids.concat(generated.map((g) => g.id));
      const spans = enc.tokens.concat(generated);
      // Generated tokens are attributed like the text's (they are what the later tokens saw).
      const stepFeatures = features.concat(generated.map((_, j) => enc.ids.length + j));
      const step = await runStep({ model, runner, params: stepParams, tokens, ids, spans, features: stepFeatures, continuation: [], seed: stepSeed(seed, k) }, text);
      steps.push(step);
      const id = step.target.index!;
      generated.push({ id, token: model.tokenizer!.idToToken(id), start: -1, end: -1, special: model.tokenizer!.isSpecial(id) });
    }
  }
  const first = steps[0]!;
  return {
    ...first,
    text,
    truncation: enc.truncation,
    method: params.method,
    parameters: params,
    seed,
    plannedForwardPasses: planned,
    forwardPasses: runner.forwardPasses,
    batchSize: runner.largestBatch,
    generation: params.target.kind === 'generate' ? { tokens: generated, text: model.tokenizer!.decode(generated.map((g) => g.id)), steps } : null,
  };
}

/** The attention-gradient relevance matrix of the default target (the predicted class, or the next token) on `text`: what the attention view shows. */
export interface TextRelevance extends Relevance {
  ids: number[];
  tokens: TokenSpan[];
  target: ResolvedTarget;
  /** The rows of R that the token attribution reads (attention-gradient's scores are these rows of R − I). */
  rows: number[];
}

export async function attentionRelevance(model: LoadedModel, text: string, maxTokens: number | null, env: RunEnv, work: Work): Promise<TextRelevance> {
  const params = resolveParameters(model, { method: 'attention-gradient', maxTokens: maxTokens ?? undefined, faithfulness: false });
  const enc = encode(model, text, params);
  const runner = new Runner(model, env, work, 1 + exactGradientPasses.atInput());
  const p = await resolveProblem({ model, runner, params, tokens: baselineTokens(model.tokenizer!), ids: enc.ids, spans: enc.tokens, features: featurePositions(enc.tokens), continuation: [], seed: 0 });
  const taps = attentionTaps(model);
  const rel = await relevanceMatrix(p, runner, await attentionGradientRunner(runner, taps), taps);
  return { ...rel, ids: enc.ids, tokens: enc.tokens, target: resolvedTarget(model, p.readout, [], p.fx, null), rows: targetRows(p) };
}
