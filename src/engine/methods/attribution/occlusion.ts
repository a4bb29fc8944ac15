// Occlusion: the drop in f when a window of `w` consecutive tokens is absent (replaced or deleted),
// with stride 1; each token's score is the mean over the windows that cover it (Captum's Occlusion).
// w = 1 is leave-one-out (Captum's FeatureAblation with one token per feature). Windows run over the
// non-special tokens: special tokens are never occluded.

import { maskedRow, Problem } from './problem';
import type { Runner } from './runner';
import type { MethodOutput } from './method';

export function occlusionPasses(numFeatures: number, window: number): number {
  const w = Math.min(window, numFeatures);
  return numFeatures - w + 1;
}

export async function occlusion(p: Problem, runner: Runner, window: number, replacement: number | null): Promise<MethodOutput> {
  const M = p.features.length;
  const w = Math.min(window, M);
  const starts = Array.from({ length: M - w + 1 }, (_, s) => s);
  const rows = starts.map((s) => maskedRow(p, (k) => k < s || k >= s + w, replacement));
  const f = await runner.values(rows, p.readout);
  const total = new Float64Array(M);
  const count = new Float64Array(M);
  starts.forEach((s, r) => {
    for (let k = s; k < s + w; k++) {
      total[k] += p.fx - f[r]!;
      count[k]! += 1;
    }
  });
  return { values: Array.from(total, (t, k) => t / count[k]!), positions: p.features, baselineValue: null, completenessGap: null, fit: null };
}
