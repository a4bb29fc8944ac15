// LIME and KernelSHAP on the real models:
//  - exact KernelSHAP (all coalitions) equals brute-force Shapley values;
//  - sampled KernelSHAP sums exactly to f(x) − f(∅);
//  - at 2,000 samples the rankings agree with Captum's (Spearman), as far as Captum's own 500-sample
//    estimates allow (see below);
//  - the same seed gives the same numbers, another seed other numbers.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskedRow, Problem } from '../../../src/engine/methods/attribution/problem';
import { Runner } from '../../../src/engine/methods/attribution/runner';
import { captumCases, captumModel, ENV, featuresOf, log, quiet, run, spearman } from './common';

describe('exact KernelSHAP', () => {
  test('equals brute-force Shapley values on a short input', async () => {
    const m = await captumModel('classifier');
    const text = 'Claim your free prize today, click here';
    const r = await run(m, text, { method: 'kernelshap', baseline: 'pad' });
    assert.equal(r.fit!.exact, true);
    const features = r.tokens.map((t, i) => (t.special ? -1 : i)).filter((i) => i >= 0);
    const M = features.length;
    assert.ok(M >= 6 && M <= 12, `${M} tokens`);
    assert.equal(r.forwardPasses, 2 ** M, 'f(x) and the 2^M − 1 other coalitions');

    // Brute force: f on every subset, then φ_i = Σ_S |S|! (M − |S| − 1)! / M! · (f(S ∪ i) − f(S)).
    const runner = new Runner(m, ENV, quiet(), 0);
    const readout = { kind: 'class' as const, output: 'logit' as const, index: r.target.index!, continuation: [] };
    const p: Problem = { ids: r.tokens.map((t) => t.id), tokens: r.tokens, features, continuation: [], readout, fx: r.target.value, seed: 0, emptyRow: null };
    const pad = m.tokenizer!.tokenToId('[PAD]')!;
    const rows = Array.from({ length: 2 ** M }, (_, bits) => maskedRow(p, (k) => ((bits >> k) & 1) === 1, pad));
    const f = await runner.values(rows, readout);
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    const popcount = (x: number): number => x.toString(2).split('1').length - 1;
    const shapley = features.map((_, i) => {
      let phi = 0;
      for (let S = 0; S < 2 ** M; S++) {
        if ((S >> i) & 1) continue;
        const s = popcount(S);
        phi += ((fact(s) * fact(M - s - 1)) / fact(M)) * (f[S | (1 << i)]! - f[S]!);
      }
      return phi;
    });
    const mine = features.map((pos) => r.scores[pos]!);
    const d = Math.max(...mine.map((v, i) => Math.abs(v - shapley[i]!)));
    log(`exact KernelSHAP vs brute-force Shapley (M = ${M}): max |Δ| = ${d.toExponential(2)}`);
    assert.ok(d < 1e-5, `max |Δ| = ${d}`);
    assert.ok(Math.abs(r.completenessGap!) < 1e-9);
    assert.ok(Math.abs(r.target.baselineValue! - f[0]!) < 1e-6);
  });

  test('sampled KernelSHAP sums exactly to f(x) − f(∅)', async () => {
    const m = await captumModel('classifier');
    const c = captumCases().find((x) => x.name === 'classifier/ham_short_0.json')!;
    const r = await run(m, c.text, { method: 'kernelshap', samples: 300 });
    assert.equal(r.fit!.exact, false);
    assert.equal(r.fit!.drawn, 300);
    assert.ok(Math.abs(r.completenessGap!) < 1e-9, `gap ${r.completenessGap}`);
    assert.ok(Math.abs(r.target.baselineValue! - (c.attributions.kernel_shap!.outputs as number[])[1]!) < 1e-5, "f(∅) is Captum's all-[PAD] output");
  });
});

// Captum's references are 500-sample estimates. Where they are precise (short inputs), rankings at
// 2,000 samples agree at Spearman ≥ 0.9. Where they are not — 126 tokens with 500 samples (127
// unknowns), or call_me, whose scores are nearly all close to 0 but one — Captum's own estimator,
// rerun on other random draws, agrees with a converged estimate only at ρ ≈ 0.55–0.85 (measured
// with the same model outputs: median 0.74 on call_me, 0.66 on ham_long): no estimator can agree
// with those references better than they agree with themselves. There the suite asserts how well two
// of our seeds agree (≥ 0.97 on call_me; ≥ 0.8 at 126 tokens, where 2,000 samples are ~16 per
// token) and a looser agreement with Captum's.
const NOISY_KSHAP = new Set(['classifier/ham_long_0.json', 'classifier/spam_long_0.json', 'lm/call_me.json']);
const LONG = new Set(['classifier/ham_long_0.json', 'classifier/spam_long_0.json']);

describe("sampled rankings agree with Captum's", () => {
  for (const c of captumCases()) {
    test(c.name, async () => {
      const m = await captumModel(c.kind);
      const ks = await run(m, c.text, { method: 'kernelshap', baseline: 'pad', samples: 2000, seed: 0 });
      const rhoKs = spearman(featuresOf(c, ks.scores), featuresOf(c, c.attributions.kernel_shap!.per_token));
      // LIME as Captum ran it: Bernoulli samples, the lime text kernel, Lasso(alpha = 0.01).
      const lime = await run(m, c.text, { method: 'lime', baseline: 'pad', samples: 2000, seed: 0, lime: { sampling: 'bernoulli', regressor: 'lasso' } });
      const rhoLime = spearman(featuresOf(c, lime.scores), featuresOf(c, c.attributions.lime_textkernel!.per_token));
      let line = `${c.name}: Spearman vs Captum, KernelSHAP ${rhoKs.toFixed(3)}, LIME ${rhoLime.toFixed(3)}`;
      if (NOISY_KSHAP.has(c.name)) {
        const other = await run(m, c.text, { method: 'kernelshap', baseline: 'pad', samples: 2000, seed: 1 });
        const selfRho = spearman(featuresOf(c, ks.scores), featuresOf(c, other.scores));
        line += `; KernelSHAP seed 0 vs seed 1 ${selfRho.toFixed(3)}`;
        log(line);
        // 2,000 samples for 126 tokens are ~16 per token: two seeds agree at ρ ≈ 0.85–0.95 there.
        assert.ok(selfRho >= (LONG.has(c.name) ? 0.8 : 0.97), `seed-to-seed agreement ${selfRho}`);
        assert.ok(rhoKs >= 0.55, `KernelSHAP ${rhoKs}`);
      } else {
        log(line);
        assert.ok(rhoKs >= 0.9, `KernelSHAP ${rhoKs}`);
      }
      assert.ok(rhoLime >= (LONG.has(c.name) ? 0.85 : 0.9), `LIME ${rhoLime}`);
      assert.equal(ks.forwardPasses, ks.plannedForwardPasses);
      assert.equal(lime.forwardPasses, lime.plannedForwardPasses);
    });
  }
});

describe('seeds', () => {
  test('the same seed gives the same numbers; another seed, others', async () => {
    const m = await captumModel('classifier');
    const c = captumCases().find((x) => x.name === 'classifier/ham_short_0.json')!;
    for (const method of ['lime', 'kernelshap'] as const) {
      const a = await run(m, c.text, { method, samples: 400, seed: 7, faithfulness: true });
      const b = await run(m, c.text, { method, samples: 400, seed: 7, faithfulness: true });
      const other = await run(m, c.text, { method, samples: 400, seed: 8 });
      assert.deepEqual(a.scores, b.scores, `${method}: same seed, same scores`);
      assert.deepEqual(a.faithfulness, b.faithfulness, `${method}: same seed, same faithfulness figures`);
      assert.equal(a.seed, 7);
      assert.notDeepEqual(a.scores, other.scores, `${method}: another seed, other samples`);
    }
  });
});
