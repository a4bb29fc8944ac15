// The attention view protocol's checks of the relevance a result carries (on a real engine result):
// the sizes must fit the shown tokens and layers, an unavailable relevance carries no values, and the
// worker protocol's checker rejects a relevance with missing or mistyped fields.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { checkAttentionShape, checkHostToView, checkRelevanceShape, checkViewToHost, type ViewOrigin } from '../../src/protocol/attentionViewProtocol';
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
    const none = { unavailable: 'model.onnx has operators Loupe cannot differentiate: Tan', target: null, rows: [], matrix: new Float32Array(0), layerMaps: new Float32Array(0) };
    assert.equal(checkAttentionShape(withRel(none)).relevance!.unavailable, none.unavailable);
    assert.throws(() => attentionResult({ ...r, relevance: { ...rel, matrix: 'R' } }, 'result'), at('result.relevance.matrix'));
    assert.throws(() => attentionResult({ ...r, relevance: { ...rel, target: { ...rel.target, index: 'spam' } } }, 'result'), at('result.relevance.target.index'));
  });

  test('the relevance asked for when its mode is picked: the messages both ways are checked, and must fit the result', async () => {
    const r = await engine('attention', { model: { path: path.join(MODELS, 'spam-classifier') }, text: 'win a free prize now, click here', relevance: true });
    const rel = r.relevance!;
    const done = checkHostToView({ type: 'relevance', generation: 3, status: 'done', relevance: rel });
    assert.ok(done.type === 'relevance' && done.status === 'done' && done.relevance.matrix.length === r.shown.length ** 2);
    const busy = checkHostToView({ type: 'relevance', generation: 3, status: 'busy', message: 'Computing…' });
    assert.deepEqual(busy, { type: 'relevance', generation: 3, status: 'busy', message: 'Computing…' });
    assert.throws(() => checkHostToView({ type: 'relevance', generation: 3, status: 'finished', message: '' }), at('status'));
    assert.throws(() => checkHostToView({ type: 'relevance', generation: 3, status: 'done', relevance: { ...rel, rows: 'x' } }), at('relevance.rows'));
    assert.throws(() => checkHostToView({ type: 'relevance', generation: 3, status: 'error' }), at('message'));
    // A relevance over other tokens than the result shows does not fit it.
    const { relevance: _, ...plain } = r;
    assert.equal(checkRelevanceShape(rel, plain as AttentionResult), rel);
    const fewer = { ...plain, shown: plain.shown.slice(1) } as AttentionResult;
    assert.throws(() => checkRelevanceShape(rel, fewer), at('relevance.matrix'));
    assert.deepEqual(checkViewToHost({ type: 'relevance', generation: 2 }), { type: 'relevance', generation: 2 });
    assert.deepEqual(checkViewToHost({ type: 'cancelRelevance' }), { type: 'cancelRelevance' });
    assert.throws(() => checkViewToHost({ type: 'relevance' }), at('generation'));
  });
});
