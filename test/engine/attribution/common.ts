// Shared by the attribution suites: the Captum and Hugging Face fixtures, a run environment with a
// temporary cache, and the comparison figures (max |Δ|, relative L2, Spearman).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CancelToken } from '../../../src/engine/cancellation';
import type { Work } from '../../../src/engine/inference/predict';
import { attribute, AttributionRequest, AttributionResult, RunEnv } from '../../../src/engine/methods/attribution';
import { LoadedModel, loadModel } from '../../../src/engine/model/loadModel';
import { MODELS, readJson, SHARED_FIXTURES, TEST_FIXTURES, tempDir } from '../../helpers';
import { modelWithUnsupportedOp } from '../../unsupportedOpModel';

export const CAPTUM = path.join(SHARED_FIXTURES, 'captum');
export const HF = path.join(SHARED_FIXTURES, 'hf');
/** The tiny architectures with PyTorch references (tools/fixtures). */
export const ATTRIBUTION_FIXTURES = path.join(TEST_FIXTURES, 'attribution');

/**
 * The models that have PyTorch autograd references of `kind` (attention_grads, layer_grads): the three
 * tiny architectures, each with its `<kind>.json`, and the bundled classifier, whose references sit beside them.
 */
export function torchReferenceCases(kind: string): [name: string, modelDir: string, refFile: string][] {
  const dir = ATTRIBUTION_FIXTURES;
  return [
    ...['roberta-cls', 'distilbert-cls', 'llama-lm'].map((name): [string, string, string] => [name, path.join(dir, name), path.join(dir, name, `${kind}.json`)]),
    ['spam-classifier', path.join(MODELS, 'spam-classifier'), path.join(dir, `spam-classifier.${kind}.json`)],
  ];
}

export interface CaptumAttribution {
  per_token: number[];
  [key: string]: unknown;
}
export interface CaptumCase {
  name: string;
  kind: 'classifier' | 'lm';
  text: string;
  ids: number[];
  special_positions: number[];
  target: number;
  target_value: number;
  attributions: Record<string, CaptumAttribution & { F_baseline?: number; F_input?: number; delta?: number; sum?: number }>;
}

export function captumCases(): CaptumCase[] {
  const out: CaptumCase[] = [];
  for (const kind of ['classifier', 'lm'] as const) {
    const dir = path.join(CAPTUM, kind);
    for (const f of fs.readdirSync(dir).sort()) out.push({ ...readJson<CaptumCase>(path.join(dir, f)), name: `${kind}/${f}`, kind });
  }
  return out;
}

export const ENV: RunEnv = { cacheDir: tempDir('attribution-cache'), threads: 2, maxMemoryMB: 1024 };
process.on('exit', () => fs.rmSync(ENV.cacheDir, { recursive: true, force: true }));

export function quiet(token = new CancelToken()): Work {
  return { token, progress: () => undefined };
}

const models = new Map<string, Promise<LoadedModel>>();
export function model(dir: string, onnxFile?: string): Promise<LoadedModel> {
  const key = `${dir}|${onnxFile ?? ''}`;
  let m = models.get(key);
  if (!m) {
    m = loadModel({ path: dir, onnxFile }, 2);
    models.set(key, m);
  }
  return m;
}

/** One text of a Hugging Face fixture's reference.json, with its autograd references. */
export interface HfReference {
  text: string;
  input_ids: number[];
  target: { class?: number; token_id?: number };
  grad_x_input: number[];
  saliency_l2: number[];
  ig_zero_baseline: number[];
  f_x: number;
  f_baseline_zero: number;
}

/** Every export of the Hugging Face fixtures: [folder, file]. */
export const HF_FILES: [string, string][] = [
  ['bert-cls', 'model.onnx'],
  ['bert-cls', 'model_dynamo.onnx'],
  ['gpt2-lm', 'model.onnx'],
  ['gpt2-lm', 'model_sdpa.onnx'],
];

/** The target a Hugging Face reference was computed for (a class, or the next token). */
export function hfTarget(ref: HfReference): NonNullable<AttributionRequest['target']> {
  return ref.target.class !== undefined ? { kind: 'class', index: ref.target.class } : { kind: 'next-token', tokenId: ref.target.token_id! };
}

/**
 * A test per Hugging Face export (named `hf/<folder>/<file>`): `check` runs on each of its autograd
 * references, and the export's file must be left as it was (never written by the engine).
 */
export function testHfReferences(check: (m: LoadedModel, ref: HfReference, name: string) => Promise<void>): void {
  for (const [folder, file] of HF_FILES) {
    const name = `hf/${folder}/${file}`;
    test(name, async () => {
      const dir = path.join(HF, folder);
      const before = fs.statSync(path.join(dir, file)).mtimeMs;
      const m = await model(dir, file);
      for (const ref of readJson<{ references: HfReference[] }>(path.join(dir, 'reference.json')).references) await check(m, ref, name);
      assert.equal(fs.statSync(path.join(dir, file)).mtimeMs, before, "the user's model is not modified");
    });
  }
}

export const captumModel = (kind: 'classifier' | 'lm'): Promise<LoadedModel> => model(path.join(CAPTUM, 'models', kind));

export async function run(m: LoadedModel, text: string, req: AttributionRequest, work = quiet()): Promise<AttributionResult> {
  return attribute(m, text, { faithfulness: false, ...req }, ENV, work);
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** ‖a − ref‖ / ‖ref‖. */
export function relL2(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

function ranks(a: number[]): number[] {
  const order = a.map((_, i) => i).sort((x, y) => a[x]! - a[y]!);
  const r = new Array<number>(a.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && a[order[j + 1]!] === a[order[i]!]) j++;
    for (let k = i; k <= j; k++) r[order[k]!] = (i + j) / 2; // ties share their mean rank
    i = j + 1;
  }
  return r;
}

export function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** The scores at the non-special positions (the features), in order. */
export const featuresOf = (c: CaptumCase, xs: number[]): number[] => xs.filter((_, i) => !c.special_positions.includes(i));

export function log(line: string): void {
  // Parity figures go to the test log, for the record.
  process.stdout.write(`${line}\n`);
}

/** A copy of a fixture folder whose model has every Erf replaced by Tan, an op Loupe does not differentiate (same name length: the bytes stay framed). */
export function withUnsupportedOp(): string {
  return modelWithUnsupportedOp(TEST_FIXTURES, tempDir('unsupported-op'));
}
