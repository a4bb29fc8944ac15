// The three bundled demo models load, predict, and reach their held-out figures on the sample
// files shipped with them (models/README.md records how they were made and what they scored).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { readNumericCsv } from '../../src/cli/numericCsv';
import { textFeeds } from '../../src/engine/inference/feeds';
import { logSumExp } from '../../src/engine/inference/math';
import { loadModel } from '../../src/engine/model/loadModel';
import { bundledModels } from '../../src/modelCatalog';
import { copyModel, engine, MODELS, readJson } from '../helpers';

const model = (name: string): string => path.join(MODELS, name);

describe('bundled demo models', () => {
  test('all three are bundled, each under 10 MB, with the layout of real exports', () => {
    assert.deepEqual(bundledModels().map((m) => m.name), ['breast-cancer', 'moby-lm', 'spam-classifier']);
    for (const m of bundledModels()) {
      const size = fs.readdirSync(m.path).reduce((s, f) => s + fs.statSync(path.join(m.path, f)).size, 0);
      assert.ok(size < 10e6, `${m.name}: ${size} bytes`);
      assert.ok(fs.existsSync(path.join(m.path, 'model.onnx')));
    }
    for (const name of ['spam-classifier', 'moby-lm']) {
      for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(fs.existsSync(path.join(model(name), f)), `${name}/${f}`);
    }
  });

  test('spam-classifier: a text classifier with labels ham/spam, ≥ 90% accuracy on heldout.jsonl', async () => {
    const rows = fs
      .readFileSync(path.join(model('spam-classifier'), 'heldout.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { text: string; label: string });
    assert.ok(rows.length >= 100);
    const result = await engine('predict', { model: { path: model('spam-classifier') }, texts: rows.map((r) => r.text) });
    assert.equal(result.model.task, 'text-classifier');
    assert.deepEqual(result.model.labels, ['ham', 'spam']);
    const correct = result.predictions.filter((p, i) => p.kind === 'text-classification' && p.predicted.label === rows[i]!.label).length;
    const accuracy = correct / rows.length;
    const recorded = readJson<{ metrics: { heldout_file: { accuracy: number } } }>(path.join(model('spam-classifier'), 'config.json')).metrics.heldout_file.accuracy;
    assert.ok(accuracy >= 0.9, `accuracy ${accuracy}`);
    assert.ok(Math.abs(accuracy - recorded) < 0.011, `accuracy ${accuracy} vs recorded ${recorded}`);
  });

  test('moby-lm: a causal LM whose held-out perplexity beats the unigram baseline', async () => {
    const dir = model('moby-lm');
    const loaded = await loadModel({ path: dir }, 2);
    assert.equal(loaded.info.task, 'causal-lm');
    const text = fs.readFileSync(path.join(dir, 'heldout.txt'), 'utf8');
    const ids = loaded.tokenizer!.encode(text, 1_000_000).ids;
    // Windows of the model's maximum length, each starting with the tokenizer's prefix ([BOS]).
    const prefix = ids[0]!;
    const body = ids.slice(1);
    const window = loaded.maxLength - 1;
    let nll = 0;
    let count = 0;
    for (let start = 0; start < body.length; start += window) {
      const row = [prefix, ...body.slice(start, start + window)];
      const feeds = textFeeds(loaded.entry.inputs, [row], 0, loaded.config, loaded.info.onnxFile);
      const out = (await loaded.entry.session.run(feeds, ['logits'])).logits!;
      const vocab = out.dims[2]!;
      const data = out.data as Float32Array;
      for (let p = 0; p + 1 < row.length; p++) {
        const logits = data.subarray(p * vocab, (p + 1) * vocab);
        nll -= logits[row[p + 1]!]! - logSumExp(logits);
        count++;
      }
    }
    const perplexity = Math.exp(nll / count);
    const recorded = readJson<{ metrics: { heldout_file: { perplexity: number; unigram_perplexity: number } } }>(path.join(dir, 'config.json')).metrics.heldout_file;
    assert.ok(perplexity < recorded.unigram_perplexity, `perplexity ${perplexity} vs unigram ${recorded.unigram_perplexity}`);
    assert.ok(Math.abs(perplexity - recorded.perplexity) / recorded.perplexity < 0.02, `perplexity ${perplexity} vs recorded ${recorded.perplexity}`);
  });

  test('moby-lm: next tokens and a greedy continuation', async () => {
    const result = await engine('predict', { model: { path: model('moby-lm') }, texts: ['Call me Ishmael. Some years ago'], generate: 5, topK: 5 });
    const p = result.predictions[0]!;
    if (p.kind !== 'next-token') assert.fail(`expected a next-token prediction, got ${p.kind}`);
    assert.equal(p.top.length, 5);
    assert.equal(p.generated?.tokens.length, 5);
    assert.equal(p.generated!.tokens[0]!.id, p.top[0]!.id);
  });

  test('a sidecar <model>.loupe.json wins over metadata_props; without either, names are generic', async () => {
    const dir = copyModel(model('breast-cancer'), 'sidecar');
    const sidecar = path.join(dir, 'model.loupe.json');
    const meta = readJson<{ featureNames: string[]; labels: string[] }>(sidecar);
    fs.writeFileSync(sidecar, JSON.stringify({ ...meta, labels: ['M', 'B'] }));
    const info = await engine('describe', { model: { path: dir } });
    assert.deepEqual(info.labels, ['M', 'B']);
    assert.equal(info.featureNames?.[0], 'mean radius');
    // The single .onnx file alone still carries its names in metadata_props.
    fs.rmSync(sidecar);
    const alone = await engine('describe', { model: { path: path.join(dir, 'model.onnx') } });
    assert.deepEqual(alone.labels, ['malignant', 'benign']);
    assert.equal(alone.format, 'onnx-file');
  });

  test('breast-cancer: a tabular classifier with feature names from metadata, ≥ 93% accuracy on heldout.csv', async () => {
    const dir = model('breast-cancer');
    const info = await engine('describe', { model: { path: dir } });
    assert.equal(info.task, 'tabular-classifier');
    assert.equal(info.featureNames?.length, 30);
    assert.deepEqual(info.labels, ['malignant', 'benign']);
    const file = path.join(dir, 'heldout.csv');
    const rows = await readNumericCsv(file, info.featureNames);
    const header = fs.readFileSync(file, 'utf8').split('\n')[0]!.split(',');
    const target = header.indexOf('diagnosis');
    const truth = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.trim())
      .map((l) => l.split(',')[target]!.trim());
    const result = await engine('predict', { model: { path: dir }, rows });
    const correct = result.predictions.filter((p, i) => p.kind === 'tabular' && p.predicted?.label === truth[i]).length;
    const accuracy = correct / rows.length;
    assert.ok(accuracy >= 0.93, `accuracy ${accuracy}`);
    for (const p of result.predictions) {
      if (p.kind !== 'tabular' || !p.labels) assert.fail('tabular predictions with labels');
      assert.ok(Math.abs(p.labels.reduce((s, l) => s + l.probability, 0) - 1) < 1e-5);
    }
  });
});
