// Messages crossing the host ↔ worker boundary are checked on arrival, naming the bad field.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CheckError } from '../../src/protocol/check';
import { checkHostToWorker, checkResult, checkWorkerToHost } from '../../src/protocol/workerProtocol';

describe('worker protocol checks', () => {
  test('a well-formed request passes', () => {
    const m = checkHostToWorker({ type: 'request', id: 3, method: 'predict', params: { model: { path: '/m' }, texts: ['hi'] } });
    assert.equal(m.type, 'request');
  });
  test('unknown methods and bad params are refused with the field named', () => {
    assert.throws(() => checkHostToWorker({ type: 'request', id: 1, method: 'rm -rf', params: {} }), /message\.method: expected one of/);
    assert.throws(() => checkHostToWorker({ type: 'request', id: 1, method: 'predict', params: { model: { path: 3 } } }), /params\.model\.path: expected a string/);
    assert.throws(() => checkHostToWorker({ type: 'request', id: 1, method: 'predict', params: { model: { path: '/m', task: 'magic' } } }), /params\.model\.task/);
    assert.throws(() => checkHostToWorker({ type: 'request', id: 1.5, method: 'versions', params: {} }), CheckError);
    assert.throws(() => checkHostToWorker(null), CheckError);
  });
  test('worker messages: errors need a known code', () => {
    assert.throws(() => checkWorkerToHost({ type: 'response', id: 1, ok: false, error: { code: 'NOPE', message: 'x' } }), /error/);
    const ok = checkWorkerToHost({ type: 'response', id: 1, ok: false, error: { code: 'TIMEOUT', message: 'x' } });
    assert.equal(ok.type, 'response');
  });
  test('results are checked against the method', () => {
    assert.throws(() => checkResult('versions', { protocol: 1 }), /result\.engine: expected a string/);
  });
});
