// Builds the inputs a real export needs, by name: input_ids, attention_mask, token_type_ids,
// position_ids, an empty past_key_values.*, use_cache_branch; or one float matrix for tabular models.
// An input the engine cannot fill is named in the error.

import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoupeError } from '../../protocol/errors';
import type { TensorSpec } from '../../protocol/workerProtocol';
import type { ModelConfig } from '../model/hfConfig';

const PAST = /^past_key_values\.\d+\.(decoder\.|encoder\.)?(key|value)$|^past\.\d+\.(key|value)$|^past_(key|value)s?\.\d+$/;
const TEXT_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids', 'use_cache_branch'];

function unfillable(spec: TensorSpec, onnxFile: string, why: string): LoupeError {
  return new LoupeError(
    'INPUT_UNFILLABLE',
    `${path.basename(onnxFile)} needs an input "${spec.name}" (${spec.type} [${spec.shape.join(', ')}]) that Loupe cannot fill: ${why}`,
    { file: onnxFile },
  );
}

/** Fails early, naming the input, when a text model has an input the engine does not know. */
export function checkTextInputs(inputs: TensorSpec[], config: ModelConfig, onnxFile: string): void {
  for (const spec of inputs) {
    if (TEXT_INPUTS.includes(spec.name)) continue;
    if (PAST.test(spec.name)) {
      pastShape(spec, 1, config, onnxFile);
      continue;
    }
    throw unfillable(spec, onnxFile, 'Loupe fills input_ids, attention_mask, token_type_ids, position_ids, past_key_values.* and use_cache_branch.');
  }
}

function intTensor(type: string, values: number[], dims: number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

function pastShape(spec: TensorSpec, batch: number, config: ModelConfig, onnxFile: string): number[] {
  if (spec.shape.length !== 4) throw unfillable(spec, onnxFile, 'Loupe expects a past of shape [batch, heads, past_sequence, head_dim].');
  const need = (v: number | null, what: string): number => {
    if (v === null) throw unfillable(spec, onnxFile, `config.json does not give ${what}.`);
    return v;
  };
  return spec.shape.map((d, i) => {
    if (i === 0) return batch;
    if (i === 2) return 0; // an empty past
    if (typeof d === 'number') return d;
    return i === 1 ? need(config.numKeyValueHeads, 'the number of key/value heads') : need(config.headDim, 'the head dimension');
  });
}

/** Feeds for a right-padded batch of token id rows. */
export function textFeeds(inputs: TensorSpec[], rows: number[][], padId: number, config: ModelConfig, onnxFile: string): Record<string, ort.Tensor> {
  const batch = rows.length;
  const width = Math.max(...rows.map((r) => r.length));
  const ids: number[] = [];
  const mask: number[] = [];
  const positions: number[] = [];
  for (const row of rows) {
    for (let j = 0; j < width; j++) {
      const real = j < row.length;
      ids.push(real ? row[j]! : padId);
      mask.push(real ? 1 : 0);
      // Hugging Face's convention: cumulative sum of the mask minus one, padding set to 1.
      positions.push(real ? j : 1);
    }
  }
  const dims = [batch, width];
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of inputs) {
    if (spec.name === 'input_ids') feeds[spec.name] = intTensor(spec.type, ids, dims);
    else if (spec.name === 'attention_mask') feeds[spec.name] = intTensor(spec.type, mask, dims);
    else if (spec.name === 'token_type_ids') feeds[spec.name] = intTensor(spec.type, new Array<number>(ids.length).fill(0), dims);
    else if (spec.name === 'position_ids') feeds[spec.name] = intTensor(spec.type, positions, dims);
    else if (spec.name === 'use_cache_branch') feeds[spec.name] = new ort.Tensor('bool', Uint8Array.from([0]), [1]);
    else if (PAST.test(spec.name)) {
      const shape = pastShape(spec, batch, config, onnxFile);
      feeds[spec.name] = spec.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), shape) : new ort.Tensor('float32', new Float32Array(0), shape);
    } else throw unfillable(spec, onnxFile, 'it is not one of the inputs Loupe knows.');
  }
  return feeds;
}

/** The single float matrix [N, F] of a tabular model. */
export function tabularFeeds(inputs: TensorSpec[], rows: number[][], onnxFile: string): Record<string, ort.Tensor> {
  if (inputs.length !== 1) {
    throw unfillable(inputs[1] ?? inputs[0]!, onnxFile, 'a tabular model must take exactly one float tensor [N, F].');
  }
  const spec = inputs[0]!;
  if (spec.type !== 'float' && spec.type !== 'float32' && spec.type !== 'double' && spec.type !== 'float64') {
    throw unfillable(spec, onnxFile, 'a tabular model must take a float tensor [N, F].');
  }
  const width = rows[0]?.length ?? 0;
  const flat = new Float64Array(rows.length * width);
  rows.forEach((r, i) => flat.set(r, i * width));
  const tensor = spec.type === 'double' || spec.type === 'float64' ? new ort.Tensor('float64', flat, [rows.length, width]) : new ort.Tensor('float32', Float32Array.from(flat), [rows.length, width]);
  return { [spec.name]: tensor };
}
