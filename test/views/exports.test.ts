// The export formats (src/views/export) and the dashboard's dataset sniff, without VS Code, on real
// results of the bundled models computed in-process by the engine's own handlers.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { ExplainOrigin } from '../../src/protocol/explainViewProtocol';
import { attentionCsv, attentionHtml } from '../../src/views/export/attentionFormats';
import { explanationCsv, explanationHtml, explanationJson } from '../../src/views/export/explainFormats';
import { csvField } from '../../src/views/export/formats';
import { csvFields, sniffDataset } from '../../src/views/dashboard/datasetSniff';
import { engine, MODELS } from '../helpers';

const TEXT = 'Congratulations, you won a "free" <b>prize</b>, click here now';
const classifier = path.join(MODELS, 'spam-classifier');
const origin: ExplainOrigin = { source: 'file:///w/prompt.txt', label: 'prompt.txt', range: null, model: 'spam-classifier', methods: ['occlusion', 'lime'], target: null };

describe('export formats', () => {
  test('CSV fields are quoted as RFC 4180 asks, and read back', () => {
    const tricky = ['plain', 'a,b', 'say "hi"', 'two\nlines', ' padded ', ''];
    const line = tricky.map(csvField).join(',') + '\r\n';
    assert.deepEqual(parse(line)[0], tricky);
    assert.equal(csvField(Number.NaN), '');
    assert.equal(csvField(-0.125), '-0.125');
  });

  test('an explanation reads back from JSON, CSV and the HTML report', async () => {
    const r = await engine('explain', { model: { path: classifier }, text: TEXT, methods: ['occlusion', 'lime'], samples: 64, seed: 3 });
    const j = JSON.parse([...explanationJson(r, origin, '2026-01-01T00:00:00Z')].join('')) as { model: { sha256: string }; run: { seed: number | null }; explanations: { method: string; seed: number; scores: (number | null)[] }[] };
    assert.equal(j.model.sha256, r.model.sha256);
    assert.deepEqual(j.explanations.map((e) => [e.method, e.seed]), [['occlusion', 3], ['lime', 3]]);
    r.explanations.forEach((e, k) => e.scores.forEach((s, i) => assert.equal(j.explanations[k]!.scores[i], e.attributed[i] ? s : null)));

    const rows = parse([...explanationCsv(r)].join(''), { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, r.explanations[0]!.tokens.length);
    const quoted = rows.find((row) => row.text === '"');
    assert.ok(quoted, 'the quote token does not read back');
    rows.forEach((row, i) => assert.equal(row.lime, r.explanations[1]!.attributed[i] ? String(r.explanations[1]!.scores[i]) : ''));

    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const html = [...explanationHtml(r, origin, png, 'now')].join('');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(html.includes(`src="data:image/png;base64,${Buffer.from(png).toString('base64')}"`));
    const markup = html.replace(/<script type="application\/json"[\s\S]*?<\/script>/, '');
    assert.ok(!markup.includes('<b>'), 'the prompt went into the report unescaped');
    assert.ok(markup.includes('&lt;'), 'the prompt is not in the report');
    const data = JSON.parse(/<script type="application\/json" id="loupe-data">([\s\S]*?)<\/script>/.exec(html)![1]!) as typeof j;
    assert.deepEqual(data.explanations.map((e) => e.scores), j.explanations.map((e) => e.scores));
  });

  test('attention reads back from CSV and the HTML report', async () => {
    const r = await engine('attention', { model: { path: classifier }, text: 'hello </script> world' });
    const m = r.shown.length;
    const rows = parse([...attentionCsv(r)].join(''), { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, (r.layers.length + 1) * m * m);
    const last = rows[rows.length - 1]!;
    assert.equal(last.matrix, 'rollout');
    assert.equal(Math.fround(Number(last.weight)), r.rollout[m * m - 1]);
    const vo = { source: 'file:///w/a.txt', label: 'a.txt', range: null, hideSpecial: false, model: 'spam-classifier' };
    const html = [...attentionHtml(r, vo, undefined, 'now')].join('');
    const script = /<script type="application\/json" id="loupe-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    assert.ok(!script.includes('</script'), 'a token closed the data element early');
    const d = JSON.parse(script) as { headMean: number[][][] };
    assert.equal(d.headMean.length, r.layers.length);
  });
});

describe('dataset sniff', () => {
  test('a small CSV: exact rows and its header', async () => {
    const csv = path.join(MODELS, 'breast-cancer', 'sample.csv');
    const lines = fs.readFileSync(csv, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    const s = await sniffDataset(csv);
    assert.equal(s.rows, lines.length - 1);
    assert.equal(s.rowsExact, true);
    assert.deepEqual(s.columns, csvFields(lines[0]!));
  });

  test('a large JSONL: rows estimated within 2% from the first 256 KB, keys of the first line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-sniff-'));
    try {
      const file = path.join(dir, 'big.jsonl');
      const n = 20_000;
      fs.writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ text: `prompt number ${i}`, label: i % 2 })).join('\n') + '\n');
      const s = await sniffDataset(file);
      assert.equal(s.rowsExact, false);
      assert.ok(Math.abs(s.rows - n) / n < 0.02, `estimated ${s.rows} rows of ${n}`);
      assert.deepEqual(s.columns, ['text', 'label']);
      fs.writeFileSync(file, 'not json\n');
      assert.match((await sniffDataset(file)).error ?? '', /line 1 of big\.jsonl is not JSON/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
