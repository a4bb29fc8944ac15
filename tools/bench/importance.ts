// Permutation importance figures (not tests), called from tools/bench/main.ts:
//  a. 100,000 rows × 30 features × 5 repeats with the small 30-feature MLP fixture: through the
//     worker end to end, and its parts (reading; permutations + scoring) against a bare batched
//     onnxruntime-node loop over as many rows of the same data, (1 + 30 × 5) × 100,000, in batches of
//     the same size;
//  b. a 1 GB CSV (written to a temp dir, deleted after) streamed through the worker with the default
//     row budget: time and the worker's peak resident memory (VmHWM).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CancelToken } from '../../src/engine/cancellation';
import { loadTable } from '../../src/engine/data/table';
import { MAX_TABULAR_BATCH } from '../../src/engine/inference/batching';
import { permutationImportance } from '../../src/engine/methods/importance/permutation';
import { targetValues } from '../../src/engine/methods/importance/tabularImportance';
import { TabularRunner } from '../../src/engine/methods/importance/tabularRunner';
import { loadModel } from '../../src/engine/model/loadModel';
import { Rng } from '../../src/engine/methods/attribution/rng';
import { packageRoot, workerEntry } from '../../src/packageRoot';
import { WorkerSupervisor } from '../../src/worker/supervisor';

const THREADS = 2;
const ms = (ns: bigint): number => Number(ns) / 1e6;
const fmt = (x: number, digits = 2): string => x.toFixed(digits);
const MODEL = path.join(packageRoot(), 'test', 'fixtures', 'models', 'tabular-mlp30');

function peakMemoryMB(pid: number | undefined): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** Writes a CSV of 30 gaussian-ish features and a 0/1 label until it has `rows` rows or `bytes` bytes. */
function writeCsv(file: string, limit: { rows?: number; bytes?: number }, seed: number): number {
  const rng = new Rng(seed);
  const pool = Array.from({ length: 8192 }, () => {
    const x = Array.from({ length: 30 }, () => (rng.next() + rng.next() + rng.next() - 1.5) * 2);
    return `${x.map((v) => v.toFixed(5)).join(',')},${rng.int(2)}\n`;
  });
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, `${Array.from({ length: 30 }, (_, i) => `x${i + 1}`).join(',')},label\n`);
  let rows = 0;
  let bytes = 0;
  const maxRows = limit.rows ?? Infinity;
  const maxBytes = limit.bytes ?? Infinity;
  while (rows < maxRows && bytes < maxBytes) {
    const chunk: string[] = [];
    for (let i = 0; i < 4096 && rows < maxRows; i++, rows++) chunk.push(pool[(rows * 7919 + (rows >> 13)) % pool.length]!);
    const s = chunk.join('');
    fs.writeSync(fd, s);
    bytes += s.length;
  }
  fs.closeSync(fd);
  return rows;
}

/**
 * The bare loop: session.run over `rows` rows in batches of MAX_TABULAR_BATCH, each batch a view of
 * the dataset's own rows (float32, row-major), cycling through them: what running the model over the
 * data that many times costs, with no permuting or scoring.
 */
async function bareLoop(X: Float64Array, n: number, features: number, rows: number): Promise<number> {
  const session = await ort.InferenceSession.create(path.join(MODEL, 'model.onnx'), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: THREADS, interOpNumThreads: 1 });
  const data = Float32Array.from(X);
  const B = MAX_TABULAR_BATCH;
  const batchAt = (start: number, size: number): ort.Tensor => new ort.Tensor('float32', data.subarray(start * features, (start + size) * features), [size, features]);
  await session.run({ input: batchAt(0, Math.min(B, n)) }, ['probabilities']);
  const t = process.hrtime.bigint();
  let start = 0;
  for (let done = 0; done < rows; ) {
    const size = Math.min(B, n - start, rows - done);
    await session.run({ input: batchAt(start, size) }, ['probabilities']);
    done += size;
    start = start + size >= n ? 0 : start + size;
  }
  const took = ms(process.hrtime.bigint() - t);
  await session.release();
  return took;
}

export async function benchImportance(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-importance-'));
  try {
    // a. 100,000 × 30 × 5: the worker end to end, then (in-process, the same engine code) reading
    // alone and the permutations alone against the bare loop, interleaved twice (the best of each
    // counts: the machine is shared, so single timings are noisy).
    const csv = path.join(dir, 'rows100k.csv');
    const n = writeCsv(csv, { rows: 100_000 }, 7);
    const params = { model: { path: MODEL }, data: { path: csv }, target: 'label', scoring: 'accuracy' as const, repeats: 5, seed: 0 };
    const engine = new WorkerSupervisor({ workerPath: workerEntry(), settings: { threads: THREADS, maxMemoryMB: 2048 }, requestTimeoutMs: 3_600_000 });
    await engine.request('describe', { model: params.model });
    const t = process.hrtime.bigint();
    const r = await engine.request('importance', params);
    const took = ms(process.hrtime.bigint() - t);
    await engine.dispose();

    const model = await loadModel(params.model, THREADS);
    const work = { token: new CancelToken(), progress: () => undefined };
    const columns = Array.from({ length: 30 }, (_, i) => `x${i + 1}`);
    const tr = process.hrtime.bigint();
    const table = await loadTable({ ref: params.data, features: columns, target: 'label', text: null, rowBudget: 100_000, seed: 0, imputation: 'none' }, work.token, work.progress);
    const read = ms(process.hrtime.bigint() - tr);
    const y = targetValues(table, model.info, 'label');
    const groups = columns.map((c, k) => ({ name: c, columns: [c], indices: [k] }));
    const compute: number[] = [];
    const bare: number[] = [];
    for (let round = 0; round < 2; round++) {
      const runner = new TabularRunner(model, 30);
      const tc = process.hrtime.bigint();
      await permutationImportance(runner, { X: table.X, n: table.n, width: 30, groups, definition: 'sklearn', scoring: 'accuracy', y, repeats: 5, seed: 0, maxSamples: undefined }, work);
      compute.push(ms(process.hrtime.bigint() - tc));
      bare.push(await bareLoop(table.X, table.n, 30, r.forwardRows));
    }
    const c = Math.min(...compute);
    const b = Math.min(...bare);
    console.log(`importance ${n} rows × 30 features × 5 repeats = ${r.forwardRows} model rows (tabular-mlp30 fixture, ${THREADS} threads):`);
    console.log(`  through the worker, end to end (reading the ${fmt(fs.statSync(csv).size / 1e6, 0)} MB CSV included): ${fmt(took / 1000)} s`);
    console.log(`  reading + strict parsing the CSV: ${fmt(read / 1000)} s; permutations + scoring: ${fmt(c / 1000)} s (runs: ${compute.map((x) => fmt(x / 1000)).join(', ')})`);
    console.log(`  bare batched onnxruntime-node loop over the same data, as many rows, batch ${MAX_TABULAR_BATCH}: ${fmt(b / 1000)} s (runs: ${bare.map((x) => fmt(x / 1000)).join(', ')})`);
    console.log(`  overhead of the permutation loop over the bare loop: ${fmt((100 * (c - b)) / b, 1)} %   (goal < 15 %); end to end: ${fmt((100 * (took - b)) / b, 1)} %`);

    // b. A 1 GB CSV, streamed with the default row budget (100,000 rows sampled by reservoir).
    const big = path.join(dir, 'big.csv');
    const tw = process.hrtime.bigint();
    const bigRows = writeCsv(big, { bytes: 1024 ** 3 }, 8);
    const writeTook = ms(process.hrtime.bigint() - tw);
    const engine3 = new WorkerSupervisor({ workerPath: workerEntry(), settings: { threads: THREADS, maxMemoryMB: 2048 }, requestTimeoutMs: 3_600_000 });
    await engine3.request('describe', { model: params.model });
    const before = peakMemoryMB(engine3.pid);
    const tb = process.hrtime.bigint();
    const rb = await engine3.request('importance', { ...params, data: { path: big }, repeats: 1 });
    const bigTook = ms(process.hrtime.bigint() - tb);
    const peak = peakMemoryMB(engine3.pid);
    await engine3.dispose();
    console.log(`1 GB CSV (${fmt(fs.statSync(big).size / 1e9, 2)} GB, ${bigRows} rows, written in ${fmt(writeTook / 1000, 1)} s): importance with 1 repeat on a ${rb.dataset.rowsUsed}-row reservoir sample in ${fmt(bigTook / 1000, 1)} s`);
    console.log(`  worker peak memory (VmHWM): ${peak !== null ? `${fmt(peak, 0)} MB` : 'n/a'} (${before !== null ? `${fmt(before, 0)} MB after loading the model` : ''})   (goal < 500 MB)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
