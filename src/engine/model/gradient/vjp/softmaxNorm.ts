// Vector-Jacobian products of Softmax, LogSoftmax and LayerNormalization.

import { Emitter, normAxis } from '../emitter';
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

/** A normalization over `axes` of x: LayerNorm (centred) or RMSNorm (not), then ⊙ scale (+ bias). */
export interface NormSpec {
  x: string;
  /** Absent for a decomposed norm from fuse.ts (no scale, no bias). */
  scale?: string;
  bias?: string;
  /** Gradient of the output y, whose probe dims are `gDims`. */
  g: string;
  gDims: number[];
  axes: number[];
  eps: number;
  centred: boolean;
}

/**
 * Gradients of x, scale and bias for y = x̂ ⊙ scale + bias, x̂ = (x − μ) / σ (LayerNorm) or x / rms
 * (RMSNorm, μ = 0), over `axes`: dx = (1/σ) (ĝ − mean ĝ − x̂ mean(ĝ ⊙ x̂)), ĝ = g ⊙ scale, the
 * mean ĝ term only when centred. Each is computed only when asked for.
 */
export function normBackward(e: Emitter, n: NormSpec, want: { x: boolean; scale: boolean; bias: boolean }): { dx: string | null; dscale: string | null; dbias: string | null } {
  const { x, scale, g, axes } = n;
  // y has x's shape (x may be a tensor made here, with no probe dims of its own).
  const r = n.gDims.length;
  let xhat: string;
  let inv: string;
  if (n.centred && axes.length === 1 && axes[0] === r - 1) {
    // x̂ and 1/σ from one unit-scale LayerNormalization node (ONNX Runtime has the kernel at every opset).
    const ones = e.floats(new Array<number>(n.gDims[r - 1]!).fill(1));
    [xhat, , inv] = e.op('LayerNormalization', [x, ones], { axis: -1, epsilon: { float: n.eps } }, 3) as [string, string, string];
  } else {
    const xc = n.centred ? e.sub(x, e.reduceMean(x, axes, true)) : x;
    inv = e.op1('Reciprocal', [e.op1('Sqrt', [e.add(e.reduceMean(e.mul(xc, xc), axes, true), e.scalar(n.eps))])]);
    xhat = e.mul(xc, inv);
  }
  let dx: string | null = null;
  if (want.x) {
    const gh = scale ? e.mul(g, scale) : g;
    const centredGh = n.centred ? e.sub(gh, e.reduceMean(gh, axes, true)) : gh;
    dx = e.mul(inv, e.sub(centredGh, e.mul(xhat, e.reduceMean(e.mul(gh, xhat), axes, true))));
  }
  return {
    dx,
    dscale: want.scale && scale ? e.unbroadcast(e.mul(g, xhat), n.gDims, scale) : null,
    dbias: want.bias && n.bias ? e.unbroadcast(g, n.gDims, n.bias) : null,
  };
}

/** The axes from `axis` to the last of a tensor of rank r. */
export const tailAxes = (axis: number, r: number): number[] => Array.from({ length: r - normAxis(axis, r) }, (_, i) => normAxis(axis, r) + i);

// A node from fuse.ts (a decomposed norm: one input, no scale or bias) is differentiated the same way.
const LayerNormalization: Vjp = (c) => {
  if (c.gy.slice(1).some((g) => g)) throw new UnsupportedGradient('LayerNormalization', 'a gradient through its mean or inverse-deviation outputs');
  const [x, scale, bias] = c.node.inputs as [string, string | undefined, string | undefined];
  const axes = tailAxes(c.node.ints.axis ?? -1, c.e.rank(x));
  const eps = c.node.floats?.epsilon ?? 1e-5;
  const r = normBackward(c.e, { x, scale, bias, g: g0(c), gDims: c.e.dims(c.node.outputs[0]!), axes, eps, centred: true }, { x: c.needs(0), scale: c.needs(1), bias: c.needs(2) });
  return [r.dx, r.dscale, r.dbias];
};

export const SOFTMAX_NORM: Record<string, Vjp> = { Softmax, LogSoftmax, LayerNormalization };
