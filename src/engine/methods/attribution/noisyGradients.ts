// Gradient methods that average exact gradients over random samples (seeded, so reproducible):
//   smoothgrad  SmoothGrad (Smilkov et al. 2017) of Gradient × Input:
//               (1/N) Σ_n ∇_i f(x + ε_n) · x_i,   ε_n ~ N(0, σ²), σ = noise × RMS(x)
//   gradshap    GradientSHAP (Lundberg & Lee 2017; Captum's GradientShap): expected gradients on the
//               path from the baseline, (1/N) Σ_n ∇_i f(b + α_n (x − b) + ε_n) · (x_i − b_i),
//               α_n ~ U(0, 1), ε_n ~ N(0, σ²); its sum approaches f(x) − f(b) as N grows.
// The noise moves every position (the embeddings of special tokens too): it perturbs the input, not
// the attribution. Scores are per token; one forward-and-backward row per sample.

import type { MethodOutput } from './method';
import type { Problem } from './problem';
import { accumulateDot, baselinePath } from './exactGradients';
import type { GradientBaseline } from './gradients';
import type { GradientRunner } from './gradientRunner';
import { Rng } from './rng';
import type { Runner } from './runner';

/** A standard normal draw (Box–Muller on the run's seeded generator). */
function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

const fullRow = (p: Problem): { ids: number[]; prefixLen: number } => ({ ids: p.ids.concat(p.continuation), prefixLen: p.ids.length });

export async function smoothGrad(p: Problem, runner: Runner, g: GradientRunner, samples: number, noise: number): Promise<MethodOutput> {
  const row = fullRow(p);
  const [x] = await runner.gather([row.ids]);
  const H = g.hidden;
  const sigma = noise * rms(x!);
  const rng = new Rng(p.seed);
  const positions = p.ids.map((_, i) => i);
  const acc = new Float64Array(p.ids.length);
  await g.rows(
    row,
    samples,
    (_, dst) => {
      for (let j = 0; j < dst.length; j++) dst[j] = x![j]! + sigma * gaussian(rng);
    },
    p.readout,
    (_, out) => accumulateDot(acc, out.grad, x!, positions, H, 1 / samples),
  );
  return { values: positions.map((i) => acc[i]!), positions, baselineValue: null, completenessGap: null, fit: null };
}

export async function gradientShap(p: Problem, runner: Runner, g: GradientRunner, baseline: GradientBaseline, samples: number, noise: number): Promise<MethodOutput> {
  const row = fullRow(p);
  const H = g.hidden;
  const { x, b, diff, positions } = await baselinePath(p, runner, H, baseline);
  const sigma = noise * rms(x);
  const rng = new Rng(p.seed);
  const acc = new Float64Array(p.ids.length);
  let fb = NaN;
  // Row 0: the baseline itself, for f(b); rows 1…N: the samples.
  await g.rows(
    row,
    samples + 1,
    (r, dst) => {
      if (r === 0) {
        dst.set(b);
        return;
      }
      const alpha = rng.next();
      for (let j = 0; j < dst.length; j++) dst[j] = b[j]! + alpha * diff[j]! + (sigma > 0 ? sigma * gaussian(rng) : 0);
    },
    p.readout,
    (r, out) => {
      if (r === 0) {
        fb = out.value;
        return;
      }
      accumulateDot(acc, out.grad, diff, positions, H, 1 / samples);
    },
  );
  const values = positions.map((i) => acc[i]!);
  const sum = values.reduce((a, v) => a + v, 0);
  return { values, positions, baselineValue: fb, completenessGap: sum - (p.fx - fb), fit: null };
}
