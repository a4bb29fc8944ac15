// Reads the attention probabilities of a transformer export: the model is rewritten (once, into the
// cache) so that each layer's probabilities are graph outputs, then run on one text. Returns the raw
// weights per layer and head, the mean over heads and attention rollout.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { LoupeError } from '../../protocol/errors';
import type { AttentionParams, AttentionResult } from '../../protocol/workerProtocol';
import type { Work } from '../inference/predict';
import { encodeTexts } from '../inference/predict';
import { checkTextInputs, textFeeds } from '../inference/feeds';
import { modelWithOutputs } from '../model/addOutputs';
import { AttentionTap, findAttention } from '../model/attentionGraph';
import type { LoadedModel } from '../model/loadModel';
import { getSession } from '../model/session';
import { keepTokens, meanOverHeads, rollout } from './attentionMath';

const FLOAT16 = 10;

export interface AttentionOptions {
  cacheDir: string;
  threads: number;
}

/** The indices of the tokens the maps keep: all, or all but the special tokens. */
export function shownTokens(tokens: readonly { special: boolean }[], hideSpecial: boolean): number[] {
  const shown = tokens.map((t, i) => (hideSpecial && t.special ? -1 : i)).filter((i) => i >= 0);
  if (shown.length === 0) throw new LoupeError('EMPTY_INPUT', 'Only special tokens are left when they are hidden.');
  return shown;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function asFloat32(t: ort.Tensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.type === 'float16' && t.data instanceof Uint16Array) return Float32Array.from(t.data, halfToFloat);
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new LoupeError('UNSUPPORTED', `Attention came out as ${t.type}; Loupe reads float tensors.`);
}

/** The rewritten copy of the model, with each tap as a graph output. */
export function attentionModelPath(model: LoadedModel, taps: AttentionTap[], cacheDir: string): string {
  return modelWithOutputs(
    model.info.onnxFile,
    model.info.sha256,
    taps.map((t) => ({ name: t.tensor, elemType: t.elemType === FLOAT16 ? FLOAT16 : 1, dims: ['loupe_batch', 'loupe_heads', 'loupe_query', 'loupe_key'] })),
    model.facts.graph.externalFiles,
    cacheDir,
  );
}

export async function computeAttention(model: LoadedModel, params: AttentionParams, opts: AttentionOptions, work: Work): Promise<Omit<AttentionResult, 'model' | 'run'>> {
  const file = model.info.onnxFile;
  if (!model.tokenizer) throw new LoupeError('BAD_REQUEST', `${path.basename(file)} is not a text model: attention needs a tokenizer.`, { file });
  const taps = findAttention(model.facts.graph, model.facts.opset, file);
  const rewritten = attentionModelPath(model, taps, opts.cacheDir);
  const entry = await getSession(rewritten, fs.statSync(rewritten), opts.threads);
  work.token.throwIfCancelled();

  const [encoded] = await encodeTexts(model, [params.text], params.maxTokens ?? null, work);
  const ids = encoded!.ids;
  const n = ids.length;
  checkTextInputs(model.entry.inputs, model.config, file);
  const feeds = textFeeds(model.entry.inputs, [ids], model.tokenizer.padId, model.config, file);
  let outputs: ort.InferenceSession.OnnxValueMapType;
  try {
    outputs = await entry.session.run(feeds, taps.map((t) => t.tensor));
  } catch (e) {
    throw new LoupeError('INFERENCE_FAILED', `Reading attention from ${path.basename(file)} failed: ${(e as Error).message}`, { file });
  }

  // Each map must be [1, heads, n, n] (or [heads, n, n]); others (cross-attention) are not self-attention.
  const maps: { tap: AttentionTap; data: Float32Array; heads: number }[] = [];
  for (const tap of taps) {
    const t = outputs[tap.tensor]!;
    const d = t.dims;
    const heads = d.length === 4 && d[0] === 1 ? d[1]! : d.length === 3 ? d[0]! : -1;
    if (heads > 0 && d[d.length - 1] === n && d[d.length - 2] === n) maps.push({ tap, data: asFloat32(t), heads });
  }
  if (maps.length === 0) {
    throw new LoupeError('UNSUPPORTED', `The Softmax outputs of ${path.basename(file)} are not [batch, heads, ${n}, ${n}] self-attention maps.`, { file });
  }
  const numHeads = maps[0]!.heads;
  if (maps.some((m) => m.heads !== numHeads)) throw new LoupeError('UNSUPPORTED', `The layers of ${path.basename(file)} have different head counts.`, { file });

  const numLayers = maps.length;
  const layers = params.layers ?? maps.map((_, i) => i);
  const heads = params.heads ?? Array.from({ length: numHeads }, (_, i) => i);
  for (const l of layers) if (l < 0 || l >= numLayers) throw new LoupeError('BAD_REQUEST', `Layer ${l} does not exist: the model has layers 0 to ${numLayers - 1}.`);
  for (const h of heads) if (h < 0 || h >= numHeads) throw new LoupeError('BAD_REQUEST', `Head ${h} does not exist: the model has heads 0 to ${numHeads - 1}.`);

  const tokens = encoded!.tokens;
  const hideSpecial = params.hideSpecial ?? false;
  const shown = shownTokens(tokens, hideSpecial);

  const means = maps.map((m) => meanOverHeads(m.data, numHeads, n));
  const m = shown.length;
  const attention = new Float32Array(layers.length * heads.length * m * m);
  layers.forEach((l, li) => {
    const all = maps[l]!.data;
    heads.forEach((h, hi) => {
      const one = all.subarray(h * n * n, (h + 1) * n * n);
      attention.set(keepTokens(one, 1, n, shown, hideSpecial), (li * heads.length + hi) * m * m);
    });
  });
  const headMean = new Float32Array(layers.length * m * m);
  layers.forEach((l, li) => headMean.set(keepTokens(means[l]!, 1, n, shown, hideSpecial), li * m * m));
  const rolled = keepTokens(rollout(means, n), 1, n, shown, hideSpecial);

  return {
    text: params.text,
    tokens,
    truncation: encoded!.truncation,
    numLayers,
    numHeads,
    layers,
    heads,
    shown,
    hideSpecial,
    attention,
    headMean,
    rollout: rolled,
    sources: maps.map((x) => x.tap.softmax),
  };
}
