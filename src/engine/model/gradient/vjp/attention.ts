// Vector-Jacobian products of the fused attention ops: ONNX Attention (opset 23, what the dynamo
// exporter writes for scaled_dot_product_attention) and onnxruntime's com.microsoft Attention and
// MultiHeadAttention. All share one backward, given the probabilities P:
//   Y = P·V, P = softmax(scale·Q·Kᵀ + mask):
//   dV = Pᵀ·dY,  dP = dY·Vᵀ,  dS = P ⊙ (dP − Σ_keys dP ⊙ P),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q
// Grouped-query heads (query head h reads key/value head ⌊h / G⌋) are handled by folding each
// group's G query heads into rows: [b, Hq, s, ·] viewed as [b, Hkv, G·s, ·], where the products
// with K and V are plain MatMuls and the sums over a group come out of them.
//
// For ONNX Attention, P comes from a second Attention node with the same inputs that also returns
// it (qk_matmul_output_mode 3: after the softmax), so masks of every kind are already applied. The
// com.microsoft ops return no probabilities: they are recomputed (msProbabilities).

import type { Emitter } from '../emitter';
import { g0, UnsupportedGradient, Vjp } from './types';

const INT64_MAX = 2 ** 62; // a Slice end past any sequence length

// ONNX Attention: causal masking, boolean or additive masks, past keys/values, grouped-query heads,
// 3-D or 4-D inputs; softcap and nonpad_kv_seqlen are named as unsupported.
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
  const q4 = to4(q, hq);
  const g4 = to4(g0(c), hq);
  const attrs: Record<string, number | { float: number }> = { qk_matmul_output_mode: 3 };
  for (const [name, value] of Object.entries(c.node.ints)) if (name !== 'qk_matmul_output_mode') attrs[name] = value;
  for (const [name, value] of Object.entries(c.node.floats ?? {})) attrs[name] = { float: value };
  const p = e.op('Attention', c.node.inputs, attrs, 4)[3]!;
  const k4 = withPast(to4(k, hkv), pastK);
  const v4 = withPast(to4(v, hkv), pastV);
  const d = attentionBackward(e, { p, q4, k4, v4, g4, hkv, scale }, { q: c.needs(0), k: c.needs(1), v: c.needs(2) });
  return [
    d.q && from4(d.q, q),
    d.k && from4(withoutPast(d.k, pastK), k),
    d.v && from4(withoutPast(d.v, pastV), v),
  ];
};

interface AttentionTensors {
  /** The probabilities [b, Hq, s, t] (masks applied). */
  p: string;
  /** Queries [b, Hq, s, d], keys [b, Hkv, t, d], values [b, Hkv, t, dv], output gradient [b, Hq, s, dv]. */
  q4: string;
  k4: string;
  v4: string;
  g4: string;
  hkv: number;
  scale: number;
}

/** dQ, dK, dV (4-D, keys and values with Hkv heads) of Y = softmax(scale·Q·Kᵀ + mask)·V, given P. */
function attentionBackward(e: Emitter, a: AttentionTensors, want: { q: boolean; k: boolean; v: boolean }): { q: string | null; k: string | null; v: string | null } {
  const T = (t: string): string => e.transposeLast2(t, 4);
  // [b, Hq, s, n] viewed as [b, Hkv, G·s, n]: b from the gradient, n from `lastOf` at `lastAxis`.
  // Not from P's own shape: onnxruntime infers the Attention op's QK output as a scalar, and a
  // target shape it can fold to a constant fails that inference when the model loads; the
  // gradient's batch is known only at run time.
  const batch = e.op1('Slice', [e.shape(a.g4), e.ints([0]), e.ints([1])]);
  const grouped = (t: string, lastOf: string, lastAxis: number): string => {
    const last = e.op1('Slice', [e.shape(lastOf), e.ints([lastAxis]), e.ints([lastAxis + 1])]);
    return e.op1('Reshape', [t, e.op1('Concat', [batch, e.ints([a.hkv, -1]), last], { axis: 0 })]);
  };
  const pg = grouped(a.p, a.k4, 2); // [b, Hkv, G·s, t]
  const gg = grouped(a.g4, a.g4, 3); // [b, Hkv, G·s, dv]
  const out = { q: null as string | null, k: null as string | null, v: null as string | null };
  if (want.v) out.v = e.op1('MatMul', [T(pg), gg]);
  if (want.q || want.k) {
    const dp = e.op1('MatMul', [gg, T(a.v4)]);
    const ds = scaled(e, e.mul(pg, e.sub(dp, e.reduceSum(e.mul(dp, pg), [3], true))), a.scale);
    if (want.q) out.q = e.reshapeLike(e.op1('MatMul', [ds, a.k4]), a.q4);
    if (want.k) out.k = e.op1('MatMul', [T(ds), grouped(a.q4, a.q4, 3)]);
  }
  return out;
}

const scaled = (e: Emitter, t: string, s: number): string => (s === 1 ? t : e.mul(t, e.scalar(s)));

/** What the com.microsoft attention ops mask with, by input name (undefined: absent). */
interface MsMasks {
  mask?: string;
  attentionBias?: string;
  unidirectional: boolean;
  filter: number;
  /** Probe dims of the keys' batch and length (a dummy [b, 1] mask is told from a 2-D one by them). */
  batch: number;
  keyCount: number;
}

/**
 * softmax(scale·Q·Kᵀ, masked) as the com.microsoft attention ops compute it (they return no
 * probabilities): mask_filter_value (−10000) where the key-padding mask (2-D [b, t], 1-D key
 * lengths [b], 3-D [b, s, t]; a dummy [b, 1] masks nothing) or unidirectional (causal) masking
 * blocks, then + attention_bias.
 */
function msProbabilities(e: Emitter, fail: (why: string) => never, q4: string, k4: string, scale: number, m: MsMasks): string {
  let scores = scaled(e, e.op1('MatMul', [q4, e.transposeLast2(k4, 4)]), scale);
  const filter = e.scalar(m.filter);
  const block = (blocked: string): void => {
    scores = e.op1('Where', [blocked, filter, scores]);
  };
  const padding = (t: string): string => e.op1('Equal', [e.op1('Cast', [t], { to: 7 }), e.intScalar(0)]);
  const length = (t: string, axis: number): string => e.op1('Gather', [e.shape(t), e.intScalar(axis)]);
  const keys = e.op1('Range', [e.intScalar(0), length(k4, 2), e.intScalar(1)]); // [t]
  if (m.mask) {
    const dims = e.dims(m.mask);
    if (dims.length === 2 && dims[1] === 1 && m.keyCount !== 1) {
      // A dummy mask: no masking.
    } else if (dims.length === 2) block(e.unsqueeze(padding(m.mask), [1, 2]));
    else if (dims.length === 3) block(e.unsqueeze(padding(m.mask), [1]));
    else if (dims.length === 1 && dims[0] === m.batch) {
      const lengths = e.unsqueeze(e.op1('Cast', [m.mask], { to: 7 }), [1]); // [b, 1]
      block(e.unsqueeze(e.op1('GreaterOrEqual', [e.unsqueeze(keys, [0]), lengths]), [1, 2]));
    } else fail(`a mask of rank ${dims.length} in this layout`);
  }
  if (m.unidirectional) {
    const queries = e.op1('Range', [e.intScalar(0), length(q4, 2), e.intScalar(1)]);
    block(e.op1('Greater', [e.unsqueeze(keys, [0]), e.unsqueeze(queries, [1])]));
  }
  if (m.attentionBias) scores = e.add(scores, m.attentionBias);
  return e.op1('Softmax', [scores], { axis: 3 });
}

const msFail =
  (op: string) =>
  (why: string): never => {
    throw new UnsupportedGradient(`com.microsoft.${op}`, why);
  };

/** [b, s, H·d] ↔ [b, H, s, d]. */
const splitHeads = (e: Emitter, t: string, heads: number): string => e.transpose(e.op1('Reshape', [t, e.ints([0, 0, heads, -1])]), [0, 2, 1, 3]);
const mergeHeads = (e: Emitter, t: string): string => e.op1('Reshape', [e.transpose(t, [0, 2, 1, 3]), e.ints([0, 0, -1])]);

// com.microsoft.Attention, the transformer optimizer's fused self-attention: [Q K V] = X·W + bias,
// then multi-head attention (no past).
const MsAttention: Vjp = (c) => {
  const e = c.e;
  const fail = msFail('Attention');
  const [x, w, bias, mask, past, attentionBias, pastLength] = c.node.inputs as (string | undefined)[];
  if (c.gy.slice(1).some((g) => g)) fail('a gradient through its present output');
  if (past || pastLength) fail('a past key/value input');
  if (c.node.ints.do_rotary) fail('do_rotary');
  if (c.needs(1)) fail('a gradient of the weights');
  const heads = c.node.ints.num_heads ?? fail('no num_heads');
  const [qh, kh, vh] = c.node.intLists?.qkv_hidden_sizes ?? Array<number>(3).fill(e.dims(w!)[1]! / 3);
  if (qh !== kh) fail('query and key hidden sizes that differ');
  const scale = c.node.floats?.scale ?? 1 / Math.sqrt(qh! / heads);

  let qkv = e.op1('MatMul', [x!, w!]);
  if (bias) qkv = e.add(qkv, bias);
  const part = (from: number, to: number): string => splitHeads(e, e.op1('Slice', [qkv, e.ints([from]), e.ints([to]), e.ints([-1])]), heads);
  const q4 = part(0, qh!);
  const k4 = part(qh!, qh! + kh!);
  const v4 = part(qh! + kh!, qh! + kh! + vh!);
  const [batch, keyCount] = e.dims(x!);
  const masks = { mask, attentionBias, unidirectional: !!c.node.ints.unidirectional, filter: c.node.floats?.mask_filter_value ?? -10000, batch: batch!, keyCount: keyCount! };
  const p = msProbabilities(e, fail, q4, k4, scale, masks);
  const d = attentionBackward(e, { p, q4, k4, v4, g4: splitHeads(e, g0(c), heads), hkv: heads, scale }, { q: true, k: true, v: true });
  const dqkv = e.op1('Concat', [mergeHeads(e, d.q!), mergeHeads(e, d.k!), mergeHeads(e, d.v!)], { axis: -1 });
  return [
    c.needs(0) ? e.op1('MatMul', [dqkv, e.transposeLast2(w!, 2)]) : null,
    null,
    bias && c.needs(2) ? e.unbroadcast(dqkv, [...e.dims(x!).slice(0, -1), qh! + kh! + vh!], bias) : null,
  ];
};

// com.microsoft.MultiHeadAttention with separate 3-D query [b, s, H·d], key [b, t, H·d] and value
// [b, t, H·dv] (self- or cross-attention), an optional bias [Q K V], no past; packed or 4-D
// key/value layouts are named as unsupported.
const MultiHeadAttention: Vjp = (c) => {
  const e = c.e;
  const fail = msFail('MultiHeadAttention');
  const [q, k, v, bias, mask, attentionBias, ...rest] = c.node.inputs as (string | undefined)[];
  if (c.gy.slice(1).some((g) => g)) fail('a gradient through its present or QK outputs');
  if (rest.some((t) => t)) fail('a past key/value input');
  if (!k || !v || e.rank(q!) !== 3 || e.rank(k) !== 3 || e.rank(v) !== 3) fail('packed or 4-D query, key or value');
  const heads = c.node.ints.num_heads ?? fail('no num_heads');
  const [qh, kh, vh] = [e.dims(q!)[2]!, e.dims(k!)[2]!, e.dims(v!)[2]!];
  const scale = c.node.floats?.scale ?? 1 / Math.sqrt(qh / heads);
  const biased = (t: string, from: number, to: number): string => (bias ? e.add(t, e.op1('Slice', [bias, e.ints([from]), e.ints([to])])) : t);
  const q4 = splitHeads(e, biased(q!, 0, qh), heads);
  const k4 = splitHeads(e, biased(k!, qh, qh + kh), heads);
  const v4 = splitHeads(e, biased(v!, qh + kh, qh + kh + vh), heads);
  const [batch, keyCount] = e.dims(k!);
  const masks = { mask, attentionBias, unidirectional: !!c.node.ints.unidirectional, filter: c.node.floats?.mask_filter_value ?? -10000, batch: batch!, keyCount: keyCount! };
  const p = msProbabilities(e, fail, q4, k4, scale, masks);
  const want = { q: c.needs(0) || c.needs(3), k: c.needs(1) || c.needs(3), v: c.needs(2) || c.needs(3) };
  const d = attentionBackward(e, { p, q4, k4, v4, g4: splitHeads(e, g0(c), heads), hkv: heads, scale }, want);
  const [dq, dk, dv] = [d.q, d.k, d.v].map((t) => t && mergeHeads(e, t));
  let dbias: string | null = null;
  if (bias && c.needs(3)) dbias = e.op1('Concat', [dq!, dk!, dv!].map((t) => e.reduceSum(t, [0, 1], false)), { axis: 0 });
  return [c.needs(0) ? dq! : null, c.needs(1) ? dk! : null, c.needs(2) ? dv! : null, dbias];
};

export const ATTENTION: Record<string, Vjp> = { Attention, 'com.microsoft.Attention': MsAttention, 'com.microsoft.MultiHeadAttention': MultiHeadAttention };
