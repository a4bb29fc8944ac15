// Parity with sklearn.inspection.permutation_importance. The references in
// test/fixtures/data/parity/ were written by tools/sklearn_permutation_parity.py: they hold sklearn's
// own row draw and permutations (max_samples and cumulative shuffles included) and the importances
// sklearn's scorers computed from the model's outputs. Replaying those permutations, Loupe must agree
// within 1e-6. Where Debian's python3-sklearn is installed, the tool also runs live.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { Scoring } from '../../../src/protocol/workerProtocol';
import { engine, readJson, ROOT, TEST_FIXTURES } from '../../helpers';

interface Reference {
  model: string;
  data: string;
  target: string;
  repeats: number;
  sklearn: string;
  cases: { scoring: Scoring; rows: number[]; perms: number[][][]; importances: number[][]; importancesMean: number[] }[];
}

const PARITY = path.join(TEST_FIXTURES, 'data', 'parity');
const PYTHON = '/usr/bin/python3';
const hasSklearn = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;

describe('sklearn parity', () => {
  for (const file of fs.readdirSync(PARITY).filter((f) => f.endsWith('.json'))) {
    const ref = readJson<Reference>(path.join(PARITY, file));
    for (const c of ref.cases) {
      test(`${file}: ${c.scoring} with sklearn ${ref.sklearn}'s permutations equals sklearn within 1e-6`, async () => {
        const r = await engine('importance', {
          model: { path: path.join(ROOT, ref.model) },
          data: { path: path.join(ROOT, ref.data) },
          target: ref.target,
          scoring: c.scoring,
          repeats: ref.repeats,
          permutations: { rows: c.rows, perms: c.perms },
        });
        let worst = 0;
        r.features.forEach((f, i) => f.values.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - c.importances[i]![k]!)))));
        assert.ok(worst <= 1e-6, `max |loupe − sklearn| = ${worst}`);
        r.features.forEach((f, i) => assert.ok(Math.abs(f.mean - c.importancesMean[i]!) <= 1e-6));
        // Not vacuous: the importances are not all zero.
        assert.ok(c.importances.flat().some((v) => Math.abs(v) > 1e-3));
      });
    }
  }

  test('live: tools/sklearn_permutation_parity.py on the held-out breast-cancer rows (replay + independent seeds)', { skip: hasSklearn ? false : 'needs /usr/bin/python3 with python3-sklearn (apt-get install python3-sklearn)', timeout: 300_000 }, () => {
    const out = spawnSync(
      PYTHON,
      ['tools/sklearn_permutation_parity.py', '--model', 'models/breast-cancer', '--data', 'models/breast-cancer/heldout.csv', '--scoring', 'neg_log_loss', '--max-samples', '0.9', '--independent-seed', '7'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE: process.execPath } },
    );
    assert.equal(out.status, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /-> OK/);
  });
});
