// The supervised engine worker: start on first use, crash → clear error and a fresh worker,
// cancel stops the work, the timeout fires, and shutdown ends the process.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { workerEntry } from '../../src/packageRoot';
import { LoupeError } from '../../src/protocol/errors';
import { WorkerSupervisor } from '../../src/worker/supervisor';
import { SHARED_FIXTURES } from '../helpers';

const BERT = { path: path.join(SHARED_FIXTURES, 'hf', 'bert-cls') };
const LONG_TEXTS = Array.from({ length: 3000 }, (_, i) => `the acting was great and wonderful ${i} `.repeat(20));

const supervisors: WorkerSupervisor[] = [];
function newSupervisor(extra: Partial<ConstructorParameters<typeof WorkerSupervisor>[0]> = {}): WorkerSupervisor {
  const s = new WorkerSupervisor({ workerPath: workerEntry(), settings: { threads: 2, maxMemoryMB: 512 }, cancelGraceMs: 5000, ...extra });
  supervisors.push(s);
  return s;
}
after(async () => {
  await Promise.all(supervisors.map((s) => s.dispose()));
});

async function rejection(p: Promise<unknown>): Promise<LoupeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LoupeError, `a LoupeError, not ${String(e)}`);
    return e;
  }
  assert.fail('expected the request to fail');
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('worker supervisor', () => {
  test('starts the worker on first use, not before', async () => {
    const s = newSupervisor();
    assert.equal(s.started, false);
    const info = await s.request('describe', { model: BERT });
    assert.equal(info.task, 'text-classifier');
    assert.equal(s.started, true);
    assert.ok(s.versions && s.versions.onnxruntime.length > 0);
  });

  test('a crash mid-request gives a clear error, and the next request gets a fresh worker', async () => {
    const s = newSupervisor();
    await s.request('describe', { model: BERT });
    const firstPid = s.pid!;
    let killed = false;
    const running = s.request('predict', { model: BERT, texts: LONG_TEXTS }, {
      onProgress: () => {
        if (!killed) {
          killed = true;
          process.kill(firstPid, 'SIGKILL');
        }
      },
    });
    const e = await rejection(running);
    assert.equal(e.code, 'WORKER_CRASHED');
    assert.match(e.message, /stopped unexpectedly \(signal SIGKILL\)/);
    assert.match(e.message, /restarts on the next request/);

    const again = await s.request('predict', { model: BERT, texts: ['The movie was wonderful.'] });
    assert.equal(again.predictions.length, 1);
    assert.notEqual(s.pid, firstPid);
  });

  test('a worker that dies at start reports the tail of its stderr', async () => {
    const s = newSupervisor({ workerPath: path.join(path.dirname(workerEntry()), 'no-such-worker.js') });
    const e = await rejection(s.request('versions', {}));
    assert.equal(e.code, 'WORKER_CRASHED');
    assert.match(e.message, /exit code 1/);
    assert.match(e.message, /Cannot find module/);
  });

  test('cancel stops the work, and the worker lives on', async () => {
    const s = newSupervisor();
    await s.request('describe', { model: BERT });
    const pid = s.pid!;
    const abort = new AbortController();
    let cancelledAt = 0;
    const running = s.request('predict', { model: BERT, texts: LONG_TEXTS }, {
      signal: abort.signal,
      onProgress: (done) => {
        if (done > 0 && cancelledAt === 0) {
          cancelledAt = Date.now();
          abort.abort();
        }
      },
    });
    const e = await rejection(running);
    assert.equal(e.code, 'CANCELLED');
    // The worker stops within about one batch: a short request right after is answered quickly,
    // by the same process (it was not killed).
    const t = Date.now();
    await s.request('predict', { model: BERT, texts: ['short'] });
    assert.ok(Date.now() - t < 3000, `answered ${Date.now() - t} ms after the cancel`);
    assert.equal(s.pid, pid);
    assert.ok(alive(pid));
  });

  test('the timeout fires, and the engine still answers afterwards', async () => {
    const s = newSupervisor({ cancelGraceMs: 1000 });
    await s.request('describe', { model: BERT });
    const started = Date.now();
    const e = await rejection(s.request('predict', { model: BERT, texts: LONG_TEXTS }, { timeoutMs: 400 }));
    assert.equal(e.code, 'TIMEOUT');
    assert.match(e.message, /did not finish "predict" within 0\.4 s/);
    assert.ok(Date.now() - started < 2000);
    const again = await s.request('predict', { model: BERT, texts: ['The movie was wonderful.'] });
    assert.equal(again.predictions.length, 1);
  });

  test('bad input is an error for that request only', async () => {
    const s = newSupervisor();
    const e = await rejection(s.request('predict', { model: { path: '/no/such/model' }, texts: ['x'] }));
    assert.equal(e.code, 'FILE_NOT_FOUND');
    assert.match(e.message, /\/no\/such\/model/);
    const ok = await s.request('predict', { model: BERT, texts: ['fine'] });
    assert.equal(ok.predictions.length, 1);
  });

  test('shutdown ends the worker process', async () => {
    const s = newSupervisor();
    await s.request('versions', {});
    const pid = s.pid!;
    await s.dispose();
    assert.equal(alive(pid), false);
    await rejection(s.request('versions', {}));
  });
});
