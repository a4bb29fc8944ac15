// Attention read from exports that do not output it: equal to PyTorch's attention within 1e-5 on
// every fixture export (TorchScript eager and SDPA, dynamo, opsets 14–18, encoder and decoder),
// and the user's file is never modified.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { findAttention } from '../../src/engine/model/attentionGraph';
import { readOnnxFacts } from '../../src/engine/model/onnxFile';
import { engine, engineError, readJson, SHARED_FIXTURES, TEST_FIXTURES } from '../helpers';

type Nested = number[][][][];

function maxDiff(flat: Float32Array, ref: Nested): number {
  let m = 0;
  let i = 0;
  for (const layer of ref) for (const head of layer) for (const row of head) for (const v of row) m = Math.max(m, Math.abs(flat[i++]! - v));
  return i === flat.length ? m : Infinity;
}

const HF = [
  ['bert-cls', 'model.onnx'],
  ['bert-cls', 'model_dynamo.onnx'],
  ['gpt2-lm', 'model.onnx'],
  ['gpt2-lm', 'model_sdpa.onnx'],
] as const;

describe('attention equals the PyTorch reference', () => {
  for (const [folder, file] of HF) {
    test(`hf/${folder}/${file}`, async () => {
      const dir = path.join(SHARED_FIXTURES, 'hf', folder);
      const before = fs.statSync(path.join(dir, file)).mtimeMs;
      const refs = readJson<{ references: { text: string; input_ids: number[]; attentions: Nested }[] }>(path.join(dir, 'reference.json')).references;
      for (const r of refs) {
        const result = await engine('attention', { model: { path: dir, onnxFile: file }, text: r.text });
        assert.deepEqual(result.tokens.map((t) => t.id), r.input_ids);
        assert.equal(result.numLayers, r.attentions.length);
        assert.equal(result.numHeads, r.attentions[0]!.length);
        const diff = maxDiff(result.attention, r.attentions);
        assert.ok(diff < 1e-5, `${r.text}: max |Δ| = ${diff}`);
      }
      assert.equal(fs.statSync(path.join(dir, file)).mtimeMs, before, "the user's model is not modified");
    });
  }

  for (const kind of ['classifier', 'lm']) {
    test(`captum/models/${kind}`, async () => {
      const dir = path.join(SHARED_FIXTURES, 'captum', kind);
      for (const f of fs.readdirSync(dir)) {
        const r = readJson<{ text: string; ids: number[]; attentions: { data: Nested } }>(path.join(dir, f));
        const result = await engine('attention', { model: { path: path.join(SHARED_FIXTURES, 'captum', 'models', kind) }, text: r.text });
        assert.deepEqual(result.tokens.map((t) => t.id), r.ids);
        const diff = maxDiff(result.attention, r.attentions.data);
        assert.ok(diff < 1e-5, `${f}: max |Δ| = ${diff}`);
      }
    });
  }
});

describe('attention on other export shapes equals PyTorch', () => {
  // token_type_ids; a decoder fed position_ids and an empty past; a merged decoder's use_cache_branch;
  // Llama-style RoPE, RMSNorm and grouped-query attention; external data.
  for (const name of ['bert-token-type', 'decoder-past', 'decoder-merged', 'gqa-past', 'external-data']) {
    test(name, async () => {
      const dir = path.join(TEST_FIXTURES, 'models', name);
      const refs = readJson<{ references: { text: string; input_ids: number[]; attentions: Nested }[] }>(path.join(dir, 'reference.json')).references;
      for (const r of refs) {
        const result = await engine('attention', { model: { path: dir }, text: r.text });
        assert.deepEqual(result.tokens.map((t) => t.id), r.input_ids);
        const diff = maxDiff(result.attention, r.attentions);
        assert.ok(diff < 1e-5, `${name} "${r.text}": max |Δ| = ${diff}`);
      }
    });
  }
});

describe('attention on other export shapes', () => {
  test('a model with external data', async () => {
    const result = await engine('attention', { model: { path: path.join(TEST_FIXTURES, 'models', 'external-data') }, text: 'The movie was great.' });
    assert.equal(result.numLayers, 2);
    assert.equal(result.model.externalData, true);
    const n = result.shown.length;
    for (let row = 0; row < result.attention.length / n; row++) {
      const sum = result.attention.subarray(row * n, (row + 1) * n).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${row} sums to ${sum}`);
    }
  });

  test('grouped-query attention with an empty past: one map per query head, causal', async () => {
    const result = await engine('attention', { model: { path: path.join(TEST_FIXTURES, 'models', 'gqa-past') }, text: 'Hello world, this is a test.' });
    assert.equal(result.numHeads, 4);
    const n = result.shown.length;
    // Causal: nothing above the diagonal.
    for (let q = 0; q < n; q++) for (let k = q + 1; k < n; k++) assert.equal(result.attention[q * n + k], 0);
  });

  test('a fused-attention model gets its message (and still predicts)', async () => {
    const dir = path.join(TEST_FIXTURES, 'models', 'fused-attention');
    const predicted = await engine('predict', { model: { path: dir }, texts: ['The movie was great.'] });
    assert.equal(predicted.predictions.length, 1);
    const e = await engineError(() => engine('attention', { model: { path: dir }, text: 'The movie was great.' }));
    assert.equal(e.code, 'UNSUPPORTED');
    assert.equal(e.file, path.join(dir, 'model.onnx'));
    assert.match(e.message, /fused com\.microsoft\.Attention operator/);
    assert.match(e.message, /Export the model without attention fusion/);
  });

  test('the finder refuses any fused attention node', () => {
    // The finder sees the graph as parsed from a real export, plus one fused attention node.
    const file = path.join(SHARED_FIXTURES, 'hf', 'bert-cls', 'model.onnx');
    const facts = readOnnxFacts(file);
    assert.equal(findAttention(facts.graph, facts.opset, file).length, 2);
    facts.graph.nodes.push({ opType: 'MultiHeadAttention', domain: 'com.microsoft', name: 'fused', inputs: [], outputs: [], ints: {}, hasSubgraph: false });
    assert.throws(() => findAttention(facts.graph, facts.opset, file), /fused com\.microsoft\.MultiHeadAttention operator.*without attention fusion/s);
  });

  test('special tokens can be hidden, and the rest renormalised', async () => {
    const dir = path.join(SHARED_FIXTURES, 'hf', 'bert-cls');
    const full = await engine('attention', { model: { path: dir }, text: 'The movie was great.' });
    const hidden = await engine('attention', { model: { path: dir }, text: 'The movie was great.', hideSpecial: true });
    assert.equal(hidden.shown.length, full.shown.length - 2);
    assert.ok(hidden.shown.every((i) => !full.tokens[i]!.special));
    const m = hidden.shown.length;
    for (let row = 0; row < hidden.attention.length / m; row++) {
      const sum = hidden.attention.subarray(row * m, (row + 1) * m).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5);
    }
  });

  test('layer and head selection, and bad indices', async () => {
    const dir = path.join(SHARED_FIXTURES, 'hf', 'bert-cls');
    const all = await engine('attention', { model: { path: dir }, text: 'The movie was great.' });
    const one = await engine('attention', { model: { path: dir }, text: 'The movie was great.', layers: [1], heads: [2] });
    const n = all.shown.length;
    assert.equal(one.attention.length, n * n);
    const offset = (1 * all.numHeads + 2) * n * n;
    assert.deepEqual(Array.from(one.attention), Array.from(all.attention.subarray(offset, offset + n * n)));
    const e = await engineError(() => engine('attention', { model: { path: dir }, text: 'x', layers: [7] }));
    assert.match(e.message, /Layer 7 does not exist: the model has layers 0 to 1/);
  });
});
