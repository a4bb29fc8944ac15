// Streams the records of a CSV or JSONL file with a 1-based data row and line number each, so that
// any error can name them. CSV goes through csv-parse's streaming parser (RFC 4180: quotes, embedded
// newlines and delimiters, BOM, CRLF); JSONL is one object per line. The file is only ever read.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parse } from 'csv-parse';
import { LoupeError } from '../../protocol/errors';
import type { DatasetRef } from '../../protocol/workerProtocol';
import { checkDelimiter, dataFormat, DataFormat, openData, readHead, sniffDelimiter } from './format';

export interface DataRecord {
  /** 1-based data row (the header and empty lines not counted). */
  row: number;
  /** 1-based line of the file where the record ends. */
  line: number;
  cells: (string | null)[];
}

export interface RecordStream {
  file: string;
  format: DataFormat;
  delimiter: string | null;
  sizeBytes: number;
  header: string[];
  records: AsyncGenerator<DataRecord, void, undefined>;
  /** Bytes read from the file so far (for estimates and progress). */
  bytesRead(): number;
  close(): void;
}

const name = (file: string): string => path.basename(file);

export async function openRecords(ref: DatasetRef): Promise<RecordStream> {
  const file = ref.path;
  fs.closeSync(openData(file));
  const sizeBytes = fs.statSync(file).size;
  const format = dataFormat(ref);
  return format === 'jsonl' ? openJsonl(file, sizeBytes) : openCsv(file, sizeBytes, ref.delimiter);
}

async function openCsv(file: string, sizeBytes: number, given: string | undefined): Promise<RecordStream> {
  const delimiter = given !== undefined ? checkDelimiter(given, file) : sniffDelimiter(readHead(file));
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const parser = input.pipe(parse({ bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, info: true, relax_quotes: false }));
  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; info: { lines: number } }>;
  const next = async (): Promise<{ record: string[]; info: { lines: number } } | null> => {
    try {
      const r = await iterator.next();
      return r.done ? null : r.value;
    } catch (e) {
      const err = e as Error & { lines?: number };
      // csv-parse quotes the offending field whole; a binary or huge file would fill the message.
      const said = err.message.length > 200 ? `${err.message.slice(0, 200)}…` : err.message;
      throw new LoupeError('BAD_REQUEST', `${name(file)} is not a valid CSV${err.lines ? ` (near line ${err.lines})` : ''}: ${said}`, { file });
    }
  };
  const first = await next();
  if (!first) throw new LoupeError('EMPTY_INPUT', `${name(file)} is empty: it has no header row.`, { file });
  const header = first.record.map((h) => h.trim());
  checkHeader(header, file);
  async function* records(): AsyncGenerator<DataRecord, void, undefined> {
    let row = 0;
    for (;;) {
      const r = await next();
      if (!r) return;
      row++;
      // A line of only delimiters is a row of missing values; a line with another field count is an error.
      if (r.record.length !== header.length) {
        throw new LoupeError('BAD_REQUEST', `${name(file)}, row ${row} (line ${r.info.lines}) has ${r.record.length} fields; the header has ${header.length}.`, { file });
      }
      yield { row, line: r.info.lines, cells: r.record };
    }
  }
  return {
    file,
    format: 'csv',
    delimiter,
    sizeBytes,
    header,
    records: records(),
    bytesRead: () => input.bytesRead,
    close: () => {
      parser.destroy();
      input.destroy();
    },
  };
}

async function openJsonl(file: string, sizeBytes: number): Promise<RecordStream> {
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const lines = readline.createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  let line = 0;
  const nextObject = async (): Promise<{ value: Record<string, unknown>; line: number } | null> => {
    for (;;) {
      const r = await lines.next();
      if (r.done) return null;
      line++;
      const text = (line === 1 ? r.value.replace(/^\uFEFF/, '') : r.value).trim();
      if (text === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw new LoupeError('BAD_REQUEST', `${name(file)}, line ${line} is not valid JSON: ${(e as Error).message}`, { file });
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new LoupeError('BAD_REQUEST', `${name(file)}, line ${line} is not a JSON object: JSONL data needs one object per line.`, { file });
      }
      return { value: value as Record<string, unknown>, line };
    }
  };
  const first = await nextObject();
  if (!first) throw new LoupeError('EMPTY_INPUT', `${name(file)} is empty: it has no JSON objects.`, { file });
  // The columns are the first object's keys; a key missing from a later object is a missing value.
  const header = Object.keys(first.value);
  checkHeader(header, file);
  const cellsOf = (o: Record<string, unknown>): (string | null)[] => header.map((k) => cellText(o[k]));
  async function* records(): AsyncGenerator<DataRecord, void, undefined> {
    let row = 1;
    yield { row, line: first!.line, cells: cellsOf(first!.value) };
    for (;;) {
      const o = await nextObject();
      if (!o) return;
      row++;
      yield { row, line: o.line, cells: cellsOf(o.value) };
    }
  }
  return {
    file,
    format: 'jsonl',
    delimiter: null,
    sizeBytes,
    header,
    records: records(),
    bytesRead: () => input.bytesRead,
    close: () => input.destroy(),
  };
}

function cellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function checkHeader(header: string[], file: string): void {
  const seen = new Set<string>();
  header.forEach((h, i) => {
    if (h === '') throw new LoupeError('BAD_REQUEST', `${name(file)}: column ${i + 1} of the header has no name.`, { file });
    if (seen.has(h)) throw new LoupeError('BAD_REQUEST', `${name(file)}: the header names column "${h}" twice.`, { file });
    seen.add(h);
  });
}
