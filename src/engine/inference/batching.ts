// Batch sizes that bound memory: a batch's largest tensors (the output, the attention scores and the
// activations) must fit in the configured budget. Order within the request is preserved in results.

import type { ModelConfig } from '../model/hfConfig';

export const MAX_TEXT_BATCH = 64;
export const MAX_TABULAR_BATCH = 4096;

/** Estimated bytes one row of `seqLen` tokens needs in float32. */
export function bytesPerTextRow(seqLen: number, outputPerToken: number, config: ModelConfig): number {
  const hidden = (config.headDim ?? 64) * (config.numHeads ?? 12);
  const heads = config.numHeads ?? 12;
  const activations = seqLen * hidden * 16; // residual stream, MLP and q/k/v intermediates
  const attention = seqLen * seqLen * heads * 3; // scores, probabilities and a mask broadcast
  return 4 * (seqLen * outputPerToken + activations + attention);
}

export function textBatchSize(maxMemoryMB: number, seqLen: number, outputPerToken: number, config: ModelConfig): number {
  const budget = maxMemoryMB * 1024 * 1024;
  const rows = Math.floor(budget / bytesPerTextRow(seqLen, outputPerToken, config));
  return Math.max(1, Math.min(MAX_TEXT_BATCH, rows));
}

/** Groups indices into batches of similar length (less padding), in a deterministic order. */
export function lengthBatches(lengths: number[], sizeFor: (maxLen: number) => number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  let i = 0;
  while (i < order.length) {
    // Sorted ascending, so the batch's longest row is its last; grow while the budget allows.
    let size = 1;
    while (i + size < order.length && size < sizeFor(lengths[order[i + size]!]!)) size++;
    batches.push(order.slice(i, i + size));
    i += size;
  }
  return batches;
}
