#!/usr/bin/env node
// Checks the bundled demo models in models/ from the JavaScript side.
//
//   node tools/check_models.mjs [--strict]
//
// For each model:
//  * model.onnx < 10 MB, loads in onnxruntime-node, has the expected input/output names;
//  * text models: @huggingface/tokenizers (JS) ids == Python tokenizer ids
//    (tools/py_tokenize.py, run with $LOUPE_PYTHON or /usr/bin/python3) on every held-out
//    row plus a few edge-case strings;
//  * ONNX Runtime outputs == torch outputs (max abs diff <= 1e-4) on the reference inputs the
//    training scripts wrote to .cache/check/<model>.json (skipped with a notice if absent,
//    a failure with --strict);
//  * held-out metrics recomputed with ONNX Runtime match the numbers in config.json /
//    metrics.json (classifier accuracy on heldout.jsonl, LM perplexity on heldout.txt,
//    tabular accuracy on heldout.csv).
// Exits non-zero on any mismatch.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = path.join(ROOT, 'models');
const CHECK = path.join(ROOT, '.cache', 'check');
const PYTHON = process.env.LOUPE_PYTHON || '/usr/bin/python3';
const STRICT = process.argv.includes('--strict');
const TOL = 1e-4;
const MAX_BYTES = 10 * 1024 * 1024;

let failures = 0;
const ok = (msg) => console.log(`  ok    ${msg}`);
const fail = (msg) => { failures++; console.log(`  FAIL  ${msg}`); };
const skip = (msg) => { if (STRICT) fail(`${msg} (--strict)`); else console.log(`  skip  ${msg}`); };
const check = (cond, msg) => (cond ? ok(msg) : fail(msg));
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

const EDGE_CASES = [
  'Hello [CLS] world [SEP][PAD]x',
  "Don't  panic -- it's only $3.99 (50% off)!!!",
  'ÉCOLE café naïve Straße',
  `supercalifragilistic${'x'.repeat(120)} end`,
  'tab\tnew\nline\r\nand\u00a0nbsp',
  'emoji 🐋 whale — “quotes” … ',
  '',
];

async function loadSession(dir, inputs, outputs) {
  const file = path.join(dir, 'model.onnx');
  const size = fs.statSync(file).size;
  check(size < MAX_BYTES, `model.onnx is ${size} bytes (< 10 MB)`);
  const session = await ort.InferenceSession.create(file);
  check(JSON.stringify(session.inputNames) === JSON.stringify(inputs), `inputs ${JSON.stringify(session.inputNames)}`);
  check(JSON.stringify(session.outputNames) === JSON.stringify(outputs), `outputs ${JSON.stringify(session.outputNames)}`);
  return session;
}

function makeTokenizer(dir) {
  return new Tokenizer(
    readJson(path.join(dir, 'tokenizer.json')),
    readJson(path.join(dir, 'tokenizer_config.json')),
  );
}

function tokenParity(dir, tk, texts, what) {
  const py = JSON.parse(execFileSync(PYTHON, [path.join(ROOT, 'tools', 'py_tokenize.py'), path.join(dir, 'tokenizer.json')], {
    input: JSON.stringify(texts), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  }));
  let bad = 0;
  texts.forEach((t, i) => {
    const js = tk.encode(t).ids;
    if (js.length !== py[i].length || js.some((v, j) => v !== py[i][j])) {
      if (bad++ < 3) console.log(`        mismatch on ${JSON.stringify(t.slice(0, 80))}\n        js ${js.slice(0, 20)}\n        py ${py[i].slice(0, 20)}`);
    }
  });
  check(bad === 0, `JS/Python token ids identical on ${texts.length - bad}/${texts.length} ${what}`);
}

function toTensor(spec) {
  if (spec.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(spec.data.map((v) => BigInt(v))), spec.shape);
  return new ort.Tensor('float32', Float32Array.from(spec.data), spec.shape);
}

async function referenceParity(session, name) {
  const file = path.join(CHECK, `${name}.json`);
  if (!fs.existsSync(file)) return skip(`no torch reference ${path.relative(ROOT, file)} (run the training script)`);
  const ref = readJson(file);
  let worst = 0;
  for (const c of ref.cases) {
    const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, toTensor(v)]));
    const out = await session.run(feeds);
    for (const [k, v] of Object.entries(c.outputs)) {
      const got = out[k].data;
      if (JSON.stringify(Array.from(out[k].dims)) !== JSON.stringify(v.shape)) { fail(`${k} shape ${out[k].dims} != ${v.shape}`); continue; }
      for (let i = 0; i < v.data.length; i++) worst = Math.max(worst, Math.abs(got[i] - v.data[i]));
    }
  }
  check(worst <= TOL, `ONNX Runtime vs torch on ${ref.cases.length} reference batches: max |diff| ${worst.toExponential(2)} (<= ${TOL})`);
}

function batchIds(rows, pad) {
  const L = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * L).fill(BigInt(pad));
  const mask = new BigInt64Array(rows.length * L);
  rows.forEach((r, i) => r.forEach((v, j) => { ids[i * L + j] = BigInt(v); mask[i * L + j] = 1n; }));
  return {
    input_ids: new ort.Tensor('int64', ids, [rows.length, L]),
    attention_mask: new ort.Tensor('int64', mask, [rows.length, L]),
  };
}

async function checkSpam() {
  const dir = path.join(MODELS, 'spam-classifier');
  console.log('spam-classifier');
  const config = readJson(path.join(dir, 'config.json'));
  const tcfg = readJson(path.join(dir, 'tokenizer_config.json'));
  const session = await loadSession(dir, ['input_ids', 'attention_mask'], ['logits']);
  const tk = makeTokenizer(dir);
  const rows = fs.readFileSync(path.join(dir, 'heldout.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  tokenParity(dir, tk, rows.map((r) => r.text), 'heldout.jsonl rows');
  tokenParity(dir, tk, EDGE_CASES, 'edge-case strings');
  await referenceParity(session, 'spam-classifier');
  const encoded = rows.map((r) => tk.encode(r.text).ids);
  check(encoded.every((e) => e.length <= tcfg.model_max_length), `every heldout row fits in ${tcfg.model_max_length} ids`);
  let correct = 0;
  for (let s = 0; s < rows.length; s += 32) {
    const out = await session.run(batchIds(encoded.slice(s, s + 32), config.pad_token_id));
    const lo = out.logits.data;
    for (let i = 0; i < out.logits.dims[0]; i++) {
      const pred = lo[2 * i + 1] > lo[2 * i] ? 1 : 0;
      if (config.id2label[String(pred)] === rows[s + i].label) correct++;
    }
  }
  const acc = correct / rows.length;
  const want = config.metrics.heldout_file.accuracy;
  check(Math.abs(acc - want) < 1e-9, `heldout.jsonl accuracy via ONNX Runtime ${acc.toFixed(4)} == config ${want.toFixed(4)}`);
  check(acc >= 0.9, `heldout.jsonl accuracy ${acc.toFixed(4)} >= 0.90`);
}

function logSoftmaxAt(data, offset, V, target) {
  let max = -Infinity;
  for (let k = 0; k < V; k++) max = Math.max(max, data[offset + k]);
  let sum = 0;
  for (let k = 0; k < V; k++) sum += Math.exp(data[offset + k] - max);
  return data[offset + target] - max - Math.log(sum);
}

async function checkLm() {
  const dir = path.join(MODELS, 'moby-lm');
  console.log('moby-lm');
  const config = readJson(path.join(dir, 'config.json'));
  const tcfg = readJson(path.join(dir, 'tokenizer_config.json'));
  const session = await loadSession(dir, ['input_ids', 'attention_mask'], ['logits']);
  const tk = makeTokenizer(dir);
  const text = fs.readFileSync(path.join(dir, 'heldout.txt'), 'utf8');
  const paragraphs = text.split(/\n\s*\n/).filter((p) => p.trim());
  tokenParity(dir, tk, [text, ...paragraphs], 'texts (heldout.txt + its paragraphs)');
  tokenParity(dir, tk, EDGE_CASES, 'edge-case strings');
  await referenceParity(session, 'moby-lm');
  // perplexity protocol of tools/train_moby_lm.py
  const ids = tk.encode(text).ids;
  const bos = config.bos_token_id;
  check(ids[0] === bos, `encode() prepends [BOS] (id ${bos})`);
  const toks = ids.slice(1);
  const chunk = tcfg.model_max_length - 1;
  let nll = 0;
  for (let s = 0; s < toks.length; s += chunk) {
    const c = toks.slice(s, s + chunk);
    const inp = [bos, ...c.slice(0, -1)];
    const out = await session.run(batchIds([inp], config.pad_token_id));
    const V = out.logits.dims[2];
    c.forEach((t, j) => { nll -= logSoftmaxAt(out.logits.data, j * V, V, t); });
  }
  const ppl = Math.exp(nll / toks.length);
  const want = config.metrics.heldout_file.perplexity;
  check(Math.abs(ppl - want) / want < 1e-4, `heldout.txt perplexity via ONNX Runtime ${ppl.toFixed(3)} == config ${want.toFixed(3)} (${toks.length} tokens)`);
  check(ppl < config.metrics.heldout_file.unigram_perplexity, `perplexity ${ppl.toFixed(1)} < unigram ${config.metrics.heldout_file.unigram_perplexity.toFixed(1)}`);
}

function parseCsv(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  return { header, rows: lines.slice(1).map((l) => l.split(',')) };
}

async function checkTabular() {
  const dir = path.join(MODELS, 'breast-cancer');
  console.log('breast-cancer');
  const sidecar = readJson(path.join(dir, 'model.loupe.json'));
  const metrics = readJson(path.join(dir, 'metrics.json'));
  const session = await loadSession(dir, ['input'], ['logits', 'probabilities']);
  await referenceParity(session, 'breast-cancer');
  for (const f of ['heldout.csv', 'sample.csv']) {
    const { header, rows } = parseCsv(path.join(dir, f));
    check(JSON.stringify(header) === JSON.stringify([...sidecar.featureNames, 'diagnosis']), `${f} header = featureNames + diagnosis`);
    const n = rows.length;
    const X = new Float32Array(n * 30);
    rows.forEach((r, i) => r.slice(0, 30).forEach((v, j) => { X[i * 30 + j] = Number(v); }));
    const out = await session.run({ input: new ort.Tensor('float32', X, [n, 30]) });
    let correct = 0;
    let probOk = true;
    for (let i = 0; i < n; i++) {
      const pred = out.logits.data[2 * i + 1] > out.logits.data[2 * i] ? 1 : 0;
      if (sidecar.labels[pred] === rows[i][30]) correct++;
      probOk &&= Math.abs(out.probabilities.data[2 * i] + out.probabilities.data[2 * i + 1] - 1) < 1e-5;
    }
    const acc = correct / n;
    const want = f === 'heldout.csv' ? metrics.accuracy.heldout_csv : metrics.accuracy.sample_csv;
    check(Math.abs(acc - want) < 1e-9 && probOk, `${f}: ${n} rows, accuracy via ONNX Runtime ${acc.toFixed(4)} == metrics.json ${want.toFixed(4)}`);
  }
}

for (const fn of [checkSpam, checkLm, checkTabular]) {
  try {
    await fn();
  } catch (e) {
    fail(`${fn.name}: ${e.stack || e}`);
  }
}
console.log(failures ? `\n${failures} check(s) FAILED` : '\nall model checks passed');
process.exit(failures ? 1 : 0);
