// Real Hugging Face exports (../shared/fixtures/hf): both .onnx files of each folder load, their
// logits equal the PyTorch reference within 1e-4, and tokenization reproduces the reference ids.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { engine, maxAbsDiff, readJson, SHARED_FIXTURES } from '../helpers';

interface Reference {
  text: string;
  input_ids: number[];
  logits: number[];
}

const CASES = [
  { folder: 'bert-cls', files: ['model.onnx', 'model_dynamo.onnx'], task: 'text-classifier' },
  { folder: 'gpt2-lm', files: ['model.onnx', 'model_sdpa.onnx'], task: 'causal-lm' },
] as const;

for (const c of CASES) {
  const dir = path.join(SHARED_FIXTURES, 'hf', c.folder);
  const refs = readJson<{ references: Reference[] }>(path.join(dir, 'reference.json')).references;

  describe(`hf/${c.folder}`, () => {
    for (const file of c.files) {
      test(`${file} loads, is detected as ${c.task}, and reproduces the reference logits`, async () => {
        const info = await engine('describe', { model: { path: dir, onnxFile: file } });
        assert.equal(info.task, c.task);
        assert.equal(path.basename(info.onnxFile), file);
        assert.deepEqual([...info.onnxCandidates].sort(), [...c.files].sort());
        assert.match(info.sha256, /^[0-9a-f]{64}$/);

        const result = await engine('predict', { model: { path: dir, onnxFile: file }, texts: refs.map((r) => r.text) });
        assert.equal(result.predictions.length, refs.length);
        result.predictions.forEach((p, i) => {
          assert.notEqual(p.kind, 'tabular');
          if (p.kind === 'tabular') return;
          assert.deepEqual(p.tokens.map((t) => t.id), refs[i]!.input_ids, `token ids of reference ${i}`);
          const diff = maxAbsDiff(p.logits, refs[i]!.logits);
          assert.ok(diff < 1e-4, `reference ${i}: max |Δlogit| = ${diff}`);
        });
      });
    }

    test('batched and one-by-one predictions agree', async () => {
      const texts = refs.map((r) => r.text);
      const batched = await engine('predict', { model: { path: dir }, texts });
      for (let i = 0; i < texts.length; i++) {
        const single = await engine('predict', { model: { path: dir }, texts: [texts[i]!] });
        const a = batched.predictions[i]!;
        const b = single.predictions[0]!;
        if (a.kind === 'tabular' || b.kind === 'tabular') assert.fail('a text model gave a tabular prediction');
        assert.ok(maxAbsDiff(a.logits, b.logits) < 1e-4);
      }
    });

    test('the same input gives the same numbers twice', async () => {
      const a = await engine('predict', { model: { path: dir }, texts: [refs[0]!.text] });
      const b = await engine('predict', { model: { path: dir }, texts: [refs[0]!.text] });
      assert.deepEqual(a.predictions, b.predictions);
      assert.equal(a.run.modelSha256, b.run.modelSha256);
    });
  });
}
