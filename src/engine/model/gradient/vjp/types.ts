// The contract of a vector-Jacobian product: from the gradients of a node's outputs, ONNX nodes
// that compute the gradients of the inputs that need one.

import type { OnnxNode } from '../../onnxFile';
import type { Emitter } from '../emitter';

export interface VjpContext {
  node: OnnxNode;
  e: Emitter;
  /** The model's default opset. */
  opset: number;
  /** Gradient of each output, or null where none flows. At least one is set. */
  gy: (string | null)[];
  /** Whether input i needs a gradient (it depends on the differentiated input). */
  needs(i: number): boolean;
}

/** Gradients per input index (null or absent: none). */
export type Vjp = (c: VjpContext) => (string | null)[];

/** An op, or one use of it, that Loupe cannot differentiate: the method falls back to finite differences. */
export class UnsupportedGradient extends Error {
  constructor(
    readonly opType: string,
    readonly detail: string,
  ) {
    super(`${opType}: ${detail}`);
  }
}

/** The first output's gradient (most ops have one output). */
export function g0(c: VjpContext): string {
  const g = c.gy[0];
  if (!g) throw new UnsupportedGradient(c.node.opType, 'only its first output can carry a gradient');
  return g;
}
