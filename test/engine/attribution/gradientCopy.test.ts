// One gradient copy per model: Integrated Gradients, Gradient × Input, saliency, SmoothGrad and
// attention-gradient on one model write a single gradient model into the cache (a full-size copy),
// which returns the attention probabilities and their gradients; a tensor outside the attention
// makes a copy of its own; a model whose attention Loupe cannot read has no attention taps.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { attribute, type AttributionRequest, type RunEnv } from '../../../src/engine/methods/attribution';
import { attentionTaps, gradientModel, gradientTaps } from '../../../src/engine/methods/attribution/gradientModel';
import type { LoadedModel } from '../../../src/engine/model/loadModel';
import { MODELS, TEST_FIXTURES, tempDir } from '../../helpers';
import { model, quiet } from './common';

/** The gradient copies of `m` in `cacheDir`: the metadata files that mark them. */
function gradientCopies(cacheDir: string, m: LoadedModel): string[] {
  const root = path.join(cacheDir, 'rewritten');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((d) => d.startsWith(m.info.sha256.slice(0, 32)))
    .flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.loupe-gradient.json')).map((f) => path.join(root, d, f)));
}

describe('one gradient copy per model', () => {
  for (const name of ['spam-classifier', 'moby-lm']) {
    test(`${name}: every exact-gradient method shares one copy, which returns the attention taps`, async () => {
      const m = await model(path.join(MODELS, name));
      const env: RunEnv = { cacheDir: tempDir('gradient-copy'), threads: 2, maxMemoryMB: 1024 };
      try {
        const text = 'call me ishmael, win a free prize now';
        const requests: AttributionRequest[] = [
          { method: 'ig', gradients: 'exact', steps: 8 },
          { method: 'gradxinput', gradients: 'exact' },
          { method: 'saliency' },
          { method: 'smoothgrad', samples: 3, seed: 1 },
          { method: 'attention-gradient' },
        ];
        for (const req of requests) {
          const r = await attribute(m, text, { faithfulness: false, ...req }, env, quiet());
          assert.ok(r.scores.some((v) => v !== 0), `${req.method}: all scores are 0`);
          assert.equal(gradientCopies(env.cacheDir, m).length, 1, `after ${req.method}: ${gradientCopies(env.cacheDir, m).join(', ')}`);
        }
        const [meta] = gradientCopies(env.cacheDir, m);
        const grads = (JSON.parse(fs.readFileSync(meta!, 'utf8')) as { grads: Record<string, string> }).grads;
        const taps = attentionTaps(m);
        assert.ok(taps.length > 0);
        for (const t of taps) assert.ok(grads[t], `the copy returns no gradient for the attention tensor ${t}`);

        // Another tensor is a copy of its own; the attention taps come with it.
        const info = await gradientModel(m, env.cacheDir, 2);
        const other = m.facts.graph.nodes.find((n) => n.opType === 'Add' && n.outputs[0] && !taps.includes(n.outputs[0]))!.outputs[0]!;
        const withOther = await gradientModel(m, env.cacheDir, 2, [other]);
        assert.notEqual(withOther.path, info.path);
        assert.deepEqual(gradientTaps(m, [other]), [...taps, other]);
        assert.ok(withOther.grads[other] && taps.every((t) => withOther.grads[t]));
        assert.equal(gradientCopies(env.cacheDir, m).length, 2);
        // Asking for an attention tap by name is the shared copy.
        assert.equal((await gradientModel(m, env.cacheDir, 2, [taps[0]!])).path, info.path);
      } finally {
        fs.rmSync(env.cacheDir, { recursive: true, force: true });
      }
    });
  }

  test('a model with fused attention (none Loupe can read) has no attention taps; other tensors are kept', async () => {
    const m = await model(path.join(TEST_FIXTURES, 'models', 'fused-attention'));
    assert.throws(() => attentionTaps(m), /fused/);
    assert.deepEqual(gradientTaps(m), []);
    assert.deepEqual(gradientTaps(m, ['x']), ['x']);
  });

  test('a gradient copy from an older gradient builder is deleted when the new one is written; the other rewritten copies stay', async () => {
    const m = await model(path.join(MODELS, 'spam-classifier'));
    const cacheDir = tempDir('gradient-copy-old');
    try {
      const root = path.join(cacheDir, 'rewritten');
      const key = m.info.sha256.slice(0, 32);
      const plant = (name: string, files: Record<string, string>): string => {
        const dir = path.join(root, `${key}-${name}`);
        fs.mkdirSync(dir, { recursive: true });
        for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
        return dir;
      };
      const unversioned = plant('old-unversioned', { 'model.onnx': 'x', 'model.onnx.loupe-gradient.json': JSON.stringify({ grads: {}, perPosition: false }) });
      const older = plant('old-v1', { 'model.onnx': 'x', 'model.onnx.loupe-gradient.json': JSON.stringify({ grads: {}, perPosition: false, version: 1 }) });
      const attention = plant('attention', { 'model.onnx': 'x' });
      const otherModel = path.join(root, `${'0'.repeat(32)}-old`);
      fs.mkdirSync(otherModel, { recursive: true });
      fs.writeFileSync(path.join(otherModel, 'model.onnx.loupe-gradient.json'), JSON.stringify({ version: 1 }));

      const info = await gradientModel(m, cacheDir, 2);
      assert.ok(fs.existsSync(info.path), 'the new copy is written');
      assert.ok(!fs.existsSync(unversioned), 'a copy whose metadata predates versions is deleted');
      assert.ok(!fs.existsSync(older), 'a copy of an older version is deleted');
      assert.ok(fs.existsSync(attention), 'a rewritten copy without gradient metadata stays');
      assert.ok(fs.existsSync(otherModel), "another model's copies stay");
      // Read from the cache again, nothing is deleted.
      assert.equal((await gradientModel(m, cacheDir, 2)).path, info.path);
      assert.ok(fs.existsSync(info.path) && fs.existsSync(attention));
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  test('a damaged metadata file beside a cached copy is read as absent: the copy is written again, and the run goes on', async () => {
    const m = await model(path.join(MODELS, 'spam-classifier'));
    const env: RunEnv = { cacheDir: tempDir('gradient-copy-damaged'), threads: 2, maxMemoryMB: 1024 };
    try {
      const text = 'win a free prize now';
      const first = await attribute(m, text, { method: 'gradxinput', gradients: 'exact' }, env, quiet());
      const [meta] = gradientCopies(env.cacheDir, m);
      assert.ok(meta);
      const embeddingMeta = findFiles(env.cacheDir, '.loupe-embedding.json');
      assert.equal(embeddingMeta.length, 1, 'one embedding copy');
      for (const [file, damage] of [[meta, '{"grads": '], [embeddingMeta[0]!, '[1, 2]']] as const) fs.writeFileSync(file, damage);
      const again = await attribute(m, text, { method: 'gradxinput', gradients: 'exact' }, env, quiet());
      assert.deepEqual(again.scores, first.scores);
      assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(meta, 'utf8')) as object).sort(), ['grads', 'perPosition', 'version']);
      assert.ok('weightDims' in (JSON.parse(fs.readFileSync(embeddingMeta[0]!, 'utf8')) as object), 'the embedding metadata is written again');
    } finally {
      fs.rmSync(env.cacheDir, { recursive: true, force: true });
    }
  });
});

/** Files under dir whose name ends with `suffix`. */
function findFiles(dir: string, suffix: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? findFiles(p, suffix) : e.name.endsWith(suffix) ? [p] : [];
  });
}
