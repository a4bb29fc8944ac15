// Runs a tabular model on row-major batches and returns per-row float64 outputs: class
// probabilities (n × C), predicted class indices (n × 1, label-only models) or values (n × k).
// Reads outputs through inference/tabularOutputs, as `loupe predict` does.

import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoupeError } from '../../../protocol/errors';
import { MAX_TABULAR_BATCH } from '../../inference/batching';
import { labelIndices, tabularOutput, TabularOutput } from '../../inference/tabularOutputs';
import { logSumExp } from '../../inference/math';
import type { LoadedModel } from '../../model/loadModel';

export type OutputMeaning = 'probabilities' | 'labels' | 'values';

export class TabularRunner {
  readonly output: TabularOutput;
  readonly meaning: OutputMeaning;
  readonly double: boolean;
  readonly inputName: string;
  readonly file: string;
  /** Output columns per row; known after the first run. */
  outWidth = 0;
  forwardRows = 0;
  readonly batchRows = MAX_TABULAR_BATCH;

  constructor(readonly model: LoadedModel, readonly width: number) {
    this.file = model.info.onnxFile;
    const inputs = model.entry.inputs;
    const spec = inputs[0];
    if (inputs.length !== 1 || !spec || !['float', 'float32', 'double', 'float64'].includes(spec.type)) {
      throw new LoupeError('INPUT_UNFILLABLE', `${path.basename(this.file)} must take exactly one float tensor [N, features] to be fed rows of a dataset.`, { file: this.file });
    }
    const declared = spec.shape[1];
    if (typeof declared === 'number' && declared !== width) {
      throw new LoupeError('BAD_REQUEST', `${path.basename(this.file)} takes ${declared} features; ${width} columns were mapped to it.`, { file: this.file });
    }
    this.inputName = spec.name;
    this.double = spec.type === 'double' || spec.type === 'float64';
    this.output = tabularOutput(model);
    this.meaning = this.output.kind === 'labels' ? 'labels' : this.output.kind === 'values' ? 'values' : 'probabilities';
  }

  /** A batch buffer of the input's element type. */
  buffer(rows: number): Float32Array | Float64Array {
    return this.double ? new Float64Array(rows * this.width) : new Float32Array(rows * this.width);
  }

  /** Outputs of the first n rows of `batch` (n × outWidth; float32 probabilities are returned as the model gave them). */
  async run(batch: Float32Array | Float64Array, n: number): Promise<Float32Array | Float64Array> {
    const data = batch.subarray(0, n * this.width);
    const tensor = this.double ? new ort.Tensor('float64', data as Float64Array, [n, this.width]) : new ort.Tensor('float32', data as Float32Array, [n, this.width]);
    let result: ort.Tensor;
    try {
      const out = await this.model.entry.session.run({ [this.inputName]: tensor }, [this.output.spec.name]);
      result = out[this.output.spec.name]!;
    } catch (e) {
      throw new LoupeError('INFERENCE_FAILED', `Running ${path.basename(this.file)} failed: ${(e as Error).message}`, { file: this.file });
    }
    this.forwardRows += n;
    if (this.meaning === 'labels') {
      this.outWidth = 1;
      return labelIndices(result, this.model.info.labels, this.file);
    }
    const raw = result.data as Float32Array | Float64Array;
    const per = raw.length / n;
    if (this.meaning === 'values') {
      this.outWidth = per;
      return raw instanceof Float64Array ? raw : Float64Array.from(raw);
    }
    return this.probabilities(raw, n, per);
  }

  /** The arithmetic of classProbabilities (inference/tabularOutputs), without an array per row. */
  private probabilities(raw: Float32Array | Float64Array, n: number, per: number): Float32Array | Float64Array {
    if (per === 1) {
      this.outWidth = 2;
      const out = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) {
        out[2 * i] = 1 - raw[i]!;
        out[2 * i + 1] = raw[i]!;
      }
      return out;
    }
    this.outWidth = per;
    if (this.output.kind === 'probabilities') return raw;
    const out = Float64Array.from(raw);
    for (let i = 0; i < n; i++) {
      const o = i * per;
      const lse = logSumExp(out.subarray(o, o + per));
      for (let c = 0; c < per; c++) out[o + c] = Math.exp(out[o + c]! - lse);
    }
    return out;
  }
}
