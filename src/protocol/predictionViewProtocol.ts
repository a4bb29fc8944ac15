// The protocol between the extension host and the prediction webview. Both sides import it; each
// checks what arrives with the checkers below.

import { CheckError, literal, obj, str } from './check';
import { predictResult, type PredictResult } from './workerProtocol';

/** host → webview */
export type HostToView =
  | { type: 'result'; result: PredictResult; source: string }
  | { type: 'busy'; message: string }
  | { type: 'error'; message: string };

/** webview → host */
export type ViewToHost = { type: 'ready' } | { type: 'reveal'; start: number; end: number } | { type: 'rerun' };

export function checkHostToView(v: unknown): HostToView {
  const { type } = obj({ type: literal('result', 'busy', 'error') })(v, 'message');
  const r = v as Record<string, unknown>;
  if (type === 'result') return { type, result: predictResult(r.result, 'result'), source: str(r.source, 'source') };
  return { type, message: str(r.message, 'message') };
}

export function checkViewToHost(v: unknown): ViewToHost {
  const { type } = obj({ type: literal('ready', 'reveal', 'rerun') })(v, 'message');
  if (type !== 'reveal') return { type };
  const r = v as Record<string, unknown>;
  const start = r.start;
  const end = r.end;
  if (typeof start !== 'number' || typeof end !== 'number' || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
    throw new CheckError('message', 'a character range');
  }
  return { type, start, end };
}
