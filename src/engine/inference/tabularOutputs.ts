// Which output of a tabular model Loupe reads and how it becomes class probabilities or values:
//   a float tensor named *prob*        → probabilities as they are;
//   another float tensor [N, C]        → logits, through a softmax; [N, 1] → P(class 1);
//   regressors                         → the values;
//   only an integer label tensor       → predicted classes (sklearn-onnx with a ZipMap output:
//                                        the probabilities are a sequence of maps, which
//                                        onnxruntime-node 1.30 cannot return: fetching it throws
//                                        "Non tensor type is temporarily not supported").
// `loupe predict` and permutation importance both read outputs through here, so they agree.

import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoupeError } from '../../protocol/errors';
import type { TensorSpec } from '../../protocol/workerProtocol';
import type { LoadedModel } from '../model/loadModel';
import { primaryOutput } from '../model/task';
import { logSumExp } from './math';

export type TabularOutputKind = 'probabilities' | 'logits' | 'values' | 'labels';

export interface TabularOutput {
  spec: TensorSpec;
  kind: TabularOutputKind;
  /** Set when the model's probabilities are a ZipMap (sequence of maps) output Loupe cannot read. */
  zipmapHint: string | null;
}

const isFloat = (o: TensorSpec): boolean => o.type.startsWith('float') || o.type === 'double';
const isInt = (o: TensorSpec): boolean => /^u?int/.test(o.type);

export function tabularOutput(model: LoadedModel): TabularOutput {
  const file = model.info.onnxFile;
  const tensors = model.entry.outputs.filter((o) => o.type !== 'non-tensor');
  const hasMaps = model.entry.outputs.some((o) => o.type === 'non-tensor');
  const zipmapHint = hasMaps
    ? `${path.basename(file)} gives its probabilities as a ZipMap (a sequence of maps), which onnxruntime-node cannot return. Export it with skl2onnx's options={id(model): {"zipmap": False}} (or convert_sklearn(..., options={"zipmap": False})) to get a probability tensor.`
    : null;
  const probOut = tensors.find((o) => /prob/i.test(o.name) && isFloat(o));
  if (probOut) return { spec: probOut, kind: model.info.task === 'tabular-classifier' ? 'probabilities' : 'values', zipmapHint };
  const floats = tensors.filter(isFloat);
  const primary = primaryOutput(floats);
  if (primary) return { spec: primary, kind: model.info.task === 'tabular-classifier' ? 'logits' : 'values', zipmapHint };
  const label = tensors.find(isInt) ?? tensors.find((o) => o.type === 'string');
  if (label && model.info.task === 'tabular-classifier') return { spec: label, kind: 'labels', zipmapHint };
  throw new LoupeError('UNSUPPORTED', zipmapHint ?? `${path.basename(file)} has no float or label tensor output Loupe can read.`, { file });
}

/** Class probabilities of one row's outputs (float64): probabilities as given, P(class 1) widened, or a softmax of logits. */
export function classProbabilities(outputs: ArrayLike<number>, kind: TabularOutputKind): number[] {
  if (outputs.length === 1) return [1 - outputs[0]!, outputs[0]!];
  if (kind === 'probabilities') return Array.from(outputs);
  const lse = logSumExp(outputs);
  return Array.from(outputs, (v) => Math.exp(v - lse));
}

/**
 * Class indices of a label tensor: integer labels are the indices themselves; string labels are
 * looked up in the model's labels.
 */
export function labelIndices(t: ort.Tensor, labels: string[] | null, file: string): Float64Array {
  if (t.type === 'string') {
    return Float64Array.from(t.data as string[], (s) => {
      const i = labels?.indexOf(s) ?? -1;
      if (i < 0) throw new LoupeError('UNSUPPORTED', `${path.basename(file)} predicted the label "${s}", which is not among its labels; give the labels in model.loupe.json.`, { file });
      return i;
    });
  }
  return Float64Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}
