// Integrated Gradients and Gradient × Input by finite differences on the word embeddings:
//  - Captum's LayerIntegratedGradients (Gauss–Legendre and Captum's trapezoid, 50 steps, [PAD]
//    baseline with special tokens kept) within 2 % relative L2, with its f(baseline) and its sum;
//  - the PyTorch autograd references of the Hugging Face exports (Gradient × Input, IG from a zero
//    embedding) within 2 % relative L2, on both exports of each folder;
//  - the rewritten model computes exactly what the original does, and the user's file is untouched.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { embeddingModel, findWordEmbedding } from '../../../src/engine/methods/attribution/embeddingGraph';
import { tempDir } from '../../helpers';
import { captumCases, captumModel, HF, HF_FILES, hfTarget, log, maxDiff, model, relL2, run, testHfReferences } from './common';

describe('Integrated Gradients equals Captum LayerIntegratedGradients', () => {
  for (const c of captumCases()) {
    test(c.name, async () => {
      const m = await captumModel(c.kind);
      for (const rule of ['gausslegendre', 'riemann_trapezoid'] as const) {
        const ref = c.attributions[`lig_${rule}`]!;
        const r = await run(m, c.text, { method: 'ig', baseline: 'pad', rule, steps: 50, gradients: 'finite-differences' });
        assert.deepEqual(r.parameters.keepSpecialInBaseline, true);
        const rel = relL2(r.scores, ref.per_token);
        const baselineDiff = Math.abs(r.target.baselineValue! - ref.F_baseline!);
        const sum = r.scores.reduce((a, b) => a + b, 0);
        log(
          `${c.name} lig_${rule}: relative L2 ${rel.toExponential(2)}, max |Δ| ${maxDiff(r.scores, ref.per_token).toExponential(2)}, ` +
            `f(baseline) Δ ${baselineDiff.toExponential(2)}, gap ${r.completenessGap!.toExponential(2)} (Captum's delta ${ref.delta})`,
        );
        assert.ok(rel < 0.02, `relative L2 ${rel}`);
        assert.ok(baselineDiff < 1e-4, `f(baseline) ${r.target.baselineValue} vs ${ref.F_baseline}`);
        assert.ok(Math.abs(sum - ref.sum!) < 0.02 * Math.abs(ref.sum!), `sum ${sum} vs ${ref.sum}`);
        // The gap is Σ − (f(x) − f(b)): near 0 for Gauss–Legendre, −Δf/n for Captum's trapezoid.
        assert.ok(Math.abs(r.completenessGap! - ref.delta!) < 0.01 * Math.abs(ref.sum!) + 1e-3, `gap ${r.completenessGap} vs Captum's ${ref.delta}`);
        for (const i of c.special_positions) assert.equal(r.scores[i], 0);
        assert.equal(r.forwardPasses, r.plannedForwardPasses);
      }
    });
  }
});

describe('gradients equal the PyTorch autograd references', () => {
  testHfReferences(async (m, ref, name) => {
    const target = hfTarget(ref);
    const gxi = await run(m, ref.text, { method: 'gradxinput', target, gradients: 'finite-differences' });
    assert.deepEqual(
      gxi.tokens.map((t) => t.id),
      ref.input_ids,
    );
    assert.ok(Math.abs(gxi.target.value - ref.f_x) < 1e-5);
    // The reference's zero baseline zeroes every token, special ones included.
    const ig = await run(m, ref.text, { method: 'ig', baseline: 'zero', keepSpecialInBaseline: false, target, rule: 'gausslegendre', steps: 50, gradients: 'finite-differences' });
    const gxiRel = relL2(gxi.scores, ref.grad_x_input);
    const igRel = relL2(ig.scores, ref.ig_zero_baseline);
    log(
      `${name} "${ref.text.slice(0, 24)}…": grad×input relative L2 ${gxiRel.toExponential(2)}, IG relative L2 ${igRel.toExponential(2)}, ` +
        `f(0) Δ ${Math.abs(ig.target.baselineValue! - ref.f_baseline_zero).toExponential(2)}, gap ${ig.completenessGap!.toExponential(2)}`,
    );
    assert.ok(gxiRel < 0.02, `grad×input relative L2 ${gxiRel}`);
    assert.ok(igRel < 0.02, `IG relative L2 ${igRel}`);
    assert.ok(Math.abs(ig.target.baselineValue! - ref.f_baseline_zero) < 1e-5);
    assert.ok(Math.abs(ig.completenessGap!) < 1e-3 * Math.max(1, Math.abs(ref.f_x - ref.f_baseline_zero)));
  });
});

describe('the model with word embeddings as an input', () => {
  test('computes the same logits as the original when fed its own embeddings', async () => {
    const cache = tempDir('embedding-rewrite');
    for (const [folder, file] of HF_FILES) {
      const m = await model(path.join(HF, folder), file);
      const emb = findWordEmbedding(m.facts.graph, m.info.onnxFile);
      const rewritten = embeddingModel(m.info.onnxFile, m.info.sha256, emb, m.facts.graph.externalFiles, cache);
      const session = await ort.InferenceSession.create(rewritten.path);
      assert.deepEqual(session.inputNames.slice(-1), [emb.tensor]);
      const ids = [2, 5, 9, 14, 3];
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      };
      const plain = await ort.InferenceSession.create(m.info.onnxFile);
      const original = (await plain.run(feeds)).logits!;
      await plain.release();
      const H = rewritten.weightDims![1]!;
      const gathered = (await session.run({ ...feeds, [emb.tensor]: new ort.Tensor('float32', new Float32Array(ids.length * H), [1, ids.length, H]) }, [emb.gathered]))[emb.gathered]!;
      const fed = (await session.run({ ...feeds, [emb.tensor]: gathered }, ['logits'])).logits!;
      assert.equal(maxDiff(original.data as Float32Array, fed.data as Float32Array), 0);
      await session.release();
      // Written once: a second call reuses the cached copy.
      const again = embeddingModel(m.info.onnxFile, m.info.sha256, emb, m.facts.graph.externalFiles, cache);
      assert.equal(again.path, rewritten.path);
    }
  });

  test('a model whose embeddings cannot be reached says so', async () => {
    const m = await model(path.join(HF, 'bert-cls'));
    const graph = { ...m.facts.graph, nodes: m.facts.graph.nodes.filter((n) => n.opType !== 'Gather') };
    assert.throws(() => findWordEmbedding(graph, m.info.onnxFile), /No word-embedding lookup/);
  });
});
