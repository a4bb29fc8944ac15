// Vector-Jacobian products of Softmax, LogSoftmax and LayerNormalization.

import { normAxis } from '../emitter';
import { g0, UnsupportedGradient, Vjp, VjpContext } from './types';

/** The axes a (Log)Softmax normalizes over: one axis from opset 13, the flattened tail before it. */
function softmaxAxes(c: VjpContext): number[] {
  const r = c.e.rank(c.node.inputs[0]!);
  const axis = normAxis(c.node.ints.axis ?? (c.opset >= 13 ? -1 : 1), r);
  if (c.opset >= 13) return [axis];
  return Array.from({ length: r - axis }, (_, i) => axis + i);
}

// y = softmax(x): dx = y ⊙ (g − Σ g ⊙ y)
const Softmax: Vjp = (c) => {
  const e = c.e;
  const y = c.node.outputs[0]!;
  const g = g0(c);
  const gy = e.mul(g, y);
  return [e.sub(gy, e.mul(y, e.reduceSum(gy, softmaxAxes(c), true)))];
};

// y = log softmax(x): dx = g − exp(y) Σ g
const LogSoftmax: Vjp = (c) => {
  const e = c.e;
  const g = g0(c);
  return [e.sub(g, e.mul(e.op1('Exp', [c.node.outputs[0]!]), e.reduceSum(g, softmaxAxes(c), true)))];
};

// y = x̂ ⊙ scale + bias, x̂ = (x − μ) / σ over the axes from `axis` on:
// dx = (1/σ) (ĝ − mean ĝ − x̂ mean(ĝ ⊙ x̂)), ĝ = g ⊙ scale.
// Over the last axis, x̂ and 1/σ come from one LayerNormalization node with unit scale (ONNX Runtime
// has the kernel at every opset); otherwise they are recomputed node by node. A node from fuse.ts
// (one input: a decomposed norm, no scale or bias) is differentiated the same way.
const LayerNormalization: Vjp = (c) => {
  if (c.gy.slice(1).some((g) => g)) throw new UnsupportedGradient('LayerNormalization', 'a gradient through its mean or inverse-deviation outputs');
  const e = c.e;
  const [x, scale, bias] = c.node.inputs as [string, string | undefined, string | undefined];
  const g = g0(c);
  const xDims = e.dims(x);
  const r = xDims.length;
  const axis = normAxis(c.node.ints.axis ?? -1, r);
  const axes = Array.from({ length: r - axis }, (_, i) => axis + i);
  const eps = c.node.floats?.epsilon ?? 1e-5;
  let xhat: string;
  let inv: string;
  if (axis === r - 1) {
    const width = xDims[r - 1]!;
    const ones = e.floats(new Array<number>(width).fill(1));
    [xhat, , inv] = e.op('LayerNormalization', [x, ones], { axis: -1, epsilon: { float: eps } }, 3) as [string, string, string];
  } else {
    const xc = e.sub(x, e.reduceMean(x, axes, true));
    inv = e.op1('Reciprocal', [e.op1('Sqrt', [e.add(e.reduceMean(e.mul(xc, xc), axes, true), e.scalar(eps))])]);
    xhat = e.mul(xc, inv);
  }
  const gDims = e.dims(c.node.outputs[0]!);
  const out: (string | null)[] = [null, null, null];
  if (c.needs(0)) {
    const gh = scale ? e.mul(g, scale) : g;
    const inner = e.sub(e.sub(gh, e.reduceMean(gh, axes, true)), e.mul(xhat, e.reduceMean(e.mul(gh, xhat), axes, true)));
    out[0] = e.mul(inv, inner);
  }
  if (scale && c.needs(1)) out[1] = e.unbroadcast(e.mul(g, xhat), gDims, scale);
  if (bias && c.needs(2)) out[2] = e.unbroadcast(g, gDims, bias);
  return out;
};

export const SOFTMAX_NORM: Record<string, Vjp> = { Softmax, LogSoftmax, LayerNormalization };
