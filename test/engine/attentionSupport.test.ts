// The engine's `attentionSupport` method (the dashboard's "Attention" row): whether a model's
// attention can be read, without running it, on real models.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { engine, MODELS, TEST_FIXTURES } from '../helpers';

describe('attentionSupport', () => {
  test('the bundled classifier: readable, one tap per layer that attention really reads', async () => {
    const model = { path: path.join(MODELS, 'spam-classifier') };
    const s = await engine('attentionSupport', { model });
    const a = await engine('attention', { model, text: 'hello there' });
    assert.deepEqual(s, { readable: true, layers: a.numLayers, reason: null });
  });

  test('a tabular model has no attention, and says so', async () => {
    const s = await engine('attentionSupport', { model: { path: path.join(MODELS, 'breast-cancer') } });
    assert.equal(s.readable, false);
    assert.match(s.reason ?? '', /tabular-classifier models have no attention/);
  });

  test('fused attention: not readable, with the reason the attention command gives', async () => {
    const model = { path: path.join(TEST_FIXTURES, 'models', 'fused-attention') };
    const s = await engine('attentionSupport', { model });
    assert.equal(s.readable, false);
    assert.match(s.reason ?? '', /fused/);
    await assert.rejects(engine('attention', { model, text: 'hello' }), (e: Error) => e.message === s.reason);
  });
});
