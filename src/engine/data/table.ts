// Loads the columns a run needs from a data file into a numeric table: features (strictly parsed),
// an optional target and text column. Above the row budget rows are sampled uniformly (reservoir,
// seeded). Missing values are an error naming row and column unless an imputation was chosen; a
// non-numeric feature value is always an error. Memory stays bounded by the budget, not the file.

import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import type { DatasetColumn, DatasetRef, DatasetUsage, Imputation } from '../../protocol/workerProtocol';
import type { CancelToken, ProgressFn } from '../cancellation';
import { ColumnStats } from './columnStats';
import { openRecords } from './records';
import { Reservoir } from './reservoir';
import { parseNumber } from './values';

export const DEFAULT_ROW_BUDGET = 100_000;
/** Column statistics in the result cover this many rows from the top of the file. */
export const STATS_ROWS = 10_000;

export interface TableSpec {
  ref: DatasetRef;
  /** Dataset columns feeding the model, in the model's feature order. */
  features: string[];
  target: string | null;
  text: string | null;
  rowBudget: number;
  seed: number;
  imputation: Imputation;
}

export interface Table {
  file: string;
  format: 'csv' | 'jsonl';
  delimiter: string | null;
  sizeBytes: number;
  header: string[];
  /** Statistics of every column over the first STATS_ROWS rows. */
  columns: DatasetColumn[];
  n: number;
  width: number;
  /** n × width, row-major. */
  X: Float64Array;
  /** 1-based data row of each table row, ascending. */
  rows: Int32Array;
  target: string[] | null;
  texts: string[] | null;
  rowsInFile: number;
  sampled: boolean;
  droppedRows: number;
  imputed: { column: string; count: number; value: number }[];
}

interface Bad {
  row: number;
  line: number;
  column: string;
  value: string | null;
}

export async function loadTable(spec: TableSpec, token: CancelToken, progress: ProgressFn): Promise<Table> {
  const src = await openRecords(spec.ref);
  const file = src.file;
  const base = path.basename(file);
  try {
    const at = (col: string, role: string): number => {
      const i = src.header.indexOf(col);
      if (i < 0) throw new LoupeError('BAD_REQUEST', `${base} has no column "${col}" (the ${role}); its columns are ${src.header.map((h) => `"${h}"`).join(', ')}.`, { file });
      return i;
    };
    const featureIdx = spec.features.map((c) => at(c, 'feature'));
    const targetIdx = spec.target !== null ? at(spec.target, 'target') : -1;
    const textIdx = spec.text !== null ? at(spec.text, 'text column') : -1;
    const width = featureIdx.length;
    const stats = src.header.map((h, i) => new ColumnStats(h, i));
    const reservoir = new Reservoir(spec.rowBudget, spec.seed);

    let cap = Math.min(spec.rowBudget, 1024);
    let X: Float64Array = new Float64Array(cap * width);
    let rows: Int32Array = new Int32Array(cap);
    let lines: Int32Array = new Int32Array(cap);
    const target: (string | null)[] = [];
    const texts: (string | null)[] = [];
    const bad = new Map<number, Bad>();

    for await (const rec of src.records) {
      if (rec.row <= STATS_ROWS) rec.cells.forEach((c, i) => stats[i]!.add(c, rec.row));
      if ((rec.row & 8191) === 0) {
        token.throwIfCancelled();
        progress(src.bytesRead(), src.sizeBytes, `Reading ${base}`);
      }
      const slot = reservoir.offer();
      if (slot < 0) continue;
      if (slot >= cap) {
        cap = Math.min(spec.rowBudget, cap * 2);
        X = grow(X, cap * width);
        rows = growInt(rows, cap);
        lines = growInt(lines, cap);
      }
      rows[slot] = rec.row;
      lines[slot] = rec.line;
      bad.delete(slot);
      const o = slot * width;
      for (let k = 0; k < width; k++) {
        const cell = rec.cells[featureIdx[k]!]!;
        const v = parseNumber(cell);
        if (v === null) {
          if (!bad.has(slot)) bad.set(slot, { row: rec.row, line: rec.line, column: spec.features[k]!, value: cell });
          X[o + k] = NaN;
        } else X[o + k] = v;
      }
      if (targetIdx >= 0) target[slot] = rec.cells[targetIdx] ?? null;
      if (textIdx >= 0) texts[slot] = rec.cells[textIdx] ?? null;
    }
    token.throwIfCancelled();
    const kept = reservoir.size;
    if (kept === 0) throw new LoupeError('EMPTY_INPUT', `${base} has a header but no data rows.`, { file });

    if (bad.size > 0) {
      const first = [...bad.values()].sort((a, b) => a.row - b.row)[0]!;
      throw new LoupeError('BAD_REQUEST', `${base}, row ${first.row} (line ${first.line}), column "${first.column}": ${JSON.stringify(first.value)} is not a number.`, { file });
    }
    // File order, so that results do not depend on where the reservoir put a row.
    const order = Array.from({ length: kept }, (_, i) => i).sort((a, b) => rows[a]! - rows[b]!);
    const missingTarget = (s: number): boolean => targetIdx >= 0 && (target[s] === null || target[s]!.trim() === '');
    const missingText = (s: number): boolean => textIdx >= 0 && (texts[s] === null || texts[s]!.trim() === '');
    const hasNaN = (s: number): boolean => {
      for (let k = 0; k < width; k++) if (Number.isNaN(X[s * width + k]!)) return true;
      return false;
    };
    let keep = order;
    if (spec.imputation === 'drop-rows') keep = order.filter((s) => !hasNaN(s) && !missingTarget(s) && !missingText(s));
    else {
      const noTarget = order.find(missingTarget);
      if (noTarget !== undefined) throw missingError(base, file, rows[noTarget]!, lines[noTarget]!, spec.target!, 'has no target value');
      const noText = order.find(missingText);
      if (noText !== undefined) throw missingError(base, file, rows[noText]!, lines[noText]!, spec.text!, 'has no text');
    }
    const n = keep.length;
    if (n === 0) throw new LoupeError('EMPTY_INPUT', `${base}: every row has a missing value, so dropping them leaves nothing.`, { file });
    const out = new Float64Array(n * width);
    const outRows = new Int32Array(n);
    keep.forEach((s, i) => {
      out.set(X.subarray(s * width, (s + 1) * width), i * width);
      outRows[i] = rows[s]!;
    });
    const imputed = impute(out, n, width, spec, (i, k) => {
      const s = keep[i]!;
      return missingError(base, file, rows[s]!, lines[s]!, spec.features[k]!, 'has a missing value; choose an imputation (mean, median, zero) or drop such rows');
    });
    return {
      file,
      format: src.format,
      delimiter: src.delimiter,
      sizeBytes: src.sizeBytes,
      header: src.header,
      columns: stats.map((s) => s.summary()),
      n,
      width,
      X: out,
      rows: outRows,
      target: targetIdx >= 0 ? keep.map((s) => target[s]!.trim()) : null,
      texts: textIdx >= 0 ? keep.map((s) => texts[s]!) : null,
      rowsInFile: reservoir.offered,
      sampled: reservoir.offered > spec.rowBudget,
      droppedRows: kept - n,
      imputed,
    };
  } finally {
    src.close();
  }
}

function missingError(base: string, file: string, row: number, line: number, column: string, what: string): LoupeError {
  return new LoupeError('BAD_REQUEST', `${base}, row ${row} (line ${line}), column "${column}" ${what}.`, { file });
}

/** Fills NaNs column by column with the chosen statistic of the column's present values. */
function impute(X: Float64Array, n: number, width: number, spec: TableSpec, error: (row: number, col: number) => LoupeError): Table['imputed'] {
  const imputed: Table['imputed'] = [];
  for (let k = 0; k < width; k++) {
    const present: number[] = [];
    let missing = 0;
    let firstMissing = -1;
    for (let i = 0; i < n; i++) {
      const v = X[i * width + k]!;
      if (Number.isNaN(v)) {
        missing++;
        if (firstMissing < 0) firstMissing = i;
      } else present.push(v);
    }
    if (missing === 0) continue;
    if (spec.imputation === 'none' || spec.imputation === 'drop-rows') throw error(firstMissing, k);
    let value = 0;
    if (spec.imputation === 'mean') value = present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0;
    else if (spec.imputation === 'median') value = median(present);
    for (let i = 0; i < n; i++) if (Number.isNaN(X[i * width + k]!)) X[i * width + k] = value;
    imputed.push({ column: spec.features[k]!, count: missing, value });
  }
  return imputed;
}

function median(v: number[]): number {
  if (v.length === 0) return 0;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function grow(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

function growInt(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** What a result says of the rows a table came from; the caller adds how they were used. */
export function tableUsage(table: Table, imputation: Imputation): Pick<DatasetUsage, 'path' | 'format' | 'delimiter' | 'sizeBytes' | 'rowsInFile' | 'rowsUsed' | 'sampled' | 'droppedRows' | 'columns' | 'imputation' | 'imputed'> {
  return {
    path: table.file,
    format: table.format,
    delimiter: table.delimiter,
    sizeBytes: table.sizeBytes,
    rowsInFile: table.rowsInFile,
    rowsUsed: table.n,
    sampled: table.sampled,
    droppedRows: table.droppedRows,
    columns: table.columns,
    imputation,
    imputed: table.imputed,
  };
}
