// The feature-importance exports. CSV: the ranking (one row per feature, group or token, largest
// first). JSON: the whole run (result, settings, model hash, seed, versions), enough to reproduce it
// with `loupe importance`. HTML: a self-contained report with the chart as drawn (PNG), the ranking,
// the dataset as read, the settings and provenance, and the JSON embedded. No vscode import.

import type { ImportanceOrigin } from '../../protocol/importanceViewProtocol';
import type { ImportanceResult } from '../../protocol/workerProtocol';
import { csvRow, escapeHtml, htmlPage, jsonForHtml, modelJson, pngImg, provenanceHtml } from './formats';

/** Largest mean first; a non-finite mean sorts last; ties by name (the view's chart order). */
function ranked<T extends { name: string; mean: number }>(xs: readonly T[]): T[] {
  const key = (x: T): number => (Number.isFinite(x.mean) ? x.mean : -Infinity);
  return [...xs].sort((a, b) => key(b) - key(a) || a.name.localeCompare(b.name));
}

/** A text dataset's tokens, largest mean |score| first. */
const rankedTokens = (text: NonNullable<ImportanceResult['text']>) => ranked(text.overall.map((t) => ({ ...t, name: t.token, mean: t.meanAbs })));

/** The ranking as CSV: for features, rank, name, columns, mean, std and each repeat; for a text dataset, its tokens. */
export function* importanceCsv(r: ImportanceResult): Generator<string> {
  if (r.text) {
    yield csvRow(['rank', 'token', 'mean_abs_score', 'mean_score', 'frequency', 'rows', 'count']);
    let i = 0;
    for (const t of rankedTokens(r.text)) yield csvRow([++i, t.token, t.meanAbs, t.meanSigned, t.frequency, t.rows, t.count]);
    return;
  }
  const repeats = Array.from({ length: r.repeats }, (_, i) => `repeat_${i + 1}`);
  yield csvRow(['rank', 'feature', 'columns', 'importance_mean', 'importance_std', ...repeats]);
  let i = 0;
  for (const f of ranked(r.features)) yield csvRow([++i, f.name, f.columns.join(';'), f.mean, f.std, ...f.values]); // ';' joins a group's columns
}

export function importanceJsonValue(r: ImportanceResult, origin: ImportanceOrigin, exportedAt: string): unknown {
  return {
    format: 'loupe-importance',
    version: 1,
    exportedAt,
    source: origin.source,
    model: { ...modelJson(r.model), featureNames: r.model.featureNames, labels: r.model.labels },
    run: r.run,
    /** What was asked: the settings the panel recomputes from (target, mapping, repeats, seed, …). */
    settings: { target: origin.target, definition: origin.definition, scoring: origin.scoring, mapping: origin.mapping, textColumn: origin.textColumn, method: origin.method, imputation: origin.imputation, repeats: origin.repeats, seed: origin.seed, maxSamples: origin.maxSamples },
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
}

/** The whole run as JSON (NaN and ±Infinity become null, as JSON.stringify makes them). */
export function* importanceJson(r: ImportanceResult, origin: ImportanceOrigin, exportedAt: string): Generator<string> {
  yield `${JSON.stringify(importanceJsonValue(r, origin, exportedAt), null, 2)}\n`;
}

const num = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(4));

function rankingTable(r: ImportanceResult): string {
  if (r.text) {
    const rows = rankedTokens(r.text).map((t, i) => `<tr><td class="num">${i + 1}</td><td>${escapeHtml(t.token)}</td><td class="num">${num(t.meanAbs)}</td><td class="num">${num(t.meanSigned)}</td><td class="num">${num(t.frequency)}</td></tr>`);
    return `<table><tr><th>Rank</th><th>Token</th><th>Mean |score|</th><th>Mean score</th><th>Frequency</th></tr>${rows.join('')}</table>`;
  }
  const rows = ranked(r.features).map((f, i) => `<tr><td class="num">${i + 1}</td><td>${escapeHtml(f.name)}</td><td>${escapeHtml(f.columns.join(', '))}</td><td class="num">${num(f.mean)}</td><td class="num">${num(f.std)}</td></tr>`);
  return `<table><tr><th>Rank</th><th>Feature</th><th>Columns</th><th>Mean</th><th>Std</th></tr>${rows.join('')}</table>`;
}

function datasetTable(r: ImportanceResult): string {
  const rows = r.dataset.columns.map((c) => `<tr><td>${escapeHtml(c.name)}</td><td>${c.type}</td><td class="num">${c.missing}</td><td class="num">${c.nonNumeric}</td><td class="num">${c.distinct ?? '> 50'}</td></tr>`);
  return `<table><tr><th>Column</th><th>Type</th><th>Missing</th><th>Non-numeric</th><th>Distinct</th></tr>${rows.join('')}</table>`;
}

export function* importanceHtml(r: ImportanceResult, origin: ImportanceOrigin, png: Uint8Array | undefined, exportedAt: string): Generator<string> {
  const d = r.dataset;
  const what = r.text ? `${r.text.rowsExplained} rows explained with ${r.text.method}` : `${r.features.length} features · ${r.definition}${r.scoring ? ` (${r.scoring})` : ''} · baseline ${num(r.baselineScore)}`;
  const rows = d.sampled ? `${d.rowsUsed} of ${d.rowsInFile} rows (sampled uniformly, seed ${origin.seed})` : `${d.rowsUsed} rows`;
  const body = [
    `<h1>Feature importance · ${escapeHtml(origin.label)}</h1>`,
    `<p class="muted">Exported ${escapeHtml(exportedAt)} by Loupe · ${escapeHtml(rows)} · ${escapeHtml(what)} · ${r.repeats} repeats</p>`,
    provenanceHtml(r.model.path, r.model.sha256, r.run, [
      ['Dataset', origin.source],
      ['Target', origin.target ?? '— (label-free)'],
      ['Missing values', d.imputation === 'none' ? 'an error (no imputation)' : d.imputation],
    ]),
    png ? '<h2>Chart as shown in VS Code</h2>' + pngImg(png, `The feature importance of ${origin.label} as drawn in VS Code`) : '<p class="muted">The chart image could not be read from the view.</p>',
    '<h2>Ranking</h2>',
    rankingTable(r),
    '<h2>Dataset as read</h2>',
    datasetTable(r),
    ...r.warnings.map((w) => `<p class="muted">${escapeHtml(w)}</p>`),
    `<script type="application/json" id="loupe-data">${jsonForHtml(importanceJsonValue(r, origin, exportedAt))}</script>`,
  ].join('\n');
  yield htmlPage(`Loupe feature importance · ${origin.label}`, body);
}
