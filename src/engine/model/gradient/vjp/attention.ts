// Vector-Jacobian product of the ONNX Attention op (opset 23, what the dynamo exporter writes for
// scaled_dot_product_attention): Y = softmax(scale·Q·Kᵀ + mask) · V, with causal masking, past
// keys/values, grouped-query heads, 3-D or 4-D inputs.
//
// The probabilities P come from a second Attention node with the same inputs that also returns
// them (qk_matmul_output_mode 3: after the softmax), so masks of every kind are already applied.
// Grouped-query heads (query head h reads key/value head ⌊h / G⌋) are handled by folding each
// group's G query heads into rows: [b, Hq, s, ·] viewed as [b, Hkv, G·s, ·], where the products
// with K and V are plain MatMuls and the sums over a group come out of them.
//   dV = Pᵀ·dY,  dP = dY·Vᵀ,  dS = P ⊙ (dP − Σ_keys dP ⊙ P),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q

import type { Emitter } from '../emitter';
import { g0, UnsupportedGradient, Vjp } from './types';

const INT64_MAX = 2 ** 62; // a Slice end past any sequence length

const Attention: Vjp = (c) => {
  const e = c.e;
  const fail = (why: string): never => {
    throw new UnsupportedGradient('Attention', why);
  };
  if (c.gy.slice(1).some((g) => g)) fail('a gradient through its present key/value or QK outputs');
  if ((c.node.floats?.softcap ?? 0) !== 0) fail('softcap');
  const [q, k, v, , pastK, pastV] = c.node.inputs as [string, string, string, string?, string?, string?];
  if (c.node.inputs.length > 6 && c.node.inputs[6]) fail('nonpad_kv_seqlen');
  const threeD = e.rank(q) === 3;
  const qDims = e.dims(q);
  const hq = threeD ? (c.node.ints.q_num_heads ?? fail('3-D inputs without q_num_heads')) : qDims[1]!;
  const hkv = threeD ? (c.node.ints.kv_num_heads ?? fail('3-D inputs without kv_num_heads')) : e.dims(k)[1]!;
  const headSize = threeD ? qDims[2]! / hq : qDims[3]!;
  const scale = c.node.floats?.scale ?? 1 / Math.sqrt(headSize);

  // 4-D views [b, H, seq, head] and their inverses.
  const to4 = (t: string, heads: number): string => (threeD ? e.transpose(e.op1('Reshape', [t, e.ints([0, 0, heads, -1])]), [0, 2, 1, 3]) : t);
  const from4 = (t: string, like: string): string => (threeD ? e.reshapeLike(e.transpose(t, [0, 2, 1, 3]), like) : t);
  const withPast = (t4: string, past: string | undefined): string => (past ? e.op1('Concat', [past, t4], { axis: 2 }) : t4);
  const withoutPast = (t4: string, past: string | undefined): string =>
    past ? e.op1('Slice', [t4, e.op1('Gather', [e.shape(past), e.ints([2])]), e.ints([INT64_MAX]), e.ints([2])]) : t4;
  const T = (t: string): string => e.transposeLast2(t, 4);
  const q4 = to4(q, hq);
  const g4 = to4(g0(c), hq);
  // [b, Hq, s, n] viewed as [b, Hkv, G·s, n]: b from the gradient, n from `lastOf` at `lastAxis`.
  // Not from P's own shape: onnxruntime infers the QK output as a scalar, and a target shape it
  // can fold to a constant fails that inference when the model loads; the gradient's batch is
  // known only at run time.
  const batch = e.op1('Slice', [e.shape(g4), e.ints([0]), e.ints([1])]);
  const grouped = (t: string, lastOf: string, lastAxis: number): string => {
    const last = e.op1('Slice', [e.shape(lastOf), e.ints([lastAxis]), e.ints([lastAxis + 1])]);
    return e.op1('Reshape', [t, e.op1('Concat', [batch, e.ints([hkv, -1]), last], { axis: 0 })]);
  };
  const attrs: Record<string, number | { float: number }> = { qk_matmul_output_mode: 3 };
  for (const [name, value] of Object.entries(c.node.ints)) if (name !== 'qk_matmul_output_mode') attrs[name] = value;
  for (const [name, value] of Object.entries(c.node.floats ?? {})) attrs[name] = { float: value };
  const p = e.op('Attention', c.node.inputs, attrs, 4)[3]!;

  const k4 = withPast(to4(k, hkv), pastK);
  const v4 = withPast(to4(v, hkv), pastV);
  const pg = grouped(p, k4, 2); // [b, Hkv, G·s, t]
  const gg = grouped(g4, g4, 3); // [b, Hkv, G·s, dv]
  const out: (string | null)[] = [null, null, null];
  if (c.needs(2)) out[2] = from4(withoutPast(e.op1('MatMul', [T(pg), gg]), pastV), v);
  if (c.needs(0) || c.needs(1)) {
    const dp = e.op1('MatMul', [gg, T(v4)]);
    const ds = scaled(e, e.mul(pg, e.sub(dp, e.reduceSum(e.mul(dp, pg), [3], true))), scale);
    if (c.needs(0)) out[0] = from4(e.reshapeLike(e.op1('MatMul', [ds, k4]), q4), q);
    if (c.needs(1)) out[1] = from4(withoutPast(e.op1('MatMul', [T(ds), grouped(q4, q4, 3)]), pastK), k);
  }
  return out;
};

const scaled = (e: Emitter, t: string, s: number): string => (s === 1 ? t : e.mul(t, e.scalar(s)));

export const ATTENTION: Record<string, Vjp> = { Attention };
