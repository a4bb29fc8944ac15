// Decomposed layer norms and erf GELUs are differentiated as one LayerNormalization or Gelu
// (fuse.ts): each chain is recognised in its exporters' spellings, left alone when another node reads its intermediates,
// and either way the gradient equals central finite differences.

import * as assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as fs from 'node:fs';
import { tempDir } from '../../helpers';
import { plan } from '../../../src/engine/model/gradient/build';
import { fuseForBackward } from '../../../src/engine/model/gradient/fuse';
import { parseOnnx } from '../../../src/engine/model/onnxFile';
import { assertGradientMatches, modelBytes, OpCase } from './tinyModel';

const dir = tempDir('fuse');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const scalar = (name: string, v: number) => ({ name, dims: [], values: [v] });
const i64 = (name: string, values: number[]) => ({ name, dims: [values.length], values, type: 'int64' as const });

/** The torch exporter's decomposed LayerNorm at opset 14, with its scale and bias. */
const torchLayerNorm: OpCase = {
  name: 'decomposed LayerNorm with scale and bias (opset 14, Pow)',
  opset: 14,
  x: [2, 3, 8],
  y: [2, 3, 8],
  nodes: [
    { opType: 'ReduceMean', inputs: ['X'], outputs: ['mu'], attrs: { axes: [-1] } },
    { opType: 'Sub', inputs: ['X', 'mu'], outputs: ['xc'] },
    { opType: 'Pow', inputs: ['xc', 'two'], outputs: ['sq'] },
    { opType: 'ReduceMean', inputs: ['sq'], outputs: ['var'], attrs: { axes: [-1] } },
    { opType: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
    { opType: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
    { opType: 'Div', inputs: ['xc', 'sd'], outputs: ['xn'] },
    { opType: 'Mul', inputs: ['xn', 'S'], outputs: ['xs'] },
    { opType: 'Add', inputs: ['xs', 'B'], outputs: ['Y'] },
  ],
  inits: [scalar('two', 2), scalar('eps', 1e-5), { name: 'S', dims: [8], values: [] }, { name: 'B', dims: [8], values: [] }],
};

/** Opset 18: ReduceMean's axes as an input, the square as Mul(xc, xc), ε first in the Add. */
const opset18LayerNorm: OpCase = {
  name: 'decomposed LayerNorm, opset 18 (axes input, Mul square, ε first)',
  opset: 18,
  x: [2, 3, 8],
  y: [2, 3, 8],
  nodes: [
    { opType: 'ReduceMean', inputs: ['X', 'ax'], outputs: ['mu'] },
    { opType: 'Sub', inputs: ['X', 'mu'], outputs: ['xc'] },
    { opType: 'Mul', inputs: ['xc', 'xc'], outputs: ['sq'] },
    { opType: 'ReduceMean', inputs: ['sq', 'ax'], outputs: ['var'] },
    { opType: 'Add', inputs: ['eps', 'var'], outputs: ['ve'] },
    { opType: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
    { opType: 'Div', inputs: ['xc', 'sd'], outputs: ['Y'] },
  ],
  inits: [i64('ax', [-1]), scalar('eps', 1e-5)],
};

/** σ is also read after the norm: the chain must stay as it is, its gradient through σ kept. */
const sharedSigma: OpCase = {
  name: 'decomposed LayerNorm whose σ is read again (not fused)',
  opset: 14,
  x: [2, 3, 8],
  y: [2, 3, 8],
  // The torch norm up to x̂ (its first seven nodes), then x̂ · σ.
  nodes: [...torchLayerNorm.nodes.slice(0, 7), { opType: 'Mul', inputs: ['xn', 'sd'], outputs: ['Y'] }],
  inits: [scalar('two', 2), scalar('eps', 1e-5)],
};

/** A mean over the middle axis is not a layer norm over the last one. */
const middleAxis: OpCase = {
  ...torchLayerNorm,
  name: 'normalization over a middle axis (not fused)',
  nodes: torchLayerNorm.nodes.map((n) => (n.opType === 'ReduceMean' ? { ...n, attrs: { axes: [1] } } : n)),
};

const gelu = (name: string, nodes: OpCase['nodes'], inits: OpCase['inits']): OpCase => ({ name, opset: 14, x: [2, 3, 8], y: [2, 3, 8], nodes, inits });
const geluInits = [scalar('sqrt2', Math.SQRT2), scalar('invSqrt2', Math.SQRT1_2), scalar('one', 1), scalar('half', 0.5)];
const GELUS: OpCase[] = [
  gelu(
    'erf GELU, torch spelling: ((x · (1 + erf(x ÷ √2))) · ½)',
    [
      { opType: 'Div', inputs: ['X', 'sqrt2'], outputs: ['u'] },
      { opType: 'Erf', inputs: ['u'], outputs: ['e'] },
      { opType: 'Add', inputs: ['e', 'one'], outputs: ['a'] },
      { opType: 'Mul', inputs: ['X', 'a'], outputs: ['m'] },
      { opType: 'Mul', inputs: ['m', 'half'], outputs: ['Y'] },
    ],
    geluInits,
  ),
  gelu(
    'erf GELU, dynamo spelling: x · (½ · (1 + erf(x · 1/√2)))',
    [
      { opType: 'Mul', inputs: ['X', 'invSqrt2'], outputs: ['u'] },
      { opType: 'Erf', inputs: ['u'], outputs: ['e'] },
      { opType: 'Add', inputs: ['e', 'one'], outputs: ['a'] },
      { opType: 'Mul', inputs: ['half', 'a'], outputs: ['m'] },
      { opType: 'Mul', inputs: ['X', 'm'], outputs: ['Y'] },
    ],
    geluInits,
  ),
  gelu(
    'erf GELU, halved first: (x · ½) · (1 + erf(x ÷ √2))',
    [
      { opType: 'Mul', inputs: ['X', 'half'], outputs: ['h'] },
      { opType: 'Div', inputs: ['X', 'sqrt2'], outputs: ['u'] },
      { opType: 'Erf', inputs: ['u'], outputs: ['e'] },
      { opType: 'Add', inputs: ['one', 'e'], outputs: ['a'] },
      { opType: 'Mul', inputs: ['h', 'a'], outputs: ['Y'] },
    ],
    geluInits,
  ),
];
/** erf's argument read again: not fused. */
const geluShared = gelu(
  'erf GELU whose erf is read again (not fused)',
  // The torch spelling with its output renamed g, then g + erf.
  [...GELUS[0]!.nodes.map((n) => (n.outputs[0] === 'Y' ? { ...n, outputs: ['g'] } : n)), { opType: 'Add', inputs: ['g', 'e'], outputs: ['Y'] }],
  geluInits,
);

function fusedOps(c: OpCase, wanted: string[] = ['X']): string[] {
  const bytes = modelBytes(c, 1);
  const facts = parseOnnx(bytes, c.name);
  const p = plan({ graph: facts.graph, opset: c.opset, wrt: 'X', logits: 'logits', taps: [] }, c.name);
  const constants = new Map([
    ['two', 2],
    ['eps', 1e-5],
    ['ax', -1],
    ...geluInits.map((i): [string, number] => [i.name, i.values[0]!]),
  ]);
  return fuseForBackward(p, { rank: () => 3, constant: (t) => constants.get(t) ?? null, wanted: new Set(wanted) }).nodes.map((n) => n.opType);
}

describe('decomposed layer norms and GELUs', () => {
  test('are recognised in the torch exporter spelling and at opset 18', () => {
    for (const c of [torchLayerNorm, opset18LayerNorm]) {
      const ops = fusedOps(c);
      assert.ok(ops.includes('LayerNormalization'), `${c.name}: ${ops.join(' ')}`);
      for (const gone of ['ReduceMean', 'Sqrt', 'Sub', 'Div']) assert.ok(!ops.includes(gone), `${c.name}: ${gone} left in ${ops.join(' ')}`);
    }
  });

  test('are left alone when an intermediate is read elsewhere or the axis is not the last', () => {
    for (const c of [sharedSigma, middleAxis]) assert.ok(!fusedOps(c).includes('LayerNormalization'), c.name);
  });

  test('are left alone when the gradient of an intermediate is asked for (a tap, a layer attribution)', () => {
    assert.ok(!fusedOps(torchLayerNorm, ['X', 'sd']).includes('LayerNormalization'));
    assert.ok(!fusedOps(GELUS[0]!, ['X', 'e']).includes('Gelu'));
    assert.ok(fusedOps(GELUS[0]!, ['X', 'Y']).includes('Gelu'), 'the chain output itself may be wanted');
  });

  test('erf GELUs are recognised in their three spellings, and left alone when erf is read again', () => {
    for (const c of GELUS) {
      const ops = fusedOps(c);
      assert.ok(ops.includes('Gelu') && !ops.includes('Erf') && !ops.includes('Add') && ops.filter((o) => o === 'Mul').length === 1, `${c.name}: ${ops.join(' ')}`);
    }
    assert.ok(!fusedOps(geluShared).includes('Gelu'), geluShared.name);
  });

  for (const c of [torchLayerNorm, opset18LayerNorm, sharedSigma, middleAxis, ...GELUS, geluShared]) {
    test(`${c.name}: gradient equals central finite differences`, async () => {
      await assertGradientMatches(c, dir);
    });
  }
});
