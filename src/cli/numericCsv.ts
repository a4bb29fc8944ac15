// Reads numeric rows from a CSV for `loupe predict` on a tabular model. Columns are matched to the
// model's feature names when it has them (other columns, such as a label, are ignored).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { LoupeError } from '../protocol/errors';

export function readNumericCsv(file: string, featureNames: string[] | null): number[][] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LoupeError('FILE_NOT_FOUND', `Cannot read ${file}: ${(e as Error).message}`, { file });
  }
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (e) {
    throw new LoupeError('BAD_REQUEST', `${path.basename(file)} is not a valid CSV: ${(e as Error).message}`, { file });
  }
  if (records.length < 2) throw new LoupeError('EMPTY_INPUT', `${path.basename(file)} has no data rows.`, { file });
  const header = records[0]!;
  const columns = featureNames
    ? featureNames.map((name) => {
        const at = header.indexOf(name);
        if (at < 0) throw new LoupeError('BAD_REQUEST', `${path.basename(file)} has no column "${name}", which the model needs.`, { file });
        return at;
      })
    : header.map((_, i) => i);
  return records.slice(1).map((record, r) =>
    columns.map((c) => {
      const raw = record[c]!.trim();
      const value = Number(raw);
      if (raw === '' || !Number.isFinite(value)) {
        throw new LoupeError('BAD_REQUEST', `${path.basename(file)}, row ${r + 2}, column "${header[c]}": "${raw}" is not a number.`, { file });
      }
      return value;
    }),
  );
}
