// Exact-gradient figures at 128 tokens: Integrated Gradients with 50 steps (one forward-and-backward
// row per step, plus the baseline's) on the bundled classifier and on a DistilBERT-sized random
// model, and the backward-to-forward cost ratio (the same rows through the gradient model and
// through the forward model whose word embeddings are an input). Captum's times on this machine
// (from the issue) are printed beside them. Called from tools/bench/main.ts.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelToken } from '../../src/engine/cancellation';
import { longText } from './attribution';
import { attribute, RunEnv } from '../../src/engine/methods/attribution';
import { GradientRunner } from '../../src/engine/methods/attribution/gradientRunner';
import { Runner } from '../../src/engine/methods/attribution/runner';
import { loadModel } from '../../src/engine/model/loadModel';
import { packageRoot } from '../../src/packageRoot';

const THREADS = 2;
const SEQ = 128;
const STEPS = 50;
/** Warm runs per figure, whose median is printed: fewer on the DistilBERT-sized model (~5 s a run). */
const runsFor = (goalMs: number): number => (goalMs >= 1000 ? 3 : 7);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (ns: bigint): number => Number(ns) / 1e6;

/** The DistilBERT-sized model: $LOUPE_BENCH_DISTILBERT, or made once into ~/.cache/loupe/bench by the tools/ script. */
function distilbertPath(): string | null {
  const dir = process.env.LOUPE_BENCH_DISTILBERT ?? path.join(os.homedir(), '.cache', 'loupe', 'bench', 'distilbert-random');
  if (fs.existsSync(path.join(dir, 'model.onnx'))) return dir;
  const script = path.join(packageRoot(), 'tools', 'bench', 'make_distilbert_random.py');
  const make = `/usr/bin/python3 ${path.relative(process.cwd(), script)} ${dir}`;
  console.log(`making the DistilBERT-sized random model (~265 MB, once): ${make}`);
  try {
    execFileSync('/usr/bin/python3', [script, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    return dir;
  } catch (e) {
    console.log(`  could not make it (${(e as Error).message.split('\n')[0]}); it needs Debian's python3-torch. Make it with: ${make}`);
    return null;
  }
}

async function benchModel(modelPath: string, label: string, captumMs: number, goalMs: number): Promise<void> {
  const model = await loadModel({ path: modelPath }, THREADS);
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-gradients-'));
  const env: RunEnv = { cacheDir, threads: THREADS, maxMemoryMB: 2048 };
  const work = { token: new CancelToken(), progress: () => undefined };
  const text = longText();
  try {
    let t = process.hrtime.bigint();
    await attribute(model, text, { method: 'ig', steps: 2, maxTokens: SEQ, faithfulness: false }, env, work);
    const build = ms(process.hrtime.bigint() - t);
    // The median of warm runs (a single run on 2 shared cores swings by ±20 %), after one untimed
    // run at the full size (its first batches of 21 rows grow ONNX Runtime's memory arena).
    const RUNS = runsFor(goalMs);
    await attribute(model, text, { method: 'ig', steps: STEPS, maxTokens: SEQ, faithfulness: false }, env, work);
    const walls: number[] = [];
    let r: Awaited<ReturnType<typeof attribute>> | null = null;
    for (let k = 0; k < RUNS; k++) {
      t = process.hrtime.bigint();
      r = await attribute(model, text, { method: 'ig', steps: STEPS, maxTokens: SEQ, faithfulness: false }, env, work);
      walls.push(ms(process.hrtime.bigint() - t));
    }
    const wall = median(walls);
    console.log(
      `  ${label}: IG ${STEPS} steps at ${r!.tokens.length} tokens, exact gradients: ${wall.toFixed(0)} ms median of ${RUNS} (${Math.min(...walls).toFixed(0)}–${Math.max(...walls).toFixed(0)}; ${r!.forwardPasses} rows, batch ${r!.batchSize}; ` +
        `goal ${goalMs >= 1000 ? `< ${goalMs / 1000} s` : `≤ ${goalMs} ms`}; Captum ${captumMs >= 1000 ? `${captumMs / 1000} s` : `${captumMs} ms`}); ` +
        `completeness gap ${r!.completenessGap!.toExponential(1)}; first use (gradient graph built and cached, 2 steps) ${build.toFixed(0)} ms`,
    );

    // Backward-to-forward: the same embedding rows through the forward model and the gradient model.
    const runner = new Runner(model, env, work, 0);
    const grad = await GradientRunner.open(runner);
    const ids = model.tokenizer!.encode(text, SEQ).ids;
    const row = { ids, prefixLen: ids.length };
    const [x] = await runner.gather([ids]);
    const readout = { kind: 'class' as const, output: 'logit' as const, index: 0, continuation: [] };
    const fill = (_: number, dst: Float32Array): void => dst.set(x!);
    const rows = STEPS + 1;
    await runner.embeddedValues(row, 4, fill, readout);
    await grad.rows(row, 4, fill, readout, () => undefined);
    const time = async (f: () => Promise<unknown>): Promise<number> => {
      const s = process.hrtime.bigint();
      await f();
      return ms(process.hrtime.bigint() - s);
    };
    const forwards: number[] = [];
    const boths: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      forwards.push(await time(() => runner.embeddedValues(row, rows, fill, readout)));
      boths.push(await time(() => grad.rows(row, rows, fill, readout, () => undefined)));
    }
    const forward = median(forwards);
    const both = median(boths);
    console.log(
      `  ${label}: ${rows} rows forward ${forward.toFixed(0)} ms, forward-and-backward ${both.toFixed(0)} ms (medians of ${RUNS}): ` +
        `backward / forward = ${((both - forward) / forward).toFixed(2)}× (limit about 2–3×)`,
    );
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

export async function benchGradients(classifierPath: string): Promise<void> {
  console.log(`exact gradients (reverse-mode differentiation of the ONNX graph), ${THREADS} threads:`);
  await benchModel(classifierPath, path.basename(classifierPath), 238, 80);
  const big = distilbertPath();
  if (big) await benchModel(big, 'DistilBERT-sized random model', 12_600, 10_000);
}
