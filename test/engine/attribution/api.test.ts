// The run around the methods: budgets equal the forward passes actually run, progress counts up to
// them, cancellation stops a run between batches; targets (probability, continuation, generation),
// word aggregation, faithfulness figures and the errors a user can act on.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CancelToken } from '../../../src/engine/cancellation';
import { logSumExp, softmax } from '../../../src/engine/inference/math';
import { predictNextTokens } from '../../../src/engine/inference/predict';
import { AttributionRequest, planAttribution, plannedForwardPasses, resolveParameters } from '../../../src/engine/methods/attribution';
import { Runner } from '../../../src/engine/methods/attribution/runner';
import { aggregateWords } from '../../../src/engine/methods/attribution/words';
import { LoupeError } from '../../../src/protocol/errors';
import { engineError, TEST_FIXTURES } from '../../helpers';
import { captumCases, captumModel, ENV, HF, model, quiet, run } from './common';

const SPAM = captumCases().find((c) => c.name === 'classifier/spam_short_0.json')!;

describe('budgets', () => {
  const requests: [string, AttributionRequest][] = [
    ['occlusion', { method: 'occlusion' }],
    ['occlusion w5 mask', { method: 'occlusion', window: 5, baseline: 'mask' }],
    ['occlusion delete', { method: 'occlusion', baseline: 'delete' }],
    ['lime', { method: 'lime', samples: 300, seed: 3 }],
    ['lime bernoulli', { method: 'lime', samples: 300, lime: { sampling: 'bernoulli', regressor: 'lasso' } }],
    ['kernelshap sampled', { method: 'kernelshap', samples: 300, seed: 5 }],
    ['ig', { method: 'ig', steps: 8 }],
    ['ig zero, specials too', { method: 'ig', steps: 8, baseline: 'zero', keepSpecialInBaseline: false, rule: 'riemann_left' }],
    ['gradxinput', { method: 'gradxinput' }],
  ];
  for (const [name, req] of requests) {
    test(`${name}: planned = run, with and without faithfulness; progress counts to the plan`, async () => {
      const m = await captumModel('classifier');
      for (const faithfulness of [false, true]) {
        const plan = planAttribution(m, SPAM.text, { ...req, faithfulness });
        const seen: [number, number][] = [];
        const r = await run(m, SPAM.text, { ...req, faithfulness }, { token: new CancelToken(), progress: (d, t) => seen.push([d, t]) });
        assert.equal(r.plannedForwardPasses, plan.forwardPasses);
        assert.equal(r.forwardPasses, plan.forwardPasses);
        assert.deepEqual(seen.at(-1), [plan.forwardPasses, plan.forwardPasses]);
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![0] > seen[i - 1]![0]);
        assert.equal(r.faithfulness !== null, faithfulness);
      }
    });
  }

  test('exact KernelSHAP: every coalition, planned', async () => {
    const m = await captumModel('classifier');
    const text = 'claim your free prize today';
    const plan = planAttribution(m, text, { method: 'kernelshap', faithfulness: true });
    const r = await run(m, text, { method: 'kernelshap', faithfulness: true });
    assert.equal(r.fit!.exact, true);
    assert.equal(r.forwardPasses, plan.forwardPasses);
    assert.equal(r.fit!.evaluated, 2 ** plan.numFeatures - 1);
  });

  test('plannedForwardPasses from the shape alone', async () => {
    const m = await captumModel('classifier');
    const p = resolveParameters(m, { method: 'ig', steps: 50, gradients: 'finite-differences' });
    // f(x); the embeddings of x and of the [PAD] row; f(baseline); 2 passes per token and step.
    assert.equal(plannedForwardPasses({ ...p, faithfulness: null }, { numTokens: 128, numFeatures: 126 }), 1 + 2 + 1 + 2 * 126 * 50);
    // Exact gradients: f(x); the embeddings; one forward-and-backward row for f(baseline) and per step.
    const exact = resolveParameters(m, { method: 'ig', steps: 50 });
    assert.equal(exact.gradients, 'exact');
    assert.equal(plannedForwardPasses({ ...exact, faithfulness: null }, { numTokens: 128, numFeatures: 126 }), 1 + 2 + 1 + 50);
    const occ = resolveParameters(m, { method: 'occlusion', window: 3, faithfulness: false });
    assert.equal(plannedForwardPasses(occ, { numTokens: 37, numFeatures: 35 }), 1 + 33);
    const ks = resolveParameters(m, { method: 'kernelshap', faithfulness: false });
    assert.equal(plannedForwardPasses(ks, { numTokens: 10, numFeatures: 8 }), 2 ** 8, 'exact: every coalition');
    assert.equal(plannedForwardPasses(ks, { numTokens: 40, numFeatures: 38 }), 1 + 1 + 500, 'f(x), f(∅) and 500 distinct coalitions');
  });
});

describe('cancellation', () => {
  test('a cancelled run stops between batches', async () => {
    const m = await captumModel('classifier');
    const token = new CancelToken();
    let last = 0;
    const err = await engineError(() =>
      run(m, SPAM.text, { method: 'ig', steps: 50, maxBatchSize: 8 }, {
        token,
        progress: (done) => {
          last = done;
          if (done >= 40) token.cancel('Stopped by the test.');
        },
      }),
    );
    assert.equal(err.code, 'CANCELLED');
    assert.ok(last < 60, `stopped after ${last} passes`);
  });

  test('a run cancelled before it starts runs nothing', async () => {
    const m = await captumModel('classifier');
    const token = new CancelToken();
    token.cancel();
    let passes = 0;
    const err = await engineError(() => run(m, SPAM.text, { method: 'occlusion' }, { token, progress: (d) => (passes = d) }));
    assert.equal(err.code, 'CANCELLED');
    assert.equal(passes, 0);
  });
});

describe('targets', () => {
  test('classifier: any class, as a probability', async () => {
    const m = await captumModel('classifier');
    const logit = await run(m, SPAM.text, { method: 'occlusion', target: { kind: 'class', index: 0 } });
    const prob = await run(m, SPAM.text, { method: 'occlusion', target: { kind: 'class', index: 0, output: 'probability' } });
    assert.equal(logit.target.index, 0);
    assert.equal(prob.target.label, 'ham');
    assert.notEqual(SPAM.target, 0, 'class 0 is not the predicted one');
    const logits = await new Runner(m, ENV, quiet(), 0).logits({ ids: SPAM.ids, prefixLen: SPAM.ids.length });
    assert.ok(Math.abs(prob.target.value - softmax(logits)[0]!) < 1e-9);
    assert.ok(Math.abs(logit.target.value - logits[0]!) < 1e-9);
  });

  test('causal LM: a continuation is the sum of its log-probabilities', async () => {
    const m = await captumModel('lm');
    const runner = new Runner(m, ENV, quiet(), 0);
    const c = captumCases().find((x) => x.name === 'lm/whale.json')!;
    const cont = [c.target, 7, 9];
    const r = await run(m, c.text, { method: 'occlusion', target: { kind: 'continuation', ids: cont } });
    let expected = 0;
    for (let j = 0; j < cont.length; j++) {
      const ids = [...c.ids, ...cont.slice(0, j)];
      const logits = await runner.logits({ ids, prefixLen: ids.length });
      expected += logits[cont[j]!]! - logSumExp(logits);
    }
    assert.equal(r.target.kind, 'continuation');
    assert.deepEqual(r.target.continuation, cont);
    assert.ok(Math.abs(r.target.value - expected) < 1e-5, `${r.target.value} vs ${expected}`);
    assert.equal(r.tokens.length, c.ids.length, 'the continuation is not among the scored tokens');
    // IG of a continuation: complete, too.
    const ig = await run(m, c.text, { method: 'ig', steps: 16, target: { kind: 'continuation', ids: cont } });
    assert.ok(Math.abs(ig.target.value - expected) < 1e-5);
    assert.ok(Math.abs(ig.completenessGap!) < 0.02 * Math.abs(ig.target.value - ig.target.baselineValue!));
  });

  test('causal LM: generation attributes each generated token to every token before it', async () => {
    const m = await model(path.join(HF, 'gpt2-lm'));
    const text = 'The movie was';
    const K = 3;
    const r = await run(m, text, { method: 'occlusion', target: { kind: 'generate', maxTokens: K } });
    const greedy = await predictNextTokens(m, [text], { topK: 1, generate: K, maxTokens: null, maxMemoryMB: 1024 }, quiet());
    const expected = (greedy.predictions[0] as { generated: { tokens: { id: number }[] } }).generated.tokens.map((t) => t.id);
    const g = r.generation!;
    assert.deepEqual(
      g.tokens.map((t) => t.id),
      expected,
    );
    assert.equal(g.steps.length, K);
    const n = r.tokens.length;
    g.steps.forEach((s, k) => {
      assert.equal(s.tokens.length, n + k, 'step k sees the text and the k tokens generated before');
      assert.equal(s.scores.length, n + k);
      assert.equal(s.target.index, expected[k]);
      assert.ok(s.attributed.slice(n).every((a) => a), 'generated tokens are attributed too');
    });
    assert.deepEqual(r.scores, g.steps[0]!.scores);
    assert.equal(r.forwardPasses, r.plannedForwardPasses);
  });
});

describe('words', () => {
  test('WordPiece sub-tokens merge by their spans; punctuation stays apart', async () => {
    const c = captumCases().find((x) => x.name === 'classifier/ham_short_0.json')!;
    const m = await captumModel('classifier');
    const r = await run(m, c.text, { method: 'occlusion', words: true });
    const words = r.words!;
    const benjamin = words.find((w) => w.text === 'Benjamin')!;
    assert.deepEqual(
      benjamin.tokens.map((i) => r.tokens[i]!.token),
      ['ben', '##ja', '##min'],
    );
    assert.ok(Math.abs(benjamin.score - benjamin.tokens.reduce((s, i) => s + r.scores[i]!, 0)) < 1e-12);
    assert.ok(words.some((w) => w.text === 'way') && words.some((w) => w.text === '.'));
    // Every non-special token is in exactly one word.
    const covered = words.flatMap((w) => w.tokens).sort((a, b) => a - b);
    assert.deepEqual(covered, r.tokens.map((t, i) => (t.special ? -1 : i)).filter((i) => i >= 0));
  });

  test('byte-level BPE tokens: the leading space is not part of the word', async () => {
    const m = await model(path.join(HF, 'gpt2-lm'));
    const text = 'The movie was absolutely wonderful.';
    const enc = m.tokenizer!.encode(text, 100);
    const words = aggregateWords(text, enc.tokens, enc.tokens.map(() => 1));
    assert.deepEqual(
      words.map((w) => w.text),
      ['The', 'movie', 'was', 'absolutely', 'wonderful', '.'],
    );
  });
});

describe('faithfulness', () => {
  test('occlusion ranks beat a random ranking; figures are consistent', async () => {
    const c = captumCases().find((x) => x.name === 'classifier/spam_long_0.json')!;
    const m = await captumModel('classifier');
    const r = await run(m, c.text, { method: 'occlusion', faithfulness: true });
    const f = r.faithfulness!;
    const M = r.attributed.filter((a) => a).length;
    assert.equal(f.removal, 'pad');
    assert.deepEqual(f.fractions, [0.01, 0.05, 0.1, 0.2, 0.5]);
    assert.deepEqual(f.counts, [2, 7, 13, 26, 63].map((k) => Math.min(k, M)));
    assert.equal(f.attribution.deletion.values[0], r.target.value);
    assert.equal(f.attribution.deletion.removed.at(-1), M);
    assert.ok(f.attribution.comprehensivenessMean > f.random.comprehensivenessMean, 'comprehensiveness above the random floor');
    assert.ok(f.attribution.deletion.aopc > f.random.deletion.aopc, 'AOPC above the random floor');
    assert.ok(f.attribution.sufficiencyMean < f.random.sufficiencyMean, 'sufficiency below the random floor');
    const mean = f.attribution.comprehensiveness.reduce((a, b) => a + b, 0) / 5;
    assert.ok(Math.abs(mean - f.attribution.comprehensivenessMean) < 1e-12);
  });
});

describe('errors a user can act on', () => {
  const cases: [string, AttributionRequest, RegExp][] = [
    ['zero baseline for occlusion', { method: 'occlusion', baseline: 'zero' }, /embedding/],
    ['deletion for IG', { method: 'ig', baseline: 'delete' }, /same length/],
    ['a class of a language model', { method: 'occlusion', target: { kind: 'class' } }, /causal language model/],
    ['a missing [MASK]', { method: 'occlusion', baseline: 'mask' }, /no mask token/],
    ['zero samples', { method: 'lime', samples: 0 }, /samples must be/],
    ['a token id out of range', { method: 'occlusion', target: { kind: 'next-token', tokenId: 10 ** 6 } }, /does not exist/],
  ];
  for (const [name, req, message] of cases) {
    test(name, async () => {
      const m = await captumModel('lm');
      const err = await engineError(() => run(m, 'call me ishmael', req));
      assert.equal(err.code, 'BAD_REQUEST');
      assert.match(err.message, message);
    });
  }

  test('empty text; a tabular model', async () => {
    const m = await captumModel('classifier');
    assert.equal((await engineError(() => run(m, '   ', { method: 'occlusion' }))).code, 'EMPTY_INPUT');
    const tab = await model(path.join(TEST_FIXTURES, '..', '..', 'models', 'breast-cancer'));
    assert.equal((await engineError(() => run(tab, 'x', { method: 'occlusion' }))).code, 'BAD_REQUEST');
  });

  test('deleting every token of a text without special tokens runs the BOS/EOS token instead', async () => {
    const m = await model(path.join(HF, 'gpt2-lm'));
    const r = await run(m, 'The movie was', { method: 'kernelshap', baseline: 'delete' });
    assert.ok(Number.isFinite(r.target.baselineValue!));
    assert.ok(r.scores.every(Number.isFinite));
    assert.ok(!(r instanceof LoupeError));
  });
});
