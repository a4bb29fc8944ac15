// Predictions for the three model families: text classifiers, causal LMs (next token and greedy
// generation) and tabular models. Work runs in memory-bounded batches and checks for cancellation
// between them.

import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoupeError } from '../../protocol/errors';
import type {
  NextToken,
  NextTokenPrediction,
  Prediction,
  ScoredLabel,
  TabularPrediction,
  TextClassification,
  TensorSpec,
} from '../../protocol/workerProtocol';
import type { CancelToken, ProgressFn } from '../cancellation';
import type { LoadedModel } from '../model/loadModel';
import { primaryOutput } from '../model/task';
import type { EncodedText } from '../tokenize/textTokenizer';
import { lengthBatches, MAX_TABULAR_BATCH, textBatchSize } from './batching';
import { checkTextInputs, tabularFeeds, textFeeds } from './feeds';
import { classProbabilities, tabularOutput } from './tabularOutputs';
import { argmax, logSumExp, softmax, topK } from './math';

export interface PredictOptions {
  topK: number;
  generate: number;
  maxTokens: number | null;
  maxMemoryMB: number;
}

export interface Work {
  token: CancelToken;
  progress: ProgressFn;
}

export interface Predictions {
  predictions: Prediction[];
  batchSize: number;
}

function outputFor(model: LoadedModel): TensorSpec {
  const out = primaryOutput(model.entry.outputs.filter((o) => o.type !== 'non-tensor'));
  if (!out) {
    throw new LoupeError(
      'UNSUPPORTED',
      `${path.basename(model.info.onnxFile)} has no tensor output Loupe can read (a ZipMap output? Export with zipmap disabled).`,
      { file: model.info.onnxFile },
    );
  }
  return out;
}

async function run(model: LoadedModel, feeds: Record<string, ort.Tensor>, output: string): Promise<ort.Tensor> {
  try {
    const result = await model.entry.session.run(feeds, [output]);
    return result[output]!;
  } catch (e) {
    throw new LoupeError('INFERENCE_FAILED', `Running ${path.basename(model.info.onnxFile)} failed: ${(e as Error).message}`, {
      file: model.info.onnxFile,
    });
  }
}

const floats = (t: ort.Tensor): Float32Array | Float64Array => {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new LoupeError('UNSUPPORTED', `The model's output is ${t.type}; Loupe reads float outputs.`);
};

function scored(labels: string[] | null, logits: ArrayLike<number>, probs: number[]): ScoredLabel[] {
  return probs.map((p, i) => ({ index: i, label: labels?.[i] ?? `LABEL_${i}`, probability: p, logit: logits[i]! }));
}

// ---- text ---------------------------------------------------------------------------------------------

/** Tokenizes in slices, yielding between them so that a cancel request is heard during long inputs. */
export async function encodeTexts(model: LoadedModel, texts: string[], maxTokens: number | null, work: Work): Promise<EncodedText[]> {
  const tokenizer = model.tokenizer!;
  const limit = maxTokens !== null ? Math.min(maxTokens, model.maxLength) : model.maxLength;
  const encoded: EncodedText[] = [];
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i]!;
    if (text.trim().length === 0) {
      throw new LoupeError('EMPTY_INPUT', texts.length > 1 ? `Text ${i + 1} is empty: there is nothing to run the model on.` : 'The text is empty: there is nothing to run the model on.');
    }
    encoded.push(tokenizer.encode(text, limit));
    if (i % 64 === 63) {
      await new Promise((resolve) => setImmediate(resolve));
      work.token.throwIfCancelled();
      work.progress(0, texts.length, 'Tokenizing');
    }
  }
  return encoded;
}

/** Runs the model over token rows in batches; calls `use` with each row's output slice [rows × per-row]. */
async function forwardRows(
  model: LoadedModel,
  rows: number[][],
  opts: PredictOptions,
  work: Work,
  use: (row: number, out: Float32Array | Float64Array, offset: number, perRow: number, seqWidth: number) => void,
): Promise<number> {
  const out = outputFor(model);
  checkTextInputs(model.entry.inputs, model.config, model.info.onnxFile);
  const vocab = model.info.task === 'causal-lm' ? (model.info.vocabSize ?? 50_000) : 0;
  const padId = model.tokenizer?.padId ?? 0;
  const sizeFor = (len: number): number => textBatchSize(opts.maxMemoryMB, len, vocab, model.config);
  const batches = lengthBatches(rows.map((r) => r.length), sizeFor);
  let done = 0;
  let largest = 0;
  for (const batch of batches) {
    work.token.throwIfCancelled();
    largest = Math.max(largest, batch.length);
    const feeds = textFeeds(model.entry.inputs, batch.map((i) => rows[i]!), padId, model.config, model.info.onnxFile);
    const result = await run(model, feeds, out.name);
    const data = floats(result);
    const perRow = data.length / batch.length;
    const seqWidth = result.dims.length === 3 ? result.dims[1]! : 1;
    batch.forEach((rowIndex, b) => use(rowIndex, data, b * perRow, perRow, seqWidth));
    done += batch.length;
    work.progress(done, rows.length);
  }
  return largest;
}

export async function classifyTexts(model: LoadedModel, texts: string[], opts: PredictOptions, work: Work): Promise<Predictions> {
  const encoded = await encodeTexts(model, texts, opts.maxTokens, work);
  const predictions: TextClassification[] = new Array(texts.length);
  const batchSize = await forwardRows(model, encoded.map((e) => e.ids), opts, work, (i, data, offset, perRow) => {
    const width = perRow;
    const logits = Array.from(data.subarray(offset, offset + width));
    const probs = softmax(logits);
    const labels = scored(model.info.labels, logits, probs);
    predictions[i] = {
      kind: 'text-classification',
      text: texts[i]!,
      tokens: encoded[i]!.tokens,
      truncation: encoded[i]!.truncation,
      logits,
      probabilities: probs,
      labels,
      predicted: labels[argmax(logits)]!,
    };
  });
  return { predictions, batchSize };
}

function nextTokens(model: LoadedModel, logits: number[], k: number): NextToken[] {
  const lse = logSumExp(logits);
  return topK(logits, k).map((id) => {
    const token = model.tokenizer!.idToToken(id);
    return { id, token, text: model.tokenizer!.decode([id]), logit: logits[id]!, probability: Math.exp(logits[id]! - lse) };
  });
}

/** Next-token logits at each row's last real position. */
async function lastLogits(model: LoadedModel, rows: number[][], opts: PredictOptions, work: Work): Promise<{ logits: number[][]; batchSize: number }> {
  const logits: number[][] = new Array(rows.length);
  const batchSize = await forwardRows(model, rows, opts, work, (i, data, offset, perRow, seqWidth) => {
    const vocab = perRow / seqWidth; // each row is [sequence × vocab]
    const pos = rows[i]!.length - 1;
    logits[i] = Array.from(data.subarray(offset + pos * vocab, offset + (pos + 1) * vocab));
  });
  return { logits, batchSize };
}

export async function predictNextTokens(model: LoadedModel, texts: string[], opts: PredictOptions, work: Work): Promise<Predictions> {
  const encoded = await encodeTexts(model, texts, opts.maxTokens, work);
  const { logits, batchSize } = await lastLogits(model, encoded.map((e) => e.ids), opts, work);
  const predictions: NextTokenPrediction[] = [];
  for (let i = 0; i < texts.length; i++) {
    let generated: NextTokenPrediction['generated'] = null;
    if (opts.generate > 0) generated = await generateGreedy(model, encoded[i]!.ids, logits[i]!, opts, work);
    predictions.push({
      kind: 'next-token',
      text: texts[i]!,
      tokens: encoded[i]!.tokens,
      truncation: encoded[i]!.truncation,
      logits: logits[i]!,
      top: nextTokens(model, logits[i]!, opts.topK),
      generated,
    });
  }
  return { predictions, batchSize };
}

/** Greedy decoding without a cache: each step reruns the prefix, which is exact and simple. */
async function generateGreedy(model: LoadedModel, ids: number[], first: number[], opts: PredictOptions, work: Work): Promise<{ tokens: NextToken[]; text: string }> {
  const tokens: NextToken[] = [];
  const sequence = [...ids];
  let logits = first;
  const limit = opts.maxTokens !== null ? Math.min(opts.maxTokens, model.maxLength) : model.maxLength;
  for (let step = 0; step < opts.generate && sequence.length < limit; step++) {
    const [next] = nextTokens(model, logits, 1);
    tokens.push(next!);
    sequence.push(next!.id);
    work.progress(step + 1, opts.generate, 'Generating');
    if (step + 1 < opts.generate && sequence.length < limit) {
      const quiet: Work = { token: work.token, progress: () => undefined };
      logits = (await lastLogits(model, [sequence], opts, quiet)).logits[0]!;
    }
  }
  return { tokens, text: model.tokenizer!.decode(tokens.map((t) => t.id)) };
}

// ---- tabular ------------------------------------------------------------------------------------------

function featureCount(model: LoadedModel): number | null {
  const last = model.entry.inputs[0]?.shape[1];
  if (typeof last === 'number') return last;
  return model.info.featureNames?.length ?? null;
}

export async function predictRows(model: LoadedModel, rows: number[][], work: Work): Promise<Predictions> {
  const file = model.info.onnxFile;
  if (rows.length === 0) throw new LoupeError('EMPTY_INPUT', 'No rows were given: there is nothing to predict.', { file });
  const width = featureCount(model) ?? rows[0]!.length;
  rows.forEach((r, i) => {
    if (r.length !== width) throw new LoupeError('BAD_REQUEST', `Row ${i + 1} has ${r.length} values; ${path.basename(file)} takes ${width} features.`, { file });
    const bad = r.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new LoupeError('BAD_REQUEST', `Row ${i + 1}, feature ${model.info.featureNames?.[bad] ?? bad + 1}: ${r[bad]} is not a finite number.`, { file });
  });
  const read = tabularOutput(model);
  if (read.kind === 'labels') throw new LoupeError('UNSUPPORTED', read.zipmapHint ?? `${path.basename(file)} gives only class labels; predictions need probabilities or logits.`, { file });
  const out = read.spec;
  const classifier = model.info.task === 'tabular-classifier';
  const predictions: TabularPrediction[] = [];
  for (let start = 0; start < rows.length; start += MAX_TABULAR_BATCH) {
    work.token.throwIfCancelled();
    const chunk = rows.slice(start, start + MAX_TABULAR_BATCH);
    const result = await run(model, tabularFeeds(model.entry.inputs, chunk, file), out.name);
    const data = floats(result);
    const per = data.length / chunk.length;
    chunk.forEach((row, b) => {
      const outputs = Array.from(data.subarray(b * per, (b + 1) * per));
      if (!classifier) {
        predictions.push({ kind: 'tabular', row, outputs, labels: null, predicted: null, value: outputs[0]! });
        return;
      }
      const probs = classProbabilities(outputs, read.kind);
      const labels = scored(model.info.labels, per === 1 ? probs : outputs, probs);
      predictions.push({ kind: 'tabular', row, outputs, labels, predicted: labels[argmax(probs)]!, value: null });
    });
    work.progress(Math.min(rows.length, start + chunk.length), rows.length);
  }
  return { predictions, batchSize: Math.min(rows.length, MAX_TABULAR_BATCH) };
}
