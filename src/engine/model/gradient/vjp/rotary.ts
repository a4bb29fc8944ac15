// Vector-Jacobian product of rotary position embeddings: ONNX RotaryEmbedding (opset 23) and
// com.microsoft.RotaryEmbedding (onnxruntime's fusion). Each pair of features is rotated by an
// angle θ; the transpose of a rotation is the rotation by −θ, i.e. the same op with sin negated
// (features past rotary_embedding_dim pass through both ways).

import { g0, Vjp } from './types';

/** Input positions of (X, cos, sin) per domain. */
function rotary(at: { cos: number; sin: number }): Vjp {
  return (c) => {
    const e = c.e;
    const inputs = [...c.node.inputs];
    inputs[0] = g0(c);
    inputs[at.sin] = e.neg(c.node.inputs[at.sin]!);
    const attrs: Record<string, number> = {};
    for (const [k, v] of Object.entries(c.node.ints)) attrs[k] = v;
    const floats = Object.fromEntries(Object.entries(c.node.floats ?? {}).map(([k, v]) => [k, { float: v }]));
    return [e.opOf(c.node.domain, 'RotaryEmbedding', inputs, { ...attrs, ...floats })];
  };
}

export const ROTARY: Record<string, Vjp> = {
  RotaryEmbedding: rotary({ cos: 1, sin: 2 }),
  'com.microsoft.RotaryEmbedding': rotary({ cos: 2, sin: 3 }),
};
