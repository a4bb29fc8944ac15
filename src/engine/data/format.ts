// Which kind of data file this is, and for CSV which delimiter: given, or sniffed from its first lines.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import type { DatasetRef } from '../../protocol/workerProtocol';

export type DataFormat = 'csv' | 'jsonl';

export function dataFormat(ref: DatasetRef): DataFormat {
  if (ref.format) return ref.format;
  return /\.(jsonl|ndjson)$/i.test(ref.path) ? 'jsonl' : 'csv';
}

const CANDIDATES = [',', ';', '\t', '|'];

/** Counts of `delim` per line outside quotes, over whole lines of `text`. */
function countsPerLine(text: string, delim: string): number[] {
  const counts: number[] = [];
  let inQuotes = false;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && ch === delim) n++;
    else if (!inQuotes && ch === '\n') {
      counts.push(n);
      n = 0;
    }
  }
  return counts.filter((c, i) => c > 0 || i === 0);
}

/**
 * The delimiter that splits the first lines into the same, largest number of fields (a comma when
 * nothing splits them: a one-column file).
 */
export function sniffDelimiter(sample: string): string {
  // Only whole lines count; the sample may end mid-line.
  const text = sample.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const whole = text.includes('\n') ? text.slice(0, text.lastIndexOf('\n') + 1) : text + '\n';
  let best = ',';
  let bestScore = 0;
  for (const d of CANDIDATES) {
    const counts = countsPerLine(whole, d).slice(0, 50);
    if (counts.length === 0 || counts[0] === 0) continue;
    const consistent = counts.filter((c) => c === counts[0]).length / counts.length;
    const score = consistent * counts[0]! + (consistent === 1 ? 1000 : 0);
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

export function readHead(file: string, bytes = 65536): string {
  const fd = openData(file);
  try {
    const buf = Buffer.alloc(bytes);
    const n = fs.readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export function openData(file: string): number {
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new LoupeError('BAD_REQUEST', `${file} is a folder, not a data file.`, { file });
    return fs.openSync(file, 'r');
  } catch (e) {
    if (e instanceof LoupeError) throw e;
    throw new LoupeError('FILE_NOT_FOUND', `Cannot read ${file}: ${(e as Error).message}`, { file });
  }
}

export function checkDelimiter(delimiter: string, file: string): string {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new LoupeError('BAD_REQUEST', `The delimiter for ${path.basename(file)} must be one character other than a quote or a line break, not ${JSON.stringify(delimiter)}.`, { file });
  }
  return delimiter;
}
