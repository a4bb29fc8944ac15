// Runs the gradient model on rows of word embeddings, in memory-bounded batches: each row returns
// the explained scalar f and ∂f/∂(word embeddings) (and ∂f/∂ of the taps it was opened with). One
// forward-and-backward per row, so Integrated Gradients takes one row per step whatever the number
// of tokens. Runners of one model share its gradient copy; each fetches only its own taps.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoupeError } from '../../../protocol/errors';
import { textBatchSize } from '../../inference/batching';
import { textFeeds } from '../../inference/feeds';
import { GradientUnsupported } from '../../model/gradient/build';
import { TARGET_INPUTS, TARGET_VALUE } from '../../model/gradient/target';
import { getSession } from '../../model/session';
import { GradientModelInfo, gradientModel } from './gradientModel';
import type { Readout, Row, Runner } from './runner';
import { baselineTokens } from './specialTokens';

/** What one row returns: f, the gradient over the word embeddings ([len × hidden]), and each tap's value and gradient. */
export interface GradientRow {
  value: number;
  grad: Float32Array;
  taps: Record<string, { value: Float32Array; grad: Float32Array; dims: number[] }>;
}

/** Backward passes keep the forward's activations: a row costs about three forward rows of memory. */
const BACKWARD_MEMORY_FACTOR = 3;

export class GradientRunner {
  private constructor(
    private readonly runner: Runner,
    readonly info: GradientModelInfo,
    private readonly taps: string[],
  ) {}

  /**
   * Builds (or reads from the cache) the gradient model; rows return the gradients of `taps` (the
   * attention taps are in the model anyway). An UNSUPPORTED error names the ops it cannot differentiate.
   */
  static async open(runner: Runner, taps: string[] = []): Promise<GradientRunner> {
    const file = runner.model.info.onnxFile;
    try {
      const info = await gradientModel(runner.model, runner.env.cacheDir, runner.env.threads, taps);
      return new GradientRunner(runner, info, taps);
    } catch (e) {
      if (!(e instanceof GradientUnsupported)) throw e;
      throw new LoupeError(
        'UNSUPPORTED',
        `${path.basename(file)} has operators Loupe cannot differentiate on the path to the output: ${e.ops.join(', ')}. ` +
          'This method needs exact gradients; Integrated Gradients and Gradient × Input fall back to finite differences, and occlusion, LIME and KernelSHAP work on any model.',
        { file },
      );
    }
  }

  get hidden(): number {
    return this.info.hidden;
  }

  private batchSize(len: number): number {
    const m = this.runner.model;
    const vocab = m.info.task === 'causal-lm' ? (m.info.vocabSize ?? 50_000) : 0;
    const size = Math.floor(textBatchSize(this.runner.env.maxMemoryMB, len, vocab, m.config) / BACKWARD_MEMORY_FACTOR);
    return Math.max(1, Math.min(size, this.runner.env.maxBatchSize ?? Infinity));
  }

  /** The target inputs for n rows over `row` read by `r`. */
  private targetFeeds(n: number, row: Row, r: Readout): Record<string, ort.Tensor> {
    const picks: [number, number][] =
      r.kind === 'continuation' ? r.continuation.map((id, j) => [row.prefixLen - 1 + j, id]) : [[row.prefixLen - 1, r.index]];
    const K = picks.length;
    const P = this.info.perPosition ? row.ids.length : 1;
    const logprob = r.kind === 'continuation' || r.output !== 'logit';
    const select = new Float32Array(n * K * P);
    const token = new BigInt64Array(n * K);
    const wLogit = new Float32Array(n * K);
    const wLogprob = new Float32Array(n * K);
    for (let b = 0; b < n; b++) {
      picks.forEach(([pos, id], k) => {
        select[(b * K + k) * P + (this.info.perPosition ? pos : 0)] = 1;
        token[b * K + k] = BigInt(id);
        (logprob ? wLogprob : wLogit)[b * K + k] = 1;
      });
    }
    return {
      [TARGET_INPUTS.select]: new ort.Tensor('float32', select, [n, K, P]),
      [TARGET_INPUTS.token]: new ort.Tensor('int64', token, [n, K, 1]),
      [TARGET_INPUTS.wLogit]: new ort.Tensor('float32', wLogit, [n, K]),
      [TARGET_INPUTS.wLogprob]: new ort.Tensor('float32', wLogprob, [n, K]),
    };
  }

  /**
   * f and its gradients for `count` embedding rows over the same ids: `fill(i, dst)` writes row i's
   * embeddings; `consume(i, result)` receives each row (its arrays are views, valid during the call).
   */
  async rows(row: Row, count: number, fill: (i: number, dst: Float32Array) => void, r: Readout, consume: (i: number, out: GradientRow) => void): Promise<void> {
    const m = this.runner.model;
    const file = m.info.onnxFile;
    const len = row.ids.length;
    const H = this.info.hidden;
    const per = len * H;
    // Batches of equal size: 51 rows in 17+17+17, not 21+21+9 (a small last batch costs nearly a full one).
    const limit = this.batchSize(len);
    const size = Math.ceil(count / Math.ceil(count / limit));
    const pad = baselineTokens(m.tokenizer!).pad ?? 0;
    const gradName = this.info.grads[this.info.embedding.tensor];
    if (!gradName) throw new LoupeError('INTERNAL', `The gradient model of ${path.basename(file)} returns no gradient for the word embeddings.`, { file });
    const fetch = [TARGET_VALUE, gradName, ...this.taps.flatMap((t) => (this.info.grads[t] ? [t, this.info.grads[t]!] : []))];
    const probability = r.output === 'probability';
    for (let start = 0; start < count; start += size) {
      const n = Math.min(size, count - start);
      const E = new Float32Array(n * per);
      for (let b = 0; b < n; b++) fill(start + b, E.subarray(b * per, (b + 1) * per));
      const feeds = {
        ...textFeeds(m.entry.inputs, new Array<number[]>(n).fill(row.ids), pad, m.config, file),
        ...this.targetFeeds(n, row, r),
        [this.info.embedding.tensor]: new ort.Tensor('float32', E, [n, len, H]),
      };
      const entry = await getSession(this.info.path, fs.statSync(this.info.path), this.runner.env.threads);
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await this.runner.runSession(entry, feeds, fetch, n);
      } catch (e) {
        if (e instanceof LoupeError) throw e; // cancellation
        throw new LoupeError('INFERENCE_FAILED', `Running the gradient model of ${path.basename(file)} failed: ${(e as Error).message}`, { file });
      }
      const values = out[TARGET_VALUE]!.data as Float32Array;
      const grads = out[gradName]!.data as Float32Array;
      const tapData = this.taps.map((t) => {
        const g = this.info.grads[t];
        return g ? { name: t, value: out[t]!, grad: out[g]! } : null;
      });
      for (let b = 0; b < n; b++) {
        let value = values[b]!;
        let grad = grads.subarray(b * per, (b + 1) * per);
        if (probability) {
          // p = exp(log p), ∇p = p ∇log p
          value = Math.exp(value);
          grad = grad.map((v) => v * value);
        }
        const taps: GradientRow['taps'] = {};
        for (const t of tapData) {
          if (!t) continue;
          const dims = t.value.dims.map(Number);
          const each = (t.value.data as Float32Array).length / n;
          const tapGrad = (t.grad.data as Float32Array).subarray(b * each, (b + 1) * each);
          taps[t.name] = {
            value: (t.value.data as Float32Array).subarray(b * each, (b + 1) * each),
            // ∇p = p ∇log p for the taps too, as for the word embeddings.
            grad: probability ? tapGrad.map((v) => v * value) : tapGrad,
            dims: [1, ...dims.slice(1)],
          };
        }
        consume(start + b, { value, grad, taps });
      }
    }
  }
}

const opened = new WeakMap<Runner, Promise<GradientRunner>>();

/** The run's gradient runner, opened once per Runner. */
export function gradientRunner(runner: Runner): Promise<GradientRunner> {
  let g = opened.get(runner);
  if (!g) {
    g = GradientRunner.open(runner);
    opened.set(runner, g);
  }
  return g;
}
