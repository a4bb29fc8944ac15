// The protocol between the extension host and the attention webview. Both sides import it; each
// checks what arrives with the checkers below. The attention maps travel as Float32Arrays (VS Code
// transfers typed arrays as buffers, not as JSON), and the PNG export comes back as a Uint8Array.

import { arr, bool, CheckError, int, literal, nullable, obj, optional, str, type Checked } from './check';
import { bytes, charRange, exportFormat, type ExportFormatName, type SourceViewHostToView } from './sourceView';
import { attentionRelevance, attentionResult, type AttentionRelevance, type AttentionResult } from './workerProtocol';

export const ATTENTION_VIEW_TYPE = 'loupe.attention';

/**
 * What the heatmap shows: one head, the mean over the heads of a layer, rollout through all layers,
 * or the attention-gradient relevance (Chefer et al. 2021) of the explained target: R through all
 * layers, or one layer's gradient-weighted map Ā ('layer-relevance').
 */
export const ATTENTION_MODES = ['head', 'mean', 'rollout', 'relevance', 'layer-relevance'] as const;
/** The modes that need result.relevance: it is computed (one forward-and-backward row) when one of them is first picked. */
export const RELEVANCE_MODES: readonly AttentionMode[] = ['relevance', 'layer-relevance'];
export type AttentionMode = (typeof ATTENTION_MODES)[number];
const attentionMode = literal(...ATTENTION_MODES);

export type { CharRange } from './sourceView';

/** Where the view's attention-gradient relevance stands (it is computed only when a relevance mode is picked). */
export const RELEVANCE_STATES = ['none', 'busy', 'error', 'cancelled', 'ready', 'unavailable'] as const;
export type RelevanceState = (typeof RELEVANCE_STATES)[number];

/** Where the shown text came from, and how it was computed: enough to recompute it after a reload. */
export const viewOrigin = obj({
  /** The source document's URI. */
  source: str,
  /** A short name for it (its workspace-relative path). */
  label: str,
  /** The selection the text came from, as offsets in the document; null for the whole document. */
  range: nullable(charRange),
  hideSpecial: bool,
  /** The model's file name, for titles. */
  model: str,
});
export type ViewOrigin = Checked<typeof viewOrigin>;

/** A request to change what the view shows (from the test hook; the user does it with the controls). */
export const viewSelection = obj({
  mode: optional(attentionMode),
  /** A layer index of the model (one of result.layers). */
  layer: optional(int),
  /** A head index of the model (one of result.heads). */
  head: optional(int),
  /** The query token (an index into result.tokens) whose attention is shaded in the text; null clears it. */
  query: optional(nullable(int)),
});
export type ViewSelection = Checked<typeof viewSelection>;

/** The view's state, with a digest of the heatmap canvas: what the test hook reads. */
export const viewProbe = obj({
  status: literal('empty', 'busy', 'error', 'drawn'),
  /** The busy or error message, else ''. */
  message: str,
  /** The generation of the result drawn (0 before any). */
  generation: int,
  mode: attentionMode,
  layer: int,
  head: int,
  query: nullable(int),
  hideSpecial: bool,
  /** Tokens in the matrices (rows). */
  tokens: int,
  /** Rows/columns drawn, and tokens per bin (1 when every token has its own cell). */
  bins: int,
  binSize: int,
  width: int,
  height: int,
  /** Pixels of the heatmap's cells that differ from the background. */
  nonBlank: int,
  /** FNV-1a of the cells' RGBA pixels, hex. */
  hash: str,
  /** Thumbnails drawn in the overview grid. */
  thumbnails: int,
  /** Key tokens shaded in the prompt text (with a query picked). */
  shaded: int,
  /** The relevance of the result shown: not asked for yet, being computed, failed or cancelled, or here (maybe unavailable). */
  relevance: literal(...RELEVANCE_STATES),
  /** The notices the view shows (truncation, hidden special tokens, binning). */
  notices: arr(str),
  /** The heatmap canvas as a PNG, when asked for. */
  png: optional(bytes),
});
export type ViewProbe = Checked<typeof viewProbe>;

/** The relevance of the result of `generation`: being computed, failed or cancelled (with what to say), or computed. */
export type RelevanceUpdate =
  | { type: 'relevance'; generation: number; status: 'busy' | 'error' | 'cancelled'; message: string }
  | { type: 'relevance'; generation: number; status: 'done'; relevance: AttentionRelevance };

/** host → webview */
export type HostToView = SourceViewHostToView<ViewOrigin, AttentionResult, ViewSelection> | RelevanceUpdate;

/** webview → host */
export type ViewToHost =
  | { type: 'ready' }
  | { type: 'rerun'; hideSpecial: boolean }
  | { type: 'reveal'; start: number; end: number }
  | { type: 'exportPng'; png: Uint8Array; name: string }
  | { type: 'exportJson' }
  | { type: 'export'; format: ExportFormatName }
  | { type: 'probeResult'; id: number; probe: ViewProbe }
  /** Compute the relevance of the result of `generation` (a relevance mode was picked); */
  | { type: 'relevance'; generation: number }
  /** stop computing it. */
  | { type: 'cancelRelevance' };

/** Checks that the sizes of an attention result fit together (so a view never reads past an array). */
export function checkAttentionShape(r: AttentionResult, w = 'result'): AttentionResult {
  const n = r.tokens.length;
  const m = r.shown.length;
  if (m === 0) throw new CheckError(`${w}.shown`, 'at least one token');
  r.shown.forEach((i, k) => {
    if (i < 0 || i >= n) throw new CheckError(`${w}.shown[${k}]`, `a token index below ${n}`);
  });
  r.layers.forEach((l, k) => {
    if (l < 0 || l >= r.numLayers) throw new CheckError(`${w}.layers[${k}]`, `a layer below ${r.numLayers}`);
  });
  r.heads.forEach((h, k) => {
    if (h < 0 || h >= r.numHeads) throw new CheckError(`${w}.heads[${k}]`, `a head below ${r.numHeads}`);
  });
  if (r.attention.length !== r.layers.length * r.heads.length * m * m) throw new CheckError(`${w}.attention`, `layers × heads × ${m} × ${m} values`);
  if (r.headMean.length !== r.layers.length * m * m) throw new CheckError(`${w}.headMean`, `layers × ${m} × ${m} values`);
  if (r.rollout.length !== m * m) throw new CheckError(`${w}.rollout`, `${m} × ${m} values`);
  if (r.relevance) checkRelevanceShape(r.relevance, r, `${w}.relevance`);
  return r;
}

/** Checks that a relevance fits the attention result it completes (the tokens shown, the layers). */
export function checkRelevanceShape(rel: AttentionRelevance, r: AttentionResult, w = 'relevance'): AttentionRelevance {
  const n = r.tokens.length;
  const m = r.shown.length;
  const none = rel.unavailable !== null;
  if (rel.matrix.length !== (none ? 0 : m * m)) throw new CheckError(`${w}.matrix`, none ? 'no values (unavailable)' : `${m} × ${m} values`);
  if (rel.layerMaps.length !== (none ? 0 : r.numLayers * m * m)) throw new CheckError(`${w}.layerMaps`, none ? 'no values (unavailable)' : `numLayers × ${m} × ${m} values`);
  rel.rows.forEach((i, k) => {
    if (i < 0 || i >= n) throw new CheckError(`${w}.rows[${k}]`, `a token index below ${n}`);
  });
  return rel;
}

export function checkHostToView(v: unknown): HostToView {
  const { type } = obj({ type: literal('busy', 'error', 'result', 'probe', 'relevance') })(v, 'message');
  const r = v as Record<string, unknown>;
  switch (type) {
    case 'busy':
    case 'error':
      return { type, origin: viewOrigin(r.origin, 'origin'), message: str(r.message, 'message') };
    case 'result':
      return {
        type,
        origin: viewOrigin(r.origin, 'origin'),
        generation: int(r.generation, 'generation'),
        result: checkAttentionShape(attentionResult(r.result, 'result')),
      };
    case 'relevance': {
      const generation = int(r.generation, 'generation');
      const status = literal('busy', 'error', 'cancelled', 'done')(r.status, 'status');
      if (status === 'done') return { type, generation, status, relevance: attentionRelevance(r.relevance, 'relevance') };
      return { type, generation, status, message: str(r.message, 'message') };
    }
    case 'probe': {
      const select = optional(viewSelection)(r.select, 'select');
      return select ? { type, id: int(r.id, 'id'), select, png: bool(r.png, 'png') } : { type, id: int(r.id, 'id'), png: bool(r.png, 'png') };
    }
  }
}

export function checkViewToHost(v: unknown): ViewToHost {
  const { type } = obj({ type: literal('ready', 'rerun', 'reveal', 'exportPng', 'exportJson', 'export', 'probeResult', 'relevance', 'cancelRelevance') })(v, 'message');
  const r = v as Record<string, unknown>;
  switch (type) {
    case 'ready':
    case 'exportJson':
    case 'cancelRelevance':
      return { type };
    case 'relevance':
      return { type, generation: int(r.generation, 'generation') };
    case 'rerun':
      return { type, hideSpecial: bool(r.hideSpecial, 'hideSpecial') };
    case 'export':
      return { type, format: exportFormat(r.format, 'format') };
    case 'reveal': {
      const range = charRange(v, 'message');
      return { type, start: range.start, end: range.end };
    }
    case 'exportPng': {
      const name = str(r.name, 'name');
      // The name becomes part of a file name the user is offered: keep it plain.
      if (!/^[\w.-]{1,80}$/.test(name)) throw new CheckError('name', 'a short file-name part');
      return { type, png: bytes(r.png, 'png'), name };
    }
    case 'probeResult':
      return { type, id: int(r.id, 'id'), probe: viewProbe(r.probe, 'probe') };
  }
}
