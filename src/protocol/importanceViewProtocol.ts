// The protocol between the extension host and the feature-importance webview. Both sides import it;
// each checks what arrives with the checkers below. The view draws the engine's importance result
// as it is (no second copy of its shape): this module adds only the panel's origin, the test probe
// and the PNG export (the chart the view drew travels back as a Uint8Array); the HTML, JSON and CSV
// exports are the common ones of every result panel (src/protocol/sourceView.ts).

import { arr, bool, CheckError, int, literal, nullable, num, obj, optional, str, type Checked, type Checker } from './check';
import { bytes, charRange, exportFormat, type ExportFormatName, type SourceViewHostToView } from './sourceView';
import { ATTRIBUTION_METHODS, featureMapping, IMPORTANCE_DEFINITIONS, IMPUTATIONS, importanceResult, rowExplanation, SCORINGS, type ImportanceResult, type RowExplanation } from './workerProtocol';

export const IMPORTANCE_VIEW_TYPE = 'loupe.importance';

/** The run a panel shows: enough to compute it again after a reload without asking anything. */
export const importanceOrigin = obj({
  /** The dataset's URI. */
  source: str,
  /** Its workspace-relative path, for titles and messages. */
  label: str,
  /** Always null: a dataset panel is bound to the whole file (SourcePanel's shape). */
  range: nullable(charRange),
  /** The model's file or folder name, for titles. */
  model: str,
  modelPath: str,
  /** The target column, or null for the label-free definition. */
  target: nullable(str),
  definition: literal(...IMPORTANCE_DEFINITIONS),
  scoring: nullable(literal(...SCORINGS)),
  /** The confirmed mapping: each model feature and the dataset column that feeds it. */
  mapping: arr(featureMapping),
  /** A text column and the attribution method run on its rows (text datasets), else null. */
  textColumn: nullable(str),
  method: nullable(literal(...ATTRIBUTION_METHODS)),
  imputation: literal(...IMPUTATIONS),
  repeats: int,
  seed: int,
  /** sklearn's max_samples (a row count > 1 or a fraction), null for all rows. */
  maxSamples: nullable(num),
});
export type ImportanceOrigin = Checked<typeof importanceOrigin>;

/** Table sort keys; the chart is always sorted by the mean, largest first. */
export const SORT_KEYS = ['rank', 'name', 'mean', 'std'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
/** A data row (1-based) to explain: checked ≥ 1. */
const dataRow: Checker<number> = (v, w) => {
  const n = int(v, w);
  if (n < 1) throw new CheckError(w, 'a data row number (1 or more)');
  return n;
};

export const importanceSelection = obj({
  sort: optional(literal(...SORT_KEYS)),
  descending: optional(bool),
  /** Explain this data row (as the "Explain row" control does). */
  row: optional(dataRow),
});
export type ImportanceSelection = Checked<typeof importanceSelection>;

/** What the view drew: what the test hook reads. */
export const importanceProbe = obj({
  status: literal('empty', 'busy', 'error', 'drawn'),
  message: str,
  generation: int,
  /** The bars' labels from top to bottom, as the chart laid them out (by their pixel position). */
  barOrder: arr(str),
  /** Each bar's length in pixels, in barOrder, signed (negative importances point left). */
  barLengths: arr(num),
  /** Error bars the plugin drew (a bar with std 0 has none). */
  errorBars: int,
  /** The table's feature names in row order, and its sort. */
  tableOrder: arr(str),
  sort: literal(...SORT_KEYS),
  descending: bool,
  /** Rows of the dataset summary table (one per column of the file). */
  summaryColumns: int,
  /** The row explanation shown (KernelSHAP): its state, row, and its bars top to bottom with their scores. */
  rowStatus: literal('none', 'busy', 'error', 'drawn'),
  row: nullable(int),
  rowBars: arr(str),
  rowScores: arr(num),
  rowMessage: str,
  notices: arr(str),
  png: optional(bytes),
});
export type ImportanceProbe = Checked<typeof importanceProbe>;

/** The explanation of one data row (KernelSHAP), sent apart from the panel's result. */
export type RowMessage = { type: 'rowBusy'; row: number; message: string } | { type: 'rowError'; row: number; message: string } | { type: 'rowResult'; row: number; result: RowExplanation };

/** host → webview */
export type HostToView = SourceViewHostToView<ImportanceOrigin, ImportanceResult, ImportanceSelection> | RowMessage;

/** webview → host */
export type ViewToHost =
  | { type: 'ready' }
  | { type: 'rerun' }
  | { type: 'export'; format: ExportFormatName }
  | { type: 'exportPng'; png: Uint8Array }
  | { type: 'explainRow'; row: number }
  | { type: 'probeResult'; id: number; probe: ImportanceProbe };

/** Checks that the per-feature arrays agree (so the view never reads past one). */
export function checkImportanceShape(r: ImportanceResult, w = 'result'): ImportanceResult {
  r.features.forEach((f, i) => {
    if (f.columns.length === 0) throw new CheckError(`${w}.features[${i}].columns`, 'at least one column');
    if (f.values.length !== r.repeats) throw new CheckError(`${w}.features[${i}].values`, `${r.repeats} values (one per repeat)`);
  });
  return r;
}

export function checkHostToView(v: unknown): HostToView {
  const { type } = obj({ type: literal('busy', 'error', 'result', 'probe', 'rowBusy', 'rowError', 'rowResult') })(v, 'message');
  const r = v as Record<string, unknown>;
  switch (type) {
    case 'rowBusy':
    case 'rowError':
      return { type, row: dataRow(r.row, 'row'), message: str(r.message, 'message') };
    case 'rowResult': {
      const result = rowExplanation(r.result, 'result');
      const row = dataRow(r.row, 'row');
      if (result.row !== row) throw new CheckError('result.row', `row ${row}`);
      return { type, row, result };
    }
    case 'busy':
    case 'error':
      return { type, origin: importanceOrigin(r.origin, 'origin'), message: str(r.message, 'message') };
    case 'result':
      return { type, origin: importanceOrigin(r.origin, 'origin'), generation: int(r.generation, 'generation'), result: checkImportanceShape(importanceResult(r.result, 'result')) };
    case 'probe': {
      const select = optional(importanceSelection)(r.select, 'select');
      return select ? { type, id: int(r.id, 'id'), select, png: bool(r.png, 'png') } : { type, id: int(r.id, 'id'), png: bool(r.png, 'png') };
    }
  }
}

export function checkViewToHost(v: unknown): ViewToHost {
  const { type } = obj({ type: literal('ready', 'rerun', 'export', 'exportPng', 'explainRow', 'probeResult') })(v, 'message');
  const r = v as Record<string, unknown>;
  switch (type) {
    case 'ready':
    case 'rerun':
      return { type };
    case 'export':
      return { type, format: exportFormat(r.format, 'format') };
    case 'exportPng':
      return { type, png: bytes(r.png, 'png') };
    case 'explainRow':
      return { type, row: dataRow(r.row, 'row') };
    case 'probeResult':
      return { type, id: int(r.id, 'id'), probe: importanceProbe(r.probe, 'probe') };
  }
}
