// Vector-Jacobian products of ReduceSum and ReduceMean: the gradient is spread back over the
// reduced axes (and divided by their size for the mean).

import { normAxis } from '../emitter';
import { g0, Vjp, VjpContext } from './types';

const FLOAT = 1;

/** The opset from which the op takes its axes as an input rather than an attribute. */
const AXES_INPUT_FROM: Record<string, number> = { ReduceSum: 13, ReduceMean: 18 };

function reduce(mean: boolean): Vjp {
  return (c: VjpContext) => {
    const e = c.e;
    const x = c.node.inputs[0]!;
    const y = c.node.outputs[0]!;
    const g = g0(c);
    const keep = (c.node.ints.keepdims ?? 1) === 1;
    const axesInput = c.opset >= AXES_INPUT_FROM[c.node.opType]! ? c.node.inputs[1] : undefined;
    let gk = g;
    if (!keep) {
      const attrAxes = c.node.intLists?.axes;
      if (attrAxes) {
        const r = e.rank(x);
        gk = e.unsqueeze(g, attrAxes.map((a) => normAxis(a, r)).sort((p, q) => p - q));
      } else if (axesInput) {
        // Axes given as a tensor: the kept-dims shape is that of the same reduction with keepdims.
        gk = e.op1('Reshape', [g, e.shape(e.op1(c.opset >= 18 ? 'ReduceMean' : 'ReduceSum', [x, axesInput], { keepdims: 1 }))]);
      }
      // No axes at all: every axis was reduced, and the scalar broadcasts.
    }
    // The mean's division on the reduced gradient, and no Expand here: the gradient broadcasts
    // (a Sum with x's other gradients does it, Backward's total expands it otherwise).
    if (mean) {
      const size = (t: string): string => e.op1('Cast', [e.op1('Size', [t])], { to: FLOAT });
      gk = e.div(gk, e.div(size(x), size(y)));
    }
    const dx = e.broadcasting(gk);
    return [dx];
  };
}

export const REDUCTIONS: Record<string, Vjp> = { ReduceSum: reduce(false), ReduceMean: reduce(true) };
