// Vector-Jacobian products of the ops that move values without changing them: reshapes,
// transposes, concatenation, slicing, splitting, broadcasting and gathering.
//
// Slice and the Gathers use one exact construction whatever their indices: the same op applied to
// a tensor holding each element's flat index says where every output element came from, and
// ScatterElements adds the gradient back there.

import { normAxis } from '../emitter';
import { g0, UnsupportedGradient, Vjp, VjpContext } from './types';

const reshapeBack: Vjp = (c) => [c.e.reshapeLike(g0(c), c.node.inputs[0]!)];

const Transpose: Vjp = (c) => {
  const r = c.e.rank(c.node.inputs[0]!);
  const perm = c.node.intLists?.perm ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const inverse = new Array<number>(r);
  perm.forEach((p, i) => (inverse[p] = i));
  return [c.e.transpose(g0(c), inverse)];
};

const Concat: Vjp = (c) => {
  const e = c.e;
  const g = g0(c);
  const axis = normAxis(c.node.ints.axis ?? 0, e.rank(c.node.outputs[0]!));
  const axisT = e.ints([axis]);
  let start = e.ints([0]);
  return c.node.inputs.map((x, i) => {
    const size = e.op1('Gather', [e.shape(x), axisT]);
    const end = e.add(start, size);
    const grad = c.needs(i) ? e.op1('Slice', [g, start, end, axisT]) : null;
    start = end;
    return grad;
  });
};

const Split: Vjp = (c) => {
  const e = c.e;
  const x = c.node.inputs[0]!;
  const axis = normAxis(c.node.ints.axis ?? 0, e.rank(x));
  const parts = c.node.outputs.map((y, i) => c.gy[i] ?? e.zerosLike(y));
  return [e.op1('Concat', parts, { axis })];
};

const Expand: Vjp = (c) => [c.e.unbroadcast(g0(c), c.e.dims(c.node.outputs[0]!), c.node.inputs[0]!)];

/** dx for y = op(x, …) where op only selects elements of x: scatter g back through the flat indices. */
export function selection(c: VjpContext, select: (indexOfX: string) => string, mayRepeat: boolean): string {
  const e = c.e;
  const x = c.node.inputs[0]!;
  const size = e.op1('Size', [x]);
  const flat = e.op1('Range', [e.intScalar(0), size, e.intScalar(1)]);
  const where = select(e.reshapeLike(flat, x));
  const attrs: Record<string, number | string> = { axis: 0 };
  if (mayRepeat && c.opset >= 16) attrs.reduction = 'add';
  const zeros = e.op1('ConstantOfShape', [e.op1('Reshape', [size, e.ints([1])])]);
  const flatG = e.op1('ScatterElements', [zeros, e.op1('Reshape', [where, e.ints([-1])]), e.op1('Reshape', [g0(c), e.ints([-1])])], attrs);
  return e.reshapeLike(flatG, x);
}

const Slice: Vjp = (c) => {
  if (c.opset < 10) throw new UnsupportedGradient('Slice', 'opset < 10 (attributes instead of inputs)');
  return [selection(c, (ix) => c.e.op1('Slice', [ix, ...c.node.inputs.slice(1)]), false)];
};

function gatherLike(op: string, intAttrs: string[]): Vjp {
  return (c) => {
    const attrs: Record<string, number> = {};
    for (const k of intAttrs) if (c.node.ints[k] !== undefined) attrs[k] = c.node.ints[k]!;
    // Before opset 16 ScatterElements cannot add repeated indices: only a single constant index is safe.
    if (c.opset < 16 && !(op === 'Gather' && c.e.constantValue(c.node.inputs[1]!) !== null)) {
      throw new UnsupportedGradient(op, 'opset < 16 with indices that may repeat (ScatterElements cannot add them before opset 16)');
    }
    return [selection(c, (ix) => c.e.op1(op, [ix, ...c.node.inputs.slice(1)], attrs), true)];
  };
}

export const SHAPE: Record<string, Vjp> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose,
  Concat,
  Split,
  Expand,
  Slice,
  Gather: gatherLike('Gather', ['axis']),
  GatherElements: gatherLike('GatherElements', ['axis']),
  GatherND: gatherLike('GatherND', ['batch_dims']),
};
