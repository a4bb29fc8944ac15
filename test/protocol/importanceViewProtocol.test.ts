// The importance view's protocol checkers (both directions) and the host's CSV/JSON/HTML exports. The
// model description is the engine's own (the bundled tabular model); the importance numbers are
// written out here, as the checkers and exports see any result.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { CheckError } from '../../src/protocol/check';
import { checkHostToView, checkViewToHost, type ImportanceOrigin } from '../../src/protocol/importanceViewProtocol';
import type { ImportanceResult, ModelInfo } from '../../src/protocol/workerProtocol';
import { csvField } from '../../src/views/export/formats';
import { importanceCsv, importanceHtml, importanceJson } from '../../src/views/export/importanceFormats';
import { engine, MODELS } from '../helpers';

const origin: ImportanceOrigin = {
  source: 'file:///w/sample.csv',
  label: 'sample.csv',
  range: null,
  model: 'breast-cancer',
  modelPath: '/m/breast-cancer',
  target: 'diagnosis',
  definition: 'sklearn',
  scoring: 'accuracy',
  mapping: [{ feature: 'mean radius', column: 'mean radius' }],
  textColumn: null,
  method: null,
  imputation: 'none',
  repeats: 3,
  seed: 0,
  maxSamples: null,
};

function resultWith(model: ModelInfo, features: ImportanceResult['features']): ImportanceResult {
  return {
    model,
    run: { method: 'importance', parameters: {}, modelSha256: model.sha256, engineVersion: '0.1.0', onnxruntimeVersion: '1.30.0', tokenizersVersion: null, nodeVersion: process.version, batchSize: 64, threads: 1, seed: 0 },
    kind: 'tabular',
    dataset: {
      path: '/w/sample.csv',
      format: 'csv',
      delimiter: ',',
      sizeBytes: 100,
      rowsInFile: 60,
      rowsUsed: 60,
      rowsScored: 60,
      sampled: false,
      droppedRows: 0,
      columns: [{ name: 'mean radius', index: 0, type: 'numeric', missing: 0, nonNumeric: 0, firstNonNumeric: null, distinct: null, examples: ['13.8'], min: 6.9, max: 28.1, mean: 14.1 }],
      mapping: [{ feature: 'mean radius', column: 'mean radius' }],
      mappingBy: 'name',
      target: 'diagnosis',
      labels: ['malignant', 'benign'],
      imputation: 'none',
      imputed: [],
    },
    definition: 'sklearn',
    scoring: 'accuracy',
    baselineScore: 0.95,
    repeats: 3,
    features,
    text: null,
    forwardRows: 60 * (1 + 3 * features.length),
    warnings: [],
  };
}

describe('importance view protocol', () => {
  let model: ModelInfo;
  let result: ImportanceResult;
  before(async () => {
    model = await engine('describe', { model: { path: path.join(MODELS, 'breast-cancer') } });
    result = resultWith(model, [
      { name: 'a', columns: ['a'], mean: 0.01, std: 0.002, values: [0.01, 0.012, 0.008] },
      { name: 'b, "quoted"', columns: ['b1', 'b2'], mean: 0.2, std: 0.05, values: [0.25, 0.2, 0.15] },
      { name: 'c', columns: ['c'], mean: -0.01, std: 0, values: [-0.01, -0.01, -0.01] },
    ]);
  });

  test('host → view: busy, error, result and probe pass; the origin is checked', () => {
    assert.equal(checkHostToView({ type: 'busy', origin, message: 'x' }).type, 'busy');
    assert.equal(checkHostToView({ type: 'error', origin, message: 'x' }).type, 'error');
    const r = checkHostToView({ type: 'result', origin, generation: 2, result });
    assert.equal(r.type === 'result' && r.result.features.length, 3);
    assert.deepEqual(checkHostToView({ type: 'probe', id: 4, png: false, select: { sort: 'std', descending: true } }), { type: 'probe', id: 4, png: false, select: { sort: 'std', descending: true } });
    assert.throws(() => checkHostToView({ type: 'busy', origin: { ...origin, definition: 'shap' }, message: 'x' }), (e: unknown) => e instanceof CheckError && e.where === 'origin.definition');
    assert.throws(() => checkHostToView({ type: 'busy', origin: { ...origin, range: { start: 3, end: 1 } }, message: 'x' }), CheckError);
    assert.throws(() => checkHostToView({ type: 'probe', id: 1, png: false, select: { sort: 'colour' } }), (e: unknown) => e instanceof CheckError && e.where === 'select.sort');
    assert.throws(() => checkHostToView({ type: 'nope' }), CheckError);
  });

  test('a result whose per-repeat values disagree with the repeats is refused, naming the feature', () => {
    const bad = { ...result, features: [{ ...result.features[0]!, values: [0.01, 0.02] }] };
    assert.throws(() => checkHostToView({ type: 'result', origin, generation: 1, result: bad }), (e: unknown) => e instanceof CheckError && e.where === 'result.features[0].values');
    const noColumns = { ...result, features: [{ ...result.features[0]!, columns: [] }] };
    assert.throws(() => checkHostToView({ type: 'result', origin, generation: 1, result: noColumns }), (e: unknown) => e instanceof CheckError && e.where === 'result.features[0].columns');
  });

  test('view → host: ready, rerun, exports (a PNG needs its bytes) and probe results', () => {
    assert.deepEqual(checkViewToHost({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(checkViewToHost({ type: 'export', format: 'csv' }), { type: 'export', format: 'csv' });
    const png = new Uint8Array([137, 80, 78, 71]);
    assert.deepEqual(checkViewToHost({ type: 'export', format: 'html' }), { type: 'export', format: 'html' });
    const m = checkViewToHost({ type: 'exportPng', png });
    assert.ok(m.type === 'exportPng' && m.png === png);
    assert.throws(() => checkViewToHost({ type: 'exportPng' }), (e: unknown) => e instanceof CheckError && e.where === 'png');
    // PNG is the view's own message (it carries the drawing), not a format of the common export.
    assert.throws(() => checkViewToHost({ type: 'export', format: 'png', png }), (e: unknown) => e instanceof CheckError && e.where === 'format');
    assert.throws(() => checkViewToHost({ type: 'export', format: 'xlsx' }), (e: unknown) => e instanceof CheckError && e.where === 'format');
    const probe = { status: 'drawn', message: '', generation: 1, barOrder: ['b', 'a'], barLengths: [120, 6], errorBars: 2, tableOrder: ['b', 'a'], sort: 'rank', descending: false, summaryColumns: 31, rowStatus: 'none', row: null, rowBars: [], rowScores: [], rowMessage: '', notices: [] };
    assert.equal(checkViewToHost({ type: 'probeResult', id: 3, probe }).type, 'probeResult');
    assert.throws(() => checkViewToHost({ type: 'probeResult', id: 3, probe: { ...probe, barOrder: [1] } }), (e: unknown) => e instanceof CheckError && e.where === 'probe.barOrder[0]');
    assert.throws(() => checkViewToHost({ type: 'reveal', start: 0, end: 1 }), CheckError); // not a source-text view
    assert.deepEqual(checkViewToHost({ type: 'explainRow', row: 3 }), { type: 'explainRow', row: 3 });
    assert.throws(() => checkViewToHost({ type: 'explainRow', row: 0 }), (e: unknown) => e instanceof CheckError && e.where === 'row');
    assert.throws(() => checkViewToHost({ type: 'explainRow', row: 1.5 }), (e: unknown) => e instanceof CheckError && e.where === 'row');
  });

  test('host → view: a row explanation must be for the row it says', () => {
    const rowResult = {
      model,
      run: result.run,
      row: 3,
      features: [{ name: 'mean radius', column: 'mean radius', value: 14.4, score: 0.02 }],
      baseValue: 0.6,
      value: 0.62,
      target: { index: 1, label: 'benign', output: 'probability' },
      backgroundRows: 60,
      fit: { exact: false, evaluated: 2048, r2: 0.99 },
      warnings: [],
    };
    assert.equal(checkHostToView({ type: 'rowResult', row: 3, result: rowResult }).type, 'rowResult');
    assert.throws(() => checkHostToView({ type: 'rowResult', row: 4, result: rowResult }), (e: unknown) => e instanceof CheckError && e.where === 'result.row');
    assert.deepEqual(checkHostToView({ type: 'rowError', row: 2, message: 'x' }), { type: 'rowError', row: 2, message: 'x' });
    assert.throws(() => checkHostToView({ type: 'rowBusy', row: -1, message: 'x' }), CheckError);
    assert.deepEqual(checkHostToView({ type: 'probe', id: 1, png: false, select: { row: 5 } }), { type: 'probe', id: 1, png: false, select: { row: 5 } });
  });

  test('CSV export: largest mean first, RFC 4180 quoting, one column per repeat', () => {
    const csv = [...importanceCsv(result)].join('');
    const lines = csv.split('\r\n');
    assert.equal(lines[0], 'rank,feature,columns,importance_mean,importance_std,repeat_1,repeat_2,repeat_3');
    assert.equal(lines[1], '1,"b, ""quoted""",b1;b2,0.2,0.05,0.25,0.2,0.15');
    assert.equal(lines[2], '2,a,a,0.01,0.002,0.01,0.012,0.008');
    assert.equal(lines[3], '3,c,c,-0.01,0,-0.01,-0.01,-0.01');
    assert.equal(lines[4], '');
    assert.equal(csvField(NaN), '');
    assert.equal(csvField(' lead'), '" lead"');
    assert.equal(csvField('a\nb'), '"a\nb"');
  });

  test('JSON export: the model hash, the run and the ranked features', () => {
    const j = JSON.parse([...importanceJson(result, origin, '2026-01-01T00:00:00.000Z')].join('')) as Record<string, unknown>;
    assert.equal(j.format, 'loupe-importance');
    assert.equal((j.model as { sha256: string }).sha256, model.sha256);
    assert.deepEqual(
      (j.features as { name: string }[]).map((f) => f.name),
      ['b, "quoted"', 'a', 'c'],
    );
    assert.equal((j.run as { seed: number }).seed, 0);
    assert.equal(j.source, origin.source);
    // The settings asked for (what the panel recomputes from), besides what the engine did.
    const settings = j.settings as ImportanceOrigin;
    assert.equal(settings.repeats, origin.repeats);
    assert.equal(settings.seed, origin.seed);
    assert.deepEqual(settings.mapping, origin.mapping);
  });

  test('HTML export: self-contained, with the chart as drawn, the ranking in order and the JSON embedded', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const html = [...importanceHtml(result, origin, png, '2026-01-01T00:00:00.000Z')].join('');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /default-src 'none'/);
    assert.ok(html.includes(`data:image/png;base64,${Buffer.from(png).toString('base64')}`), 'the chart PNG is embedded');
    assert.ok(!/<script(?! type="application\/json")/.test(html), 'no script runs in the report');
    assert.ok(!/(src|href)="https?:/.test(html), 'nothing is fetched');
    const order = ['b, &quot;quoted&quot;', '<td>a</td>', '<td>c</td>'].map((x) => html.indexOf(x));
    assert.ok(order.every((i) => i > 0) && order[0]! < order[1]! && order[1]! < order[2]!, `ranking order in the table: ${order.join(', ')}`);
    assert.ok(html.includes(model.sha256), "the model's hash");
    const data = JSON.parse(/<script type="application\/json" id="loupe-data">(.*?)<\/script>/s.exec(html)![1]!) as { features: { name: string }[]; run: { seed: number } };
    assert.deepEqual(data.features.map((f) => f.name), ['b, "quoted"', 'a', 'c']);
    const without = [...importanceHtml(result, origin, undefined, '2026-01-01T00:00:00.000Z')].join('');
    assert.ok(!without.includes('data:image/png') && without.includes('could not be read'), 'no chart: said so');
  });
});
