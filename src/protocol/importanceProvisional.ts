// PROVISIONAL (removed when the engine's protocol lands): the importance result as the view
// expects it, until workerProtocol.ts has the engine's own checker.

import { arr, int, literal, nullable, num, numbers, obj, str, type Checked } from './check';
import { modelInfo, runInfo } from './workerProtocol';

export const IMPORTANCE_DEFINITIONS = ['sklearn', 'label-free'] as const;
export const IMPORTANCE_SCORINGS = ['accuracy', 'balanced_accuracy', 'roc_auc', 'neg_log_loss', 'r2', 'neg_mean_squared_error', 'neg_mean_absolute_error'] as const;

export const importanceResult = obj({
  model: modelInfo,
  run: runInfo,
  settings: obj({
    definition: literal(...IMPORTANCE_DEFINITIONS),
    scoring: nullable(literal(...IMPORTANCE_SCORINGS)),
    repeats: int,
    seed: int,
    maxSamples: nullable(int),
    target: nullable(str),
  }),
  baselineScore: nullable(num),
  features: arr(obj({ name: str, columns: arr(str), mean: num, std: num, repeats: numbers })),
  dataset: obj({
    file: str,
    format: literal('csv', 'jsonl'),
    rowsRead: int,
    rowsUsed: int,
    sampled: literal(true, false),
    columns: arr(obj({ name: str, type: str, missing: int, role: literal('feature', 'target', 'text', 'ignored') })),
    imputation: nullable(str),
  }),
  warnings: arr(str),
});
export type ImportanceResult = Checked<typeof importanceResult>;
