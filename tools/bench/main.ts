// `npm run bench`: speed and memory of the engine on this machine, printed as figures (not tests).
//  1. worker cold start plus bundled classifier load
//  2. warm single prediction at 128 tokens (through the worker, IPC included)
//  3. batch-64 throughput against a bare onnxruntime-node loop on the same model and inputs
//  4. a forward with attention outputs against a plain forward
//  5. rewriting and caching a 300 MB model (time and memory)
//  6. peak worker memory (VmHWM)
//  7. the attention heatmap's render time for a 512-token layer in Chromium (heatmapRender.ts)
//  8. token attribution methods at 128 tokens against a bare loop (attribution.ts)
//  9. exact-gradient IG at 128 tokens, bundled classifier and a DistilBERT-sized model; backward / forward
// 10. permutation importance: 100k rows × 30 features × 5 repeats against a bare loop; a 1 GB CSV's peak memory (importance.ts)
//  `--only importance` runs just 10, `--only gradients` just 9, `--only heatmap` just 7.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { modelWithOutputs } from '../../src/engine/model/addOutputs';
import { findAttention } from '../../src/engine/model/attentionGraph';
import { readOnnxFacts } from '../../src/engine/model/onnxFile';
import { TextTokenizer } from '../../src/engine/tokenize/textTokenizer';
import { benchAttribution } from './attribution';
import { benchGradients } from './gradients';
import { defaultModelPath, resolveModelArg } from '../../src/modelCatalog';
import { workerEntry } from '../../src/packageRoot';
import { WorkerSupervisor } from '../../src/worker/supervisor';
import { benchHeatmapRender } from './heatmapRender';
import { benchImportance } from './importance';

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

/** A text of a little over SEQ tokens, so that every row is full after truncation. */
function longText(i: number): string {
  const words = 'please review the attached invoice for your account and reply with the signed contract before friday so we can ship the order'.split(' ');
  return Array.from({ length: 140 }, (_, k) => words[(k * 7 + i) % words.length]).join(' ');
}

async function main(): Promise<void> {
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (only === 'importance') return benchImportance();
  if (only === 'gradients') return benchGradients(modelPath);
  if (only === 'heatmap') return benchHeatmapRender();
  console.log(`Loupe bench — model ${path.relative(process.cwd(), modelPath) || modelPath}, ${THREADS} threads, node ${process.versions.node}`);
  const model = { path: modelPath };

  // `npm run bench -- --attribution`: only section 8.
  if (args.includes('--attribution')) return benchAttribution(modelPath);
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
  // Where the difference goes: the bare loop is given token ids; the engine tokenizes 64 texts and
  // maps every token to its characters first (same code as the worker, timed here in-process).
  const tokenizer = new TextTokenizer(path.join(info.path, 'tokenizer.json'), path.join(info.path, 'tokenizer_config.json'));
  const tokTimes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = process.hrtime.bigint();
    for (const t of texts) tokenizer.encode(t, SEQ);
    tokTimes.push(ms(process.hrtime.bigint() - s));
  }
  const tok = median(tokTimes);
  console.log(`  of which tokenizing 64 texts: ${fmt(tok, 1)} ms; engine minus tokenizing: ${fmt((100 * (eng - tok - bare)) / bare, 1)} % over bare`);

  // 4. Attention: a forward that also fetches every layer's probabilities, against a plain forward.
  await benchAttention(info.onnxFile, info.sha256, feeds1(ids[0]!));

  // 5. Rewriting and caching a 300 MB model.
  benchRewrite300(info.onnxFile);

  // 6. Peak memory of the worker process.
  const pid = engine.pid;
  const peak = pid !== undefined ? peakMemoryMB(pid) : null;
  console.log(`peak worker memory (VmHWM):     ${peak !== null ? `${fmt(peak, 0)} MB` : 'not available on this platform'}`);
  await engine.dispose();

  // 7. Heatmap render time in Chromium.
  await benchHeatmapRender();

  // 8. Token attribution methods at 128 tokens with Captum's budgets, against a bare loop.
  await benchAttribution(modelPath);

  // 9. Exact gradients: IG at 128 tokens on this model and on a DistilBERT-sized one; backward / forward.
  await benchGradients(modelPath);
  // 10. Permutation importance on 100k rows and on a 1 GB CSV.
  await benchImportance();
}

function feeds1(row: number[]): Record<string, ort.Tensor> {
  const ids = BigInt64Array.from(row, (v) => BigInt(v));
  return {
    input_ids: new ort.Tensor('int64', ids, [1, row.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(row.length).fill(1n), [1, row.length]),
  };
}

async function timeRuns(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, fetches: string[], rounds: number): Promise<number> {
  await session.run(feeds, fetches);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = process.hrtime.bigint();
    await session.run(feeds, fetches);
    times.push(ms(process.hrtime.bigint() - s));
  }
  return median(times);
}

async function benchAttention(onnxFile: string, sha256: string, feeds: Record<string, ort.Tensor>): Promise<void> {
  const facts = readOnnxFacts(onnxFile);
  const taps = findAttention(facts.graph, facts.opset, onnxFile);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-'));
  const rewritten = modelWithOutputs(onnxFile, sha256, taps.map((t) => ({ name: t.tensor, elemType: 1, dims: ['b', 'h', 'q', 'k'] })), facts.graph.externalFiles, cache);
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: THREADS, interOpNumThreads: 1 };
  const plain = await ort.InferenceSession.create(onnxFile, opts);
  const withAttention = await ort.InferenceSession.create(rewritten, opts);
  const tPlain = await timeRuns(plain, feeds, ['logits'], 100);
  const tAttn = await timeRuns(withAttention, feeds, ['logits', ...taps.map((t) => t.tensor)], 100);
  console.log(`forward, 1 × ${feeds.input_ids!.dims[1]} tok: plain ${fmt(tPlain)} ms, with ${taps.length} attention outputs ${fmt(tAttn)} ms: +${fmt((100 * (tAttn - tPlain)) / tPlain, 1)} %   (goal < 20 %)`);
  await plain.release();
  await withAttention.release();
  fs.rmSync(cache, { recursive: true, force: true });
}

/** Appends an unused 300 MB initializer to a copy of the model (protobuf merges the appended graph field). */
function writeBigModel(source: string, target: string, bytes: number): void {
  const varint = (n: number): Buffer => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  };
  const name = Buffer.from('loupe_bench_padding');
  // TensorProto { dims(1) = n, data_type(2) = 1 (float), name(8), raw_data(9) }
  const tensorHead = Buffer.concat([Buffer.from([0x08]), varint(bytes / 4), Buffer.from([0x10, 0x01, 0x42]), varint(name.length), name, Buffer.from([0x4a]), varint(bytes)]);
  const tensorLen = tensorHead.length + bytes;
  const initializerHead = Buffer.concat([Buffer.from([0x2a]), varint(tensorLen)]);
  const graphLen = initializerHead.length + tensorLen;
  fs.copyFileSync(source, target);
  const fd = fs.openSync(target, 'a');
  fs.writeSync(fd, Buffer.concat([Buffer.from([0x3a]), varint(graphLen), initializerHead, tensorHead]));
  const zeros = Buffer.alloc(1 << 20);
  for (let written = 0; written < bytes; written += zeros.length) fs.writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - written));
  fs.closeSync(fd);
}

function benchRewrite300(onnxFile: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-big-'));
  const big = path.join(dir, 'model.onnx');
  writeBigModel(onnxFile, big, 300 * 1024 * 1024);
  const before = process.memoryUsage().rss;
  let peak = before;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t = process.hrtime.bigint();
  const facts = readOnnxFacts(big);
  const taps = findAttention(facts.graph, facts.opset, big);
  modelWithOutputs(big, 'bench-300mb', taps.map((x) => ({ name: x.tensor, elemType: 1, dims: ['b', 'h', 'q', 'k'] })), facts.graph.externalFiles, dir);
  const took = ms(process.hrtime.bigint() - t);
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(sample);
  const size = fs.statSync(big).size / 1e6;
  console.log(`rewrite + cache a ${fmt(size, 0)} MB model: ${fmt(took, 0)} ms, resident memory +${fmt((peak - before) / 1e6, 0)} MB   (goal: a few seconds, not two copies)`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
