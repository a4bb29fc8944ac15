// The importance exports the host writes: a CSV of the ranking (one row per feature, group or
// token, largest first) and a JSON record of the whole run (result, settings, model hash, versions)
// from which it can be reproduced. No vscode import: the CLI and the unit tests use it too.

import type { ImportanceResult } from '../protocol/workerProtocol';

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const line = (cells: (string | number | null)[]): string => `${cells.map(csvField).join(',')}\r\n`;

/** Largest mean first; a non-finite mean sorts last; ties by name (the view's chart order). */
function ranked<T extends { name: string; mean: number }>(xs: readonly T[]): T[] {
  const key = (x: T): number => (Number.isFinite(x.mean) ? x.mean : -Infinity);
  return [...xs].sort((a, b) => key(b) - key(a) || a.name.localeCompare(b.name));
}

/** The ranking as CSV: for features, rank, name, columns, mean, std and each repeat; for a text dataset, its tokens. */
export function importanceCsv(r: ImportanceResult): string {
  if (r.text) {
    const rows = [line(['rank', 'token', 'mean_abs_score', 'mean_score', 'frequency', 'rows', 'count'])];
    ranked(r.text.overall.map((t) => ({ ...t, name: t.token, mean: t.meanAbs }))).forEach((t, i) => rows.push(line([i + 1, t.token, t.meanAbs, t.meanSigned, t.frequency, t.rows, t.count])));
    return rows.join('');
  }
  const repeats = Array.from({ length: r.repeats }, (_, i) => `repeat_${i + 1}`);
  const rows = [line(['rank', 'feature', 'columns', 'importance_mean', 'importance_std', ...repeats])];
  ranked(r.features).forEach((f, i) => rows.push(line([i + 1, f.name, f.columns.join(';'), f.mean, f.std, ...f.values]))); // ';' joins a group's columns
  return rows.join('');
}

/** The whole run as JSON: enough to reproduce it (`loupe importance` with the same settings). */
export function importanceJson(r: ImportanceResult, source: string, exportedAt: string): string {
  const record = {
    format: 'loupe-importance',
    version: 1,
    exportedAt,
    source,
    model: { path: r.model.path, onnxFile: r.model.onnxFile, sha256: r.model.sha256, task: r.model.task, featureNames: r.model.featureNames, labels: r.model.labels },
    run: r.run,
    kind: r.kind,
    definition: r.definition,
    scoring: r.scoring,
    baselineScore: r.baselineScore,
    repeats: r.repeats,
    dataset: r.dataset,
    features: ranked(r.features),
    text: r.text,
    forwardRows: r.forwardRows,
    warnings: r.warnings,
  };
  // NaN and ±Infinity are not JSON: they become null, as JSON.stringify makes them.
  return `${JSON.stringify(record, null, 2)}\n`;
}
