// Permutation importance through the worker's handlers on real models: the bundled breast-cancer
// classifier and the small tabular fixtures (tools/fixtures/make_tabular_fixtures.py).

import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CancelToken } from '../../../src/engine/cancellation';
import { DEFAULT_SETTINGS, handlers } from '../../../src/engine/worker/handlers';
import type { ImportanceParams } from '../../../src/protocol/workerProtocol';
import { engine, engineError, MODELS, TEST_FIXTURES } from '../../helpers';

const DATA = path.join(TEST_FIXTURES, 'data');
const BC = { path: path.join(MODELS, 'breast-cancer') };
const SAMPLE = { path: path.join(MODELS, 'breast-cancer', 'sample.csv') };
const MLP30 = { path: path.join(TEST_FIXTURES, 'models', 'tabular-mlp30') };
const REGRESSOR = { path: path.join(TEST_FIXTURES, 'models', 'tabular-regressor') };
const ZIPMAP = { path: path.join(TEST_FIXTURES, 'models', 'tabular-zipmap') };
const values = (r: { features: { values: number[] }[] }): number[][] => r.features.map((f) => f.values);
const sha = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('permutation importance', () => {
  test('on the bundled breast-cancer sample: names by model.loupe.json, target found, result recorded for a rerun', async () => {
    const r = await engine('importance', { model: BC, data: SAMPLE, scoring: 'neg_log_loss', repeats: 3, seed: 5 });
    assert.equal(r.kind, 'tabular');
    assert.equal(r.dataset.mappingBy, 'name');
    assert.equal(r.dataset.target, 'diagnosis');
    assert.deepEqual(r.dataset.labels, ['malignant', 'benign']);
    assert.equal(r.features.length, 30);
    assert.equal(r.features[0]!.name, 'mean radius');
    assert.ok(r.features.every((f) => f.values.length === 3));
    assert.ok(r.baselineScore! < 0 && r.baselineScore! > -1);
    assert.equal(r.forwardRows, 60 + 60 * 30 * 3);
    assert.equal(r.run.method, 'importance');
    assert.equal(r.run.seed, 5);
    assert.equal(r.run.modelSha256, r.model.sha256);
    assert.equal((r.run.parameters as { scoring: string }).scoring, 'neg_log_loss');
    // Something matters: the most important feature lowers the log-loss clearly.
    assert.ok(Math.max(...r.features.map((f) => f.mean)) > 0.02);
  });

  test('the same seed gives the same numbers; another seed other numbers', async () => {
    const p: ImportanceParams = { model: MLP30, data: { path: path.join(DATA, 'mlp30.csv') }, scoring: 'roc_auc', repeats: 2, seed: 11 };
    const a = await engine('importance', p);
    const b = await engine('importance', p);
    const c = await engine('importance', { ...p, seed: 12 });
    assert.deepEqual(values(a), values(b));
    assert.notDeepEqual(values(a), values(c));
  });

  test('CSV with BOM, CRLF, semicolons, quoted newlines and empty lines, and JSONL, give the same importances as the plain CSV', async () => {
    const plain = await engine('importance', { model: BC, data: SAMPLE, repeats: 2 });
    const semi = await engine('importance', { model: BC, data: { path: path.join(DATA, 'bc-semicolon-bom-crlf.csv') }, repeats: 2 });
    const jsonl = await engine('importance', { model: BC, data: { path: path.join(DATA, 'bc.jsonl') }, repeats: 2 });
    assert.equal(semi.dataset.delimiter, ';');
    assert.equal(semi.dataset.target, 'diagnosis', 'the comment column is not taken for the target');
    assert.deepEqual(values(semi), values(plain));
    assert.deepEqual(values(jsonl), values(plain));
    assert.equal(plain.baselineScore, 0.95);
  });

  test('bad values: errors name the file, row and column; imputation is stated in the result', async () => {
    const e = await engineError(() => engine('importance', { model: BC, data: { path: path.join(DATA, 'bc-nonnumeric.csv') } }));
    assert.equal(e.message, 'bc-nonnumeric.csv, row 7 (line 8), column "mean texture": "12,5x" is not a number.');
    const m = await engineError(() => engine('importance', { model: BC, data: { path: path.join(DATA, 'bc-missing.csv') } }));
    assert.match(m.message, /row 5 \(line 6\), column "mean area" has a missing value/);
    const r = await engine('importance', { model: BC, data: { path: path.join(DATA, 'bc-missing.csv') }, imputation: 'median', repeats: 1 });
    assert.deepEqual(r.dataset.imputed.map((i) => [i.column, i.count]), [['mean area', 1], ['worst radius', 1]]);
    assert.equal(r.dataset.imputation, 'median');
    assert.ok(r.warnings.some((w) => w.includes(`"mean area" was imputed with median`)));
  });

  test('a file whose column count differs from the model: the error names the file and both counts', async () => {
    const e = await engineError(() => engine('importance', { model: MLP30, data: { path: path.join(DATA, 'mlp30-20cols.csv') } }));
    assert.equal(e.message, 'mlp30-20cols.csv has 21 columns; the model takes 30 features (plus an optional target column).');
    const m = await engineError(() => engine('importance', { model: BC, data: SAMPLE, mapping: [{ feature: 'mean radius', column: 'mean radius' }] }));
    assert.match(m.message, /The mapping gives 1 columns; the model takes 30 features/);
  });

  test('an explicit mapping is used as given: swapping two columns changes the result', async () => {
    const base = await engine('describeDataset', { data: SAMPLE, model: BC });
    const mapping = base.suggestion!.mapping.map((m) => ({ ...m }));
    [mapping[0]!.column, mapping[1]!.column] = [mapping[1]!.column, mapping[0]!.column];
    const r = await engine('importance', { model: BC, data: SAMPLE, mapping, scoring: 'neg_log_loss', repeats: 1 });
    const plain = await engine('importance', { model: BC, data: SAMPLE, scoring: 'neg_log_loss', repeats: 1 });
    assert.equal(r.dataset.mappingBy, 'explicit');
    assert.equal(r.dataset.mapping[0]!.column, 'mean texture');
    assert.notEqual(r.baselineScore, plain.baselineScore);
  });

  test('label-free: the mean squared change of the outputs, as computed from predictions of the permuted rows', async () => {
    const data = { path: path.join(DATA, 'regression.csv') };
    const n = 300;
    const perm = Array.from({ length: n }, (_, i) => (i * 7 + 3) % n);
    const rows = Array.from({ length: n }, (_, i) => i);
    const r = await engine('importance', { model: REGRESSOR, data, definition: 'label-free', target: null, repeats: 1, permutations: { rows, perms: Array.from({ length: 6 }, () => [perm]) } });
    assert.equal(r.baselineScore, null);
    assert.equal(r.scoring, null);
    // Recompute "income" (feature 2) from plain predictions.
    const lines = fs.readFileSync(data.path, 'utf8').trim().split('\n');
    const header = lines[0]!.split(',');
    const order = ['age', 'income', 'rooms', 'distance', 'noise_a', 'noise_b'].map((c) => header.indexOf(c));
    const X = lines.slice(1).map((l) => order.map((k) => Number(l.split(',')[k])));
    const Xp = X.map((row, i) => row.map((v, k) => (k === 1 ? X[perm[i]!]![1]! : v)));
    const p0 = await engine('predict', { model: REGRESSOR, rows: X });
    const p1 = await engine('predict', { model: REGRESSOR, rows: Xp });
    let sq = 0;
    const value = (p: unknown): number => (p as { value: number }).value;
    for (let i = 0; i < n; i++) sq += (value(p0.predictions[i]) - value(p1.predictions[i])) ** 2;
    assert.ok(Math.abs(r.features[1]!.mean - sq / n) < 1e-9 * Math.max(1, sq / n), `${r.features[1]!.mean} vs ${sq / n}`);
  });

  test('grouped columns are permuted together and reported once, where the group’s first column stood', async () => {
    const data = { path: path.join(DATA, 'regression.csv') };
    const r = await engine('importance', { model: REGRESSOR, data, repeats: 2, groups: [{ name: 'noise', columns: ['noise_a', 'noise_b'] }] });
    assert.deepEqual(r.features.map((f) => f.name), ['age', 'income', 'rooms', 'distance', 'noise']);
    assert.deepEqual(r.features[4]!.columns, ['noise_a', 'noise_b']);
    const e = await engineError(() => engine('importance', { model: REGRESSOR, data, groups: [{ name: 'g', columns: ['y'] }] }));
    assert.match(e.message, /Group "g" names "y", which is not a feature column/);
  });

  test('max_samples scores a seeded subset of rows; the baseline uses every row, as sklearn does', async () => {
    const data = { path: path.join(DATA, 'mlp30.csv') };
    const full = await engine('importance', { model: MLP30, data, repeats: 1 });
    const sub = await engine('importance', { model: MLP30, data, repeats: 1, maxSamples: 0.25 });
    assert.equal(sub.dataset.rowsScored, 100);
    assert.equal(sub.baselineScore, full.baselineScore);
    assert.equal(sub.forwardRows, 400 + 100 * 30);
  });

  test('a ZipMap (sequence of maps) model: label scorings work, probability scorings explain how to export', async () => {
    const data = { path: path.join(DATA, 'mlp30.csv') };
    const r = await engine('importance', { model: ZIPMAP, data, repeats: 1 });
    const ref = await engine('importance', { model: MLP30, data, repeats: 1 });
    assert.deepEqual(values(r), values(ref), 'the label output predicts as the probability model does');
    assert.ok(r.warnings.some((w) => /ZipMap/.test(w)));
    const e = await engineError(() => engine('importance', { model: ZIPMAP, data, scoring: 'neg_log_loss' }));
    assert.equal(e.code, 'UNSUPPORTED');
    assert.match(e.message, /zipmap": False/);
  });

  test('wrong scoring for the model kind, and sklearn without a target, are clear errors', async () => {
    assert.match((await engineError(() => engine('importance', { model: BC, data: SAMPLE, scoring: 'r2' }))).message, /r2 scores a regressor/);
    assert.match((await engineError(() => engine('importance', { model: BC, data: SAMPLE, target: null, definition: 'sklearn' }))).message, /needs a target column/);
  });

  test('planImportance counts the model rows before running', async () => {
    const p = await engine('planImportance', { model: BC, data: SAMPLE, repeats: 4, maxSamples: 30 });
    assert.deepEqual(p, { rows: 60, rowsExact: true, rowsScored: 30, features: 30, repeats: 4, forwardRows: 60 + 30 * 30 * 4 });
  });

  test('progress is reported and cancel stops the run between batches', async () => {
    const token = new CancelToken();
    const seen: number[] = [];
    const state = { settings: { ...DEFAULT_SETTINGS, threads: 2 } };
    const run = handlers.importance({ model: MLP30, data: { path: path.join(DATA, 'mlp30.csv') }, repeats: 50 }, state, token, (done) => {
      seen.push(done);
      if (done > 5000) token.cancel();
    });
    const e = await engineError(() => run);
    assert.equal(e.code, 'CANCELLED');
    assert.ok(seen.length > 2 && seen[seen.length - 1]! < 400 + 400 * 30 * 50);
  });

  test('the data file is only read', async () => {
    const file = path.join(DATA, 'bc-semicolon-bom-crlf.csv');
    const before = { sha: sha(file), mtime: fs.statSync(file).mtimeMs };
    await engine('importance', { model: BC, data: { path: file }, repeats: 1, imputation: 'mean' });
    assert.deepEqual({ sha: sha(file), mtime: fs.statSync(file).mtimeMs }, before);
  });
});
