// The attention view's relevance mode (attention request with relevance: true):
//  - its R is the matrix the attention-gradient token attribution reads: the target row of R − I
//    equals that method's scores (classifier: the [CLS] row; LM: the last row), on real models;
//  - structure: R = Π(I + Ā) with Ā ≥ 0, so R ≥ 0 and R − I ≥ 0 entrywise, every diagonal entry ≥ 1,
//    and a causal model's R (and Ā) is lower-triangular; Ā non-negative, one per layer;
//  - hidden special tokens cut rows/columns of the same R (no renormalization);
//  - a graph that cannot be differentiated: the attention is still returned, the relevance says why (names the op);
//  - the relevance request alone (what the view sends when a relevance mode is picked) gives the same
//    numbers as the attention request with relevance: true, with and without special tokens.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { engine, MODELS } from '../../helpers';
import { captumCases, CAPTUM, log, model, run, withUnsupportedOp } from './common';

const SPAM = captumCases().find((c) => c.name === 'classifier/spam_short_0.json')!;

describe('attention relevance (attention view)', () => {
  for (const [name, dir, text, causal] of [
    ['Captum classifier', path.join(CAPTUM, 'models', 'classifier'), SPAM.text, false],
    ['bundled LM', path.join(MODELS, 'moby-lm'), 'call me ishmael some years ago never mind how long', true],
  ] as const) {
    test(`${name}: the token attribution is R's target row; R is identity plus non-negative`, async () => {
      const res = await engine('attention', { model: { path: dir }, text, relevance: true });
      const rel = res.relevance!;
      assert.equal(rel.unavailable, null);
      const n = res.tokens.length;
      assert.equal(res.shown.length, n);
      assert.equal(rel.matrix.length, n * n);
      assert.equal(rel.layerMaps.length, res.numLayers * n * n);
      assert.ok(rel.layerMaps.every((v) => Number.isFinite(v) && v >= 0));
      assert.ok(rel.layerMaps.some((v) => v > 0));
      let offDiagonal = 0;
      for (let q = 0; q < n; q++) {
        for (let k = 0; k < n; k++) {
          const v = rel.matrix[q * n + k]!;
          assert.ok(Number.isFinite(v) && v - (q === k ? 1 : 0) >= -1e-6, `R[${q}][${k}] = ${v}`);
          if (causal && k > q) assert.equal(v, 0, `causal R[${q}][${k}]`);
          if (q !== k) offDiagonal += v;
        }
      }
      assert.ok(offDiagonal > 0, 'R is more than the identity');

      const attr = await run(await model(dir), text, { method: 'attention-gradient', faithfulness: false });
      assert.equal(rel.target!.index, attr.target.index);
      assert.ok(Math.abs(rel.target!.value - attr.target.value) < 1e-5);
      assert.deepEqual(rel.rows, [causal ? n - 1 : 0]);
      const q = rel.rows[0]!;
      const fromMatrix = Array.from({ length: n }, (_, k) => rel.matrix[q * n + k]! - (q === k ? 1 : 0));
      // R travels as float32: each entry carries float32 rounding of R (≥ 1 on the diagonal), so the difference is measured against the scores' scale.
      const scale = Math.max(...attr.scores.map(Math.abs));
      const worst = Math.max(...fromMatrix.map((v, k) => Math.abs(v - attr.scores[k]!))) / scale;
      log(`${name}: relevance row ${q} vs attention-gradient scores, max |Δ| ${worst.toExponential(2)} of the largest score (float32 transport)`);
      assert.ok(scale > 0 && worst < 1e-5, `max |Δ| ${worst} of ${scale}`);
    });
  }

  test('hidden special tokens cut the same matrix', async () => {
    const dir = path.join(CAPTUM, 'models', 'classifier');
    const all = await engine('attention', { model: { path: dir }, text: SPAM.text, relevance: true });
    const cut = await engine('attention', { model: { path: dir }, text: SPAM.text, relevance: true, hideSpecial: true });
    const n = all.tokens.length;
    const m = cut.shown.length;
    assert.ok(m < n);
    cut.shown.forEach((q, qi) => cut.shown.forEach((k, ki) => assert.equal(cut.relevance!.matrix[qi * m + ki], all.relevance!.matrix[q * n + k])));
  });

  test('the relevance request alone equals the one computed with the attention, over the same shown tokens', async () => {
    const dir = path.join(CAPTUM, 'models', 'classifier');
    for (const hideSpecial of [false, true]) {
      const both = await engine('attention', { model: { path: dir }, text: SPAM.text, relevance: true, hideSpecial });
      const alone = await engine('attentionRelevance', { model: { path: dir }, text: SPAM.text, hideSpecial });
      assert.equal(alone.unavailable, null);
      assert.deepEqual(alone.target, both.relevance!.target);
      assert.deepEqual(alone.rows, both.relevance!.rows);
      assert.equal(alone.matrix.length, both.shown.length ** 2, `hideSpecial ${hideSpecial}`);
      assert.deepEqual(Array.from(alone.matrix), Array.from(both.relevance!.matrix));
      assert.deepEqual(Array.from(alone.layerMaps), Array.from(both.relevance!.layerMaps));
    }
    const none = await engine('attentionRelevance', { model: { path: withUnsupportedOp() }, text: 'the quick brown fox jumps over the lazy dog' });
    assert.match(none.unavailable ?? '', /Tan/);
  });

  test('without the flag there is no relevance; a graph that cannot be differentiated says why', async () => {
    const plain = await engine('attention', { model: { path: path.join(MODELS, 'spam-classifier') }, text: SPAM.text });
    assert.equal(plain.relevance, undefined);
    const res = await engine('attention', { model: { path: withUnsupportedOp() }, text: 'the quick brown fox jumps over the lazy dog', relevance: true });
    assert.ok(res.attention.length > 0);
    assert.match(res.relevance!.unavailable ?? '', /Tan/);
    assert.equal(res.relevance!.matrix.length, 0);
  });
});
