// A user model with the newer exporters' and onnxruntime's fused ops gets exact gradients through
// the engine (plan, probe, build, cached gradient model, batched runs): test/fixtures/gradient,
// made by tools/fixtures/make_gradient_fixtures.py.
//  - llama-opset23: RMSNormalization and RotaryEmbedding (opset 23), Einsum attention, Tile GQA,
//    Trilu mask; llama-sdpa-opset23: the same weights with the opset-23 Attention op;
//  - fused-encoder: com.microsoft SkipLayerNormalization (residual output carried on),
//    SkipSimplifiedLayerNormalization, BiasGelu, FastGelu, Gelu, QuickGelu, RotaryEmbedding, and
//    SimplifiedLayerNormalization;
//  - fused-attention (../models): com.microsoft.Attention.
// Exact Gradient × Input (and IG where the zero baseline is regular) agree with finite differences.

import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parseOnnx } from '../../../src/engine/model/onnxFile';
import { engine, TEST_FIXTURES } from '../../helpers';
import { log, model, relL2, run } from '../attribution/common';

const TEXT = 'the quick brown fox jumps over the lazy dog';
const DIR = path.join(TEST_FIXTURES, 'gradient');

const CASES: { folder: string; ops: string[]; methods: ('gradxinput' | 'ig')[]; fdStep?: number; dir?: string }[] = [
  // RMSNorm makes the zero embedding a singular IG baseline (exactGradientsMore.test.ts): Gradient × Input only.
  // Its float32 finite differences are rounding-bound at the default step (relative L2 1.6e-3 at
  // 1e-2, 4e-3 at 3e-3, 4e-4 at 3e-2): the larger step is the more accurate reference.
  { folder: 'llama-opset23', ops: ['RMSNormalization', 'Einsum', 'Tile', 'Trilu', 'RotaryEmbedding'], methods: ['gradxinput'], fdStep: 3e-2 },
  { folder: 'llama-sdpa-opset23', ops: ['Attention', 'RMSNormalization', 'RotaryEmbedding'], methods: ['gradxinput'], fdStep: 3e-2 },
  {
    folder: 'fused-encoder',
    ops: ['com.microsoft.SkipLayerNormalization', 'com.microsoft.SkipSimplifiedLayerNormalization', 'com.microsoft.BiasGelu', 'com.microsoft.FastGelu', 'com.microsoft.Gelu', 'com.microsoft.QuickGelu', 'com.microsoft.RotaryEmbedding', 'SimplifiedLayerNormalization'],
    methods: ['gradxinput', 'ig'],
  },
  // ONNX Runtime's fused self-attention with a 2-D int32 key-padding mask (test/fixtures/models).
  { folder: 'fused-attention', dir: path.join(TEST_FIXTURES, 'models', 'fused-attention'), ops: ['com.microsoft.Attention'], methods: ['gradxinput', 'ig'] },
];

const sha = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('exact gradients of models with extended ops agree with finite differences', () => {
  for (const c of CASES) {
    test(c.folder, async () => {
      const dir = c.dir ?? path.join(DIR, c.folder);
      const file = path.join(dir, 'model.onnx');
      const before = sha(file);
      const facts = parseOnnx(fs.readFileSync(file), file);
      for (const op of c.ops) assert.ok(facts.opTypes.includes(op), `${c.folder} has ${op} (ops: ${facts.opTypes.join(', ')})`);
      const m = await model(dir);
      for (const method of c.methods) {
        const exact = await run(m, TEXT, { method, steps: 16 });
        const fd = await run(m, TEXT, { method, steps: 16, gradients: 'finite-differences', fdStep: c.fdStep });
        assert.equal(exact.parameters.gradients, 'exact', `${method}: ${exact.parameters.gradientFallback ?? ''}`);
        assert.equal(fd.parameters.gradients, 'finite-differences');
        const rel = relL2(exact.scores, fd.scores);
        log(`${c.folder} ${method}: exact vs finite differences relative L2 ${rel.toExponential(2)}`);
        assert.ok(exact.scores.some((s) => s !== 0));
        assert.ok(rel < 2e-3, `${method} relative L2 ${rel}`);
        if (method === 'ig') assert.ok(Math.abs(exact.completenessGap!) < 1e-3 * Math.abs(exact.target.value - exact.target.baselineValue!) + 1e-6, `IG gap ${exact.completenessGap}`);
      }
      assert.equal(sha(file), before, 'the model file is left as it was');
    });
  }

  test('the Attention op and its Einsum decomposition give the same exact gradients (same weights)', async () => {
    const target = { kind: 'next-token' as const, output: 'logprob' as const };
    const sdpa = await run(await model(path.join(DIR, 'llama-sdpa-opset23')), TEXT, { method: 'saliency', target });
    const einsum = await run(await model(path.join(DIR, 'llama-opset23')), TEXT, { method: 'saliency', target });
    assert.equal(sdpa.parameters.gradients, 'exact');
    const rel = relL2(sdpa.scores, einsum.scores);
    log(`llama-sdpa-opset23 vs llama-opset23 saliency (log-probability): relative L2 ${rel.toExponential(2)}`);
    assert.ok(rel < 1e-5, `relative L2 ${rel}`);
  });

  test('llama-opset23: attention-gradient relevance runs through the Einsum attention', async () => {
    const res = await engine('attention', { model: { path: path.join(DIR, 'llama-opset23') }, text: TEXT, relevance: true });
    assert.ok(res.attention.length > 0, 'the Einsum attention is read');
    assert.ok(!res.relevance!.unavailable, res.relevance!.unavailable ?? '');
    assert.ok(res.relevance!.matrix.length > 0);
    assert.ok(Array.from(res.relevance!.matrix).every(Number.isFinite));
  });
});
