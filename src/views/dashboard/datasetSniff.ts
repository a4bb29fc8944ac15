// A quick look at a dataset file for the dashboard, in the extension host and without the engine:
// its columns (the CSV header, or the keys of the first JSON line) and its rows, counted when the
// file is small and estimated from the first 256 KB otherwise. Never reads more than that.

import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DatasetSniff {
  format: 'csv' | 'jsonl';
  rows: number;
  rowsExact: boolean;
  columns: string[];
  sizeBytes: number;
  error: string | null;
}

const READ_BYTES = 256 * 1024;

export function datasetFormat(file: string): 'csv' | 'jsonl' | null {
  const ext = path.extname(file).toLowerCase();
  return ext === '.csv' ? 'csv' : ext === '.jsonl' ? 'jsonl' : null;
}

/** The fields of one CSV line (RFC 4180 quotes; a quoted line break is not followed). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

export async function sniffDataset(file: string): Promise<DatasetSniff> {
  const format = datasetFormat(file) ?? 'csv';
  const fh = await fs.promises.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(Math.min(size, READ_BYTES));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    const exact = bytesRead >= size;
    // Only whole lines: the last one may be cut when the file is larger than what was read.
    const lines = text.split(/\r?\n/);
    if (!exact) lines.pop();
    const nonEmpty = lines.filter((l) => l.trim() !== '');
    let columns: string[] = [];
    let error: string | null = null;
    let dataLines = nonEmpty.length;
    if (format === 'csv') {
      columns = nonEmpty.length > 0 ? csvFields(nonEmpty[0]!) : [];
      dataLines = Math.max(0, nonEmpty.length - 1);
      if (nonEmpty.length === 0) error = `${path.basename(file)} is empty.`;
    } else {
      const first = nonEmpty[0];
      if (first === undefined) error = `${path.basename(file)} is empty.`;
      else {
        try {
          const v: unknown = JSON.parse(first);
          if (v && typeof v === 'object' && !Array.isArray(v)) columns = Object.keys(v);
          else error = `line 1 of ${path.basename(file)} is not a JSON object.`;
        } catch (e) {
          error = `line 1 of ${path.basename(file)} is not JSON: ${e instanceof Error ? e.message : String(e)}`;
        }
      }
    }
    const usedBytes = Buffer.byteLength(lines.join('\n'), 'utf8') || 1;
    const rows = exact ? dataLines : Math.round((dataLines * size) / usedBytes);
    return { format, rows, rowsExact: exact, columns, sizeBytes: size, error };
  } finally {
    await fh.close();
  }
}
