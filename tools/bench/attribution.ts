// Attribution speed on one model at 128 tokens, with Captum's budgets: Integrated Gradients with 50
// steps, LIME and KernelSHAP with 500 samples, leave-one-out occlusion (and Gradient × Input). For
// each method: its wall time, its forward rows per second, and the rows per second of a bare batched
// onnxruntime-node loop over as many rows of the same shape and batch size (the id rows for the
// perturbation methods, embedding rows through the rewritten model for the gradient methods).
// Figures, not tests. Called from tools/bench/main.ts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CancelToken } from '../../src/engine/cancellation';
import { attribute, AttributionRequest, RunEnv } from '../../src/engine/methods/attribution';
import { embeddingModel, findWordEmbedding } from '../../src/engine/methods/attribution/embeddingGraph';
import { loadModel } from '../../src/engine/model/loadModel';

const THREADS = 2;
const SEQ = 128;

const ms = (ns: bigint): number => Number(ns) / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function longText(): string {
  const words = 'please review the attached invoice for your account and reply with the signed contract before friday so we can ship the order'.split(' ');
  return Array.from({ length: 160 }, (_, k) => words[(k * 7) % words.length]).join(' ');
}

/** Rows per second of session.run over `rows` rows of `width` tokens in batches of `batch`, inputs built once. */
async function bareRowsPerSecond(session: ort.InferenceSession, feedsFor: (batch: number) => Record<string, ort.Tensor>, rows: number, batch: number): Promise<number> {
  const full = feedsFor(batch);
  const lastSize = rows % batch;
  const last = lastSize > 0 ? feedsFor(lastSize) : null;
  await session.run(full);
  const t = process.hrtime.bigint();
  for (let done = 0; done < rows; done += batch) await session.run(done + batch > rows && last ? last : full);
  return rows / (ms(process.hrtime.bigint() - t) / 1000);
}

function intFeeds(names: readonly string[], ids: number[], batch: number): Record<string, ort.Tensor> {
  const width = ids.length;
  const feeds: Record<string, ort.Tensor> = {};
  const flat = new BigInt64Array(batch * width);
  for (let b = 0; b < batch; b++) for (let j = 0; j < width; j++) flat[b * width + j] = BigInt(ids[j]!);
  for (const name of names) {
    if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', flat, [batch, width]);
    else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', new BigInt64Array(batch * width).fill(1n), [batch, width]);
    else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', new BigInt64Array(batch * width), [batch, width]);
    else if (name === 'position_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from({ length: batch * width }, (_, i) => BigInt(i % width)), [batch, width]);
  }
  return feeds;
}

export async function benchAttribution(modelPath: string): Promise<void> {
  const model = await loadModel({ path: modelPath }, THREADS);
  if (model.info.task !== 'text-classifier' && model.info.task !== 'causal-lm') {
    console.log(`attribution: ${path.basename(modelPath)} is a ${model.info.task}; token attributions need a text model`);
    return;
  }
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-attribution-'));
  const env: RunEnv = { cacheDir, threads: THREADS, maxMemoryMB: 2048 };
  const work = { token: new CancelToken(), progress: () => undefined };
  const text = longText();
  const ids = model.tokenizer!.encode(text, SEQ).ids;
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: THREADS, interOpNumThreads: 1 };
  const plain = await ort.InferenceSession.create(model.info.onnxFile, opts);
  let embedded: { session: ort.InferenceSession; tensor: string; hidden: number } | null = null;
  try {
    const emb = findWordEmbedding(model.facts.graph, model.info.onnxFile);
    const rewritten = embeddingModel(model.info.onnxFile, model.info.sha256, emb, model.facts.graph.externalFiles, cacheDir);
    embedded = { session: await ort.InferenceSession.create(rewritten.path, opts), tensor: emb.tensor, hidden: rewritten.weightDims?.[1] ?? 0 };
  } catch (e) {
    console.log(`attribution: gradient methods unavailable on this model (${(e as Error).message})`);
  }

  // The last field: Captum on PyTorch on this machine for a similar model (issue #4), in seconds.
  // IG and Gradient x Input by finite differences here, measured against a bare forward loop; exact gradients: gradients.ts.
  const methods: [string, AttributionRequest, number | null][] = [
    ['leave-one-out (occlusion)', { method: 'occlusion' }, 0.18],
    ['LIME, 500 samples', { method: 'lime', samples: 500 }, 0.9],
    ['KernelSHAP, 500 samples', { method: 'kernelshap', samples: 500 }, 0.84],
    ['Integrated Gradients, 50 steps (finite differences)', { method: 'ig', steps: 50, gradients: 'finite-differences' }, 0.24],
    ['Gradient x Input (finite differences)', { method: 'gradxinput', gradients: 'finite-differences' }, null],
  ];
  console.log(`attribution on ${path.basename(modelPath)}, ${ids.length} tokens, ${THREADS} threads (load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores):`);
  for (const [name, req, captumSeconds] of methods) {
    const gradient = req.method === 'ig' || req.method === 'gradxinput';
    if (gradient && !embedded) continue;
    const full: AttributionRequest = { ...req, maxTokens: SEQ, faithfulness: false };
    // Warm-up (sessions, the rewritten model), then timed runs alternating with the bare loop, so
    // that both see the same load on a shared machine; medians of 3 rounds (1 for runs over 10 s).
    await attribute(model, text, { ...full, steps: req.steps ? 2 : undefined, samples: req.samples ? 20 : undefined }, env, work);
    const walls: number[] = [];
    const bares: number[] = [];
    let r: Awaited<ReturnType<typeof attribute>> | null = null;
    for (let round = 0; round < 3; round++) {
      const t = process.hrtime.bigint();
      r = await attribute(model, text, full, env, work);
      walls.push(ms(process.hrtime.bigint() - t));
      const batch = Math.max(1, r.batchSize);
      bares.push(
        gradient
          ? await bareRowsPerSecond(
              embedded!.session,
              (b) => ({ ...intFeeds(embedded!.session.inputNames, ids, b), [embedded!.tensor]: new ort.Tensor('float32', new Float32Array(b * ids.length * embedded!.hidden), [b, ids.length, embedded!.hidden]) }),
              r.forwardPasses,
              batch,
            )
          : await bareRowsPerSecond(plain, (b) => intFeeds(plain.inputNames, ids, b), r.forwardPasses, batch),
      );
      if (walls[0]! > 10_000) break;
    }
    const wall = median(walls);
    const bare = median(bares);
    const engineRate = r!.forwardPasses / (wall / 1000);
    const batch = Math.max(1, r!.batchSize);
    console.log(
      `  ${name.padEnd(32)} ${wall.toFixed(0).padStart(7)} ms, ${String(r!.forwardPasses).padStart(6)} rows: ${engineRate.toFixed(0).padStart(6)} rows/s; ` +
        `bare onnxruntime-node ${bare.toFixed(0).padStart(6)} rows/s (batch ${batch}): overhead ${((100 * (bare - engineRate)) / bare).toFixed(1)} %` +
        (captumSeconds !== null ? `; Captum ${(captumSeconds * 1000).toFixed(0)} ms (× ${(wall / 1000 / captumSeconds).toFixed(2)})` : ''),
    );
  }
  await plain.release();
  if (embedded) await embedded.session.release();
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
