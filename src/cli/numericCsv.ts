// Reads numeric rows from a CSV for `loupe predict` on a tabular model, with the engine's streaming
// reader (engine/data): columns are matched to the model's feature names when it has them (other
// columns, such as a label, are ignored), else every column is a feature. Errors name row and column.

import { CancelToken } from '../engine/cancellation';
import { openRecords } from '../engine/data/records';
import { loadTable } from '../engine/data/table';

export async function readNumericCsv(file: string, featureNames: string[] | null): Promise<number[][]> {
  let features = featureNames;
  if (!features) {
    const src = await openRecords({ path: file, format: 'csv' });
    features = src.header;
    src.close();
  }
  const t = await loadTable({ ref: { path: file, format: 'csv' }, features, target: null, text: null, rowBudget: Number.MAX_SAFE_INTEGER, seed: 0, imputation: 'none' }, new CancelToken(), () => undefined);
  return Array.from({ length: t.n }, (_, i) => Array.from(t.X.subarray(i * t.width, (i + 1) * t.width)));
}
