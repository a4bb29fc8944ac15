// The bundled spam classifier as the explainers see it: with no evidence (every word replaced by
// [PAD], [MASK] or [UNK], or deleted) it must not already say "spam", or every spam explanation
// sums to almost nothing (f(x) − f(baseline) ≈ 0: the previous model gave p(spam) = 0.998 for an
// empty message). The training script teaches it that (tools/train_spam_classifier.py,
// removal_augmenter); here the shipped model.onnx is checked.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { AttributionResult } from '../../../src/engine/methods/attribution';
import { MODELS } from '../../helpers';
import { log, model, run } from './common';

const DIR = path.join(MODELS, 'spam-classifier');
const SHORT_SPAM = 'WIN a FREE prize now!!! Click here to claim your cash';
const SPAM_WORDS = new Set(['win', 'free', 'prize', 'click', 'claim', 'cash', '!']);
// A held-out spam message of ~50 tokens (the fourth spam row of heldout.jsonl).
const heldoutSpam = (): string =>
  fs
    .readFileSync(path.join(DIR, 'heldout.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { text: string; label: string })
    .filter((r) => r.label === 'spam')[3]!.text;

async function explain(text: string, baseline: 'pad' | 'mask' | 'unk' | 'delete'): Promise<AttributionResult> {
  const m = await model(DIR);
  const target = { kind: 'class' as const, index: m.info.labels!.indexOf('spam'), output: 'probability' as const };
  const r = await run(m, text, { method: 'kernelshap', baseline, target, samples: 500, seed: 0 });
  const top = r.tokens
    .map((t, i) => ({ token: t.token, score: r.scores[i]!, attributed: r.attributed[i]! }))
    .filter((t) => t.attributed)
    .sort((a, b) => b.score - a.score)
    .slice(0, 5);
  log(`spam-classifier, ${r.tokens.length} tokens, baseline ${baseline}: p(spam) ${r.target.value.toFixed(3)}, without evidence ${r.target.baselineValue!.toFixed(3)}; top: ${top.map((t) => `${t.token} ${t.score.toFixed(3)}`).join(', ')}`);
  return r;
}

describe('bundled spam classifier: baselines without evidence', () => {
  const cases: [string, () => string, ('pad' | 'mask' | 'unk' | 'delete')[]][] = [
    ['a short spam text', () => SHORT_SPAM, ['mask', 'unk', 'delete']],
    ['a held-out spam message', heldoutSpam, ['pad', 'mask', 'unk', 'delete']],
  ];
  for (const [what, text, baselines] of cases) {
    test(`${what}: p(spam) without evidence ≤ 0.6 (${baselines.join(', ')}); the scores share most of p(spam)`, async () => {
      for (const baseline of baselines) {
        const r = await explain(text(), baseline);
        assert.ok(r.target.value > 0.9, `p(spam) of the spam text: ${r.target.value}`);
        assert.ok(r.target.baselineValue! <= 0.6, `p(spam) with every word ${baseline === 'delete' ? 'deleted' : `replaced by ${baseline}`}: ${r.target.baselineValue}`);
        const sum = r.scores.reduce((a, b) => a + b, 0);
        assert.ok(sum > 0.3, `the scores sum to ${sum}`);
      }
    });
  }

  test('a short spam text is explained by its spam words', async () => {
    const r = await explain(SHORT_SPAM, 'delete');
    const top = r.tokens.map((t, i) => ({ token: t.token, score: r.scores[i]! })).sort((a, b) => b.score - a.score).slice(0, 5);
    assert.ok(top.some((t) => SPAM_WORDS.has(t.token)), `top tokens: ${JSON.stringify(top)}`);
  });

  // Known gap: a SHORT text with every word replaced by [PAD] still reads as spam (p ≈ 0.80 for 16
  // tokens; 0.36 for 48, 0.14 for 126): the training replaced words in full-length messages and cut
  // others short, but never did both, so a short run of [PAD] was not seen. The fix is in the
  // augmenter (replace words in cut-short examples too) and needs one more training run.
  test('a short spam text: p(spam) with every word replaced by [PAD] ≤ 0.6', { todo: 'short all-[PAD] inputs are not in the training data yet' }, async () => {
    const r = await explain(SHORT_SPAM, 'pad');
    assert.ok(r.target.baselineValue! <= 0.6, `p(spam) ${r.target.baselineValue}`);
  });
});
