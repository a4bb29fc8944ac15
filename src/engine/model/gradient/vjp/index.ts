// Every op Loupe differentiates, which of its inputs carry a gradient, and the ops whose output
// does not depend smoothly on their inputs (shapes, comparisons, logic), where gradients stop.

import { ACTIVATIONS } from './activations';
import { ATTENTION } from './attention';
import { EINSUM } from './einsum';
import { ELEMENTWISE } from './elementwise';
import { LAYOUT } from './layout';
import { MATMUL } from './matmul';
import { NORMALIZATION } from './normalization';
import { REDUCTIONS } from './reductions';
import { ROTARY } from './rotary';
import { SHAPE } from './shape';
import { SOFTMAX_NORM } from './softmaxNorm';
import type { Vjp } from './types';

export const VJPS: Record<string, Vjp> = {
  ...ELEMENTWISE,
  ...MATMUL,
  ...REDUCTIONS,
  ...SHAPE,
  ...SOFTMAX_NORM,
  ...ACTIVATIONS,
  ...EINSUM,
  ...LAYOUT,
  ...NORMALIZATION,
  ...ROTARY,
  ...ATTENTION,
};

/**
 * Inputs that carry a gradient, by op type in any domain (the com.microsoft RotaryEmbedding and
 * Attention take theirs at the same places); the others are indices, shapes, axes, masks or
 * conditions. Absent: all.
 */
export const DIFFERENTIABLE_INPUTS: Record<string, number[]> = {
  Reshape: [0],
  Expand: [0],
  Squeeze: [0],
  Unsqueeze: [0],
  Slice: [0],
  Split: [0],
  Gather: [0],
  GatherElements: [0],
  GatherND: [0],
  Where: [1, 2],
  ReduceSum: [0],
  ReduceMean: [0],
  ReduceMax: [0],
  ReduceMin: [0],
  ReduceSumSquare: [0],
  ReduceL2: [0],
  ReduceLogSumExp: [0],
  Trilu: [0],
  RotaryEmbedding: [0],
  Attention: [0, 1, 2],
  MultiHeadAttention: [0, 1, 2, 3],
  CastLike: [0],
  CumSum: [0],
  Dropout: [0],
  Pow: [0, 1],
  Tile: [0],
  Pad: [0],
  Clip: [0],
};

/** Ops whose outputs carry no gradient: integer results, comparisons, logic, shapes, constants. */
export const NO_GRADIENT = new Set([
  'Shape',
  'Size',
  'Equal',
  'Greater',
  'GreaterOrEqual',
  'Less',
  'LessOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
  'ArgMax',
  'ArgMin',
  'NonZero',
  'ConstantOfShape',
  'Constant',
  'Range',
  'EyeLike',
  'Sign',
  'Floor',
  'Ceil',
  'Round',
  'OneHot',
  'RandomNormalLike',
  'RandomUniformLike',
]);

/** The op's key in the tables (domain-qualified outside the default domain). */
export const opKey = (opType: string, domain: string): string => (domain && domain !== 'ai.onnx' ? `${domain}.${opType}` : opType);
