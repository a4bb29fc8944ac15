// LIME for text: binary token-presence samples around the input, weighted by the kernel of the
// `lime` package's text explainer (cosine distance between the sample and the all-present vector,
// × 100; weight = sqrt(exp(−d² / width²)), width 25), and a weighted linear surrogate whose
// coefficients are the scores: ridge with alpha 1 (the lime package's default), lasso with alpha
// 0.01 (Captum's default) or plain least squares.
//
// Samples: the first is the input itself (every token present, as lime does); then, with the 'lime'
// sampler, a uniform number 1…M of tokens is removed at random (lime's text sampler), or with
// 'bernoulli' each token is kept with probability 1/2 (Captum's default). Identical samples are
// evaluated once; the fit still counts each draw.

import { weightedLasso, weightedLinearRegression, weightedRidge } from './linalg';
import { MethodOutput, weightedR2 } from './method';
import { distinct, Problem, rowOfMask } from './problem';
import { Rng } from './rng';
import type { Runner } from './runner';
import type { LimeOptions } from './types';

export const LIME_DEFAULTS: Required<LimeOptions> = { sampling: 'lime', kernelWidth: 25, regressor: 'ridge', alpha: 1 };

export function limeOptions(o: LimeOptions | undefined): Required<LimeOptions> {
  const regressor = o?.regressor ?? LIME_DEFAULTS.regressor;
  const alpha = o?.alpha ?? (regressor === 'lasso' ? 0.01 : regressor === 'ridge' ? 1 : 0);
  return { sampling: o?.sampling ?? LIME_DEFAULTS.sampling, kernelWidth: o?.kernelWidth ?? LIME_DEFAULTS.kernelWidth, regressor, alpha };
}

/** The samples (presence masks over the M features), the input itself first. */
export function limeSamples(M: number, samples: number, seed: number, sampling: 'lime' | 'bernoulli'): Uint8Array[] {
  const rng = new Rng(seed);
  const masks: Uint8Array[] = [new Uint8Array(M).fill(1)];
  for (let i = 1; i < samples; i++) {
    const mask = new Uint8Array(M);
    if (sampling === 'bernoulli') {
      for (let k = 0; k < M; k++) mask[k] = rng.next() < 0.5 ? 1 : 0;
    } else {
      mask.fill(1);
      const remove = 1 + rng.int(M);
      for (const k of rng.subset(M, remove)) mask[k] = 0;
    }
    masks.push(mask);
  }
  return masks;
}

/** lime's text kernel: sqrt(exp(−(100·d)² / width²)) with d the cosine distance to the all-present vector. */
export function limeTextKernel(mask: ArrayLike<number>, width: number): number {
  let present = 0;
  for (let k = 0; k < mask.length; k++) present += mask[k]!;
  // A sample with no token has no direction: scikit-learn's cosine distance to it is 1.
  const d = present === 0 ? 1 : 1 - Math.sqrt(present / mask.length);
  return Math.sqrt(Math.exp(-((100 * d) ** 2) / (width * width)));
}

/** Forward passes: the distinct samples other than the input itself (f(x) is known). */
export function limePasses(M: number, samples: number, seed: number, sampling: 'lime' | 'bernoulli'): number {
  const { unique } = distinct(limeSamples(M, samples, seed, sampling));
  return unique.filter((m) => m.some((v) => v === 0)).length;
}

export async function lime(p: Problem, runner: Runner, samples: number, opts: Required<LimeOptions>, replacement: number | null): Promise<MethodOutput> {
  const M = p.features.length;
  const masks = limeSamples(M, samples, p.seed, opts.sampling);
  const { unique, index } = distinct(masks);
  const todo = unique.map((m, u) => [m, u] as const).filter(([m]) => m.some((v) => v === 0));
  const f = await runner.values(
    todo.map(([m]) => rowOfMask(p, m, replacement)),
    p.readout,
  );
  const uniqueValues = new Float64Array(unique.length).fill(p.fx);
  todo.forEach(([, u], i) => (uniqueValues[u] = f[i]!));
  const y = index.map((u) => uniqueValues[u]!);
  const w = masks.map((m) => limeTextKernel(m, opts.kernelWidth));
  const fit =
    opts.regressor === 'ridge'
      ? weightedRidge(masks, y, w, opts.alpha)
      : opts.regressor === 'lasso'
        ? weightedLasso(masks, y, w, opts.alpha)
        : weightedLinearRegression(masks, y, w);
  const yhat = masks.map((m) => m.reduce((s, z, k) => s + z * fit.coef[k]!, fit.intercept));
  return {
    values: fit.coef,
    positions: p.features,
    baselineValue: null,
    completenessGap: null,
    fit: { intercept: fit.intercept, r2: weightedR2(y, yhat, w), exact: false, evaluated: todo.length, drawn: masks.length },
  };
}
