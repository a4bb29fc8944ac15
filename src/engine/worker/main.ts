// The engine worker: a child process forked by the extension host or the CLI. It reads requests
// over IPC, runs them, and answers with results, progress and structured errors. It never imports
// vscode, and it exits when its parent goes away.

import { CancelToken } from '../cancellation';
import { CheckError } from '../../protocol/check';
import { LoupeError, toLoupeError } from '../../protocol/errors';
import { checkHostToWorker, RequestMessage, WorkerToHost } from '../../protocol/workerProtocol';
import { DEFAULT_SETTINGS, EngineState, handlers } from './handlers';

const state: EngineState = { settings: { ...DEFAULT_SETTINGS } };
const active = new Map<number, CancelToken>();

function send(message: WorkerToHost): void {
  if (process.connected) process.send!(message);
}

async function serve(request: RequestMessage): Promise<void> {
  const token = new CancelToken();
  active.set(request.id, token);
  let lastProgress = 0;
  const progress = (done: number, total: number, message?: string): void => {
    // At most ~20 updates a second: progress must not cost more than the work.
    const now = Date.now();
    if (done < total && now - lastProgress < 50) return;
    lastProgress = now;
    send({ type: 'progress', id: request.id, done, total, message });
  };
  try {
    const handler = handlers[request.method] as (p: unknown, s: EngineState, t: CancelToken, pr: typeof progress) => Promise<unknown>;
    const result = await handler(request.params, state, token, progress);
    token.throwIfCancelled();
    send({ type: 'response', id: request.id, ok: true, result });
  } catch (e) {
    const error = toLoupeError(e, 'INTERNAL');
    send({ type: 'response', id: request.id, ok: false, error: error.toData() });
  } finally {
    active.delete(request.id);
  }
}

process.on('message', (raw: unknown) => {
  let message;
  try {
    message = checkHostToWorker(raw);
  } catch (e) {
    const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : null;
    const why = e instanceof CheckError ? e.message : String(e);
    if (id !== null) send({ type: 'response', id, ok: false, error: new LoupeError('BAD_REQUEST', `Malformed request: ${why}`).toData() });
    else send({ type: 'log', level: 'error', message: `Ignored a malformed message: ${why}` });
    return;
  }
  if (message.type === 'shutdown') process.exit(0);
  if (message.type === 'cancel') active.get(message.id)?.cancel();
  else void serve(message);
});

// The parent went away (crash or reload): nobody is left to answer.
process.on('disconnect', () => process.exit(0));

void handlers
  .versions({}, state, new CancelToken(), () => undefined)
  .then((versions) => send({ type: 'ready', versions }));
