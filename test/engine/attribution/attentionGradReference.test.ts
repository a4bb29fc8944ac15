// The gradients with respect to the attention probabilities, against PyTorch autograd. The
// references (attention_grads.json, made by tools/fixtures/make_attention_grad_references.py in
// float64 on the torch modules rebuilt with the models' weights) hold, per layer, the attention
// probabilities A and ∂f/∂A, and Chefer et al.'s relevance R built on them, for the predicted
// class logit (classifiers) or the argmax next-token logit (LM). Per layer: A within 1e-5 (max |Δ|),
// ∂f/∂A within 1e-4 relative L2; R − I and the 'attention-gradient' token scores (rows of R − I)
// within 1e-4 relative L2.
//
// Layer l's tap is the l-th tensor attentionTaps() finds in graph order: the output of layer l's
// Softmax node (what multiplies the values), [batch, heads, query, key]. Torch's layer l is the l-th
// torch.softmax call of the forward, [batch, heads, query, key] too (the Llama-style model's
// grouped-query attention repeats its 2 key/value heads for the 4 query heads before the scores,
// so A has 4 heads on both sides). The Hugging Face exports in ../shared/fixtures/hf have no torch module here
// (transformers is not installed), so they have no ∂f/∂A reference: their gradients are checked
// through the word-embedding references (exactGradients.test.ts) and the attention-gradient
// structure (attentionRelevance.test.ts) only.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attentionGradientRunner, attentionTaps } from '../../../src/engine/methods/attribution/attentionGradient';
import { attentionRelevance } from '../../../src/engine/methods/attribution';
import { Runner, type Readout } from '../../../src/engine/methods/attribution/runner';
import { readJson } from '../../helpers';
import { ENV, log, maxDiff, model, quiet, relL2, run, torchReferenceCases } from './common';

interface AttentionGradReference {
  text: string;
  input_ids: number[];
  target: number;
  f_x: number;
  seq_len: number;
  heads: number;
  /** Per layer, forward order: A and ∂f/∂A, heads × query × key, row-major. */
  layers: { probs: number[]; grad: number[] }[];
  /** R − I, seq × seq, row-major. */
  relevance_minus_identity: number[];
  rows: number[];
  scores: number[];
}

const CASES = torchReferenceCases('attention_grads');

describe('gradients with respect to the attention probabilities equal PyTorch autograd', () => {
  for (const [name, dir, refFile] of CASES) {
    test(name, async () => {
      const m = await model(dir);
      const lm = m.info.task === 'causal-lm';
      const taps = attentionTaps(m);
      for (const ref of readJson<{ references: AttentionGradReference[] }>(refFile).references) {
        const S = ref.seq_len;
        assert.equal(taps.length, ref.layers.length, 'one tap per torch attention layer');
        const runner = new Runner(m, ENV, quiet(), 2);
        const g = await attentionGradientRunner(runner, taps);
        const [x] = await runner.gather([ref.input_ids]);
        const readout: Readout = { kind: lm ? 'next-token' : 'class', output: 'logit', index: ref.target, continuation: [] };
        const got: { value: number; taps: Record<string, { value: Float32Array; grad: Float32Array; dims: number[] }> }[] = [];
        await g.rows({ ids: ref.input_ids, prefixLen: ref.input_ids.length }, 1, (_, dst) => dst.set(x!), readout, (_, out) => {
          // The arrays are views valid during the call: keep copies.
          const copies: (typeof got)[number]['taps'] = {};
          for (const [t, v] of Object.entries(out.taps)) copies[t] = { value: Float32Array.from(v.value), grad: Float32Array.from(v.grad), dims: v.dims };
          got.push({ value: out.value, taps: copies });
        });
        const row = got[0]!;
        assert.ok(Math.abs(row.value - ref.f_x) < 1e-4, `f ${row.value} vs ${ref.f_x}`);
        const figures: string[] = [];
        taps.forEach((t, l) => {
          const tap = row.taps[t];
          assert.ok(tap, `layer ${l}: the gradient model returns ${t} and its gradient`);
          assert.deepEqual(tap.dims, [1, ref.heads, S, S], `layer ${l} tap shape`);
          const dA = maxDiff(tap.value, ref.layers[l]!.probs);
          const rel = relL2(tap.grad, ref.layers[l]!.grad);
          figures.push(`layer ${l}: A max |Δ| ${dA.toExponential(2)}, ∂f/∂A rel L2 ${rel.toExponential(2)}`);
          assert.ok(dA < 1e-5, `layer ${l}: A max |Δ| ${dA}`);
          assert.ok(rel < 1e-4, `layer ${l}: ∂f/∂A relative L2 ${rel}`);
        });

        // Chefer's R: the attention view's matrix (default target: the predicted class / next
        // token, which is the reference's target) and the token attribution's scores.
        const rel = await attentionRelevance(m, ref.text, null, ENV, quiet());
        assert.deepEqual(rel.ids, ref.input_ids, 'the tokenizer gives the reference ids');
        assert.equal(rel.target.index, ref.target);
        assert.deepEqual(rel.rows, ref.rows);
        // R − I: the identity (each token's relevance to itself) would swamp what the layers add.
        const relR = relL2(Array.from(rel.relevance, (v, j) => v - (j % (S + 1) === 0 ? 1 : 0)), ref.relevance_minus_identity);
        const attr = await run(m, ref.text, { method: 'attention-gradient', target: lm ? { kind: 'next-token', tokenId: ref.target } : { kind: 'class', index: ref.target } });
        const relScores = relL2(attr.scores, ref.scores);
        figures.push(`R − I rel L2 ${relR.toExponential(2)}, scores rel L2 ${relScores.toExponential(2)}`);
        log(`${name} "${ref.text.slice(0, 24)}…" (${S} tokens): ${figures.join('; ')}`);
        assert.ok(relR < 1e-4, `R − I relative L2 ${relR}`);
        assert.ok(relScores < 1e-4, `attention-gradient scores relative L2 ${relScores}`);
      }
    });
  }
});
