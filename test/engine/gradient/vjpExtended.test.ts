// The vector-Jacobian products beyond the core set match central finite differences: ops that the
// dynamo exporter (opset 18+, RMSNormalization at 23), Llama-style models (Einsum, Tile for GQA,
// Trilu/CumSum masks) and onnxruntime's transformer optimizer (com.microsoft fused norms and GELUs)
// put on the path. Each case is a one-op model run by ONNX Runtime (tinyModel.ts). Forms that stay
// unsupported are named.

import * as assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as fs from 'node:fs';
import { tempDir } from '../../helpers';
import { GradientUnsupported, plan } from '../../../src/engine/model/gradient/build';
import { UnsupportedGradient } from '../../../src/engine/model/gradient/vjp/types';
import { parseOnnx } from '../../../src/engine/model/onnxFile';
import { parseEquation } from '../../../src/engine/model/gradient/vjp/einsum';
import { assertGradientMatches, gradCheck, modelBytes, OpCase } from './tinyModel';

const dir = tempDir('vjp-extended');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const f = (name: string, dims: number[], values: number[] = []) => ({ name, dims, values });
const i64 = (name: string, values: number[], dims = [values.length]) => ({ name, dims, values, type: 'int64' as const });
const scalar = (name: string, v: number) => ({ name, dims: [], values: [v] });
const MS = { 'com.microsoft': 1 };
const one = (name: string, opType: string, inputs: string[], x: number[], y: number[], more: Partial<OpCase> = {}, attrs?: OpCase['nodes'][0]['attrs'], domain?: string): OpCase => ({
  name,
  opset: 17,
  x,
  y,
  nodes: [{ opType, inputs, outputs: ['Y'], attrs, domain }],
  ...(domain ? { domains: MS } : {}),
  ...more,
});
const act = (name: string, opType: string, attrs?: OpCase['nodes'][0]['attrs'], more: Partial<OpCase> = {}, domain?: string): OpCase =>
  one(name, opType, ['X'], [2, 3, 4], [2, 3, 4], more, attrs, domain);

/** com.microsoft.Attention on X [2, 3, 8] with 2 heads and an int32 mask_index made from `mi`. */
const msAttention = (name: string, inits: OpCase['inits'] & object, attrs: Record<string, number | { float: number }>, withBias = false): OpCase => ({
  name: `com.microsoft Attention, ${name}`,
  opset: 17,
  domains: MS,
  x: [2, 3, 8],
  y: [2, 3, 8],
  nodes: [
    { opType: 'Cast', inputs: ['mi'], outputs: ['mask'], attrs: { to: 6 } },
    { opType: 'Attention', inputs: ['X', 'W', 'B', 'mask', ...(withBias ? ['', 'AB'] : [])], outputs: ['Y'], attrs: { num_heads: 2, ...attrs }, domain: 'com.microsoft' },
  ],
  inits: [f('W', [8, 24]), f('B', [24]), ...inits],
});

const CASES: OpCase[] = [
  // Activations
  act('Softplus', 'Softplus'),
  act('LeakyRelu α 0.1', 'LeakyRelu', { alpha: { float: 0.1 } }, { awayFromZero: true }),
  act('Elu α 0.5', 'Elu', { alpha: { float: 0.5 } }, { awayFromZero: true }),
  // 3x crosses both kinks (x = ±5/6): slopes 0 and α.
  act('HardSigmoid α 0.2 β 0.5 (slopes 0 and α)', 'HardSigmoid', undefined, {
    nodes: [
      { opType: 'Mul', inputs: ['X', 'k'], outputs: ['x3'] },
      { opType: 'HardSigmoid', inputs: ['x3'], outputs: ['Y'], attrs: { alpha: { float: 0.2 }, beta: { float: 0.5 } } },
    ],
    inits: [scalar('k', 3)],
  }),
  act('HardSwish (three pieces)', 'HardSwish', undefined, {
    opset: 14,
    nodes: [
      { opType: 'Mul', inputs: ['X', 'k'], outputs: ['x5'] },
      { opType: 'HardSwish', inputs: ['x5'], outputs: ['Y'] },
    ],
    inits: [scalar('k', 5)],
  }),
  act('Swish (opset 24, SiLU)', 'Swish', undefined, { opset: 24 }),
  act('Swish α 1.5 (opset 24)', 'Swish', { alpha: { float: 1.5 } }, { opset: 24 }),
  act('com.microsoft Gelu', 'Gelu', undefined, {}, 'com.microsoft'),
  act('com.microsoft QuickGelu α 1.702', 'QuickGelu', { alpha: { float: 1.702 } }, {}, 'com.microsoft'),
  act('com.microsoft QuickGelu default α', 'QuickGelu', undefined, {}, 'com.microsoft'),
  one('com.microsoft BiasGelu X + B[4]', 'BiasGelu', ['X', 'B'], [2, 3, 4], [2, 3, 4], { inits: [f('B', [4])] }, undefined, 'com.microsoft'),
  one('com.microsoft BiasGelu W[2,3,4] + X[4] (X is the bias)', 'BiasGelu', ['W', 'X'], [4], [2, 3, 4], { inits: [f('W', [2, 3, 4])] }, undefined, 'com.microsoft'),
  one('com.microsoft FastGelu with bias', 'FastGelu', ['X', 'B'], [2, 3, 4], [2, 3, 4], { inits: [f('B', [4])] }, undefined, 'com.microsoft'),
  one('com.microsoft FastGelu, X is the bias', 'FastGelu', ['W', 'X'], [4], [2, 3, 4], { inits: [f('W', [2, 3, 4])] }, undefined, 'com.microsoft'),
  act('com.microsoft FastGelu without bias', 'FastGelu', undefined, {}, 'com.microsoft'),

  // com.microsoft.FusedMatMul
  one('com.microsoft FusedMatMul α 0.5, transA, transB, W batch-broadcast', 'FusedMatMul', ['X', 'W'], [2, 4, 3], [2, 3, 5], { inits: [f('W', [5, 4])] }, { alpha: { float: 0.5 }, transA: 1, transB: 1 }, 'com.microsoft'),
  one('com.microsoft FusedMatMul transB, X as B broadcast over the batch', 'FusedMatMul', ['W', 'X'], [5, 4], [2, 3, 5], { inits: [f('W', [2, 3, 4])] }, { transB: 1 }, 'com.microsoft'),
  one('com.microsoft FusedMatMul X·X (both operands)', 'FusedMatMul', ['X', 'X'], [2, 3, 3], [2, 3, 3], {}, { alpha: { float: 2 } }, 'com.microsoft'),

  // Variadic elementwise
  one('Sum X, W[4], X', 'Sum', ['X', 'W', 'X'], [2, 3, 4], [2, 3, 4], { inits: [f('W', [4])] }),
  one('Sum W[2,3,4], X[3,1] (X broadcast)', 'Sum', ['W', 'X'], [3, 1], [2, 3, 4], { inits: [f('W', [2, 3, 4])] }),
  one('Mean X, W[3,1], X', 'Mean', ['X', 'W', 'X'], [2, 3, 4], [2, 3, 4], { inits: [f('W', [3, 1])] }),

  // Reductions
  one('ReduceMax opset 13 axes attribute, keepdims 0', 'ReduceMax', ['X'], [2, 3, 4], [2, 4], { opset: 13 }, { axes: [1], keepdims: 0 }),
  one('ReduceMax opset 18 axes input, keepdims 1', 'ReduceMax', ['X', 'ax'], [2, 3, 4], [2, 3, 1], { opset: 18, inits: [i64('ax', [-1])] }, { keepdims: 1 }),
  one('ReduceMin opset 18 all axes, keepdims 0', 'ReduceMin', ['X'], [2, 3, 4], [], { opset: 18 }, { keepdims: 0 }),
  one('ReduceSumSquare opset 18 axes input', 'ReduceSumSquare', ['X', 'ax'], [2, 3, 4], [2, 3], { opset: 18, inits: [i64('ax', [2])] }, { keepdims: 0 }),
  one('ReduceL2 opset 13', 'ReduceL2', ['X'], [2, 3, 4], [2, 1, 4], { opset: 13 }, { axes: [1] }),
  one('ReduceLogSumExp opset 13 keepdims 0', 'ReduceLogSumExp', ['X'], [2, 3, 4], [3, 4], { opset: 13 }, { axes: [0], keepdims: 0 }),

  // Tile, Pad, Trilu, CumSum
  one('Tile [2,3,4] × [1,2,3]', 'Tile', ['X', 'rep'], [2, 3, 4], [2, 6, 12], { inits: [i64('rep', [1, 2, 3])] }),
  one('Tile [3,1] × [2,4]', 'Tile', ['X', 'rep'], [3, 1], [6, 4], { inits: [i64('rep', [2, 4])] }),
  one('Pad constant with a value', 'Pad', ['X', 'pads', 'cv'], [2, 3, 4], [2, 4, 7], { inits: [i64('pads', [0, 1, 2, 0, 0, 1]), scalar('cv', 0.5)] }),
  one('Pad constant, negative pads crop', 'Pad', ['X', 'pads'], [2, 3, 4], [2, 2, 4], { inits: [i64('pads', [0, -1, 1, 0, 0, -1])] }),
  one('Pad opset 18 with axes', 'Pad', ['X', 'pads', '', 'ax'], [2, 3, 4], [2, 3, 7], { opset: 18, inits: [i64('pads', [1, 2]), i64('ax', [-1])] }),
  one('Pad reflect opset 18', 'Pad', ['X', 'pads'], [2, 3, 4], [2, 5, 7], { opset: 18, inits: [i64('pads', [0, 1, 2, 0, 1, 1])] }, { mode: 'reflect' }),
  one('Pad edge opset 18', 'Pad', ['X', 'pads'], [2, 3, 4], [2, 3, 9], { opset: 18, inits: [i64('pads', [0, 0, 3, 0, 0, 2])] }, { mode: 'edge' }),
  one('Pad wrap opset 19', 'Pad', ['X', 'pads'], [2, 3, 4], [2, 5, 6], { opset: 19, inits: [i64('pads', [0, 1, 1, 0, 1, 1])] }, { mode: 'wrap' }),
  one('Trilu upper, k = 1', 'Trilu', ['X', 'k'], [2, 4, 4], [2, 4, 4], { inits: [i64('k', [1], [])] }),
  one('Trilu lower', 'Trilu', ['X'], [2, 3, 4], [2, 3, 4], {}, { upper: 0 }),
  one('CumSum axis 1', 'CumSum', ['X', 'ax'], [2, 3, 4], [2, 3, 4], { inits: [i64('ax', [1], [])] }),
  one('CumSum exclusive, reverse, axis −1', 'CumSum', ['X', 'ax'], [2, 3, 4], [2, 3, 4], { inits: [i64('ax', [-1], [])] }, { exclusive: 1, reverse: 1 }),

  // Einsum
  one("Einsum 'bhid,bhjd->bhij' (X as queries)", 'Einsum', ['X', 'W'], [2, 2, 3, 4], [2, 2, 3, 5], { inits: [f('W', [2, 2, 5, 4])] }, { equation: 'bhid,bhjd->bhij' }),
  one("Einsum 'bhij,bhjd->bhid' (X as values)", 'Einsum', ['W', 'X'], [2, 2, 5, 4], [2, 2, 3, 4], { inits: [f('W', [2, 2, 3, 5])] }, { equation: 'bhij,bhjd->bhid' }),
  one("Einsum 'bij,bjk->bik' with X as both operands", 'Einsum', ['X', 'X'], [2, 3, 3], [2, 3, 3], {}, { equation: 'bij,bjk->bik' }),
  one("Einsum 'i,j->ij' (outer product)", 'Einsum', ['X', 'W'], [4], [4, 3], { inits: [f('W', [3])] }, { equation: 'i,j->ij' }),
  one("Einsum 'i j k, j l -> i l' (k summed within X alone, spaces)", 'Einsum', ['X', 'W'], [2, 3, 4], [2, 5], { inits: [f('W', [3, 5])] }, { equation: 'i j k, j l -> i l' }),
  one("Einsum implicit output 'ij,jk'", 'Einsum', ['W', 'X'], [4, 5], [3, 5], { inits: [f('W', [3, 4])] }, { equation: 'ij,jk' }),
  one("Einsum one operand 'bij->bji'", 'Einsum', ['X'], [2, 3, 4], [2, 4, 3], {}, { equation: 'bij->bji' }),
  one("Einsum one operand 'bij->b' (sums)", 'Einsum', ['X'], [2, 3, 4], [2], {}, { equation: 'bij->b' }),

  // Rotary embeddings (random cos/sin caches: the transpose needs no cos² + sin² = 1)
  one('RotaryEmbedding opset 23, 4-D, position ids', 'RotaryEmbedding', ['X', 'cos', 'sin', 'pos'], [1, 2, 3, 8], [1, 2, 3, 8], {
    opset: 23,
    inits: [f('cos', [6, 4]), f('sin', [6, 4]), i64('pos', [2, 0, 5], [1, 3])],
  }),
  one('RotaryEmbedding opset 23, 3-D, interleaved, partial (rotary_embedding_dim 4)', 'RotaryEmbedding', ['X', 'cos', 'sin', 'pos'], [2, 3, 16], [2, 3, 16], {
    opset: 23,
    inits: [f('cos', [4, 2]), f('sin', [4, 2]), i64('pos', [0, 1, 2, 3, 2, 1], [2, 3])],
  }, { num_heads: 2, interleaved: 1, rotary_embedding_dim: 4 }),
  one('RotaryEmbedding opset 23, caches per batch and position (no position ids)', 'RotaryEmbedding', ['X', 'cos', 'sin'], [2, 2, 3, 4], [2, 2, 3, 4], {
    opset: 23,
    inits: [f('cos', [2, 3, 2]), f('sin', [2, 3, 2])],
  }),
  one('com.microsoft RotaryEmbedding, 3-D', 'RotaryEmbedding', ['X', 'pos', 'cos', 'sin'], [2, 3, 16], [2, 3, 16], {
    inits: [i64('pos', [0, 1, 2, 1, 2, 3], [2, 3]), f('cos', [8, 4]), f('sin', [8, 4])],
  }, { num_heads: 2 }, 'com.microsoft'),
  one('com.microsoft RotaryEmbedding, interleaved', 'RotaryEmbedding', ['X', 'pos', 'cos', 'sin'], [1, 3, 8], [1, 3, 8], {
    inits: [i64('pos', [0, 1, 2], [1, 3]), f('cos', [8, 4]), f('sin', [8, 4])],
  }, { interleaved: 1, num_heads: 1 }, 'com.microsoft'),
  one('CastLike X to a float', 'CastLike', ['X', 'W'], [2, 3, 4], [2, 3, 4], { opset: 19, inits: [f('W', [1])] }),

  // ONNX Attention (opset 23)
  one('Attention 4-D, X as Q', 'Attention', ['X', 'K', 'V'], [2, 2, 3, 4], [2, 2, 3, 4], { opset: 23, inits: [f('K', [2, 2, 5, 4]), f('V', [2, 2, 5, 4])] }),
  one('Attention 4-D, X as K and V, scale 0.7, additive float mask', 'Attention', ['Q', 'X', 'X', 'M'], [2, 2, 5, 4], [2, 2, 3, 4], {
    opset: 23,
    inits: [f('Q', [2, 2, 3, 4]), f('M', [3, 5])],
  }, { scale: { float: 0.7 } }),
  one('Attention 4-D causal, X as Q, K and V', 'Attention', ['X', 'X', 'X'], [1, 2, 4, 3], [1, 2, 4, 3], { opset: 23 }, { is_causal: 1 }),
  one('Attention grouped-query (4 query heads over 2), X as K and V', 'Attention', ['Q', 'X', 'X'], [2, 2, 5, 4], [2, 4, 3, 4], { opset: 23, inits: [f('Q', [2, 4, 3, 4])] }),
  one('Attention grouped-query, X as Q, value head size 6', 'Attention', ['X', 'K', 'V'], [2, 4, 3, 4], [2, 4, 3, 6], { opset: 23, inits: [f('K', [2, 2, 5, 4]), f('V', [2, 2, 5, 6])] }),
  {
    name: 'Attention with a boolean mask',
    opset: 23,
    x: [2, 2, 3, 4],
    y: [2, 2, 3, 4],
    nodes: [
      { opType: 'Greater', inputs: ['Mw', 'zero'], outputs: ['M'] },
      { opType: 'Attention', inputs: ['X', 'K', 'V', 'M'], outputs: ['Y'] },
    ],
    inits: [f('Mw', [2, 1, 3, 5], Array.from({ length: 30 }, (_, i) => (i % 5 === 0 ? 1 : Math.sin(i)))), scalar('zero', 0), f('K', [2, 2, 5, 4]), f('V', [2, 2, 5, 4])],
  },
  one('Attention 3-D (q_num_heads 4, kv_num_heads 2), X as Q', 'Attention', ['X', 'K', 'V'], [2, 3, 16], [2, 3, 16], { opset: 23, inits: [f('K', [2, 5, 8]), f('V', [2, 5, 8])] }, { q_num_heads: 4, kv_num_heads: 2 }),
  one('Attention 3-D, X as K and V', 'Attention', ['Q', 'X', 'X'], [2, 5, 8], [2, 3, 16], { opset: 23, inits: [f('Q', [2, 3, 16])] }, { q_num_heads: 4, kv_num_heads: 2 }),
  {
    // onnxruntime needs the present outputs when a past is given.
    name: 'Attention with past keys and values, causal, X as K and V',
    opset: 23,
    x: [1, 2, 3, 4],
    y: [1, 2, 3, 4],
    nodes: [{ opType: 'Attention', inputs: ['Q', 'X', 'X', '', 'PK', 'PV'], outputs: ['Y', 'present_k', 'present_v'], attrs: { is_causal: 1 } }],
    inits: [f('Q', [1, 2, 3, 4]), f('PK', [1, 2, 2, 4]), f('PV', [1, 2, 2, 4])],
  },

  // com.microsoft.Attention (probabilities recomputed from its inputs)
  one('com.microsoft Attention, no mask', 'Attention', ['X', 'W', 'B'], [2, 3, 8], [2, 3, 8], { inits: [f('W', [8, 24]), f('B', [24])] }, { num_heads: 2 }, 'com.microsoft'),
  msAttention('2-D key-padding mask', [i64('mi', [1, 1, 0, 1, 1, 1], [2, 3])], {}),
  msAttention('unidirectional, 1-D key lengths', [i64('mi', [3, 2], [2])], { unidirectional: 1 }),
  msAttention('3-D mask, attention_bias, scale 0.3', [i64('mi', [1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1], [2, 3, 3]), f('AB', [1, 2, 3, 3])], { scale: { float: 0.3 } }, true),
  one('com.microsoft Attention, qkv_hidden_sizes [8, 8, 4], X as the bias', 'Attention', ['A', 'W', 'X'], [20], [2, 3, 4], { inits: [f('A', [2, 3, 8]), f('W', [8, 20])] }, { num_heads: 2, qkv_hidden_sizes: [8, 8, 4] }, 'com.microsoft'),

  // com.microsoft.MultiHeadAttention (separate 3-D query, key, value)
  one('com.microsoft MultiHeadAttention, X as the query (cross-attention), bias', 'MultiHeadAttention', ['X', 'K', 'V', 'B'], [2, 3, 8], [2, 3, 6], { inits: [f('K', [2, 5, 8]), f('V', [2, 5, 6]), f('B', [22])] }, { num_heads: 2 }, 'com.microsoft'),
  one('com.microsoft MultiHeadAttention, X as key and value, 2-D key-padding mask', 'MultiHeadAttention', ['Q', 'X', 'X', '', 'mask'], [2, 5, 8], [2, 3, 8], {
    domains: MS,
    inits: [f('Q', [2, 3, 8]), i64('mask64', [1, 1, 1, 0, 0, 1, 1, 1, 1, 0], [2, 5])],
    nodes: [
      { opType: 'Cast', inputs: ['mask64'], outputs: ['mask'], attrs: { to: 6 } },
      { opType: 'MultiHeadAttention', inputs: ['Q', 'X', 'X', '', 'mask'], outputs: ['Y'], attrs: { num_heads: 2 }, domain: 'com.microsoft' },
    ],
  }),
  one('com.microsoft MultiHeadAttention, self-attention X, X, X, unidirectional, attention_bias, X as the bias too', 'MultiHeadAttention', [], [24], [1, 3, 8], {
    domains: MS,
    nodes: [
      { opType: 'Reshape', inputs: ['X', 'shape'], outputs: ['x3'] },
      { opType: 'Slice', inputs: ['X', 'from', 'to'], outputs: ['bias'] },
      { opType: 'MultiHeadAttention', inputs: ['x3', 'x3', 'x3', 'bias', '', 'AB'], outputs: ['Y'], attrs: { num_heads: 2, unidirectional: 1 }, domain: 'com.microsoft' },
    ],
    inits: [i64('shape', [1, 3, 8]), i64('from', [0]), i64('to', [24]), f('AB', [1, 2, 3, 3])],
  }),

  // Normalizations
  one('RMSNormalization opset 23, last axis', 'RMSNormalization', ['X', 'S'], [2, 3, 4], [2, 3, 4], { opset: 23, inits: [f('S', [4])] }, { axis: -1, epsilon: { float: 1e-5 } }),
  one('RMSNormalization opset 23 over the last two axes, default ε', 'RMSNormalization', ['X', 'S'], [2, 3, 4], [2, 3, 4], { opset: 23, inits: [f('S', [3, 4])] }, { axis: 1 }),
  one('RMSNormalization opset 23, X as the scale', 'RMSNormalization', ['W', 'X'], [4], [2, 3, 4], { opset: 23, inits: [f('W', [2, 3, 4])] }),
  one('SimplifiedLayerNormalization (onnxruntime RMSNorm)', 'SimplifiedLayerNormalization', ['X', 'S'], [2, 3, 4], [2, 3, 4], { inits: [f('S', [4])] }, { axis: -1, epsilon: { float: 1e-6 } }),
  one('com.microsoft SkipLayerNormalization: input, skip, gamma, beta, bias', 'SkipLayerNormalization', ['X', 'W', 'S', 'B', 'C'], [2, 3, 4], [2, 3, 4], { inits: [f('W', [2, 3, 4]), f('S', [4]), f('B', [4]), f('C', [4])] }, { epsilon: { float: 1e-5 } }, 'com.microsoft'),
  one('com.microsoft SkipLayerNormalization: X as the skip (2-D, broadcast)', 'SkipLayerNormalization', ['W', 'X', 'S', 'B'], [3, 4], [2, 3, 4], { inits: [f('W', [2, 3, 4]), f('S', [4]), f('B', [4])] }, { epsilon: { float: 1e-5 } }, 'com.microsoft'),
  {
    name: 'com.microsoft SkipLayerNormalization: output and residual sum both used',
    opset: 17,
    domains: MS,
    x: [2, 3, 4],
    y: [2, 3, 4],
    nodes: [
      { opType: 'SkipLayerNormalization', inputs: ['W', 'X', 'S', 'B', 'C'], outputs: ['n', '', '', 'sum'], attrs: { epsilon: { float: 1e-5 } }, domain: 'com.microsoft' },
      { opType: 'Mul', inputs: ['n', 'sum'], outputs: ['Y'] },
    ],
    inits: [f('W', [2, 3, 4]), f('S', [4]), f('B', [4]), f('C', [4])],
  },
  one('com.microsoft SkipSimplifiedLayerNormalization with bias', 'SkipSimplifiedLayerNormalization', ['X', 'W', 'S', 'C'], [2, 3, 4], [2, 3, 4], { inits: [f('W', [2, 3, 4]), f('S', [4]), f('C', [4])] }, { epsilon: { float: 1e-6 } }, 'com.microsoft'),
  {
    name: 'com.microsoft SkipSimplifiedLayerNormalization: X as the bias, residual sum used',
    opset: 17,
    domains: MS,
    x: [4],
    y: [2, 3, 4],
    nodes: [
      { opType: 'SkipSimplifiedLayerNormalization', inputs: ['A', 'W', 'S', 'X'], outputs: ['n', '', '', 'sum'], attrs: { epsilon: { float: 1e-6 } }, domain: 'com.microsoft' },
      { opType: 'Add', inputs: ['n', 'sum'], outputs: ['Y'] },
    ],
    inits: [f('A', [2, 3, 4]), f('W', [2, 3, 4]), f('S', [4])],
  },
];

describe('vector-Jacobian products of the extended op set equal central finite differences', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      await assertGradientMatches(c, dir);
    });
  }
});

describe('ops on integer side paths need no gradient', () => {
  test('a condition from CumSum and Mod of constant ids leaves Where differentiable', async () => {
    await assertGradientMatches(
      {
        name: 'Where on CumSum/Mod of ids',
        opset: 17,
        x: [2, 4],
        y: [2, 4],
        nodes: [
          { opType: 'CumSum', inputs: ['ids', 'ax'], outputs: ['cs'] },
          { opType: 'Mod', inputs: ['cs', 'two'], outputs: ['odd'] },
          { opType: 'Equal', inputs: ['odd', 'zero'], outputs: ['even'] },
          { opType: 'Neg', inputs: ['X'], outputs: ['nx'] },
          { opType: 'Where', inputs: ['even', 'X', 'nx'], outputs: ['Y'] },
        ],
        inits: [i64('ids', [3, 1, 4, 1, 5, 9, 2, 6], [2, 4]), i64('ax', [1], []), i64('two', [2], []), i64('zero', [0], [])],
      },
      dir,
    );
  });
});

describe('forms that stay unsupported are named', () => {
  const rejects = async (c: OpCase, pattern: RegExp): Promise<void> => {
    await assert.rejects(gradCheck(c, dir), (e: unknown) => e instanceof UnsupportedGradient && pattern.test(e.message));
  };
  test('Einsum with an ellipsis or a diagonal names the equation', async () => {
    assert.throws(() => parseEquation('...ij,...jk->...ik'), /Einsum: equation '\.\.\.ij,\.\.\.jk->\.\.\.ik': an ellipsis/);
    assert.throws(() => parseEquation('ii->i'), /an index repeated within 'ii'/);
    await rejects(one("Einsum 'bii->bi'", 'Einsum', ['X'], [2, 3, 3], [2, 3], {}, { equation: 'bii->bi' }), /Einsum: equation 'bii->bi'/);
  });
  test('a com.microsoft op without a vector-Jacobian product is named with its domain', () => {
    const c = one('com.microsoft GroupQueryAttention', 'GroupQueryAttention', ['X', 'K', 'V'], [2, 3, 4], [2, 3, 4], { inits: [f('K', [2, 5, 4]), f('V', [2, 5, 4])] }, { num_heads: 2, kv_num_heads: 2 }, 'com.microsoft');
    const facts = parseOnnx(modelBytes(c, 1), 'attention.onnx');
    assert.throws(
      () => plan({ graph: facts.graph, opset: c.opset, wrt: 'X', logits: 'logits', taps: [] }, 'attention.onnx'),
      (e: unknown) => e instanceof GradientUnsupported && e.ops.includes('com.microsoft.GroupQueryAttention'),
    );
  });
  test('com.microsoft Attention with a past input', async () => {
    const c = one('com.microsoft Attention with past', 'Attention', ['X', 'W', 'B', '', 'P'], [1, 3, 8], [1, 3, 8], { inits: [f('W', [8, 24]), f('B', [24]), f('P', [2, 1, 2, 2, 4])] }, { num_heads: 2, unidirectional: 1 }, 'com.microsoft');
    await rejects({ ...c, nodes: [{ ...c.nodes[0]!, outputs: ['Y', 'present'] }] }, /com.microsoft.Attention: a past key\/value input/);
  });
  test('Pad reflect before opset 16', async () => {
    await rejects(one('Pad reflect opset 13', 'Pad', ['X', 'pads'], [2, 3, 4], [2, 3, 6], { opset: 13, inits: [i64('pads', [0, 0, 1, 0, 0, 1])] }, { mode: 'reflect' }), /Pad: mode reflect before opset 16/);
  });
  test('a gradient through a normalization\'s inverse-deviation output', async () => {
    const c: OpCase = {
      name: 'SimplifiedLayerNormalization inv_std_var used',
      opset: 17,
      x: [2, 3, 4],
      y: [2, 3, 1],
      nodes: [{ opType: 'SimplifiedLayerNormalization', inputs: ['X', 'S'], outputs: ['n', 'Y'], attrs: { axis: -1 } }],
      inits: [f('S', [4])],
    };
    await rejects(c, /SimplifiedLayerNormalization: a gradient through its mean or inverse-deviation outputs/);
  });
});
