// Occlusion and leave-one-out equal Captum's FeatureAblation and Occlusion (within 1e-4) on the
// trained classifier and language model, with [PAD] and [MASK] replacements and a window of 3.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captumCases, captumModel, log, maxDiff, run } from './common';

const CASES: [key: string, req: { baseline: 'pad' | 'mask'; window?: number }][] = [
  ['feature_ablation_pad', { baseline: 'pad' }],
  ['feature_ablation_mask', { baseline: 'mask' }],
  ['occlusion_w3_pad', { baseline: 'pad', window: 3 }],
];

describe('occlusion equals Captum', () => {
  for (const c of captumCases()) {
    test(c.name, async () => {
      const m = await captumModel(c.kind);
      for (const [key, req] of CASES) {
        const ref = c.attributions[key];
        if (!ref) continue; // the LM has no [MASK]
        const r = await run(m, c.text, { method: 'occlusion', ...req });
        assert.deepEqual(
          r.tokens.map((t) => t.id),
          c.ids,
        );
        assert.equal(r.target.index, c.target);
        assert.ok(Math.abs(r.target.value - c.target_value) < 1e-5, `f(x) ${r.target.value} vs ${c.target_value}`);
        const d = maxDiff(r.scores, ref.per_token);
        log(`${c.name} ${key}: max |Δ| = ${d.toExponential(2)}`);
        assert.ok(d < 1e-4, `${key}: max |Δ| = ${d}`);
        for (const i of c.special_positions) assert.equal(r.attributed[i], false, 'special tokens are not occluded');
        assert.equal(r.forwardPasses, r.plannedForwardPasses);
      }
    });
  }
});

describe('occlusion by deletion', () => {
  test('a deleted token changes the row length; scores are f(x) − f(x without the token)', async () => {
    const m = await captumModel('lm');
    const text = 'call me ishmael';
    const r = await run(m, text, { method: 'occlusion', baseline: 'delete' });
    assert.equal(r.parameters.baseline, 'delete');
    // Leave-one-out by hand: the same model on the text with one word removed.
    const words = text.split(' ');
    const features = r.tokens.map((t, i) => (t.special ? -1 : i)).filter((i) => i >= 0);
    assert.equal(features.length, 3);
    for (let k = 0; k < 3; k++) {
      const without = words.filter((_, j) => j !== k).join(' ');
      const alone = await run(m, without, { method: 'occlusion', target: { kind: 'next-token', tokenId: r.target.index! } });
      assert.ok(Math.abs(r.scores[features[k]!]! - (r.target.value - alone.target.value)) < 1e-5);
    }
  });
});
