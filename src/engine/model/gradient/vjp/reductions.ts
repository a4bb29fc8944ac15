// Vector-Jacobian products of the reductions: the gradient is spread back over the reduced axes
// (divided by their size for the mean, weighted by the local derivative for the others).

import { normAxis } from '../emitter';
import { g0, Vjp, VjpContext } from './types';

const FLOAT = 1;

/** The opset from which the op takes its axes as an input rather than an attribute. */
const AXES_INPUT_FROM: Record<string, number> = { ReduceSum: 13 };
const axesInputFrom = (op: string): number => AXES_INPUT_FROM[op] ?? 18;

/** `t` (shaped like the reduction's output) with the reduced axes kept as 1 when keepdims was 0. */
function withKeptAxes(c: VjpContext, t: string): string {
  const e = c.e;
  const x = c.node.inputs[0]!;
  if ((c.node.ints.keepdims ?? 1) === 1) return t;
  const attrAxes = c.node.intLists?.axes;
  const axesInput = c.opset >= axesInputFrom(c.node.opType) ? c.node.inputs[1] : undefined;
  if (attrAxes) {
    const r = e.rank(x);
    return e.unsqueeze(t, attrAxes.map((a) => normAxis(a, r)).sort((p, q) => p - q));
  }
  // Axes given as a tensor: the kept-dims shape is that of the same reduction with keepdims.
  if (axesInput) return e.op1('Reshape', [t, e.shape(e.op1(c.opset >= 18 ? 'ReduceMean' : 'ReduceSum', [x, axesInput], { keepdims: 1 }))]);
  // No axes at all: every axis was reduced, and the scalar broadcasts.
  return t;
}

/** ReduceSum of `t` (shaped like x) over the node's axes, keeping them. */
function sumOverAxes(c: VjpContext, t: string): string {
  const e = c.e;
  const attrAxes = c.node.intLists?.axes;
  const axesInput = c.opset >= axesInputFrom(c.node.opType) ? c.node.inputs[1] : undefined;
  if (attrAxes) return e.reduceSum(t, attrAxes.map((a) => normAxis(a, e.rank(c.node.inputs[0]!))), true);
  if (axesInput) return e.op1('ReduceSum', [t, axesInput], { keepdims: 1 });
  return e.op1('ReduceSum', [t], { keepdims: 1 });
}

/** dx = expand(g), then `finish` applies the local derivative (yk: the output with kept axes). */
function reduce(finish?: (c: VjpContext, dx: string, x: string, yk: () => string) => string): Vjp {
  return (c: VjpContext) => {
    const e = c.e;
    const x = c.node.inputs[0]!;
    const dx = e.op1('Expand', [withKeptAxes(c, g0(c)), e.shape(x)]);
    return [finish ? finish(c, dx, x, () => withKeptAxes(c, c.node.outputs[0]!)) : dx];
  };
}

const size = (c: VjpContext, t: string): string => c.e.op1('Cast', [c.e.op1('Size', [t])], { to: FLOAT });

/**
 * ReduceSum and ReduceMean: the gradient with the reduced axes kept (divided by their size for the
 * mean, on that small tensor) and no Expand: it broadcasts, for free in a Sum with x's other
 * gradients, and Backward's total expands it when it is x's only one.
 */
function linear(mean: boolean): Vjp {
  return (c) => {
    let gk = withKeptAxes(c, g0(c));
    if (mean) gk = c.e.div(gk, c.e.div(size(c, c.node.inputs[0]!), size(c, c.node.outputs[0]!)));
    return [c.e.broadcasting(gk)];
  };
}

/** Max/Min: the gradient goes to the elements equal to the result, shared equally on a tie. */
const extremum = reduce((c, dx, x, yk) => {
  const mask = c.e.op1('Cast', [c.e.op1('Equal', [x, yk()])], { to: FLOAT });
  return c.e.mul(dx, c.e.div(mask, sumOverAxes(c, mask)));
});

export const REDUCTIONS: Record<string, Vjp> = {
  ReduceSum: linear(false),
  ReduceMean: linear(true),
  ReduceMax: extremum,
  ReduceMin: extremum,
  // y = Σ x²: 2x; y = √Σ x²: x / y; y = log Σ eˣ: e^(x − y).
  ReduceSumSquare: reduce((c, dx, x) => c.e.mul(dx, c.e.mul(x, c.e.scalar(2)))),
  ReduceL2: reduce((c, dx, x, yk) => c.e.mul(dx, c.e.div(x, yk()))),
  ReduceLogSumExp: reduce((c, dx, x, yk) => c.e.mul(dx, c.e.op1('Exp', [c.e.sub(x, yk())]))),
};
