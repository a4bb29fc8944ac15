// KernelSHAP for one tabular row: with few features every coalition is evaluated, so the scores must
// be the exact (interventional) Shapley values, computed here by brute force from plain predictions.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { engine, engineError, MODELS, TEST_FIXTURES } from '../../helpers';

const REGRESSOR = { path: path.join(TEST_FIXTURES, 'models', 'tabular-regressor') };
const DATA = { path: path.join(TEST_FIXTURES, 'data', 'regression.csv') };
const FEATURES = ['age', 'income', 'rooms', 'distance', 'noise_a', 'noise_b'];

function table(): number[][] {
  const lines = fs.readFileSync(DATA.path, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const idx = FEATURES.map((f) => header.indexOf(f));
  return lines.slice(1).map((l) => idx.map((i) => Number(l.split(',')[i])));
}

describe('KernelSHAP for a dataset row', () => {
  test('6 features, the whole file as background: exact Shapley values, summing to f(x) − E[f]', async () => {
    const r = await engine('explainRow', { model: REGRESSOR, data: DATA, row: 17, background: 1000 });
    assert.equal(r.backgroundRows, 300);
    assert.ok(r.fit.exact);
    assert.equal(r.fit.evaluated, 2 ** 6 - 1);
    assert.deepEqual(r.features.map((f) => f.name), FEATURES);
    const X = table();
    const x = X[16]!;
    assert.deepEqual(r.features.map((f) => f.value), x);
    // v(S) = mean over the background of f(x on S, background elsewhere).
    const v = new Map<number, number>();
    for (let S = 0; S < 64; S++) {
      const rows = X.map((b) => b.map((bv, k) => ((S >> k) & 1 ? x[k]! : bv)));
      const p = await engine('predict', { model: REGRESSOR, rows });
      v.set(S, p.predictions.reduce((a, q) => a + (q as { value: number }).value, 0) / rows.length);
    }
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    for (let k = 0; k < 6; k++) {
      let phi = 0;
      for (let S = 0; S < 64; S++) {
        if ((S >> k) & 1) continue;
        const s = [0, 1, 2, 3, 4, 5].filter((j) => (S >> j) & 1).length;
        phi += ((fact(s) * fact(6 - s - 1)) / fact(6)) * (v.get(S | (1 << k))! - v.get(S)!);
      }
      assert.ok(Math.abs(r.features[k]!.score - phi) < 1e-4 * Math.max(1, Math.abs(phi)), `${FEATURES[k]}: ${r.features[k]!.score} vs ${phi}`);
    }
    assert.ok(Math.abs(r.baseValue - v.get(0)!) < 1e-6 * Math.max(1, Math.abs(v.get(0)!)));
    const sum = r.features.reduce((a, f) => a + f.score, 0);
    assert.ok(Math.abs(sum - (r.value - r.baseValue)) < 1e-6 * Math.max(1, Math.abs(r.value)));
  });

  test('30 features (sampled coalitions) on the breast-cancer model: a class probability, complete, reproducible by seed', async () => {
    const params = { model: { path: path.join(MODELS, 'breast-cancer') }, data: { path: path.join(MODELS, 'breast-cancer', 'sample.csv') }, row: 2, background: 20, samples: 300, seed: 4 };
    const a = await engine('explainRow', params);
    const b = await engine('explainRow', params);
    assert.equal(a.target.output, 'probability');
    assert.equal(a.target.label, 'malignant');
    assert.ok(!a.fit.exact);
    assert.deepEqual(a.features.map((f) => f.score), b.features.map((f) => f.score));
    const sum = a.features.reduce((s, f) => s + f.score, 0);
    assert.ok(Math.abs(sum - (a.value - a.baseValue)) < 1e-6);
    assert.equal(a.run.seed, 4);
  });

  test('a row past the end of the file is a clear error', async () => {
    const e = await engineError(() => engine('explainRow', { model: REGRESSOR, data: DATA, row: 301 }));
    assert.equal(e.message, 'regression.csv has no data row 301.');
  });
});
