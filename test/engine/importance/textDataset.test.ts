// Global token importance over a small file of prompts with the bundled spam classifier: the
// aggregation must equal what the per-row explanations (the `explain` method) add up to.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { engine, engineError, MODELS, TEST_FIXTURES } from '../../helpers';

const SPAM = { path: path.join(MODELS, 'spam-classifier') };
const PROMPTS = path.join(TEST_FIXTURES, 'data', 'prompts.csv');
const texts = (parse(fs.readFileSync(PROMPTS, 'utf8'), { columns: true }) as { text: string }[]).map((r) => r.text);

describe('text dataset importance', () => {
  for (const method of ['occlusion', 'kernelshap'] as const) {
    test(`${method}: per-token mean |score|, mean score, counts and per-class figures are the per-row explanations aggregated`, async () => {
      const r = await engine('importance', { model: SPAM, data: { path: PROMPTS }, method, samples: 64, seed: 3 });
      const t = r.text!;
      assert.equal(r.kind, 'text');
      assert.equal(t.textColumn, 'text');
      assert.deepEqual(t.rows, [1, 2, 3, 4, 5, 6, 7, 8]);
      const tally = new Map<string, { n: number; abs: number; sum: number; rows: Set<number> }>();
      const byClass = new Map<string, number>();
      let passes = 0;
      const influence: number[] = [];
      for (let k = 0; k < texts.length; k++) {
        const e = (await engine('explain', { model: SPAM, text: texts[k]!, methods: [method], samples: 64, seed: 3, faithfulness: false })).explanations[0]!;
        passes += e.forwardPasses;
        byClass.set(e.target.label!, (byClass.get(e.target.label!) ?? 0) + 1);
        let inf = 0;
        e.tokens.forEach((tok, i) => {
          if (!e.attributed[i] || tok.special) return;
          const key = texts[k]!.slice(tok.start, tok.end).trim() || tok.token;
          const a = tally.get(key) ?? { n: 0, abs: 0, sum: 0, rows: new Set<number>() };
          a.n++;
          a.abs += Math.abs(e.scores[i]!);
          a.sum += e.scores[i]!;
          a.rows.add(k);
          tally.set(key, a);
          inf += Math.abs(e.scores[i]!);
        });
        influence.push(inf);
      }
      assert.equal(t.overall.length, tally.size);
      for (const tok of t.overall) {
        const a = tally.get(tok.token)!;
        assert.equal(tok.count, a.n, tok.token);
        assert.equal(tok.rows, a.rows.size);
        assert.ok(Math.abs(tok.meanAbs - a.abs / a.n) < 1e-9 && Math.abs(tok.meanSigned - a.sum / a.n) < 1e-9, tok.token);
        assert.equal(tok.frequency, a.rows.size / 8);
      }
      for (let i = 1; i < t.overall.length; i++) assert.ok(t.overall[i]!.meanAbs <= t.overall[i - 1]!.meanAbs);
      assert.deepEqual(Object.fromEntries(t.perClass.map((c) => [c.label, c.rows])), Object.fromEntries(byClass));
      assert.equal(t.forwardPasses, passes);
      assert.equal(r.forwardRows, passes);
      const top = t.topRows[0]!;
      assert.ok(Math.abs(top.influence - Math.max(...influence)) < 1e-9);
      assert.equal(top.row, influence.indexOf(Math.max(...influence)) + 1);
    });
  }

  test('rows are sampled with the seed and the sample is recorded; a non-classifier is refused', async () => {
    const a = await engine('importance', { model: SPAM, data: { path: PROMPTS }, textRows: 3, seed: 9 });
    const b = await engine('importance', { model: SPAM, data: { path: PROMPTS }, textRows: 3, seed: 9 });
    assert.equal(a.text!.rowsExplained, 3);
    assert.deepEqual(a.text!.rows, b.text!.rows);
    assert.ok(a.dataset.sampled);
    assert.ok(a.warnings.some((w) => /uniform sample with seed 9/.test(w)));
    assert.equal(a.run.seed, 9);
    const e = await engineError(() => engine('importance', { model: { path: path.join(MODELS, 'moby-lm') }, data: { path: PROMPTS } }));
    assert.match(e.message, /needs a text classifier/);
  });
});
