// describeDataset: the columns of a data file with their inferred types and missing values (over
// the first rows), its row count (counted while cheap, else estimated from the bytes per row), and
// with a model a suggested mapping, target and text column.

import type { DatasetDescription, DescribeDatasetParams, ModelInfo } from '../../protocol/workerProtocol';
import type { CancelToken } from '../cancellation';
import { ColumnStats } from './columnStats';
import { suggest } from './mapping';
import { openRecords } from './records';

export const DEFAULT_SCAN_ROWS = 10_000;
/** Files up to this size are counted to the end; larger ones get an estimate. */
const COUNT_LIMIT_BYTES = 64 * 1024 * 1024;

export async function describeDataset(params: DescribeDatasetParams, model: ModelInfo | null, token: CancelToken): Promise<DatasetDescription> {
  const scanRows = Math.max(1, params.scanRows ?? DEFAULT_SCAN_ROWS);
  const src = await openRecords(params.data);
  try {
    const stats = src.header.map((h, i) => new ColumnStats(h, i));
    let rows = 0;
    let exact = true;
    let bytesAtScanEnd = 0;
    for await (const rec of src.records) {
      rows = rec.row;
      if (rec.row <= scanRows) {
        rec.cells.forEach((c, i) => stats[i]!.add(c, rec.row));
        if (rec.row === scanRows) bytesAtScanEnd = src.bytesRead();
        continue;
      }
      if ((rec.row & 4095) === 0) token.throwIfCancelled();
      if (src.sizeBytes > COUNT_LIMIT_BYTES) {
        exact = false;
        break;
      }
    }
    const scanned = Math.min(rows, scanRows);
    if (!exact) rows = Math.round((src.sizeBytes / Math.max(1, bytesAtScanEnd)) * scanned);
    const columns = stats.map((s) => s.summary());
    return {
      path: src.file,
      format: src.format,
      delimiter: src.delimiter,
      sizeBytes: src.sizeBytes,
      columns,
      rows,
      rowsExact: exact,
      scannedRows: scanned,
      suggestion: model ? suggest(src.file, columns, model) : null,
    };
  } finally {
    src.close();
  }
}
