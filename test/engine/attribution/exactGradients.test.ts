// Exact gradients (reverse-mode differentiation of the ONNX graph) against autograd:
//  - the PyTorch autograd references of the Hugging Face exports (Gradient × Input, saliency,
//    IG from a zero embedding with 256 midpoint steps) within 1e-4 relative L2, every export;
//  - Captum's LayerIntegratedGradients (Gauss–Legendre, 50 steps, [PAD] baseline) within 1e-3;
//  - the IG completeness gap under 1e-3 of |f(x) − f(b)|;
//  - the result says the gradients were exact, and the user's file is untouched.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { captumCases, captumModel, hfTarget, log, relL2, run, testHfReferences } from './common';

describe('exact gradients equal the PyTorch autograd references', () => {
  testHfReferences(async (m, ref, name) => {
    const target = hfTarget(ref);
    const gxi = await run(m, ref.text, { method: 'gradxinput', target });
    assert.equal(gxi.parameters.gradients, 'exact');
    assert.deepEqual(gxi.warnings, []);
    const sal = await run(m, ref.text, { method: 'saliency', target });
    const ig = await run(m, ref.text, { method: 'ig', baseline: 'zero', keepSpecialInBaseline: false, target, rule: 'riemann_middle', steps: 256 });
    assert.equal(ig.parameters.gradients, 'exact');
    const rel = { gxi: relL2(gxi.scores, ref.grad_x_input), sal: relL2(sal.scores, ref.saliency_l2), ig: relL2(ig.scores, ref.ig_zero_baseline) };
    const change = Math.abs(ref.f_x - ref.f_baseline_zero);
    log(
      `exact ${name} "${ref.text.slice(0, 24)}…": grad×input ${rel.gxi.toExponential(2)}, saliency ${rel.sal.toExponential(2)}, IG ${rel.ig.toExponential(2)} relative L2; ` +
        `gap ${ig.completenessGap!.toExponential(2)} of |Δf| ${change.toExponential(2)}; rows ${ig.forwardPasses}`,
    );
    assert.ok(rel.gxi < 1e-4, `grad×input relative L2 ${rel.gxi}`);
    assert.ok(rel.sal < 1e-4, `saliency relative L2 ${rel.sal}`);
    assert.ok(rel.ig < 1e-4, `IG relative L2 ${rel.ig}`);
    assert.ok(Math.abs(ig.target.baselineValue! - ref.f_baseline_zero) < 1e-5);
    assert.equal(ig.forwardPasses, ig.plannedForwardPasses);
  });
});

describe('exact Integrated Gradients equals Captum LayerIntegratedGradients', () => {
  for (const c of captumCases()) {
    test(c.name, async () => {
      const m = await captumModel(c.kind);
      const ref = c.attributions.lig_gausslegendre!;
      const r = await run(m, c.text, { method: 'ig', baseline: 'pad', rule: 'gausslegendre', steps: 50 });
      assert.equal(r.parameters.gradients, 'exact');
      const rel = relL2(r.scores, ref.per_token);
      const change = Math.abs(r.target.value - r.target.baselineValue!);
      log(`exact ${c.name} lig_gausslegendre: relative L2 ${rel.toExponential(2)}, gap ${r.completenessGap!.toExponential(2)} of |Δf| ${change.toExponential(2)}`);
      assert.ok(rel < 1e-3, `relative L2 ${rel}`);
      assert.ok(Math.abs(r.completenessGap!) < 1e-3 * change, `completeness gap ${r.completenessGap} vs |f(x) − f(b)| ${change}`);
      for (const i of c.special_positions) assert.equal(r.scores[i], 0);
    });
  }
});
