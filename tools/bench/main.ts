// `npm run bench`: speed and memory of the engine on this machine, printed as figures (not tests).
//  1. worker cold start plus bundled classifier load
//  2. warm single prediction at 128 tokens (through the worker, IPC included)
//  3. batch-64 throughput against a bare onnxruntime-node loop on the same model and inputs
//  4. peak worker memory (VmHWM)

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultModelPath, resolveModelArg } from '../../src/modelCatalog';
import { workerEntry } from '../../src/packageRoot';
import { WorkerSupervisor } from '../../src/worker/supervisor';

const args = process.argv.slice(2);
const modelArg = args.includes('--model') ? args[args.indexOf('--model') + 1] : undefined;
const modelPath = modelArg ? resolveModelArg(modelArg, process.cwd()) : defaultModelPath();
const THREADS = 2;
const SEQ = 128;

const ms = (ns: bigint): number => Number(ns) / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 2): string => x.toFixed(digits);

function peakMemoryMB(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** A text long enough to fill SEQ tokens after truncation. */
function longText(i: number): string {
  const words = 'please review the attached invoice for your account and reply with the signed contract before friday so we can ship the order'.split(' ');
  return Array.from({ length: 400 }, (_, k) => words[(k * 7 + i) % words.length]).join(' ');
}

async function main(): Promise<void> {
  console.log(`Loupe bench — model ${path.relative(process.cwd(), modelPath) || modelPath}, ${THREADS} threads, node ${process.versions.node}`);
  const model = { path: modelPath };

  // 1. Cold start: fork the worker, load onnxruntime-node, load and describe the model.
  const t0 = process.hrtime.bigint();
  const engine = new WorkerSupervisor({ workerPath: workerEntry(), settings: { threads: THREADS, maxMemoryMB: 2048 }, requestTimeoutMs: 600_000 });
  const info = await engine.request('describe', { model });
  const cold = ms(process.hrtime.bigint() - t0);
  console.log(`cold start + model load:        ${fmt(cold, 0)} ms   (goal < 1000 ms)`);

  // 2. Warm single prediction at 128 tokens.
  const text = longText(0);
  const first = await engine.request('predict', { model, texts: [text], maxTokens: SEQ });
  const tokens = first.predictions[0]!.kind === 'tabular' ? 0 : first.predictions[0]!.tokens.length;
  const singles: number[] = [];
  for (let i = 0; i < 60; i++) {
    const s = process.hrtime.bigint();
    await engine.request('predict', { model, texts: [text], maxTokens: SEQ });
    singles.push(ms(process.hrtime.bigint() - s));
  }
  console.log(`warm single prediction (${tokens} tok): median ${fmt(median(singles))} ms, min ${fmt(Math.min(...singles))} ms   (goal < 5 ms)`);

  // 3. Batch-64 throughput: the engine (tokenize + IPC + batching) against a bare session loop.
  const texts = Array.from({ length: 64 }, (_, i) => longText(i));
  const batchResult = await engine.request('predict', { model, texts, maxTokens: SEQ });
  const rounds = 10;
  const engineTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = process.hrtime.bigint();
    await engine.request('predict', { model, texts, maxTokens: SEQ });
    engineTimes.push(ms(process.hrtime.bigint() - s));
  }
  const ids = batchResult.predictions.map((p) => (p.kind === 'tabular' ? [] : p.tokens.map((t) => t.id)));
  const width = Math.max(...ids.map((r) => r.length));
  const flat = BigInt64Array.from(ids.flatMap((r) => [...r, ...new Array<number>(width - r.length).fill(0)]), (v) => BigInt(v));
  const mask = BigInt64Array.from(ids.flatMap((r) => [...r.map(() => 1), ...new Array<number>(width - r.length).fill(0)]), (v) => BigInt(v));
  const session = await ort.InferenceSession.create(info.onnxFile, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    feeds[name] = new ort.Tensor('int64', name === 'attention_mask' ? mask : name === 'input_ids' ? flat : new BigInt64Array(flat.length), [ids.length, width]);
  }
  await session.run(feeds);
  const bareTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = process.hrtime.bigint();
    await session.run(feeds);
    bareTimes.push(ms(process.hrtime.bigint() - s));
  }
  await session.release();
  const eng = median(engineTimes);
  const bare = median(bareTimes);
  console.log(`batch-64 × ${width} tok, engine: median ${fmt(eng, 1)} ms = ${fmt((64 * 1000) / eng, 0)} texts/s (batch size used: ${batchResult.run.batchSize})`);
  console.log(`batch-64 × ${width} tok, bare onnxruntime-node: median ${fmt(bare, 1)} ms = ${fmt((64 * 1000) / bare, 0)} texts/s`);
  console.log(`engine overhead over bare loop:  ${fmt((100 * (eng - bare)) / bare, 1)} %   (goal < 10 %)`);

  // 4. Peak memory of the worker process.
  const pid = engine.pid;
  const peak = pid !== undefined ? peakMemoryMB(pid) : null;
  console.log(`peak worker memory (VmHWM):     ${peak !== null ? `${fmt(peak, 0)} MB` : 'not available on this platform'}`);
  await engine.dispose();
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
