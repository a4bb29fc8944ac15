// Global token importance over a text dataset: a token-attribution method (methods/attribution,
// the same runs as `explain`) on a seeded uniform sample of the rows, aggregated per token —
// mean |score|, mean signed score and frequency, overall and per predicted class — plus the rows
// with the highest influence (Σ |score|). Tokens are keyed by their text in the row.

import * as path from 'node:path';
import { LoupeError } from '../../../protocol/errors';
import type { DatasetUsage, ImportanceParams, TextImportance, TokenImportance } from '../../../protocol/workerProtocol';
import { describeDataset } from '../../data/describe';
import { suggest } from '../../data/mapping';
import { loadTable, tableUsage } from '../../data/table';
import type { Work } from '../../inference/predict';
import type { LoadedModel } from '../../model/loadModel';
import { attribute, planAttribution, type AttributionRequest, type AttributionResult, type RunEnv } from '../attribution';

export const DEFAULT_TEXT_ROWS = 50;
export const DEFAULT_TOP_ROWS = 10;

export interface TextRun {
  text: TextImportance;
  dataset: DatasetUsage;
  request: AttributionRequest;
  warnings: string[];
}

/** The attribution request each row is explained with. */
export function rowRequest(params: ImportanceParams, maxMemoryMB: number): AttributionRequest {
  return {
    method: params.method ?? 'occlusion',
    baseline: params.baseline,
    samples: params.samples,
    seed: params.seed ?? 0,
    maxTokens: params.maxTokens ?? null,
    faithfulness: false,
    words: false,
    maxMemoryMB,
  };
}

/** The text column (given, or the likeliest) and the sampled rows. */
async function sampleRows(model: LoadedModel, params: ImportanceParams, work: Work) {
  const file = params.data.path;
  const desc = await describeDataset({ data: params.data, scanRows: 1000 }, null, work.token);
  const textColumn = params.textColumn ?? suggest(file, desc.columns, model.info).textColumn;
  if (!textColumn) throw new LoupeError('BAD_REQUEST', `${path.basename(file)} has no text column; name one (its columns: ${desc.columns.map((c) => `"${c.name}"`).join(', ')}).`, { file });
  const budget = params.textRows ?? DEFAULT_TEXT_ROWS;
  if (!Number.isInteger(budget) || budget < 1) throw new LoupeError('BAD_REQUEST', `textRows must be a positive whole number, not ${budget}.`);
  const imputation = params.imputation ?? 'drop-rows';
  const table = await loadTable({ ref: params.data, features: [], target: null, text: textColumn, rowBudget: budget, seed: params.seed ?? 0, imputation }, work.token, work.progress);
  return { textColumn, table, imputation };
}

export async function textDatasetImportance(model: LoadedModel, params: ImportanceParams, env: RunEnv, work: Work): Promise<TextRun & { forwardRows: number }> {
  const { textColumn, table, imputation } = await sampleRows(model, params, work);
  const texts = table.texts!;
  const request = rowRequest(params, env.maxMemoryMB);
  const plans = texts.map((t) => planAttribution(model, t, request).forwardPasses);
  const total = plans.reduce((a, b) => a + b, 0);
  const results: AttributionResult[] = [];
  let before = 0;
  for (let i = 0; i < texts.length; i++) {
    work.token.throwIfCancelled();
    const offset = before;
    results.push(await attribute(model, texts[i]!, request, env, { token: work.token, progress: (done) => work.progress(offset + done, total, `Row ${table.rows[i]}`) }));
    before += plans[i]!;
  }
  const text = aggregateTokens(results, Array.from(table.rows), textColumn, request.method, params.topRows ?? DEFAULT_TOP_ROWS);
  const warnings: string[] = [];
  if (table.sampled) warnings.push(`${table.n} of ${table.rowsInFile} rows were explained: a uniform sample with seed ${params.seed ?? 0}.`);
  if (table.droppedRows > 0) warnings.push(`${table.droppedRows} rows without text were skipped.`);
  const truncated = results.filter((r) => r.truncation).length;
  if (truncated > 0) warnings.push(`${truncated} texts were truncated to the model's maximum length.`);
  const dataset: DatasetUsage = { ...tableUsage(table, imputation), rowsScored: table.n, mapping: [], mappingBy: 'name', target: null, labels: model.info.labels };
  return { text, dataset, request, warnings, forwardRows: text.forwardPasses };
}

/** The row's text for a token: its characters in the row, or the vocabulary's spelling. */
function tokenText(r: AttributionResult, i: number): string {
  const t = r.tokens[i]!;
  return t.start >= 0 ? r.text.slice(t.start, t.end).trim() || t.token : t.token;
}

class TokenTally {
  private readonly by = new Map<string, { count: number; rows: Set<number>; abs: number; signed: number }>();

  add(token: string, score: number, row: number): void {
    let e = this.by.get(token);
    if (!e) this.by.set(token, (e = { count: 0, rows: new Set(), abs: 0, signed: 0 }));
    e.count++;
    e.rows.add(row);
    e.abs += Math.abs(score);
    e.signed += score;
  }

  list(rows: number): TokenImportance[] {
    return [...this.by.entries()]
      .map(([token, e]) => ({ token, count: e.count, rows: e.rows.size, frequency: e.rows.size / rows, meanAbs: e.abs / e.count, meanSigned: e.signed / e.count }))
      .sort((a, b) => b.meanAbs - a.meanAbs || b.count - a.count || (a.token < b.token ? -1 : 1));
  }
}

/** Aggregates per-row attributions (each row's attributed, non-special tokens) into global token importance. */
export function aggregateTokens(results: AttributionResult[], rows: number[], textColumn: string, method: AttributionResult['method'], topRows: number): TextImportance {
  const overall = new TokenTally();
  const perClass = new Map<number, { label: string; rows: number; tally: TokenTally }>();
  const influence: TextImportance['topRows'] = [];
  results.forEach((r, k) => {
    const cls = r.target.index ?? -1;
    let c = perClass.get(cls);
    if (!c) perClass.set(cls, (c = { label: r.target.label ?? String(cls), rows: 0, tally: new TokenTally() }));
    c.rows++;
    let total = 0;
    const scored: { token: string; score: number }[] = [];
    r.scores.forEach((s, i) => {
      if (!r.attributed[i] || r.tokens[i]!.special) return;
      const token = tokenText(r, i);
      overall.add(token, s, k);
      c!.tally.add(token, s, k);
      total += Math.abs(s);
      scored.push({ token, score: s });
    });
    scored.sort((a, b) => Math.abs(b.score) - Math.abs(a.score));
    influence.push({ row: rows[k]!, text: r.text.length > 200 ? r.text.slice(0, 199) + '…' : r.text, predicted: r.target.label ?? String(cls), influence: total, tokens: scored.slice(0, 5) });
  });
  influence.sort((a, b) => b.influence - a.influence || a.row - b.row);
  return {
    textColumn,
    method,
    rowsExplained: results.length,
    rows,
    overall: overall.list(results.length),
    perClass: [...perClass.entries()].sort((a, b) => a[0] - b[0]).map(([index, c]) => ({ index, label: c.label, rows: c.rows, tokens: c.tally.list(c.rows) })),
    topRows: influence.slice(0, topRows),
    forwardPasses: results.reduce((a, r) => a + r.forwardPasses, 0),
  };
}

/** Forward passes a text run will take: the planned passes of every sampled row. */
export async function planText(model: LoadedModel, params: ImportanceParams, maxMemoryMB: number, work: Work): Promise<{ rows: number; forwardRows: number }> {
  const { table } = await sampleRows(model, params, work);
  const request = rowRequest(params, maxMemoryMB);
  return { rows: table.n, forwardRows: table.texts!.reduce((a, t) => a + planAttribution(model, t, request).forwardPasses, 0) };
}
