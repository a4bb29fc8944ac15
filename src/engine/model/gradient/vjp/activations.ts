// Vector-Jacobian products of the activations beyond the core set: the piecewise ones (LeakyRelu,
// Elu, HardSigmoid, HardSwish), Softplus, Swish (opset 24, the SiLU of Llama-style MLPs), and the GELU variants that onnxruntime's transformer
// optimizer fuses into com.microsoft ops (Gelu, BiasGelu = GELU(x + bias), FastGelu = tanh-GELU
// with an optional bias, QuickGelu = x σ(αx)).

import type { Emitter } from '../emitter';
import { FLOAT, geluErfSlope, geluTanhSlope, unary } from './elementwise';
import { g0, Vjp } from './types';

const MS = 'com.microsoft';

/** x < 0, as a condition. */
const negative = (e: Emitter, x: string): string => e.op1('Less', [x, e.scalar(0)]);

/** y = gelu(a + bias), bias optional: da = g ⊙ gelu'(a + bias), dbias = that summed to the bias's shape. */
function biasedGelu(slope: (e: Emitter, x: string) => string): Vjp {
  return (c) => {
    const e = c.e;
    const [a, bias] = c.node.inputs as [string, string | undefined];
    const pre = bias ? e.add(a, bias) : a;
    const d = e.mul(g0(c), slope(e, pre));
    const gDims = e.dims(c.node.outputs[0]!);
    return [c.needs(0) ? e.unbroadcast(d, gDims, a) : null, bias && c.needs(1) ? e.unbroadcast(d, gDims, bias) : null];
  };
}

/** d/dx of x σ(αx): σ(αx) + αx σ(αx)(1 − σ(αx)). */
function swishSlope(e: Emitter, x: string, alpha: number): string {
  const ax = e.mul(x, e.scalar(alpha));
  const s = e.op1('Sigmoid', [ax]);
  return e.add(s, e.mul(ax, e.mul(s, e.sub(e.scalar(1), s))));
}

export const ACTIVATIONS: Record<string, Vjp> = {
  // log(1 + eˣ)' = σ(x)
  Softplus: unary((c, x) => c.e.op1('Sigmoid', [x])),
  // x ≥ 0: 1; x < 0: α (LeakyRelu) or α eˣ = y + α (Elu)
  LeakyRelu: unary((c, x) => c.e.op1('Where', [negative(c.e, x), c.e.scalar(c.node.floats?.alpha ?? 0.01), c.e.scalar(1)])),
  Elu: unary((c, x, y) => c.e.op1('Where', [negative(c.e, x), c.e.add(y, c.e.scalar(c.node.floats?.alpha ?? 1)), c.e.scalar(1)])),
  // y = max(0, min(1, αx + β)): α inside (0, 1), else 0
  HardSigmoid: unary((c, x) => {
    const e = c.e;
    const alpha = c.node.floats?.alpha ?? 0.2;
    const u = e.add(e.mul(x, e.scalar(alpha)), e.scalar(c.node.floats?.beta ?? 0.5));
    const inside = e.op1('And', [e.op1('Greater', [u, e.scalar(0)]), e.op1('Less', [u, e.scalar(1)])]);
    return e.mul(e.op1('Cast', [inside], { to: FLOAT }), e.scalar(alpha));
  }),
  // y = x · max(0, min(1, x/6 + ½)): 0 below −3, 1 above 3, x/3 + ½ between
  HardSwish: unary((c, x) => {
    const e = c.e;
    const mid = e.add(e.div(x, e.scalar(3)), e.scalar(0.5));
    return e.op1('Where', [e.op1('Less', [x, e.scalar(-3)]), e.scalar(0), e.op1('Where', [e.op1('Greater', [x, e.scalar(3)]), e.scalar(1), mid])]);
  }),
  // y = x σ(αx) (ONNX Swish, opset 24; SiLU at α = 1)
  Swish: unary((c, x) => swishSlope(c.e, x, c.node.floats?.alpha ?? 1)),
  [`${MS}.Gelu`]: unary((c, x) => geluErfSlope(c.e, x)),
  [`${MS}.BiasGelu`]: biasedGelu(geluErfSlope),
  [`${MS}.FastGelu`]: biasedGelu(geluTanhSlope),
  // y = x σ(αx): σ(αx) + αx σ(αx)(1 − σ(αx))
  [`${MS}.QuickGelu`]: unary((c, x) => swishSlope(c.e, x, c.node.floats?.alpha ?? 1.702)),
};
