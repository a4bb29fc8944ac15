// sklearn's scorers, computed the way sklearn computes them (sklearn 1.2), so that permutation
// importances agree with sklearn.inspection.permutation_importance to rounding. Every scorer is
// "greater is better": the error metrics are negated, as sklearn's neg_* scorers are.
//   y: class indices (classifiers) or values (regressors); P: n × C class probabilities, or n × 1
//   values (regressors), or n × 1 predicted class indices (a model with only a label output).

import { LoupeError } from '../../../protocol/errors';
import type { Scoring } from '../../../protocol/workerProtocol';

export interface Predictions {
  n: number;
  /** Columns of P per row. */
  width: number;
  P: Float64Array;
  /** 'labels': P holds predicted class indices, not probabilities. */
  kind: 'probabilities' | 'labels' | 'values';
}

export const CLASSIFIER_SCORINGS: readonly Scoring[] = ['accuracy', 'balanced_accuracy', 'roc_auc', 'neg_log_loss'];
export const REGRESSOR_SCORINGS: readonly Scoring[] = ['r2', 'neg_mean_squared_error', 'neg_mean_absolute_error'];
const NEEDS_PROBABILITIES: readonly Scoring[] = ['roc_auc', 'neg_log_loss'];

export function checkScoring(scoring: Scoring, classifier: boolean, kind: Predictions['kind'], zipmapHint: string | null): void {
  if (classifier && !CLASSIFIER_SCORINGS.includes(scoring)) throw new LoupeError('BAD_REQUEST', `${scoring} scores a regressor; for a classifier use ${CLASSIFIER_SCORINGS.join(', ')}.`);
  if (!classifier && !REGRESSOR_SCORINGS.includes(scoring)) throw new LoupeError('BAD_REQUEST', `${scoring} scores a classifier; for a regressor use ${REGRESSOR_SCORINGS.join(', ')}.`);
  if (kind === 'labels' && NEEDS_PROBABILITIES.includes(scoring)) {
    throw new LoupeError('UNSUPPORTED', `${scoring} needs class probabilities, and the model only gives a label tensor.${zipmapHint ? ' ' + zipmapHint : ''} Or score with accuracy or balanced_accuracy.`);
  }
}

/** Predicted class of row i: argmax of its probabilities (first on ties, like numpy), or the label output. */
export function predictedClass(p: Predictions, i: number): number {
  if (p.kind === 'labels') return p.P[i]!;
  let best = 0;
  for (let c = 1; c < p.width; c++) if (p.P[i * p.width + c]! > p.P[i * p.width + best]!) best = c;
  return best;
}

export function score(scoring: Scoring, y: ArrayLike<number>, p: Predictions): number {
  switch (scoring) {
    case 'accuracy':
      return accuracy(y, p);
    case 'balanced_accuracy':
      return balancedAccuracy(y, p);
    case 'roc_auc':
      return rocAuc(y, p);
    case 'neg_log_loss':
      return -logLoss(y, p);
    case 'r2':
      return r2(y, p.P);
    case 'neg_mean_squared_error':
      return -meanError(y, p.P, (d) => d * d);
    case 'neg_mean_absolute_error':
      return -meanError(y, p.P, Math.abs);
  }
}

function accuracy(y: ArrayLike<number>, p: Predictions): number {
  let hit = 0;
  for (let i = 0; i < p.n; i++) if (predictedClass(p, i) === y[i]) hit++;
  return hit / p.n;
}

/** Mean recall over the classes present in y (sklearn drops classes with no true samples). */
function balancedAccuracy(y: ArrayLike<number>, p: Predictions): number {
  const total = new Map<number, number>();
  const hit = new Map<number, number>();
  for (let i = 0; i < p.n; i++) {
    const c = y[i]!;
    total.set(c, (total.get(c) ?? 0) + 1);
    if (predictedClass(p, i) === c) hit.set(c, (hit.get(c) ?? 0) + 1);
  }
  let sum = 0;
  for (const [c, t] of total) sum += (hit.get(c) ?? 0) / t;
  return sum / total.size;
}

/** Binary ROC AUC of P[:, 1] (sklearn's positive class is the second); macro one-vs-rest for more classes. */
function rocAuc(y: ArrayLike<number>, p: Predictions): number {
  const present = new Set<number>();
  for (let i = 0; i < p.n; i++) present.add(y[i]!);
  if (p.width === 2) {
    if (present.size !== 2) throw new LoupeError('BAD_REQUEST', 'ROC AUC needs both classes among the scored rows; only one occurs. Use more rows or another scoring.');
    return aucOf(y, (i) => p.P[i * 2 + 1]!, 1, p.n);
  }
  let sum = 0;
  for (let c = 0; c < p.width; c++) {
    if (!present.has(c)) throw new LoupeError('BAD_REQUEST', `ROC AUC (one-vs-rest) needs every class among the scored rows; class ${c} does not occur.`);
    sum += aucOf(y, (i) => p.P[i * p.width + c]!, c, p.n);
  }
  return sum / p.width;
}

/** Mann–Whitney U with mid-ranks for ties: equal to the trapezoidal area under the ROC curve. */
function aucOf(y: ArrayLike<number>, s: (i: number) => number, positive: number, n: number): number {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => s(a) - s(b));
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && s(order[j + 1]!) === s(order[i]!)) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[order[k]!] === positive) {
        rankSumPos += midRank;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** sklearn 1.2's log_loss: clip to [eps, 1 − eps] (eps of float64), renormalise rows, mean −log p(true). */
function logLoss(y: ArrayLike<number>, p: Predictions): number {
  const eps = 2.220446049250313e-16;
  const C = p.width;
  let total = 0;
  const row = new Float64Array(C);
  for (let i = 0; i < p.n; i++) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      // sklearn's binary scorer passes only P(class 1), and log_loss rebuilds P(class 0) as 1 − P(class 1).
      const prob = C === 2 ? (c === 1 ? p.P[i * 2 + 1]! : 1 - p.P[i * 2 + 1]!) : p.P[i * C + c]!;
      const v = Math.min(Math.max(prob, eps), 1 - eps);
      row[c] = v;
      sum += v;
    }
    total -= Math.log(row[y[i]!]! / sum);
  }
  return total / p.n;
}

function r2(y: ArrayLike<number>, yhat: Float64Array): number {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    res += (y[i]! - yhat[i]!) ** 2;
    tot += (y[i]! - mean) ** 2;
  }
  // sklearn (force_finite): a constant target scores 1 when predicted exactly, else 0.
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}

function meanError(y: ArrayLike<number>, yhat: Float64Array, f: (d: number) => number): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += f(y[i]! - yhat[i]!);
  return s / y.length;
}
