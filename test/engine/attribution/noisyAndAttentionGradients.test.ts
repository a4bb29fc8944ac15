// SmoothGrad, GradientSHAP and attention-gradient relevance on the exact gradients:
//  - SmoothGrad without noise is Gradient × Input; with noise it is seeded (same seed, same numbers);
//  - GradientSHAP converges to Integrated Gradients (same baseline) and to completeness in expectation;
//  - attention-gradient relevance: one value per token, non-negative (R = Π(I + Ā) with Ā ≥ 0),
//    the same f and word-embedding gradient as the model without taps, deterministic.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { MODELS } from '../../helpers';
import { captumCases, captumModel, log, maxDiff, model, relL2, run } from './common';

const SPAM = captumCases().find((c) => c.name === 'classifier/spam_short_0.json')!;

describe('SmoothGrad', () => {
  test('without noise it equals Gradient × Input; with noise it is seeded', async () => {
    const m = await captumModel('classifier');
    const gxi = await run(m, SPAM.text, { method: 'gradxinput' });
    const plain = await run(m, SPAM.text, { method: 'smoothgrad', noise: 0, samples: 3 });
    assert.ok(maxDiff(plain.scores, gxi.scores) < 1e-5, `max |Δ| ${maxDiff(plain.scores, gxi.scores)}`);
    const a = await run(m, SPAM.text, { method: 'smoothgrad', samples: 20, seed: 7 });
    const b = await run(m, SPAM.text, { method: 'smoothgrad', samples: 20, seed: 7 });
    const c = await run(m, SPAM.text, { method: 'smoothgrad', samples: 20, seed: 8 });
    assert.deepEqual(a.scores, b.scores);
    assert.notDeepEqual(a.scores, c.scores);
    assert.equal(a.parameters.noise, 0.1);
    assert.equal(a.parameters.samples, 20);
    assert.equal(a.parameters.gradients, 'exact');
    assert.equal(a.forwardPasses, a.plannedForwardPasses);
  });
});

describe('GradientSHAP', () => {
  test('converges to Integrated Gradients from the same baseline', async () => {
    const m = await captumModel('classifier');
    const ig = await run(m, SPAM.text, { method: 'ig', steps: 64 });
    const gs = await run(m, SPAM.text, { method: 'gradshap', samples: 400, seed: 3 });
    const rel = relL2(gs.scores, ig.scores);
    const change = Math.abs(gs.target.value - gs.target.baselineValue!);
    log(`GradientSHAP (400 samples) vs IG: relative L2 ${rel.toExponential(2)}; gap ${gs.completenessGap!.toExponential(2)} of |Δf| ${change.toExponential(2)}`);
    assert.ok(rel < 0.2, `relative L2 ${rel}`);
    assert.ok(Math.abs(gs.completenessGap!) < 0.1 * change, `gap ${gs.completenessGap}`);
    assert.ok(Math.abs(gs.target.baselineValue! - ig.target.baselineValue!) < 1e-5);
    for (const i of SPAM.special_positions) assert.equal(gs.scores[i], 0);
    const again = await run(m, SPAM.text, { method: 'gradshap', samples: 400, seed: 3 });
    assert.deepEqual(again.scores, gs.scores);
  });
});

describe('attention-gradient relevance', () => {
  for (const [name, dir, text] of [
    ['bundled classifier', path.join(MODELS, 'spam-classifier'), SPAM.text],
    ['bundled LM', path.join(MODELS, 'moby-lm'), 'call me ishmael some years ago never mind how long'],
  ] as const) {
    test(name, async () => {
      const m = await model(dir);
      const r = await run(m, text, { method: 'attention-gradient' });
      const gxi = await run(m, text, { method: 'gradxinput' });
      assert.equal(r.parameters.gradients, 'exact');
      assert.equal(r.scores.length, r.tokens.length);
      assert.ok(r.scores.every((s) => Number.isFinite(s) && s >= 0), r.scores.join(' '));
      assert.ok(r.scores.some((s) => s > 0));
      assert.ok(Math.abs(r.target.value - gxi.target.value) < 1e-5);
      const again = await run(m, text, { method: 'attention-gradient' });
      assert.deepEqual(again.scores, r.scores);
      assert.equal(r.forwardPasses, r.plannedForwardPasses);
      log(`${name} attention-gradient: ${r.tokens.map((t, i) => `${t.token}:${r.scores[i]!.toPrecision(2)}`).join(' ')}`);
    });
  }
});
