// The shared core of every attribution method: runs the model on rows of token ids (or, for the
// gradient methods, on word-embedding rows) in memory-bounded batches, turns each row's output into
// the explained scalar, counts the forward passes, reports progress and checks for cancellation
// between batches.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoupeError } from '../../../protocol/errors';
import { lengthBatches, textBatchSize } from '../../inference/batching';
import { checkTextInputs, textFeeds } from '../../inference/feeds';
import { logSumExp } from '../../inference/math';
import type { Work } from '../../inference/predict';
import type { LoadedModel } from '../../model/loadModel';
import { getSession, SessionEntry } from '../../model/session';
import { primaryOutput } from '../../model/task';
import { embeddingModel, findWordEmbedding, WordEmbedding } from './embeddingGraph';
import { baselineTokens } from './specialTokens';
import type { OutputKind } from './types';

export interface RunEnv {
  /** Where the rewritten model (word embeddings as an input) is cached. */
  cacheDir: string;
  threads: number;
  maxMemoryMB: number;
  /** Optional cap on rows per batch. */
  maxBatchSize?: number;
}

/** One model input: token ids, of which the first `prefixLen` are the (perturbed) text and the rest a fixed continuation. */
export interface Row {
  ids: number[];
  prefixLen: number;
}

/** How a row's output becomes one number. */
export interface Readout {
  kind: 'class' | 'next-token' | 'continuation';
  output: OutputKind;
  /** Class index or next-token id. */
  index: number;
  /** Continuation ids (read at positions prefixLen − 1 …). */
  continuation: number[];
}

export interface EmbeddingSession {
  entry: SessionEntry;
  embedding: WordEmbedding;
  hidden: number;
}

type Floats = Float32Array | Float64Array;

function floats(t: ort.Tensor, what: string): Floats {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new LoupeError('UNSUPPORTED', `The model's ${what} is ${t.type}; Loupe reads float outputs.`);
}

export class Runner {
  forwardPasses = 0;
  largestBatch = 0;
  private readonly outputName: string;
  private readonly padId: number;
  private readonly causal: boolean;
  private embedSession: { path: string; stat: fs.Stats; embedding: WordEmbedding; hidden: number } | null = null;
  private readonly stat: fs.Stats;

  constructor(
    readonly model: LoadedModel,
    readonly env: RunEnv,
    private readonly work: Work,
    /** The planned number of forward passes, for progress. */
    readonly total: number,
  ) {
    const file = model.info.onnxFile;
    const out = primaryOutput(model.entry.outputs.filter((o) => o.type !== 'non-tensor'));
    if (!out) throw new LoupeError('UNSUPPORTED', `${path.basename(file)} has no tensor output Loupe can read.`, { file });
    this.outputName = out.name;
    checkTextInputs(model.entry.inputs, model.config, file);
    this.padId = baselineTokens(model.tokenizer!).pad ?? 0;
    this.causal = model.info.task === 'causal-lm';
    this.stat = fs.statSync(file);
  }

  /**
   * The model's session, through the session cache rather than `model.entry`: the cache holds a few
   * sessions and may have released this one (other models, rewritten copies) since the model was
   * loaded; a released session is opened again.
   */
  private session(): Promise<SessionEntry> {
    return getSession(this.model.info.onnxFile, this.stat, this.env.threads);
  }

  private batchSize(len: number): number {
    const vocab = this.causal ? (this.model.info.vocabSize ?? 50_000) : 0;
    const size = textBatchSize(this.env.maxMemoryMB, len, vocab, this.model.config);
    return Math.max(1, Math.min(size, this.env.maxBatchSize ?? Infinity));
  }

  private async run(entry: SessionEntry, feeds: Record<string, ort.Tensor>, batch: number): Promise<ort.Tensor> {
    this.work.token.throwIfCancelled();
    let out: ort.Tensor;
    try {
      out = (await entry.session.run(feeds, [this.outputName]))[this.outputName]!;
    } catch (e) {
      throw new LoupeError('INFERENCE_FAILED', `Running ${path.basename(this.model.info.onnxFile)} failed: ${(e as Error).message}`, { file: this.model.info.onnxFile });
    }
    this.forwardPasses += batch;
    this.largestBatch = Math.max(this.largestBatch, batch);
    this.work.progress(this.forwardPasses, Math.max(this.total, this.forwardPasses));
    return out;
  }

  /** Runs another session of this model (the gradient model) on `batch` rows: cancellable, counted and reported like a forward. */
  async runSession(entry: SessionEntry, feeds: Record<string, ort.Tensor>, fetch: string[], batch: number): Promise<ort.InferenceSession.OnnxValueMapType> {
    this.work.token.throwIfCancelled();
    const out = await entry.session.run(feeds, fetch);
    this.forwardPasses += batch;
    this.largestBatch = Math.max(this.largestBatch, batch);
    this.work.progress(this.forwardPasses, Math.max(this.total, this.forwardPasses));
    return out;
  }

  /** Per-row access to one batch's output: classifier [B, C] → C values; LM [B, W, V] → the row's positions. */
  private reader(t: ort.Tensor, batch: number): (b: number, position: number) => Floats {
    const data = floats(t, 'output');
    const perRow = data.length / batch;
    if (!this.causal) return (b) => data.subarray(b * perRow, (b + 1) * perRow);
    const width = t.dims.length === 3 ? t.dims[1]! : 1;
    const vocab = perRow / width;
    return (b, position) => data.subarray(b * perRow + position * vocab, b * perRow + (position + 1) * vocab);
  }

  /** The explained scalar from a row's output. */
  value(read: (position: number) => Floats, row: Row, r: Readout): number {
    if (r.kind === 'class' || r.kind === 'next-token') {
      const logits = read(row.prefixLen - 1);
      return transform(logits, r.index, r.output);
    }
    let sum = 0;
    r.continuation.forEach((id, j) => {
      const logits = read(row.prefixLen - 1 + j);
      sum += logits[id]! - logSumExp(logits);
    });
    return r.output === 'probability' ? Math.exp(sum) : sum;
  }

  /** The full output vector of a row at the position that predicts the first target token (class logits, or vocabulary logits). */
  async logits(row: Row): Promise<Float64Array> {
    const feeds = textFeeds(this.model.entry.inputs, [row.ids], this.padId, this.model.config, this.model.info.onnxFile);
    const t = await this.run(await this.session(), feeds, 1);
    return Float64Array.from(this.reader(t, 1)(0, row.prefixLen - 1));
  }

  /** The explained scalar for each row of ids. */
  async values(rows: Row[], r: Readout): Promise<Float64Array> {
    const out = new Float64Array(rows.length);
    const batches = lengthBatches(
      rows.map((row) => row.ids.length),
      (len) => this.batchSize(len),
    );
    for (const batch of batches) {
      const feeds = textFeeds(
        this.model.entry.inputs,
        batch.map((i) => rows[i]!.ids),
        this.padId,
        this.model.config,
        this.model.info.onnxFile,
      );
      const read = this.reader(await this.run(await this.session(), feeds, batch.length), batch.length);
      batch.forEach((rowIndex, b) => (out[rowIndex] = this.value((p) => read(b, p), rows[rowIndex]!, r)));
    }
    return out;
  }

  /** The rewritten model whose word embeddings are an input (written once into the cache), and its session. */
  async embeddings(): Promise<EmbeddingSession> {
    if (!this.embedSession) {
      const file = this.model.info.onnxFile;
      const emb = findWordEmbedding(this.model.facts.graph, file);
      const rewritten = embeddingModel(file, this.model.info.sha256, emb, this.model.facts.graph.externalFiles, this.env.cacheDir);
      const c = this.model.config;
      const hidden = rewritten.weightDims?.[1] ?? (c.headDim !== null && c.numHeads !== null ? c.headDim * c.numHeads : null);
      if (hidden === null) throw new LoupeError('UNSUPPORTED', `The width of the word embeddings of ${path.basename(file)} is unknown (no initializer, no config).`, { file });
      this.embedSession = { path: rewritten.path, stat: fs.statSync(rewritten.path), embedding: emb, hidden };
    }
    const e = this.embedSession;
    return { entry: await getSession(e.path, e.stat, this.env.threads), embedding: e.embedding, hidden: e.hidden };
  }

  /** The word embeddings of each id row (all rows the same length), as the model's own Gather computes them: [len × hidden] each. */
  async gather(rows: number[][]): Promise<Float32Array[]> {
    const s = await this.embeddings();
    const len = rows[0]!.length;
    const feeds = textFeeds(this.model.entry.inputs, rows, this.padId, this.model.config, this.model.info.onnxFile);
    feeds[s.embedding.tensor] = new ort.Tensor('float32', new Float32Array(rows.length * len * s.hidden), [rows.length, len, s.hidden]);
    this.work.token.throwIfCancelled();
    let t: ort.Tensor;
    try {
      t = (await s.entry.session.run(feeds, [s.embedding.gathered]))[s.embedding.gathered]!;
    } catch (e) {
      throw new LoupeError('INFERENCE_FAILED', `Reading the word embeddings of ${path.basename(this.model.info.onnxFile)} failed: ${(e as Error).message}`, {
        file: this.model.info.onnxFile,
      });
    }
    this.forwardPasses += rows.length;
    this.work.progress(this.forwardPasses, Math.max(this.total, this.forwardPasses));
    const d = t.dims;
    if (d.length !== 3 || d[0] !== rows.length || d[1] !== len || d[2] !== s.hidden) {
      throw new LoupeError('UNSUPPORTED', `The word embeddings of ${path.basename(this.model.info.onnxFile)} have shape [${d.join(', ')}]; Loupe expects [batch, ${len}, ${s.hidden}].`, {
        file: this.model.info.onnxFile,
      });
    }
    const data = floats(t, 'word embedding') as Float32Array;
    const per = len * s.hidden;
    return rows.map((_, i) => Float32Array.from(data.subarray(i * per, (i + 1) * per)));
  }

  /**
   * The explained scalar for `count` embedding rows over the same ids: `fill(i, dst)` writes row i's
   * embeddings ([len × hidden]) into dst. Rows are built batch by batch, so memory stays bounded.
   */
  async embeddedValues(row: Row, count: number, fill: (i: number, dst: Float32Array) => void, r: Readout): Promise<Float64Array> {
    const s = await this.embeddings();
    const len = row.ids.length;
    const per = len * s.hidden;
    const size = this.batchSize(len);
    const out = new Float64Array(count);
    let idFeeds: Record<string, ort.Tensor> | null = null;
    let idFeedsSize = -1;
    for (let start = 0; start < count; start += size) {
      const n = Math.min(size, count - start);
      if (n !== idFeedsSize) {
        idFeeds = textFeeds(this.model.entry.inputs, new Array<number[]>(n).fill(row.ids), this.padId, this.model.config, this.model.info.onnxFile);
        idFeedsSize = n;
      }
      const E = new Float32Array(n * per);
      for (let b = 0; b < n; b++) fill(start + b, E.subarray(b * per, (b + 1) * per));
      const feeds = { ...idFeeds!, [s.embedding.tensor]: new ort.Tensor('float32', E, [n, len, s.hidden]) };
      const read = this.reader(await this.run((await this.embeddings()).entry, feeds, n), n);
      for (let b = 0; b < n; b++) out[start + b] = this.value((p) => read(b, p), row, r);
    }
    return out;
  }
}

export function transform(logits: ArrayLike<number>, index: number, output: OutputKind): number {
  if (output === 'logit') return logits[index]!;
  const lp = logits[index]! - logSumExp(logits);
  return output === 'logprob' ? lp : Math.exp(lp);
}
