// The attention view protocol's checks of the relevance a result carries (on a real engine result):
// the sizes must fit the shown tokens and layers, an unavailable relevance carries no values, and the
// worker protocol's checker rejects a relevance with missing or mistyped fields.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { checkAttentionShape, checkHostToView, type ViewOrigin } from '../../src/protocol/attentionViewProtocol';
import { CheckError } from '../../src/protocol/check';
import { attentionResult, type AttentionResult } from '../../src/protocol/workerProtocol';
import { engine, MODELS } from '../helpers';

const origin: ViewOrigin = { source: 'file:///w/prompt.txt', label: 'prompt.txt', range: null, hideSpecial: false, model: 'spam-classifier' };
const at = (where: string) => (e: unknown) => e instanceof CheckError && e.where === where;

describe('attention view protocol: relevance', () => {
  test('a real result with relevance passes; wrong sizes, rows or an unavailable one with values do not', async () => {
    const r = await engine('attention', { model: { path: path.join(MODELS, 'spam-classifier') }, text: 'win a free prize now, click here', relevance: true });
    assert.equal(r.relevance!.unavailable, null);
    const checked = checkHostToView({ type: 'result', origin, generation: 1, result: r });
    assert.equal(checked.type === 'result' && checked.result.relevance!.matrix.length, r.shown.length ** 2);
    const rel = r.relevance!;
    const withRel = (relevance: unknown): AttentionResult => ({ ...r, relevance }) as AttentionResult;
    assert.throws(() => checkAttentionShape(withRel({ ...rel, matrix: rel.matrix.subarray(1) })), at('result.relevance.matrix'));
    assert.throws(() => checkAttentionShape(withRel({ ...rel, layerMaps: rel.layerMaps.subarray(0, r.shown.length ** 2) })), at('result.relevance.layerMaps'));
    assert.throws(() => checkAttentionShape(withRel({ ...rel, rows: [r.tokens.length] })), at('result.relevance.rows[0]'));
    assert.throws(() => checkAttentionShape(withRel({ ...rel, unavailable: 'no gradients' })), at('result.relevance.matrix'));
    const none = { unavailable: 'model.onnx has operators Loupe cannot differentiate: Elu', target: null, rows: [], matrix: new Float32Array(0), layerMaps: new Float32Array(0) };
    assert.equal(checkAttentionShape(withRel(none)).relevance!.unavailable, none.unavailable);
    assert.throws(() => attentionResult({ ...r, relevance: { ...rel, matrix: 'R' } }, 'result'), at('result.relevance.matrix'));
    assert.throws(() => attentionResult({ ...r, relevance: { ...rel, target: { ...rel.target, index: 'spam' } } }, 'result'), at('result.relevance.target.index'));
  });
});
