// Reading real data files: RFC 4180 CSV edge cases, delimiter sniffing, JSONL, strict numbers,
// missing values and reservoir sampling. The files are small fixtures in test/fixtures/data/.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CancelToken } from '../../../src/engine/cancellation';
import { sniffDelimiter } from '../../../src/engine/data/format';
import { loadTable, TableSpec } from '../../../src/engine/data/table';
import { parseNumber } from '../../../src/engine/data/values';
import { engine, engineError, tempDir, TEST_FIXTURES } from '../../helpers';

const DATA = path.join(TEST_FIXTURES, 'data');
const noProgress = (): void => undefined;
const spec = (file: string, features: string[], more: Partial<TableSpec> = {}): TableSpec => ({
  ref: { path: path.join(DATA, file) },
  features,
  target: null,
  text: null,
  rowBudget: 100_000,
  seed: 0,
  imputation: 'none',
  ...more,
});

describe('data files', () => {
  test('quoted fields with commas, escaped quotes, embedded CRLF newlines and empty lines are read as RFC 4180 says', async () => {
    const d = await engine('describeDataset', { data: { path: path.join(DATA, 'quotes.csv') } });
    assert.equal(d.delimiter, ',');
    assert.equal(d.rows, 4, 'the empty line is not a row');
    assert.deepEqual(d.columns.map((c) => [c.name, c.type]), [['id', 'numeric'], ['text, with comma', 'text'], ['score', 'numeric']]);
    assert.equal(d.columns[2]!.missing, 1);
    const t = await loadTable(spec('quotes.csv', ['id'], { text: 'text, with comma', imputation: 'none' }), new CancelToken(), noProgress);
    assert.deepEqual(t.texts, ['He said "hi"', 'line one\r\nline two', 'a, b, c', 'plain']);
    assert.deepEqual(Array.from(t.rows), [1, 2, 3, 4]);
  });

  test('a BOM, CRLF, a sniffed semicolon delimiter and a quoted column with semicolons and newlines', async () => {
    const d = await engine('describeDataset', { data: { path: path.join(DATA, 'bc-semicolon-bom-crlf.csv') } });
    assert.equal(d.delimiter, ';');
    assert.equal(d.columns[0]!.name, 'comment', 'the BOM is not part of the first column name');
    assert.equal(d.rows, 60);
    assert.equal(d.columns.find((c) => c.name === 'mean radius')!.type, 'numeric');
  });

  test('sniffing picks tabs, semicolons and commas, ignoring delimiters inside quotes', () => {
    assert.equal(sniffDelimiter('a\tb\tc\n1\t2\t3\n'), '\t');
    assert.equal(sniffDelimiter('"x,y";b\n"1,2";3\n'), ';');
    assert.equal(sniffDelimiter('a,b\n1,2\n'), ',');
    assert.equal(sniffDelimiter('single\n1\n2\n'), ',');
  });

  test('JSONL: one object per line, numbers as JSON numbers, empty lines skipped', async () => {
    const d = await engine('describeDataset', { data: { path: path.join(DATA, 'bc.jsonl') } });
    assert.equal(d.format, 'jsonl');
    assert.equal(d.rows, 60);
    const csv = await loadTable(spec('bc-semicolon-bom-crlf.csv', ['mean radius', 'worst area']), new CancelToken(), noProgress);
    const jsonl = await loadTable(spec('bc.jsonl', ['mean radius', 'worst area']), new CancelToken(), noProgress);
    assert.deepEqual(Array.from(jsonl.X), Array.from(csv.X));
  });

  test('a JSONL line that is not an object is an error naming the file and line', async () => {
    const dir = tempDir('jsonl');
    const file = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(file, '{"a": 1}\n{"a": 2}\n[3]\n');
    const e = await engineError(() => engine('describeDataset', { data: { path: file } }));
    assert.match(e.message, /bad\.jsonl, line 3 is not a JSON object/);
    fs.writeFileSync(file, '{"a": 1}\n{"a": \n');
    assert.match((await engineError(() => engine('describeDataset', { data: { path: file } }))).message, /bad\.jsonl, line 2 is not valid JSON/);
  });

  test('a binary file given as CSV: an error naming the file and the line, not the whole field', async () => {
    const dir = tempDir('csv');
    const file = path.join(dir, 'junk.csv');
    // A header, then 20 KB of bytes with a quote after them: csv-parse quotes the whole field it read.
    fs.writeFileSync(file, `a,b\n${'\u0005\u00ff'.repeat(10_000)}"x\n`);
    const e = await engineError(() => engine('describeDataset', { data: { path: file } }));
    assert.match(e.message, /^junk\.csv is not a valid CSV \(near line 2\): /);
    assert.ok(e.message.length < 300, `the message is ${e.message.length} characters`);
  });

  test('numbers are parsed strictly', () => {
    for (const [s, v] of [['1', 1], [' -2.5e3 ', -2500], ['.5', 0.5], ['3.', 3]] as const) assert.equal(parseNumber(s), v);
    for (const s of ['12abc', '1,5', '0x10', 'Infinity', '1e', '--1']) assert.equal(parseNumber(s), null, s);
    for (const s of ['', 'NA', 'nan', 'null', null]) assert.ok(Number.isNaN(parseNumber(s)));
  });

  test('a non-numeric cell, a missing value and a wrong field count each name the row and column', async () => {
    const features = ['mean radius', 'mean texture', 'mean area', 'worst radius'];
    const e1 = await engineError(() => loadTable(spec('bc-nonnumeric.csv', features), new CancelToken(), noProgress));
    assert.equal(e1.message, 'bc-nonnumeric.csv, row 7 (line 8), column "mean texture": "12,5x" is not a number.');
    assert.equal(e1.file, path.join(DATA, 'bc-nonnumeric.csv'));
    const e2 = await engineError(() => loadTable(spec('bc-missing.csv', features), new CancelToken(), noProgress));
    assert.match(e2.message, /^bc-missing\.csv, row 5 \(line 6\), column "mean area" has a missing value/);
    const e3 = await engineError(() => loadTable(spec('bc-wrong-fields.csv', features), new CancelToken(), noProgress));
    assert.equal(e3.message, 'bc-wrong-fields.csv, row 3 (line 4) has 30 fields; the header has 31.');
  });

  test('imputation fills missing values with the chosen statistic and says so; drop-rows drops them', async () => {
    const features = ['mean area', 'worst radius'];
    const mean = await loadTable(spec('bc-missing.csv', features, { imputation: 'mean' }), new CancelToken(), noProgress);
    const clean = await loadTable(spec('bc-missing.csv', features, { imputation: 'drop-rows' }), new CancelToken(), noProgress);
    assert.equal(clean.n, 58);
    assert.equal(clean.droppedRows, 2);
    const areas = Array.from({ length: clean.n }, (_, i) => clean.X[i * 2]!);
    const expected = areas.reduce((a, b) => a + b, 0) / areas.length;
    // The mean over the 59 present "mean area" values (the row missing "worst radius" has one).
    const present = Array.from({ length: mean.n }, (_, i) => mean.X[i * 2]!).filter((_, i) => mean.rows[i] !== 5);
    assert.equal(mean.imputed.find((m) => m.column === 'mean area')!.count, 1);
    assert.ok(Math.abs(mean.imputed.find((m) => m.column === 'mean area')!.value - present.reduce((a, b) => a + b, 0) / present.length) < 1e-9);
    assert.notEqual(expected, 0);
    const zero = await loadTable(spec('bc-missing.csv', features, { imputation: 'zero' }), new CancelToken(), noProgress);
    assert.equal(zero.X[4 * 2], 0, 'row 5 "mean area" became 0');
  });

  test('above the row budget rows are sampled uniformly with the seed, in file order, values intact', async () => {
    const all = await loadTable(spec('mlp30.csv', ['x1', 'x2']), new CancelToken(), noProgress);
    const a = await loadTable(spec('mlp30.csv', ['x1', 'x2'], { rowBudget: 50, seed: 3 }), new CancelToken(), noProgress);
    const b = await loadTable(spec('mlp30.csv', ['x1', 'x2'], { rowBudget: 50, seed: 3 }), new CancelToken(), noProgress);
    const c = await loadTable(spec('mlp30.csv', ['x1', 'x2'], { rowBudget: 50, seed: 4 }), new CancelToken(), noProgress);
    assert.equal(a.n, 50);
    assert.ok(a.sampled);
    assert.equal(a.rowsInFile, 400);
    assert.deepEqual(Array.from(a.rows), Array.from(b.rows));
    assert.notDeepEqual(Array.from(a.rows), Array.from(c.rows));
    for (let i = 1; i < a.n; i++) assert.ok(a.rows[i]! > a.rows[i - 1]!);
    for (let i = 0; i < a.n; i++) {
      const r = a.rows[i]! - 1;
      assert.deepEqual([a.X[2 * i], a.X[2 * i + 1]], [all.X[2 * r], all.X[2 * r + 1]]);
    }
    // Uniform: over many seeds each half of the file gets about half of the sample.
    let firstHalf = 0;
    for (let seed = 0; seed < 20; seed++) {
      const s = await loadTable(spec('mlp30.csv', ['x1'], { rowBudget: 40, seed }), new CancelToken(), noProgress);
      firstHalf += Array.from(s.rows).filter((r) => r <= 200).length;
    }
    assert.ok(firstHalf > 340 && firstHalf < 460, `first half got ${firstHalf} of 800`);
  });

  test('describeDataset suggests the mapping by name, the target and the scoring for a named model', async () => {
    const d = await engine('describeDataset', { data: { path: path.join(DATA, 'regression.csv') }, model: { path: path.join(TEST_FIXTURES, 'models', 'tabular-regressor') } });
    const s = d.suggestion!;
    assert.equal(s.by, 'name');
    assert.deepEqual(s.mapping.map((m) => m.column), ['age', 'income', 'rooms', 'distance', 'noise_a', 'noise_b']);
    assert.equal(s.target, 'y');
    assert.equal(s.scoring, 'r2');
    assert.deepEqual(s.problems, []);
  });

  test('describeDataset names both counts when an unnamed model and the file disagree', async () => {
    const d = await engine('describeDataset', { data: { path: path.join(DATA, 'mlp30-20cols.csv') }, model: { path: path.join(TEST_FIXTURES, 'models', 'tabular-mlp30') } });
    assert.equal(d.suggestion!.by, 'order');
    assert.deepEqual(d.suggestion!.problems, ['mlp30-20cols.csv has 21 columns; the model takes 30 features (plus an optional target column).']);
  });

  test('a missing data file is FILE_NOT_FOUND naming it; the data files are never written', async () => {
    const e = await engineError(() => engine('describeDataset', { data: { path: path.join(DATA, 'nope.csv') } }));
    assert.equal(e.code, 'FILE_NOT_FOUND');
    assert.match(e.message, /nope\.csv/);
  });
});
