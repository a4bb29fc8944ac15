// Layer Gradient × Activation (layer-gradxact) against PyTorch autograd: the per-token
// Σ_d h·∂f/∂h of a block's output h, for the first and the last block of the tiny RoBERTa-,
// DistilBERT- and Llama-style fixtures and of the bundled spam classifier
// (tools/fixtures/make_layer_grad_references.py), with f the target's logit and its probability.
// Also: a named tensor equals its block index, the default is the last block, and the clear errors.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { TargetRequest } from '../../../src/engine/methods/attribution';
import { attentionTaps } from '../../../src/engine/methods/attribution/attentionGradient';
import { modelBlockOutputs } from '../../../src/engine/methods/attribution/layerGradXAct';
import { explainParams } from '../../../src/protocol/workerProtocol';
import { engine, engineError, readJson, SHARED_FIXTURES, TEST_FIXTURES } from '../../helpers';
import { ATTRIBUTION_FIXTURES, log, model, relL2, run, torchReferenceCases, withUnsupportedOp } from './common';

interface LayerReference {
  text: string;
  input_ids: number[];
  target: number;
  f_x: number;
  blocks: { block: number; tensor: string; logit: number[]; probability: number[] }[];
}

const DIR = ATTRIBUTION_FIXTURES;
const CASES = torchReferenceCases('layer_grads');
const TOLERANCE = 1e-4;

describe('layer-gradxact equals PyTorch autograd on block outputs', () => {
  for (const [name, dir, refFile] of CASES) {
    test(name, async () => {
      const m = await model(dir);
      const lm = m.info.task === 'causal-lm';
      const blocks = modelBlockOutputs(m);
      assert.equal(blocks.length, attentionTaps(m).length, 'one output per block');
      for (const ref of readJson<{ references: LayerReference[] }>(refFile).references) {
        for (const b of ref.blocks) {
          for (const output of ['logit', 'probability'] as const) {
            const target: TargetRequest = lm ? { kind: 'next-token', tokenId: ref.target, output } : { kind: 'class', index: ref.target, output };
            const r = await run(m, ref.text, { method: 'layer-gradxact', layer: b.block, target });
            assert.deepEqual(
              r.tokens.map((t) => t.id),
              ref.input_ids,
              'the tokenizer gives the reference ids',
            );
            if (output === 'logit') assert.ok(Math.abs(r.target.value - ref.f_x) < 1e-4, `f(x) ${r.target.value} vs ${ref.f_x}`);
            assert.equal(r.parameters.layer, blocks[b.block]);
            // TorchScript names a module's tensors after it: the block's output comes from the module the reference hooked.
            assert.ok(r.parameters.layer!.startsWith(`/${b.tensor}/`), `${r.parameters.layer} is an output of ${b.tensor}`);
            assert.equal(r.parameters.layerBlock, b.block);
            assert.equal(r.parameters.gradients, 'exact');
            assert.ok(r.attributed.every((a) => a), 'every token, special ones included, is scored');
            // After the last attention, each position reaches only its own output: at the final hidden
            // state only the position the target reads ([CLS], or an LM's last token) scores, and the result says so.
            const onlyTarget = b.block === blocks.length - 1;
            assert.equal(
              r.warnings.some((w) => /Only the position the target is read from/.test(w)),
              onlyTarget,
              r.warnings.join(' | '),
            );
            const rel = relL2(r.scores, b[output]);
            log(`${name} "${ref.text.slice(0, 20)}…" block ${b.block} (${r.parameters.layer}) ${output}: relative L2 ${rel.toExponential(2)}`);
            assert.ok(rel < TOLERANCE, `${name} block ${b.block} ${output}: relative L2 ${rel} ≥ ${TOLERANCE}`);
          }
        }
      }
    });
  }
});

describe('layer-gradxact: which layer', () => {
  const text = 'The service was slow, but the food was wonderful.';

  test('a block index and its tensor name give the same scores; the default is the last block\'s input', async () => {
    const m = await model(path.join(DIR, 'distilbert-cls'));
    const blocks = modelBlockOutputs(m);
    const byIndex = await run(m, text, { method: 'layer-gradxact', layer: 0 });
    const byName = await run(m, text, { method: 'layer-gradxact', layer: blocks[0]! });
    assert.equal(byName.parameters.layer, blocks[0]);
    assert.equal(byName.parameters.layerBlock, null);
    assert.deepEqual(byName.scores, byIndex.scores);
    // The next-to-last block's output: at the last block's output only [CLS] would score.
    const byDefault = await run(m, text, { method: 'layer-gradxact' });
    assert.equal(byDefault.parameters.layer, blocks[blocks.length - 2]);
    assert.equal(byDefault.parameters.layerBlock, blocks.length - 2);
    assert.ok(byDefault.scores.filter((s) => s !== 0).length > 1, 'more than one token scores');
    const last = await run(m, text, { method: 'layer-gradxact', layer: blocks.length - 1 });
    assert.deepEqual(
      last.scores.map((s, i) => (s !== 0 ? i : -1)).filter((i) => i >= 0),
      [0],
      'the last block: [CLS] only',
    );
  });

  test('the block outputs of the Hugging Face exports, both exporters', async () => {
    for (const [folder, file] of [
      ['bert-cls', 'model.onnx'],
      ['bert-cls', 'model_dynamo.onnx'],
      ['gpt2-lm', 'model.onnx'],
      ['gpt2-lm', 'model_sdpa.onnx'],
    ] as const) {
      const m = await model(path.join(SHARED_FIXTURES, 'hf', folder), file);
      const blocks = modelBlockOutputs(m);
      log(`${folder}/${file}: ${blocks.join(', ')}`);
      assert.equal(blocks.length, 2);
      // Post-norm BERT: each block ends in its output LayerNorm; pre-norm GPT-2: block 0 in the
      // residual Add after the MLP, the last block in the final norm ln_f.
      const producers = blocks.map((t) => m.facts.graph.nodes.find((n) => n.outputs.includes(t))!.opType);
      assert.deepEqual(producers, folder === 'bert-cls' ? ['LayerNormalization', 'LayerNormalization'] : ['Add', 'LayerNormalization']);
      if (folder === 'gpt2-lm') assert.match(blocks[1]!, /ln_f/);
      const r = await run(m, folder === 'bert-cls' ? 'a fine film' : 'The old man', { method: 'layer-gradxact', layer: 1 });
      assert.ok(r.scores.some((s) => s !== 0));
    }
  });

  test('clear errors naming the model file', async () => {
    const dir = path.join(DIR, 'roberta-cls');
    const m = await model(dir);
    const file = /model\.onnx/;
    const missing = await engineError(() => run(m, text, { method: 'layer-gradxact', layer: 'no/such/tensor' }));
    assert.equal(missing.code, 'BAD_REQUEST');
    assert.match(missing.message, file);
    assert.match(missing.message, /no tensor named "no\/such\/tensor"/);
    const offPath = await engineError(() => run(m, text, { method: 'layer-gradxact', layer: 'attention_mask' }));
    assert.match(offPath.message, /not on the differentiable path/);
    assert.match(offPath.message, file);
    const output = await engineError(() => run(m, text, { method: 'layer-gradxact', layer: 'logits' }));
    assert.match(output.message, /output of model\.onnx/);
    const range = await engineError(() => run(m, text, { method: 'layer-gradxact', layer: 2 }));
    assert.match(range.message, /Block 2 does not exist: model\.onnx has 2 blocks \(0 to 1\)/);
    // The [CLS] vector after the last block: [batch, hidden], no sequence axis.
    const pooled = await engineError(() => run(m, text, { method: 'layer-gradxact', layer: '/Gather_output_0' }));
    assert.match(pooled.message, /has shape \[1, 32\]: layer attributions need a \[batch, sequence/);
    assert.match(pooled.message, file);
    // Attention probabilities: [batch, heads, query, key].
    const probs = await engineError(() => run(m, text, { method: 'layer-gradxact', layer: attentionTaps(m)[0]! }));
    assert.match(probs.message, /has shape \[1, 4, 23, 23\]/);
    const other = await engineError(() => run(m, text, { method: 'ig', layer: 0 }));
    assert.match(other.message, /layer is a parameter of layer-gradxact/);
  });

  test('no gradient graph (an op without a vector-Jacobian product): a clear error, no fallback', async () => {
    const m = await model(withUnsupportedOp());
    const e = await engineError(() => run(m, 'the quick brown fox', { method: 'layer-gradxact' }));
    assert.equal(e.code, 'UNSUPPORTED');
    assert.match(e.message, /Tan/);
  });

  test('through the worker protocol: the layer reaches the method and the plan', async () => {
    const dir = path.join(DIR, 'distilbert-cls');
    const fusedModel = await model(path.join(TEST_FIXTURES, 'models', 'fused-attention'));
    const plan = await engine('plan', { model: { path: dir }, text, methods: ['layer-gradxact', 'saliency'], layer: 0 });
    assert.deepEqual(
      plan.plans.map((p) => p.method),
      ['layer-gradxact', 'saliency'],
    );
    // The blocks the layer pick offers.
    assert.deepEqual(plan.blocks, modelBlockOutputs(await model(dir)));
    assert.equal((await engine('plan', { model: { path: dir }, text, methods: ['saliency'] })).blocks, undefined);
    // Fused attention (no probabilities, so no blocks to find): none offered, planning still works,
    // and the run says why.
    const fused = path.join(TEST_FIXTURES, 'models', 'fused-attention');
    const plain = await engine('plan', { model: { path: fused }, text, methods: ['layer-gradxact'] });
    assert.equal(plain.blocks, undefined);
    const e = await engineError(() => run(fusedModel, text, { method: 'layer-gradxact' }));
    assert.match(e.message, /fused/);
    const res = await engine('explain', { model: { path: dir }, text, methods: ['layer-gradxact', 'gradxinput'], layer: 0, faithfulness: false });
    const [layer, gxi] = res.explanations;
    assert.equal(layer!.parameters.layerBlock, 0);
    assert.equal(gxi!.parameters.layer, null);
    assert.equal(res.run.parameters.layer, 0);
  });

  test('the protocol checks the layer: a block index or a tensor name', () => {
    const base = { model: { path: 'm' }, text: 't', methods: ['layer-gradxact'] };
    assert.equal(explainParams({ ...base, layer: 3 }, 'params').layer, 3);
    assert.equal(explainParams({ ...base, layer: '/h.0/Add_1_output_0' }, 'params').layer, '/h.0/Add_1_output_0');
    assert.throws(() => explainParams({ ...base, layer: true }, 'params'));
    assert.throws(() => explainParams({ ...base, methods: ['layer-gradxactivation'] }, 'params'));
  });
});
