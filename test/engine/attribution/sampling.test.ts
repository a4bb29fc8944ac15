// LIME and KernelSHAP on the real models:
//  - exact KernelSHAP (all coalitions) equals brute-force Shapley values;
//  - sampled KernelSHAP sums exactly to f(x) − f(∅);
//  - at 2,000 samples the rankings agree with converged references (Spearman ≥ 0.9), and with
//    Captum's records as far as those 500-sample estimates allow (see below);
//  - the same seed gives the same numbers, another seed other numbers.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { maskedRow, Problem } from '../../../src/engine/methods/attribution/problem';
import { Runner } from '../../../src/engine/methods/attribution/runner';
import { readJson, TEST_FIXTURES } from '../../helpers';
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

// What a 2,000-sample run should agree with. Captum's records are single 500-sample runs (seed 0):
// on 126 tokens (127 unknowns) they are far from what their estimator converges to: Captum's
// kernel_shap agrees with the converged Shapley values only at Spearman ≈ 0.65 there. No estimator
// can agree with such a record better than the truth does, so the bar (Spearman ≥ 0.9 at 2,000
// samples) is measured against converged references made on the same model and inputs
// (test/fixtures/attribution/sampled-references.json, by tools/fixtures/shapleyReference.ts):
//  - Shapley values by antithetic permutation sampling, an estimator independent of KernelSHAP's
//    regression (exact on ≤ 14 tokens), which agrees with a 20,000-coalition KernelSHAP at ρ ≥ 0.99;
//  - LIME: Captum's estimator (Bernoulli samples, the lime text kernel, Lasso α 0.01) at 50,000
//    samples, whose two seeds agree at ρ ≥ 0.98 (two seeds averaged).
// Against Captum's records the suite asserts what can hold: our 2,000-sample ranking agrees with
// Captum's as well as the converged values do (within 0.05), or at ρ ≥ 0.9. At Captum's own budget
// (500 samples) the figures are logged, not asserted: one 500-sample run of either estimator is one
// draw from a wide spread (Captum's estimator on spam_long, rerun with 4 seeds on the same model
// outputs: ρ 0.58–0.73 against the converged values, ours 0.63–0.76; on ham_long Captum's 0.49–0.65,
// ours 0.87–0.92).
interface SampledReference {
  numFeatures: number;
  fx: number;
  fEmpty: number;
  shapley: { values: number[]; spearmanVsKernelShap20000: number };
  lime: { values: number[]; spearmanSeed100VsSeed101: number };
}
const REFERENCES = readJson<{ cases: Record<string, SampledReference> }>(path.join(TEST_FIXTURES, 'attribution', 'sampled-references.json')).cases;

describe('sampled rankings at 2,000 samples, against converged references and Captum', () => {
  for (const c of captumCases()) {
    test(c.name, async () => {
      const ref = REFERENCES[c.name];
      assert.ok(ref, `no converged reference for ${c.name}: run tools/fixtures/shapleyReference.ts`);
      assert.ok(ref.shapley.spearmanVsKernelShap20000 >= 0.99 && ref.lime.spearmanSeed100VsSeed101 >= 0.95, 'the references have converged');
      const m = await captumModel(c.kind);
      const ks = await run(m, c.text, { method: 'kernelshap', baseline: 'pad', samples: 2000, seed: 0 });
      // The reference is of this model on these tokens: same f(x) and f(∅).
      assert.equal(featuresOf(c, ks.scores).length, ref.numFeatures);
      assert.ok(Math.abs(ks.target.value - ref.fx) < 1e-4 && Math.abs(ks.target.baselineValue! - ref.fEmpty) < 1e-4, `f(x) ${ks.target.value} / ${ref.fx}, f(∅) ${ks.target.baselineValue} / ${ref.fEmpty}`);
      const shap = ref.shapley.values;
      const rhoKs = spearman(featuresOf(c, ks.scores), shap);
      const ks500 = await run(m, c.text, { method: 'kernelshap', baseline: 'pad', samples: 500, seed: 0 });
      const rhoKs500 = spearman(featuresOf(c, ks500.scores), shap);
      const captumKs = featuresOf(c, c.attributions.kernel_shap!.per_token);
      const rhoCaptumKs = spearman(captumKs, shap);
      const rhoKsCaptum = spearman(featuresOf(c, ks.scores), captumKs);
      // LIME as Captum ran it: Bernoulli samples, the lime text kernel, Lasso(alpha = 0.01).
      const limeReq = { method: 'lime' as const, baseline: 'pad' as const, seed: 0, lime: { sampling: 'bernoulli' as const, regressor: 'lasso' as const } };
      const lime = await run(m, c.text, { ...limeReq, samples: 2000 });
      const rhoLime = spearman(featuresOf(c, lime.scores), ref.lime.values);
      const captumLime = featuresOf(c, c.attributions.lime_textkernel!.per_token);
      const rhoCaptumLime = spearman(captumLime, ref.lime.values);
      const rhoLimeCaptum = spearman(featuresOf(c, lime.scores), captumLime);
      log(
        `${c.name} (M = ${ref.numFeatures}): Spearman vs converged — KernelSHAP 2,000 ${rhoKs.toFixed(3)}, 500 ${rhoKs500.toFixed(3)}, Captum's 500 ${rhoCaptumKs.toFixed(3)}; ` +
          `LIME 2,000 ${rhoLime.toFixed(3)}, Captum's 500 ${rhoCaptumLime.toFixed(3)}. Vs Captum's records: KernelSHAP ${rhoKsCaptum.toFixed(3)}, LIME ${rhoLimeCaptum.toFixed(3)}`,
      );
      assert.ok(rhoKs >= 0.9, `KernelSHAP at 2,000 samples vs converged Shapley values: ${rhoKs}`);
      assert.ok(rhoLime >= 0.9, `LIME at 2,000 samples vs its converged value: ${rhoLime}`);
      assert.ok(rhoKsCaptum >= 0.9 || Math.abs(rhoKsCaptum - rhoCaptumKs) <= 0.05, `KernelSHAP vs Captum ${rhoKsCaptum}, converged vs Captum ${rhoCaptumKs}`);
      assert.ok(rhoLimeCaptum >= 0.9 || Math.abs(rhoLimeCaptum - rhoCaptumLime) <= 0.05, `LIME vs Captum ${rhoLimeCaptum}, converged vs Captum ${rhoCaptumLime}`);
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
