// What a method returns: a value per scored position, and what it knows of f(baseline), of its
// completeness and of its surrogate fit.

import type { FitInfo } from './types';

export interface MethodOutput {
  /** One value per entry of `positions`. */
  values: number[];
  /** Token positions that were scored. */
  positions: number[];
  baselineValue: number | null;
  completenessGap: number | null;
  fit: FitInfo | null;
}

/** Weighted R² of predictions on the samples. */
export function weightedR2(y: ArrayLike<number>, yhat: ArrayLike<number>, w: ArrayLike<number>): number {
  let ws = 0;
  let mean = 0;
  for (let i = 0; i < y.length; i++) {
    ws += w[i]!;
    mean += w[i]! * y[i]!;
  }
  mean /= ws;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < y.length; i++) {
    res += w[i]! * (y[i]! - yhat[i]!) ** 2;
    tot += w[i]! * (y[i]! - mean) ** 2;
  }
  return tot > 0 ? 1 - res / tot : 1;
}
