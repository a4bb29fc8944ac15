// Exact gradients beyond the autograd fixtures:
//  - fallback: a graph with an op Loupe cannot differentiate (Tan in place of the GELU's Erf) runs
//    IG and Gradient × Input by finite differences and says so; saliency and gradients: 'exact'
//    fail naming the op;
//  - other architectures (token types, GPT-2 with a KV-cache input, Llama-style RoPE + RMSNorm +
//    GQA, external data): exact Gradient × Input and IG agree with finite differences;
//  - stability: the bundled LM's gradient graph at several sequence lengths and batch sizes gives
//    the same numbers whatever the batching, and agrees with finite differences.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ATTRIBUTION_METHODS } from '../../../src/protocol/workerProtocol';
import { engine, engineError, MODELS, TEST_FIXTURES } from '../../helpers';
import { log, model, relL2, run, withUnsupportedOp } from './common';

const TEXT = 'the quick brown fox jumps over the lazy dog';

describe('fallback to finite differences', () => {
  test('an op without a vector-Jacobian product on the path: finite differences, said in the result', async () => {
    const m = await model(withUnsupportedOp());
    const ig = await run(m, TEXT, { method: 'ig', steps: 8 });
    assert.equal(ig.parameters.gradients, 'finite-differences');
    assert.match(ig.parameters.gradientFallback ?? '', /Tan/);
    assert.ok(ig.warnings.some((w) => /Tan/.test(w) && /finite differences/.test(w)), ig.warnings.join(' | '));
    assert.ok(ig.scores.some((s) => s !== 0));
    const gxi = await run(m, TEXT, { method: 'gradxinput' });
    assert.equal(gxi.parameters.gradients, 'finite-differences');
    const sal = await engineError(() => run(m, TEXT, { method: 'saliency' }));
    assert.equal(sal.code, 'UNSUPPORTED');
    assert.match(sal.message, /Tan/);
    const exact = await engineError(() => run(m, TEXT, { method: 'ig', gradients: 'exact' }));
    assert.match(exact.message, /Tan/);
  });

  test('planning every method still works where exact gradients do not (the quick pick plans them all)', async () => {
    const fallback = await engine('plan', { model: { path: withUnsupportedOp() }, text: TEXT, methods: [...ATTRIBUTION_METHODS] });
    assert.equal(fallback.plans.length, ATTRIBUTION_METHODS.length);
    // IG by finite differences: 2 passes per token and step.
    assert.ok(fallback.plans.find((p) => p.method === 'ig')!.forwardPasses > 2 * 50 * (fallback.numTokens - 2));
    // The plan says how each gradient method would get its gradients (Compare Methods keeps the exact ones).
    const how = (plans: typeof fallback.plans, m: string) => plans.find((p) => p.method === m)!.gradients;
    assert.equal(how(fallback.plans, 'ig'), 'finite-differences');
    assert.equal(how(fallback.plans, 'gradxinput'), 'finite-differences');
    assert.equal(how(fallback.plans, 'occlusion'), null);
    const exact = await engine('plan', { model: { path: path.join(TEST_FIXTURES, 'models', 'bert-token-type') }, text: TEXT, methods: [...ATTRIBUTION_METHODS] });
    assert.equal(how(exact.plans, 'ig'), 'exact');
    assert.equal(how(exact.plans, 'gradxinput'), 'exact');
    const merged = await engine('plan', { model: { path: path.join(TEST_FIXTURES, 'models', 'decoder-merged') }, text: TEXT, methods: [...ATTRIBUTION_METHODS] });
    assert.equal(merged.plans.length, ATTRIBUTION_METHODS.length);
  });

  test('the same model with its Erf: exact', async () => {
    const m = await model(path.join(TEST_FIXTURES, 'models', 'bert-token-type'));
    const ig = await run(m, TEXT, { method: 'ig', steps: 8 });
    assert.equal(ig.parameters.gradients, 'exact');
    assert.equal(ig.parameters.gradientFallback, null);
  });
});

describe('exact gradients agree with finite differences on other architectures', () => {
  // A zero embedding is a singular baseline for RMSNorm models (the integrand grows like 1/α near it),
  // where neither quadrature converges, and the Llama-style model's tokenizer has no pad, mask or
  // unk token for another baseline: it is checked on Gradient × Input only.
  const methodsOf = (folder: string): ('gradxinput' | 'ig')[] => (folder === 'gqa-past' ? ['gradxinput'] : ['gradxinput', 'ig']);
  for (const folder of ['bert-token-type', 'external-data', 'decoder-past', 'gqa-past']) {
    test(folder, async () => {
      const m = await model(path.join(TEST_FIXTURES, 'models', folder));
      for (const method of methodsOf(folder)) {
        const exact = await run(m, TEXT, { method, steps: 16 });
        const fd = await run(m, TEXT, { method, steps: 16, gradients: 'finite-differences' });
        assert.equal(exact.parameters.gradients, 'exact');
        const rel = relL2(exact.scores, fd.scores);
        log(`${folder} ${method}: exact vs finite differences relative L2 ${rel.toExponential(2)}`);
        assert.ok(rel < 2e-3, `${method} relative L2 ${rel}`);
        if (method === 'ig') assert.ok(Math.abs(exact.completenessGap!) < 1e-3 * Math.max(1e-3, Math.abs(exact.target.value - exact.target.baselineValue!)) + 1e-6);
      }
    });
  }
});

describe('the bundled LM gradient graph at several lengths and batch sizes', () => {
  const lm = path.join(MODELS, 'moby-lm');
  const words = 'call me ishmael some years ago never mind how long precisely having little or no money in my purse and nothing particular to interest me on shore'.split(' ');
  for (const n of [1, 4, 13, 30]) {
    test(`${n} words`, async () => {
      const m = await model(lm);
      const text = words.slice(0, n).join(' ');
      const base = await run(m, text, { method: 'ig', steps: 12, baseline: 'zero' });
      assert.equal(base.parameters.gradients, 'exact');
      for (const maxBatchSize of [1, 5]) {
        const other = await run(m, text, { method: 'ig', steps: 12, baseline: 'zero', maxBatchSize });
        const rel = relL2(other.scores, base.scores);
        assert.ok(rel < 1e-5, `batch ${maxBatchSize}: relative L2 ${rel}`);
      }
      const gxi = await run(m, text, { method: 'gradxinput' });
      const fd = await run(m, text, { method: 'gradxinput', gradients: 'finite-differences' });
      const rel = relL2(gxi.scores, fd.scores);
      log(`moby-lm ${base.tokens.length} tokens: grad×input exact vs finite differences ${rel.toExponential(2)}; IG gap ${base.completenessGap!.toExponential(2)}`);
      // Finite differences carry their own error (about 1e-4 to 1e-3 relative, more on longer inputs).
      assert.ok(rel < 5e-3, `grad×input relative L2 ${rel}`);
      const cont = await run(m, text, { method: 'gradxinput', target: { kind: 'continuation', text: ' the whale' } });
      const contFd = await run(m, text, { method: 'gradxinput', target: { kind: 'continuation', text: ' the whale' }, gradients: 'finite-differences' });
      assert.ok(relL2(cont.scores, contFd.scores) < 5e-3, `continuation relative L2 ${relL2(cont.scores, contFd.scores)}`);
      const prob = await run(m, text, { method: 'gradxinput', target: { kind: 'next-token', output: 'probability' } });
      const probFd = await run(m, text, { method: 'gradxinput', target: { kind: 'next-token', output: 'probability' }, gradients: 'finite-differences' });
      assert.ok(relL2(prob.scores, probFd.scores) < 5e-3, `probability relative L2 ${relL2(prob.scores, probFd.scores)}`);
    });
  }
});
