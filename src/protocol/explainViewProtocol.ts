// The protocol between the extension host and the explanation webview. Both sides import it; each
// checks what arrives with the checkers below (never trusting the other side's shapes).

import { arr, bool, CheckError, int, literal, nullable, obj, optional, str, union, type Checked } from './check';
import { bytes, charRange, exportFormat, type ExportFormatName, type SourceViewHostToView } from './sourceView';
import { ATTRIBUTION_METHODS, attributionTarget, explainResult, type ExplainResult } from './workerProtocol';

export const EXPLAIN_VIEW_TYPE = 'loupe.explain';

export type AttributionMethod = (typeof ATTRIBUTION_METHODS)[number];

/** The methods' names as people read them (the view, the dashboard, the exports). */
export const METHOD_LABELS: Record<AttributionMethod, string> = {
  occlusion: 'Occlusion',
  lime: 'LIME',
  kernelshap: 'KernelSHAP',
  ig: 'Integrated Gradients',
  gradxinput: 'Gradient × Input',
  saliency: 'Saliency',
  smoothgrad: 'SmoothGrad',
  gradshap: 'GradientSHAP',
  'attention-gradient': 'Attention × gradient',
  'layer-gradxact': 'Layer gradient × activation',
};
const method = literal(...ATTRIBUTION_METHODS);

/** Where the explained text came from and how it was explained: enough to recompute it after a reload. */
export const explainOrigin = obj({
  source: str,
  label: str,
  range: nullable(charRange),
  model: str,
  /** The model's path when the run named one (it then stays pinned across reruns); else the current model. */
  modelPath: optional(str),
  methods: arr(method),
  /**
   * The class index explained, or a full target (a causal LM's next token, continuation or
   * generation), or null for the predicted class (or a non-classifier's default target).
   */
  target: nullable(union(int, attributionTarget)),
  /** layer-gradxact's layer: a block index or a tensor name (absent: the engine's default). */
  layer: optional(union(int, str)),
});
export type ExplainOrigin = Checked<typeof explainOrigin>;

/** A change of what the view shows (from the test hook; the user does it with the controls). */
export const explainSelection = obj({ method: optional(method), showSpecial: optional(bool) });
export type ExplainSelection = Checked<typeof explainSelection>;

/** What the view drew: what the test hook reads. */
export const explainProbe = obj({
  status: literal('empty', 'busy', 'error', 'drawn'),
  message: str,
  generation: int,
  /** The method whose scores shade the text. */
  method: str,
  showSpecial: bool,
  /** Tokens drawn in the text, and how many of them carry a non-zero shade. */
  tokens: int,
  shaded: int,
  /** The methods in the comparison table (its columns). */
  methods: arr(str),
  /** Spearman correlations shown (pairs of methods). */
  agreements: int,
  notices: arr(str),
  /** Rows of the generation matrix (generated tokens), 0 when the explanation has no generation. */
  generationRows: optional(int),
  png: optional(bytes),
});
export type ExplainProbe = Checked<typeof explainProbe>;

/** host → webview */
export type HostToView = SourceViewHostToView<ExplainOrigin, ExplainResult, ExplainSelection>;

/** webview → host */
export type ViewToHost =
  | { type: 'ready' }
  | { type: 'rerun' }
  | { type: 'reveal'; start: number; end: number }
  | { type: 'method'; method: AttributionMethod }
  | { type: 'export'; format: ExportFormatName }
  | { type: 'probeResult'; id: number; probe: ExplainProbe };

/** Checks that every explanation's arrays agree in length (so the view never reads past one). */
export function checkExplainShape(r: ExplainResult, w = 'result'): ExplainResult {
  r.explanations.forEach((e, k) => {
    const n = e.tokens.length;
    if (e.scores.length !== n) throw new CheckError(`${w}.explanations[${k}].scores`, `${n} scores`);
    if (e.attributed.length !== n) throw new CheckError(`${w}.explanations[${k}].attributed`, `${n} flags`);
    e.generation?.steps.forEach((s, j) => {
      const m = s.tokens.length;
      if (s.scores.length !== m) throw new CheckError(`${w}.explanations[${k}].generation.steps[${j}].scores`, `${m} scores`);
      if (s.attributed.length !== m) throw new CheckError(`${w}.explanations[${k}].generation.steps[${j}].attributed`, `${m} flags`);
    });
  });
  return r;
}

export function checkHostToView(v: unknown): HostToView {
  const { type } = obj({ type: literal('busy', 'error', 'result', 'probe') })(v, 'message');
  const r = v as Record<string, unknown>;
  switch (type) {
    case 'busy':
    case 'error':
      return { type, origin: explainOrigin(r.origin, 'origin'), message: str(r.message, 'message') };
    case 'result':
      return { type, origin: explainOrigin(r.origin, 'origin'), generation: int(r.generation, 'generation'), result: checkExplainShape(explainResult(r.result, 'result')) };
    case 'probe': {
      const select = optional(explainSelection)(r.select, 'select');
      return select ? { type, id: int(r.id, 'id'), select, png: bool(r.png, 'png') } : { type, id: int(r.id, 'id'), png: bool(r.png, 'png') };
    }
  }
}

export function checkViewToHost(v: unknown): ViewToHost {
  const { type } = obj({ type: literal('ready', 'rerun', 'reveal', 'method', 'export', 'probeResult') })(v, 'message');
  const r = v as Record<string, unknown>;
  switch (type) {
    case 'ready':
    case 'rerun':
      return { type };
    case 'reveal': {
      const range = charRange(v, 'message');
      return { type, start: range.start, end: range.end };
    }
    case 'method':
      return { type, method: method(r.method, 'method') };
    case 'export':
      return { type, format: exportFormat(r.format, 'format') };
    case 'probeResult':
      return { type, id: int(r.id, 'id'), probe: explainProbe(r.probe, 'probe') };
  }
}
