// What the per-webview protocols of the source-bound views (attention, explanation) have in common:
// the checkers of a character range and of PNG bytes, and the host → view messages every such view
// takes. Each view's own protocol module builds on these and stays the one both sides import.

import { CheckError, int, literal, obj, type Checker } from './check';

/** A character range in the source document (a selection); start ≤ end. */
export interface CharRange {
  start: number;
  end: number;
}

export const charRange: Checker<CharRange> = (v, w) => {
  const r = obj({ start: int, end: int })(v, w);
  if (r.start < 0 || r.end < r.start) throw new CheckError(w, 'a character range (0 ≤ start ≤ end)');
  return r;
};

export const bytes: Checker<Uint8Array> = (v, w) => {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new CheckError(w, 'a Uint8Array');
};

/** The formats every result panel exports to (besides a view's own, like the attention PNG). */
export const EXPORT_FORMATS = ['html', 'json', 'csv'] as const;
export type ExportFormatName = (typeof EXPORT_FORMATS)[number];
export const exportFormat = literal(...EXPORT_FORMATS);

/** host → view, for a view of origin O showing results R and answering probes that select S. */
export type SourceViewHostToView<O, R, S> =
  | { type: 'busy'; origin: O; message: string }
  | { type: 'error'; origin: O; message: string }
  | { type: 'result'; origin: O; generation: number; result: R }
  | { type: 'probe'; id: number; select?: S; png: boolean };

/** view → host messages that every source-bound view sends. */
export type SourceViewCommonToHost<P> =
  | { type: 'ready' }
  | { type: 'reveal'; start: number; end: number }
  | { type: 'probeResult'; id: number; probe: P }
  | { type: 'export'; format: ExportFormatName };
