// `loupe importance`, run as a user runs it (node bin/loupe.js …), over the bundled engine worker.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { runLoupe as loupe, TEST_FIXTURES } from '../helpers';

describe('loupe importance', () => {
  test('prints every feature with mean and std, sorted, the baseline score and the settings', async () => {
    const { code, stdout, stderr } = await loupe('importance', '--model', 'breast-cancer', '--data', 'models/breast-cancer/sample.csv', '--scoring', 'neg_log_loss', '--repeats', '3', '--seed', '2');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /settings: sklearn, scoring neg_log_loss; repeats 3; seed 2; imputation none/);
    assert.match(stdout, /baseline: neg_log_loss = -0\.\d{6}/);
    assert.match(stdout, /mapping:  30 features by name; target "diagnosis"/);
    const rows = stdout.split('\n').filter((l) => /^\S.*\s+-?[\d.e-]+\s+[\d.e-]+$/.test(l) && !l.startsWith('run:'));
    assert.equal(rows.length, 30);
    const means = rows.map((l) => Number(l.trim().split(/\s+/).slice(-2)[0]));
    for (let i = 1; i < means.length; i++) assert.ok(means[i]! <= means[i - 1]!, 'sorted by mean, largest first');
  });

  test('--json prints the engine result; --label-free needs no target', async () => {
    const { code, stdout, stderr } = await loupe('importance', '--model', path.join(TEST_FIXTURES, 'models', 'tabular-regressor'), '--data', 'test/fixtures/data/regression.csv', '--label-free', '--repeats', '2', '--json');
    assert.equal(code, 0, stderr);
    const r = JSON.parse(stdout) as { definition: string; baselineScore: null; dataset: { target: null }; features: { name: string; values: number[] }[] };
    assert.equal(r.definition, 'label-free');
    assert.equal(r.baselineScore, null);
    assert.equal(r.dataset.target, null);
    assert.deepEqual(r.features.map((f) => f.values.length), [2, 2, 2, 2, 2, 2]);
  });

  test('a bad cell exits 1 with the file, row and column; a bad option exits 2', async () => {
    const bad = await loupe('importance', '--model', 'breast-cancer', '--data', 'test/fixtures/data/bc-nonnumeric.csv');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bc-nonnumeric\.csv, row 7 \(line 8\), column "mean texture": "12,5x" is not a number\./);
    const usage = await loupe('importance', '--model', 'breast-cancer', '--data', 'models/breast-cancer/sample.csv', '--scoring', 'f1');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--scoring must be one of/);
  });
});
