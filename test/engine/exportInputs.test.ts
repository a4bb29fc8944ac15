// Inputs fed by name, as real exports need them: token_type_ids, position_ids, an empty
// past_key_values.* (also grouped-query), use_cache_branch, and models with external data.
// The models are made by tools/fixtures/make_test_fixtures.py with PyTorch reference logits.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { engine, engineError, maxAbsDiff, readJson, TEST_FIXTURES } from '../helpers';

const dir = (name: string): string => path.join(TEST_FIXTURES, 'models', name);

interface Reference {
  text: string;
  input_ids: number[];
  logits: number[];
}

const CASES = [
  { name: 'bert-token-type', task: 'text-classifier', inputs: ['input_ids', 'attention_mask', 'token_type_ids'] },
  { name: 'decoder-past', task: 'causal-lm', inputs: ['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key'] },
  { name: 'decoder-merged', task: 'causal-lm', inputs: ['use_cache_branch'] },
  { name: 'gqa-past', task: 'causal-lm', inputs: ['past_key_values.1.value'] },
  { name: 'external-data', task: 'text-classifier', inputs: ['token_type_ids'] },
] as const;

describe('export input variants', () => {
  for (const c of CASES) {
    test(`${c.name}: fed by name, reproduces the PyTorch logits`, async () => {
      const refs = readJson<{ references: Reference[] }>(path.join(dir(c.name), 'reference.json')).references;
      const info = await engine('describe', { model: { path: dir(c.name) } });
      assert.equal(info.task, c.task);
      for (const name of c.inputs) assert.ok(info.inputs.some((i) => i.name === name), `${c.name} has input ${name}`);
      assert.equal(info.externalData, c.name === 'external-data');
      // Both texts in one batch (padded) and each alone must match.
      const batched = await engine('predict', { model: { path: dir(c.name) }, texts: refs.map((r) => r.text) });
      refs.forEach((r, i) => {
        const p = batched.predictions[i]!;
        if (p.kind === 'tabular') assert.fail('a text model gave a tabular prediction');
        assert.deepEqual(p.tokens.map((t) => t.id), r.input_ids);
        const diff = maxAbsDiff(p.logits, r.logits);
        assert.ok(diff < 1e-4, `${c.name} reference ${i}: max |Δlogit| = ${diff}`);
      });
    });
  }

  test('the labels of a classifier come from config.json id2label', async () => {
    const result = await engine('predict', { model: { path: dir('bert-token-type') }, texts: ['The movie was great.'] });
    assert.deepEqual(result.model.labels, ['negative', 'neutral', 'positive']);
  });

  test('an input the engine cannot fill (pixel_values) is named', async () => {
    const e = await engineError(() => engine('predict', { model: { path: dir('extra-input') }, texts: ['The movie was great.'] }));
    assert.equal(e.code, 'INPUT_UNFILLABLE');
    assert.match(e.message, /"pixel_values" \(float32 \[batch_size, 3, 8, 8\]\)/);
    assert.equal(e.file, path.join(dir('extra-input'), 'model.onnx'));
  });

  test('the task can be overridden, and a wrong override is refused clearly', async () => {
    const info = await engine('describe', { model: { path: dir('decoder-past'), task: 'causal-lm' } });
    assert.equal(info.taskSource, 'override');
    const e = await engineError(() => engine('describe', { model: { path: dir('decoder-past'), task: 'tabular-regressor' } }));
    assert.equal(e.code, 'BAD_REQUEST');
    assert.match(e.message, /cannot be run as a tabular-regressor/);
  });
});
