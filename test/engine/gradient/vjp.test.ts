// Each op's vector-Jacobian product matches central finite differences on random inputs: a tiny
// model per op (tinyModel.ts), its gradient graph built by the engine, run by ONNX Runtime.
// Broadcasting both ways, opset spellings (axes as attributes before 13, inputs from 13/18),
// negative axes and steps, repeated gather indices, and unused Split outputs are covered.

import * as assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as fs from 'node:fs';
import { tempDir } from '../../helpers';
import { GradientUnsupported, plan } from '../../../src/engine/model/gradient/build';
import { parseOnnx } from '../../../src/engine/model/onnxFile';
import { assertGradientMatches, modelBytes, OpCase } from './tinyModel';

const dir = tempDir('vjp');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const f = (name: string, dims: number[], values: number[] = []) => ({ name, dims, values });
const i64 = (name: string, values: number[], dims = [values.length]) => ({ name, dims, values, type: 'int64' as const });
const scalar = (name: string, v: number) => ({ name, dims: [], values: [v] });
const un = (op: string, opts: Partial<OpCase> = {}, attrs?: Record<string, number | string>): OpCase => ({
  name: op,
  opset: 17,
  x: [2, 3, 4],
  y: [2, 3, 4],
  nodes: [{ opType: op, inputs: ['X'], outputs: ['Y'], attrs }],
  ...opts,
});
const bin = (op: string, name: string, inputs: [string, string], x: number[], w: number[], y: number[], positive = false): OpCase => ({
  name,
  opset: 17,
  x,
  y,
  positive,
  nodes: [{ opType: op, inputs, outputs: ['Y'] }],
  inits: [{ name: 'W', dims: w, values: positive ? Array.from({ length: w.reduce((a, b) => a * b, 1) }, (_, k) => 0.5 + ((k * 7) % 5) / 5) : [] }],
});

const CASES: OpCase[] = [
  bin('Add', 'Add X[2,3,4] + W[4]', ['X', 'W'], [2, 3, 4], [4], [2, 3, 4]),
  bin('Add', 'Add W[2,3,4] + X[3,1] (X broadcast)', ['W', 'X'], [3, 1], [2, 3, 4], [2, 3, 4]),
  bin('Sub', 'Sub W[2,3,4] − X[1,3,1]', ['W', 'X'], [1, 3, 1], [2, 3, 4], [2, 3, 4]),
  bin('Mul', 'Mul X[2,1,4] ⊙ W[3,1]', ['X', 'W'], [2, 1, 4], [3, 1], [2, 3, 4]),
  bin('Div', 'Div X[2,3,4] / W[4]', ['X', 'W'], [2, 3, 4], [4], [2, 3, 4], true),
  bin('Div', 'Div W[2,3,4] / X[3,4]', ['W', 'X'], [3, 4], [2, 3, 4], [2, 3, 4], true),
  bin('Max', 'Max X, W', ['X', 'W'], [2, 3, 4], [2, 3, 4], [2, 3, 4]),
  bin('MatMul', 'MatMul X[2,3,4]·W[4,5]', ['X', 'W'], [2, 3, 4], [4, 5], [2, 3, 5]),
  bin('MatMul', 'MatMul W[2,5,3]·X[3,4] (X broadcast over batch)', ['W', 'X'], [3, 4], [2, 5, 3], [2, 5, 4]),
  {
    name: 'MatMul X·Xᵀ (both operands)',
    opset: 17,
    x: [2, 3, 4],
    y: [2, 3, 3],
    nodes: [
      { opType: 'Transpose', inputs: ['X'], outputs: ['XT'], attrs: { perm: [0, 2, 1] } },
      { opType: 'MatMul', inputs: ['X', 'XT'], outputs: ['Y'] },
    ],
  },
  { name: 'Gemm transB, α, β, C', opset: 17, x: [3, 4], y: [3, 5], nodes: [{ opType: 'Gemm', inputs: ['X', 'W', 'C'], outputs: ['Y'], attrs: { transB: 1, alpha: { float: 0.7 }, beta: { float: 1.3 } } }], inits: [f('W', [5, 4]), f('C', [5])] },
  { name: 'Gemm transA, X as B', opset: 17, x: [4, 5], y: [3, 5], nodes: [{ opType: 'Gemm', inputs: ['W', 'X'], outputs: ['Y'], attrs: { transA: 1 } }], inits: [f('W', [4, 3])] },
  { name: 'Gemm X as C (broadcast)', opset: 17, x: [1, 5], y: [3, 5], nodes: [{ opType: 'Gemm', inputs: ['A', 'W', 'X'], outputs: ['Y'], attrs: { beta: { float: 0.5 } } }], inits: [f('A', [3, 4]), f('W', [4, 5])] },
  un('Neg'),
  { ...un('Pow'), name: 'Pow X^3', nodes: [{ opType: 'Pow', inputs: ['X', 'P'], outputs: ['Y'] }], inits: [scalar('P', 3)] },
  { ...un('Pow', { positive: true }), name: 'Pow X^0.5', nodes: [{ opType: 'Pow', inputs: ['X', 'P'], outputs: ['Y'] }], inits: [scalar('P', 0.5)] },
  un('Sqrt', { positive: true }),
  un('Reciprocal', { positive: true }),
  un('Exp'),
  un('Log', { positive: true }),
  un('Erf'),
  un('Tanh'),
  un('Sigmoid'),
  un('Relu', { awayFromZero: true }),
  un('Abs', { awayFromZero: true }),
  un('Sin'),
  un('Cos'),
  un('Identity'),
  { name: 'Clip [−3, 0.1] (inputs at |x| ≥ 0.2)', opset: 13, x: [2, 3, 4], y: [2, 3, 4], awayFromZero: true, nodes: [{ opType: 'Clip', inputs: ['X', 'lo', 'hi'], outputs: ['Y'] }], inits: [scalar('lo', -3), scalar('hi', 0.1)] },
  { ...un('Gelu', { opset: 20 }), name: 'Gelu (exact)' },
  { ...un('Gelu', { opset: 20 }, { approximate: 'tanh' }), name: 'Gelu (tanh)' },
  { ...un('Cast', {}, { to: 1 }), name: 'Cast to float' },
  { ...un('Dropout', { opset: 13 }), name: 'Dropout (inference)' },
  { ...un('Softmax', { opset: 13 }, { axis: -1 }), name: 'Softmax opset 13 axis −1' },
  { ...un('Softmax', { opset: 13 }, { axis: 1 }), name: 'Softmax opset 13 axis 1' },
  { ...un('Softmax', { opset: 11 }, { axis: 1 }), name: 'Softmax opset 11 axis 1 (coerced to 2-D)' },
  { ...un('LogSoftmax', { opset: 13 }, { axis: -1 }), name: 'LogSoftmax' },
  {
    name: 'LayerNormalization (scale, bias, X and scale active)',
    opset: 17,
    x: [2, 3, 4],
    y: [2, 3, 4],
    nodes: [{ opType: 'LayerNormalization', inputs: ['X', 'S', 'B'], outputs: ['Y'], attrs: { axis: -1, epsilon: { float: 1e-5 } } }],
    inits: [f('S', [4]), f('B', [4])],
  },
  {
    name: 'LayerNormalization over the last two axes',
    opset: 17,
    x: [2, 3, 4],
    y: [2, 3, 4],
    nodes: [{ opType: 'LayerNormalization', inputs: ['X', 'S'], outputs: ['Y'], attrs: { axis: 1 } }],
    inits: [f('S', [3, 4])],
  },
  {
    name: 'decomposed LayerNorm (ReduceMean, Sub, Pow, Sqrt, Div) opset 14',
    opset: 14,
    x: [2, 3, 4],
    y: [2, 3, 4],
    nodes: [
      { opType: 'ReduceMean', inputs: ['X'], outputs: ['mu'], attrs: { axes: [-1] } },
      { opType: 'Sub', inputs: ['X', 'mu'], outputs: ['xc'] },
      { opType: 'Pow', inputs: ['xc', 'two'], outputs: ['sq'] },
      { opType: 'ReduceMean', inputs: ['sq'], outputs: ['var'], attrs: { axes: [-1] } },
      { opType: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
      { opType: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
      { opType: 'Div', inputs: ['xc', 'sd'], outputs: ['Y'] },
    ],
    inits: [scalar('two', 2), scalar('eps', 1e-5)],
  },
  { ...un('ReduceMean', { opset: 13, y: [2, 4] }, { keepdims: 0 }), name: 'ReduceMean axes attribute, keepdims 0', nodes: [{ opType: 'ReduceMean', inputs: ['X'], outputs: ['Y'], attrs: { axes: [1], keepdims: 0 } }] },
  { name: 'ReduceMean opset 18 axes input, keepdims 0', opset: 18, x: [2, 3, 4], y: [2, 4], nodes: [{ opType: 'ReduceMean', inputs: ['X', 'ax'], outputs: ['Y'], attrs: { keepdims: 0 } }], inits: [i64('ax', [-2])] },
  { name: 'ReduceSum opset 13 axes input, keepdims 1', opset: 13, x: [2, 3, 4], y: [2, 1, 1], nodes: [{ opType: 'ReduceSum', inputs: ['X', 'ax'], outputs: ['Y'], attrs: { keepdims: 1 } }], inits: [i64('ax', [1, 2])] },
  { name: 'ReduceSum opset 11 all axes, keepdims 0', opset: 11, x: [2, 3, 4], y: [], nodes: [{ opType: 'ReduceSum', inputs: ['X'], outputs: ['Y'], attrs: { keepdims: 0 } }] },
  { ...un('Transpose', { y: [4, 2, 3] }, {}), name: 'Transpose perm [2,0,1]', nodes: [{ opType: 'Transpose', inputs: ['X'], outputs: ['Y'], attrs: { perm: [2, 0, 1] } }] },
  { name: 'Transpose default (reverse)', opset: 17, x: [2, 3, 4], y: [4, 3, 2], nodes: [{ opType: 'Transpose', inputs: ['X'], outputs: ['Y'] }] },
  { name: 'Reshape', opset: 17, x: [2, 3, 4], y: [6, 4], nodes: [{ opType: 'Reshape', inputs: ['X', 's'], outputs: ['Y'] }], inits: [i64('s', [-1, 4])] },
  { name: 'Flatten', opset: 17, x: [2, 3, 4], y: [2, 12], nodes: [{ opType: 'Flatten', inputs: ['X'], outputs: ['Y'], attrs: { axis: 1 } }] },
  { name: 'Squeeze opset 13', opset: 13, x: [2, 1, 4], y: [2, 4], nodes: [{ opType: 'Squeeze', inputs: ['X', 'ax'], outputs: ['Y'] }], inits: [i64('ax', [1])] },
  { name: 'Unsqueeze opset 11', opset: 11, x: [2, 4], y: [2, 1, 4], nodes: [{ opType: 'Unsqueeze', inputs: ['X'], outputs: ['Y'], attrs: { axes: [1] } }] },
  { name: 'Concat X, W, X on axis 1', opset: 17, x: [2, 3, 4], y: [2, 8, 4], nodes: [{ opType: 'Concat', inputs: ['X', 'W', 'X'], outputs: ['Y'], attrs: { axis: 1 } }], inits: [f('W', [2, 2, 4])] },
  { name: 'Slice with negative step', opset: 17, x: [2, 3, 4], y: [2, 3, 2], nodes: [{ opType: 'Slice', inputs: ['X', 'st', 'en', 'ax', 'sp'], outputs: ['Y'] }], inits: [i64('st', [-1]), i64('en', [0]), i64('ax', [2]), i64('sp', [-2])] },
  { name: 'Slice on two axes', opset: 13, x: [2, 3, 4], y: [2, 2, 3], nodes: [{ opType: 'Slice', inputs: ['X', 'st', 'en', 'ax'], outputs: ['Y'] }], inits: [i64('st', [1, 1]), i64('en', [3, 100]), i64('ax', [1, -1])] },
  {
    name: 'Split into 3, one output unused',
    opset: 17,
    x: [2, 6, 4],
    y: [2, 2, 4],
    nodes: [
      { opType: 'Split', inputs: ['X', 'parts'], outputs: ['s0', 's1', 's2'], attrs: { axis: 1 } },
      { opType: 'Mul', inputs: ['s0', 's2'], outputs: ['Y'] },
    ],
    inits: [i64('parts', [2, 2, 2])],
  },
  { name: 'Split opset 11 (split attribute)', opset: 11, x: [2, 5], y: [2, 3], nodes: [{ opType: 'Split', inputs: ['X'], outputs: ['a', 'Y'], attrs: { axis: 1, split: [2, 3] } }] },
  { name: 'Expand [3,1] → [2,3,4]', opset: 17, x: [3, 1], y: [2, 3, 4], nodes: [{ opType: 'Expand', inputs: ['X', 's'], outputs: ['Y'] }], inits: [i64('s', [2, 3, 4])] },
  {
    name: 'Where (X on both branches, broadcast condition)',
    opset: 17,
    x: [2, 3, 4],
    y: [2, 3, 4],
    nodes: [
      { opType: 'Greater', inputs: ['W', 'zero'], outputs: ['c'] },
      { opType: 'Mul', inputs: ['X', 'X'], outputs: ['x2'] },
      { opType: 'Where', inputs: ['c', 'X', 'x2'], outputs: ['Y'] },
    ],
    inits: [f('W', [3, 4]), scalar('zero', 0)],
  },
  { name: 'Gather axis 1, repeated indices', opset: 17, x: [2, 3, 4], y: [2, 4, 4], nodes: [{ opType: 'Gather', inputs: ['X', 'ix'], outputs: ['Y'], attrs: { axis: 1 } }], inits: [i64('ix', [2, 0, 2, -1])] },
  { name: 'Gather scalar index (CLS pooling), opset 14', opset: 14, x: [2, 3, 4], y: [2, 4], nodes: [{ opType: 'Gather', inputs: ['X', 'ix'], outputs: ['Y'], attrs: { axis: 1 } }], inits: [i64('ix', [0], [])] },
  { name: 'GatherElements', opset: 17, x: [2, 3], y: [2, 2], nodes: [{ opType: 'GatherElements', inputs: ['X', 'ix'], outputs: ['Y'], attrs: { axis: 1 } }], inits: [i64('ix', [0, 2, 1, 1], [2, 2])] },
  { name: 'GatherND batch_dims 1', opset: 17, x: [2, 3, 4], y: [2, 4], nodes: [{ opType: 'GatherND', inputs: ['X', 'ix'], outputs: ['Y'], attrs: { batch_dims: 1 } }], inits: [i64('ix', [2, 0], [2, 1])] },
];

describe('vector-Jacobian products equal central finite differences', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      await assertGradientMatches(c, dir);
    });
  }
});

describe('ops that cannot be differentiated exactly are named when planned', () => {
  const planOf = (c: OpCase): unknown => {
    const facts = parseOnnx(modelBytes(c, 1), `${c.name}.onnx`);
    return plan({ graph: facts.graph, opset: c.opset, wrt: 'X', logits: 'logits', taps: [] }, `${c.name}.onnx`);
  };
  test('an op with no vector-Jacobian product', () => {
    assert.throws(() => planOf({ ...un('Tan'), name: 'Tan' }), (e: unknown) => e instanceof GradientUnsupported && e.ops.includes('Tan'));
  });
  test('before opset 16, a gather whose indices may repeat', () => {
    const c: OpCase = { name: 'GatherElements opset 14', opset: 14, x: [2, 3], y: [2, 2], nodes: [{ opType: 'GatherElements', inputs: ['X', 'ix'], outputs: ['Y'], attrs: { axis: 1 } }], inits: [i64('ix', [0, 2, 1, 1], [2, 2])] };
    assert.throws(() => planOf(c), (e: unknown) => e instanceof GradientUnsupported && /GatherElements \(opset 14/.test(e.ops.join()));
    assert.doesNotThrow(() => planOf({ ...c, opset: 16, name: 'GatherElements opset 16' }));
  });
  test('an op on a branch that does not reach the target is no obstacle', () => {
    const c: OpCase = {
      name: 'Tan off the path',
      opset: 17,
      x: [2, 3],
      y: [2, 3],
      nodes: [
        { opType: 'Tan', inputs: ['X'], outputs: ['unused'] },
        { opType: 'Tanh', inputs: ['X'], outputs: ['Y'] },
      ],
    };
    assert.doesNotThrow(() => planOf(c));
  });
});
