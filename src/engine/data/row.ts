// Reads one data row's feature values, streaming the file up to it.

import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import type { DatasetRef } from '../../protocol/workerProtocol';
import type { CancelToken } from '../cancellation';
import { openRecords } from './records';
import { parseNumber } from './values';

/** The values of `features` in 1-based data row `row`; missing or non-numeric values are errors naming the cell. */
export async function readRow(ref: DatasetRef, features: string[], row: number, token: CancelToken): Promise<Float64Array> {
  const src = await openRecords(ref);
  const base = path.basename(src.file);
  try {
    const idx = features.map((c) => {
      const i = src.header.indexOf(c);
      if (i < 0) throw new LoupeError('BAD_REQUEST', `${base} has no column "${c}".`, { file: src.file });
      return i;
    });
    for await (const rec of src.records) {
      if ((rec.row & 8191) === 0) token.throwIfCancelled();
      if (rec.row !== row) continue;
      return Float64Array.from(idx, (i, k) => {
        const v = parseNumber(rec.cells[i]!);
        if (v === null || Number.isNaN(v)) {
          throw new LoupeError('BAD_REQUEST', `${base}, row ${row} (line ${rec.line}), column "${features[k]}": ${JSON.stringify(rec.cells[i])} is not a number.`, { file: src.file });
        }
        return v;
      });
    }
    throw new LoupeError('BAD_REQUEST', `${base} has no data row ${row}.`, { file: src.file });
  } finally {
    src.close();
  }
}
