// The gradient model of a text model, written once into the cache: the model whose word embeddings
// are an input (embeddingGraph.ts) with the backward nodes appended (model/gradient/build.ts). The
// user's file is never touched. A probe run at batch 2 × 5 tokens measures the tensors on the path
// first; its copy is deleted once measured.
// One copy per model serves every exact-gradient method: it always returns the attention
// probabilities and their gradients when Loupe finds them (they are computed anyway on the way to
// the word embeddings' gradient), so IG, saliency, SmoothGrad and attention-gradient share the file
// (a full-size copy of the model) and its session; a runner fetches only the taps it reads. Other
// named tensors make a copy of their own. A copy written by an older gradient builder is deleted
// when its replacement is written: each is as large as the model.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoupeError } from '../../../protocol/errors';
import { textFeeds } from '../../inference/feeds';
import { linkExternalData } from '../../model/addOutputs';
import { readCacheMeta } from '../../model/cacheMeta';
import { constantTensors, GRADIENT_GRAPH_VERSION, GradientSpec, GradientUnsupported, gradientAddition, plan, PROBE_BATCH, PROBE_LENGTH, probeAddition, probeOutput, probeTensors } from '../../model/gradient/build';
import { encodeGraphAddition, GraphAddition } from '../../model/gradient/encode';
import { UnsupportedGradient } from '../../model/gradient/vjp/types';
import { findAttention } from '../../model/attentionGraph';
import type { LoadedModel } from '../../model/loadModel';
import { primaryOutput } from '../../model/task';
import { embeddingModel, findWordEmbedding, WordEmbedding } from './embeddingGraph';
import { baselineTokens } from './specialTokens';

export interface GradientModelInfo {
  path: string;
  embedding: WordEmbedding;
  hidden: number;
  /** The output the target reads, and whether it has a position axis ([B, S, V]) or not ([B, C]). */
  logits: string;
  perPosition: boolean;
  /** Output name of the gradient of each tensor (the word embeddings, then any taps). */
  grads: Record<string, string>;
}

/** What a model offers for exact gradients: its spec, or the ops that prevent them. */
export type GradientSupport = { ok: true; spec: GradientSpec; embedding: WordEmbedding } | { ok: false; reason: string; ops: string[] };

export function logitsOf(model: LoadedModel): string {
  const out = primaryOutput(model.entry.outputs.filter((o) => o.type !== 'non-tensor'));
  if (!out) throw new LoupeError('UNSUPPORTED', `${path.basename(model.info.onnxFile)} has no tensor output Loupe can read.`, { file: model.info.onnxFile });
  return out.name;
}

/** The attention-probability tensors, one per layer, in order (an UNSUPPORTED error when Loupe finds none it can read). */
export function attentionTaps(model: LoadedModel): string[] {
  return findAttention(model.facts.graph, model.facts.opset, model.info.onnxFile).map((t) => t.tensor);
}

/** The taps of the model's gradient copy: its attention probabilities (when found), then any other tensors asked for. */
export function gradientTaps(model: LoadedModel, extra: readonly string[] = []): string[] {
  let attention: string[] = [];
  try {
    attention = attentionTaps(model);
  } catch (e) {
    // No readable attention (fused or absent): the copy has no attention taps.
    if (!(e instanceof LoupeError) || e.code !== 'UNSUPPORTED') throw e;
  }
  return [...attention, ...extra.filter((t) => !attention.includes(t))];
}

/** Whether the graph between the word embeddings and the output can be differentiated (no probe, no writing). */
export function gradientSupport(model: LoadedModel, taps: string[] = []): GradientSupport {
  const file = model.info.onnxFile;
  const embedding = findWordEmbedding(model.facts.graph, file);
  const spec: GradientSpec = { graph: model.facts.graph, opset: model.facts.opset ?? 0, wrt: embedding.tensor, logits: logitsOf(model), taps };
  try {
    plan(spec, file);
    return { ok: true, spec, embedding };
  } catch (e) {
    if (e instanceof GradientUnsupported) return { ok: false, reason: e.message, ops: e.ops };
    throw e;
  }
}

function writeWithAddition(source: string, externalFiles: Iterable<string>, dir: string, target: string, addition: GraphAddition): void {
  fs.mkdirSync(dir, { recursive: true });
  linkExternalData(source, externalFiles, dir);
  const tmp = `${target}.${process.pid}.tmp`;
  fs.copyFileSync(source, tmp);
  fs.appendFileSync(tmp, encodeGraphAddition(addition));
  fs.renameSync(tmp, target);
}

/** A gradient copy's metadata: the output name of each gradient, and whether the logits have a position axis. */
function gradientMeta(v: Record<string, unknown>): Pick<GradientModelInfo, 'grads' | 'perPosition'> | null {
  const { grads, perPosition, version } = v;
  if (version !== GRADIENT_GRAPH_VERSION || typeof perPosition !== 'boolean' || grads === null || typeof grads !== 'object') return null;
  if (!Object.values(grads).every((g) => typeof g === 'string')) return null;
  return { grads: grads as Record<string, string>, perPosition };
}

/**
 * Deletes this model's gradient copies in `root` written by another gradient builder version (their
 * metadata says so, predates saying it, or is damaged); other rewritten copies have no gradient
 * metadata and stay. Best effort: a copy that cannot be deleted is left for the next time.
 */
export function removeOlderGradientCopies(root: string, modelKey: string): void {
  for (const d of fs.readdirSync(root)) {
    if (!d.startsWith(`${modelKey}-`)) continue;
    const dir = path.join(root, d);
    try {
      const meta = fs.readdirSync(dir).find((f) => f.endsWith('.loupe-gradient.json'));
      if (!meta) continue;
      const version = readCacheMeta(path.join(dir, meta), (v) => v.version ?? 'none');
      if (version !== GRADIENT_GRAPH_VERSION) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // unreadable or in use elsewhere: kept
    }
  }
}

interface Probed {
  dims: Map<string, number[]>;
  /** Values of the one-element constants among the probed tensors. */
  constants: Map<string, number>;
}

async function probe(model: LoadedModel, embPath: string, emb: WordEmbedding, hidden: number, tensors: string[], dir: string, threads: number): Promise<Probed> {
  const probePath = path.join(dir, `probe-${process.pid}-${path.basename(embPath)}`);
  writeWithAddition(embPath, model.facts.graph.externalFiles, dir, probePath, probeAddition(tensors));
  let session: ort.InferenceSession | null = null;
  try {
    session = await ort.InferenceSession.create(probePath, { intraOpNumThreads: threads, graphOptimizationLevel: 'disabled' });
    const vocab = model.info.vocabSize ?? 2;
    const rows = Array.from({ length: PROBE_BATCH }, (_, b) => Array.from({ length: PROBE_LENGTH }, (_, i) => (1 + b + i) % vocab));
    const feeds = textFeeds(model.entry.inputs, rows, baselineTokens(model.tokenizer!).pad ?? 0, model.config, model.info.onnxFile);
    const E = new Float32Array(PROBE_BATCH * PROBE_LENGTH * hidden).map((_, i) => Math.sin(i));
    feeds[emb.tensor] = new ort.Tensor('float32', E, [PROBE_BATCH, PROBE_LENGTH, hidden]);
    const out = await session.run(feeds, tensors.map((_, i) => probeOutput(i)));
    const fixed = constantTensors(model.facts.graph);
    const constants = new Map<string, number>();
    tensors.forEach((t, i) => {
      const data = out[probeOutput(i)]!.data as Float32Array;
      if (fixed.has(t) && data.length === 1) constants.set(t, data[0]!);
    });
    return { dims: new Map(tensors.map((t, i) => [t, out[probeOutput(i)]!.dims.map(Number)])), constants };
  } finally {
    await session?.release();
    fs.rmSync(probePath, { force: true });
  }
}

/**
 * The cached gradient model (written on first use): the model's one copy with its attention taps,
 * or with `extra` tensors too. Throws GradientUnsupported when an op on the path has no
 * vector-Jacobian product.
 */
export async function gradientModel(model: LoadedModel, cacheDir: string, threads: number, extra: readonly string[] = []): Promise<GradientModelInfo> {
  const file = model.info.onnxFile;
  const taps = gradientTaps(model, extra);
  const support = gradientSupport(model, taps);
  if (!support.ok) throw new GradientUnsupported(support.ops);
  const { spec, embedding } = support;
  const emb = embeddingModel(file, model.info.sha256, embedding, model.facts.graph.externalFiles, cacheDir);
  const c = model.config;
  const hidden = emb.weightDims?.[1] ?? (c.headDim !== null && c.numHeads !== null ? c.headDim * c.numHeads : null);
  if (hidden === null) throw new LoupeError('UNSUPPORTED', `The width of the word embeddings of ${path.basename(file)} is unknown (no initializer, no config).`, { file });

  const variant = crypto.createHash('sha256').update(`gradient-v${GRADIENT_GRAPH_VERSION}|${spec.wrt}|${spec.logits}|${taps.join(',')}`).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir, 'rewritten', `${model.info.sha256.slice(0, 32)}-${variant}`);
  const target = path.join(dir, path.basename(file));
  const metaFile = `${target}.loupe-gradient.json`;
  const meta = fs.existsSync(target) ? readCacheMeta(metaFile, gradientMeta) : null;
  if (meta) return { path: target, embedding, hidden, logits: spec.logits, perPosition: meta.perPosition, grads: meta.grads };
  try {
    fs.mkdirSync(dir, { recursive: true });
    const p = plan(spec, file);
    const tensors = probeTensors(p, spec);
    const { dims, constants } = await probe(model, emb.path, embedding, hidden, tensors, dir, threads);
    dims.set(spec.wrt, [PROBE_BATCH, PROBE_LENGTH, hidden]);
    const built = gradientAddition(spec, p, dims, constants);
    const logitDims = dims.get(spec.logits)!;
    const perPosition = logitDims.length === 3 && logitDims[1] === PROBE_LENGTH;
    writeWithAddition(emb.path, model.facts.graph.externalFiles, dir, target, built.addition);
    fs.writeFileSync(`${metaFile}.${process.pid}.tmp`, JSON.stringify({ grads: built.grads, perPosition, version: GRADIENT_GRAPH_VERSION }));
    fs.renameSync(`${metaFile}.${process.pid}.tmp`, metaFile);
    removeOlderGradientCopies(path.dirname(dir), model.info.sha256.slice(0, 32));
    return { path: target, embedding, hidden, logits: spec.logits, perPosition, grads: built.grads };
  } catch (e) {
    if (e instanceof LoupeError || e instanceof GradientUnsupported) throw e;
    if (e instanceof UnsupportedGradient) throw new GradientUnsupported([`${e.opType} (${e.detail})`]);
    throw new LoupeError('INTERNAL', `Could not build the gradient model of ${path.basename(file)} in ${dir}: ${(e as Error).message}`, { file: dir });
  }
}
