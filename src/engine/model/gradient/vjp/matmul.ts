// Vector-Jacobian products of MatMul, Gemm and com.microsoft.FusedMatMul (onnxruntime's MatMul
// with transposes and a scale folded in).

import { g0, UnsupportedGradient, Vjp } from './types';

const MatMul: Vjp = (c) => {
  const [a, b] = c.node.inputs as [string, string];
  const e = c.e;
  const y = c.node.outputs[0]!;
  const ra = e.rank(a);
  const rb = e.rank(b);
  if (ra < 2 || rb < 2) throw new UnsupportedGradient('MatMul', 'a one-dimensional operand');
  const g = g0(c);
  const batch = e.dims(y).slice(0, -2);
  const aDims = e.dims(a);
  const bDims = e.dims(b);
  // dA = g·Bᵀ, dB = Aᵀ·g, each summed over the batch axes it was broadcast along.
  const da = c.needs(0) ? e.unbroadcast(e.op1('MatMul', [g, e.transposeLast2(b, rb)]), [...batch, ...aDims.slice(-2)], a) : null;
  const db = c.needs(1) ? e.unbroadcast(e.op1('MatMul', [e.transposeLast2(a, ra), g]), [...batch, ...bDims.slice(-2)], b) : null;
  return [da, db];
};

// Y = α·op(A)·op(B) + β·C, with op = transpose when transA / transB.
const Gemm: Vjp = (c) => {
  const [a, b, cc] = c.node.inputs as [string, string, string | undefined];
  const e = c.e;
  const g = g0(c);
  const alpha = c.node.floats?.alpha ?? 1;
  const beta = c.node.floats?.beta ?? 1;
  const transA = (c.node.ints.transA ?? 0) === 1;
  const transB = (c.node.ints.transB ?? 0) === 1;
  const scaled = (x: string, s: number): string => (s === 1 ? x : e.mul(x, e.scalar(s)));
  const t = (x: string): string => e.transpose(x, [1, 0]);
  let da: string | null = null;
  let db: string | null = null;
  let dc: string | null = null;
  if (c.needs(0)) {
    const dOpA = e.op1('MatMul', [g, transB ? b : t(b)]);
    da = scaled(transA ? t(dOpA) : dOpA, alpha);
  }
  if (c.needs(1)) {
    const dOpB = e.op1('MatMul', [transA ? a : t(a), g]);
    db = scaled(transB ? t(dOpB) : dOpB, alpha);
  }
  if (cc && c.needs(2)) dc = e.unbroadcast(scaled(g, beta), e.dims(c.node.outputs[0]!), cc);
  return [da, db, dc];
};

// Y = α·op(A)·op(B), op = swap of the last two axes when transA / transB, batch axes broadcasting.
const FusedMatMul: Vjp = (c) => {
  if (c.node.ints.transBatchA || c.node.ints.transBatchB) throw new UnsupportedGradient('com.microsoft.FusedMatMul', 'transBatchA / transBatchB');
  const [a, b] = c.node.inputs as [string, string];
  const e = c.e;
  const ra = e.rank(a);
  const rb = e.rank(b);
  if (ra < 2 || rb < 2) throw new UnsupportedGradient('com.microsoft.FusedMatMul', 'a one-dimensional operand');
  const alpha = c.node.floats?.alpha ?? 1;
  const g = alpha === 1 ? g0(c) : e.mul(g0(c), e.scalar(alpha));
  const transA = (c.node.ints.transA ?? 0) === 1;
  const transB = (c.node.ints.transB ?? 0) === 1;
  const opA = transA ? e.transposeLast2(a, ra) : a;
  const opB = transB ? e.transposeLast2(b, rb) : b;
  const batch = e.dims(c.node.outputs[0]!).slice(0, -2);
  const aDims = e.dims(a);
  const bDims = e.dims(b);
  // d op(A) = g·op(B)ᵀ, d op(B) = op(A)ᵀ·g; transposed back where op transposed, then unbroadcast.
  let da: string | null = null;
  let db: string | null = null;
  if (c.needs(0)) {
    const dOpA = e.op1('MatMul', [g, e.transposeLast2(opB, rb)]);
    da = e.unbroadcast(transA ? e.transposeLast2(dOpA, batch.length + 2) : dOpA, [...batch, ...aDims.slice(-2)], a);
  }
  if (c.needs(1)) {
    const dOpB = e.op1('MatMul', [e.transposeLast2(opA, ra), g]);
    db = e.unbroadcast(transB ? e.transposeLast2(dOpB, batch.length + 2) : dOpB, [...batch, ...bDims.slice(-2)], b);
  }
  return [da, db];
};

export const MATMUL: Record<string, Vjp> = { MatMul, Gemm, 'com.microsoft.FusedMatMul': FusedMatMul };
