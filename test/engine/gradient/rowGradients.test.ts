// One-row gradients (rowGradients.ts): below a read of one position (Gather(h, i, axis 1), as a
// [CLS] pooler does), position-wise ops are differentiated on that row alone and the row is widened
// where positions mix. The gradient still equals central finite differences, and the graph shows
// which way it went. The tensors are [2, 5, 4]: 5 is the probe's sequence length, by which
// [batch, sequence, hidden] tensors are told.

import * as assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as fs from 'node:fs';
import { tempDir } from '../../helpers';
import { PROBE_LENGTH } from '../../../src/engine/model/gradient/build';
import { assertGradientMatches, OpCase } from './tinyModel';

const dir = tempDir('rows');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const f = (name: string, dims: number[]) => ({ name, dims, values: [] as number[] });
const i64 = (name: string, values: number[], dims = [values.length]) => ({ name, dims, values, type: 'int64' as const });

/** A post-LN block: positions mix (a [5×5] matrix over the sequence), then a position-wise tail read at `row`. */
function classifier(row: number, opts: { mix?: boolean; readTable?: boolean; length?: number; normAxis?: number } = {}): OpCase {
  const mix = opts.mix ?? true;
  const L = opts.length ?? PROBE_LENGTH;
  const normShape = [2, L, 4].slice(opts.normAxis ?? 2);
  return {
    name: `read position ${row}${mix ? ', positions mixed before' : ''}${opts.readTable ? ', a [sequence, hidden] table added in the tail' : ''}${L !== PROBE_LENGTH ? ` (length ${L})` : ''}${opts.normAxis !== undefined ? `, norm from axis ${opts.normAxis}` : ''}`,
    opset: 17,
    x: [2, L, 4],
    y: [2, 4],
    nodes: [
      ...(mix
        ? [
            { opType: 'Transpose', inputs: ['X'], outputs: ['xt'], attrs: { perm: [0, 2, 1] } },
            { opType: 'MatMul', inputs: ['xt', 'M'], outputs: ['mixed_t'] },
            { opType: 'Transpose', inputs: ['mixed_t'], outputs: ['mixed'], attrs: { perm: [0, 2, 1] } },
            { opType: 'Add', inputs: ['mixed', 'X'], outputs: ['h0'] },
          ]
        : [{ opType: 'Identity', inputs: ['X'], outputs: ['h0'] }]),
      { opType: 'MatMul', inputs: ['h0', 'W'], outputs: ['a'] },
      { opType: 'Add', inputs: ['a', 'B'], outputs: ['ab'] },
      { opType: 'Tanh', inputs: ['ab'], outputs: ['t'] },
      { opType: 'Mul', inputs: ['t', 'h0'], outputs: ['th'] },
      { opType: 'Add', inputs: ['th', opts.readTable ? 'T' : 'h0'], outputs: ['r'] },
      { opType: 'LayerNormalization', inputs: ['r', 'S', 'Bn'], outputs: ['n'], attrs: { axis: opts.normAxis ?? -1 } },
      { opType: 'Gather', inputs: ['n', 'idx'], outputs: ['Y'], attrs: { axis: 1 } },
    ],
    inits: [f('M', [L, L]), f('W', [4, 4]), f('B', [4]), f('S', normShape), f('Bn', normShape), f('T', [L, 4]), i64('idx', [row], [])],
  };
}

/** Central differences of step 1e-3: this tail's LayerNorm curves enough that 1e-2 leaves a 1e-2 truncation error. */
const STEP = 1e-3;

const count = (ops: string[], op: string): number => ops.filter((o) => o === op).length;

describe('one-row gradients below a read of one position', () => {
  for (const c of [classifier(0), classifier(3), classifier(4, { mix: false })]) {
    test(`${c.name}: equals central finite differences, the tail differentiated on one row`, async () => {
      const { ops } = await assertGradientMatches(c, dir, STEP);
      assert.ok(ops.includes('Slice') && ops.includes('Pad'), `rows sliced and widened: ${ops.join(' ')}`);
    });
  }

  test('without the probe sequence length nothing is taken for a sequence: full-size gradients, no rows', async () => {
    const rows = await assertGradientMatches(classifier(3), dir, STEP);
    const dense = await assertGradientMatches(classifier(3, { length: PROBE_LENGTH + 1 }), dir, STEP);
    assert.equal(count(dense.ops, 'Pad'), 0);
    // The read's gradient is scattered into zeros on the full-size path only.
    assert.equal(count(dense.ops, 'ScatterElements'), count(rows.ops, 'ScatterElements') + 1);
  });

  test('a norm over batch, sequence and hidden mixes positions: the row is widened before it, and the gradient stays exact', async () => {
    // The norm reads every position, so its gradient must be full size (a row there was 0.33 off).
    const { ops } = await assertGradientMatches(classifier(1, { normAxis: 0 }), dir, STEP);
    assert.ok(count(ops, 'Pad') >= 1, ops.join(' '));
  });

  test('a [sequence, hidden] table added in the tail: broadcasting lines its first axis up with the sequence, so the tail stays one row, and the gradient stays exact', async () => {
    const table = await assertGradientMatches(classifier(2, { readTable: true }), dir, STEP);
    const plain = await assertGradientMatches(classifier(2), dir, STEP);
    // No widening for the table: the row is widened where positions mix, as without it.
    assert.equal(count(table.ops, 'Pad'), count(plain.ops, 'Pad'), `${table.ops.join(' ')}\nvs ${plain.ops.join(' ')}`);
  });

  test('attention read at one position: the softmax, scores and heads are differentiated on the read query row only, and the gradient stays exact', async () => {
    const L = PROBE_LENGTH;
    const attention = (length: number): OpCase => ({
      name: `attention block read at position 2 (length ${length})`,
      opset: 17,
      x: [2, length, 4],
      y: [2, 4],
      nodes: [
        { opType: 'MatMul', inputs: ['X', 'Wq'], outputs: ['q3'] },
        { opType: 'MatMul', inputs: ['X', 'Wk'], outputs: ['k3'] },
        { opType: 'MatMul', inputs: ['X', 'Wv'], outputs: ['v3'] },
        { opType: 'Reshape', inputs: ['q3', 'heads'], outputs: ['q4'] },
        { opType: 'Reshape', inputs: ['k3', 'heads'], outputs: ['k4'] },
        { opType: 'Reshape', inputs: ['v3', 'heads'], outputs: ['v4'] },
        { opType: 'Transpose', inputs: ['q4'], outputs: ['q'], attrs: { perm: [0, 2, 1, 3] } },
        { opType: 'Transpose', inputs: ['k4'], outputs: ['kT'], attrs: { perm: [0, 2, 3, 1] } },
        { opType: 'Transpose', inputs: ['v4'], outputs: ['v'], attrs: { perm: [0, 2, 1, 3] } },
        { opType: 'MatMul', inputs: ['q', 'kT'], outputs: ['scores'] },
        { opType: 'Mul', inputs: ['scores', 'scale'], outputs: ['scaled'] },
        { opType: 'Add', inputs: ['scaled', 'mask'], outputs: ['masked'] },
        { opType: 'Softmax', inputs: ['masked'], outputs: ['A'], attrs: { axis: -1 } },
        { opType: 'MatMul', inputs: ['A', 'v'], outputs: ['ctx'] },
        { opType: 'Transpose', inputs: ['ctx'], outputs: ['ctxT'], attrs: { perm: [0, 2, 1, 3] } },
        { opType: 'Reshape', inputs: ['ctxT', 'merge'], outputs: ['ctx3'] },
        { opType: 'MatMul', inputs: ['ctx3', 'Wo'], outputs: ['o'] },
        { opType: 'Add', inputs: ['o', 'X'], outputs: ['r'] },
        { opType: 'LayerNormalization', inputs: ['r', 'S', 'Bn'], outputs: ['n'], attrs: { axis: -1 } },
        { opType: 'Gather', inputs: ['n', 'idx'], outputs: ['Y'], attrs: { axis: 1 } },
      ],
      inits: [
        f('Wq', [4, 4]),
        f('Wk', [4, 4]),
        f('Wv', [4, 4]),
        f('Wo', [4, 4]),
        f('S', [4]),
        f('Bn', [4]),
        { name: 'scale', dims: [], values: [0.7] },
        // Padding masks the last key of the second row of the batch.
        { name: 'mask', dims: [2, 1, 1, length], values: [...new Array<number>(length).fill(0), ...new Array<number>(length - 1).fill(0), -1e4] },
        i64('heads', [0, 0, 2, 2]),
        i64('merge', [0, 0, 4]),
        i64('idx', [2], []),
      ],
    });
    const rows = await assertGradientMatches(attention(L), dir, STEP);
    const sliced = (t: string): boolean => rows.nodes.some((n) => n.opType === 'Slice' && n.inputs[0] === t);
    // The softmax's backward reads the read query's row of the probabilities, the scores' backward that row of the queries.
    assert.ok(sliced('A'), `no row of the probabilities is read: ${rows.ops.join(' ')}`);
    assert.ok(sliced('q'), `no row of the queries is read: ${rows.ops.join(' ')}`);
    const dense = await assertGradientMatches(attention(L + 1), dir, STEP);
    assert.ok(!dense.nodes.some((n) => n.opType === 'Slice' && n.inputs[0] === 'A'), 'the full-size path slices no row');
  });
});
