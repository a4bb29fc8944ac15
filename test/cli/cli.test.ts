// The `loupe` CLI, run as a user runs it (node bin/loupe.js …), over the bundled engine worker.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { maxAbsDiff, readJson, ROOT, SHARED_FIXTURES } from '../helpers';
import { loupe } from './runLoupe';

describe('loupe CLI', () => {
  for (const [folder, file] of [
    ['bert-cls', 'model_dynamo.onnx'],
    ['gpt2-lm', 'model_sdpa.onnx'],
  ] as const) {
    test(`predict --json reproduces the reference logits of hf/${folder}/${file}`, async () => {
      const dir = path.join(SHARED_FIXTURES, 'hf', folder);
      const ref = readJson<{ references: { text: string; input_ids: number[]; logits: number[] }[] }>(path.join(dir, 'reference.json')).references[0]!;
      const { code, stdout, stderr } = await loupe('predict', '--model', dir, '--onnx-file', file, '--text', ref.text, '--json');
      assert.equal(code, 0, stderr);
      const out = JSON.parse(stdout) as { model: { sha256: string; task: string }; run: { modelSha256: string }; ids: number[]; logits: number[]; tokens: unknown[] };
      assert.deepEqual(out.ids, ref.input_ids);
      assert.ok(maxAbsDiff(out.logits, ref.logits) < 1e-4);
      assert.equal(out.run.modelSha256, out.model.sha256);
      assert.equal(out.tokens.length, ref.input_ids.length);
    });
  }

  test('predict on a causal LM lists next tokens and can generate', async () => {
    const dir = path.join(SHARED_FIXTURES, 'hf', 'gpt2-lm');
    const { code, stdout } = await loupe('predict', '--model', dir, '--text', 'The movie was', '--generate', '4', '--top-k', '3', '--json');
    assert.equal(code, 0);
    const out = JSON.parse(stdout) as { kind: string; top: { probability: number }[]; generated: { tokens: unknown[]; text: string } };
    assert.equal(out.kind, 'next-token');
    assert.equal(out.top.length, 3);
    assert.ok(out.top[0]!.probability >= out.top[1]!.probability);
    assert.equal(out.generated.tokens.length, 4);
  });

  test('attention --json prints layer × head × query × key equal to the reference', async () => {
    const dir = path.join(SHARED_FIXTURES, 'hf', 'gpt2-lm');
    const ref = readJson<{ references: { text: string; attentions: number[][][][] }[] }>(path.join(dir, 'reference.json')).references[0]!;
    const { code, stdout, stderr } = await loupe('attention', '--model', dir, '--onnx-file', 'model_sdpa.onnx', '--text', ref.text, '--json');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as { tokens: unknown[]; layers: number[]; heads: number[]; attention: number[][][][]; run: { method: string } };
    assert.equal(out.run.method, 'attention');
    assert.deepEqual(out.layers, [0, 1]);
    assert.equal(out.attention.length, ref.attentions.length);
    let diff = 0;
    out.attention.forEach((l, li) => l.forEach((h, hi) => h.forEach((row, q) => row.forEach((v, k) => (diff = Math.max(diff, Math.abs(v - ref.attentions[li]![hi]![q]![k]!)))))));
    assert.ok(diff < 1e-5, `max |Δ| = ${diff}`);

    const rolled = await loupe('attention', '--model', dir, '--text', ref.text, '--layer', '1', '--head', '0', '--rollout', '--json');
    const r = JSON.parse(rolled.stdout) as { rollout: number[][]; attention?: unknown };
    assert.equal(r.attention, undefined);
    assert.equal(r.rollout.length, out.tokens.length);
    for (const row of r.rollout) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  });

  test('models --json lists the three bundled models with task, inputs, outputs and labels', async () => {
    const { code, stdout, stderr } = await loupe('models', '--json');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as { models: { name: string; source: string; model: { task: string; inputs: unknown[]; outputs: unknown[]; labels: string[] | null } | null; error: string | null }[] };
    const byName = new Map(out.models.map((m) => [m.name, m]));
    assert.equal(byName.get('spam-classifier')?.model?.task, 'text-classifier');
    assert.deepEqual(byName.get('spam-classifier')?.model?.labels, ['ham', 'spam']);
    assert.equal(byName.get('moby-lm')?.model?.task, 'causal-lm');
    assert.equal(byName.get('breast-cancer')?.model?.task, 'tabular-classifier');
    for (const m of out.models) {
      assert.equal(m.source, 'bundled');
      assert.equal(m.error, null);
      assert.ok(m.model!.inputs.length > 0 && m.model!.outputs.length > 0);
    }
  });

  test('predict defaults to the bundled classifier, and reads a tabular CSV', async () => {
    const spam = await loupe('predict', '--text', 'WIN a FREE prize now!!! Click here to claim your cash', '--json');
    assert.equal(spam.code, 0, spam.stderr);
    const p = JSON.parse(spam.stdout) as { model: { path: string }; predicted: { label: string } };
    assert.equal(path.basename(p.model.path), 'spam-classifier');
    assert.equal(p.predicted.label, 'spam');

    const csv = await loupe('predict', '--model', 'breast-cancer', '--file', path.join(ROOT, 'models', 'breast-cancer', 'sample.csv'), '--json');
    assert.equal(csv.code, 0, csv.stderr);
    const rows = JSON.parse(csv.stdout) as { predictions: { predicted: { label: string } }[] };
    assert.equal(rows.predictions.length, 60);
    assert.ok(rows.predictions.every((r) => ['malignant', 'benign'].includes(r.predicted.label)));
  });

  test('explain --json: occlusion equals Captum, the plan equals the passes run, and the run is recorded', async () => {
    const ref = readJson<{ text: string; ids: number[]; attributions: { feature_ablation_pad: { per_token: number[] }; lig_gausslegendre: { per_token: number[] } } }>(
      path.join(SHARED_FIXTURES, 'captum', 'classifier', 'spam_short_0.json'),
    );
    const model = path.join(SHARED_FIXTURES, 'captum', 'models', 'classifier');
    const { code, stdout, stderr } = await loupe('explain', '--model', model, '--text', ref.text, '--method', 'occlusion,ig', '--baseline', 'pad', '--steps', '50', '--json');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as {
      run: { method: string; parameters: { methods: string[] }; seed: number };
      explanations: { method: string; tokens: { id: number }[]; scores: number[]; plannedForwardPasses: number; forwardPasses: number; faithfulness: { attribution: { deletion: { aopc: number } } } | null }[];
    };
    assert.equal(out.run.method, 'explain');
    assert.deepEqual(out.run.parameters.methods, ['occlusion', 'ig']);
    const [occ, ig] = out.explanations;
    assert.deepEqual(occ!.tokens.map((t) => t.id), ref.ids);
    assert.ok(maxAbsDiff(occ!.scores, ref.attributions.feature_ablation_pad.per_token) < 1e-4);
    const l2 = (a: number[]): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    const rel = l2(ig!.scores.map((x, i) => x - ref.attributions.lig_gausslegendre.per_token[i]!)) / l2(ref.attributions.lig_gausslegendre.per_token);
    assert.ok(rel < 0.02, `IG relative L2 ${rel}`);
    for (const e of out.explanations) {
      assert.equal(e.forwardPasses, e.plannedForwardPasses);
      assert.ok(e.faithfulness && Number.isFinite(e.faithfulness.attribution.deletion.aopc));
    }
  });

  test('explain --json: the exact-gradient methods, recorded as exact; --gradients finite-differences takes the other path', async () => {
    const ref = readJson<{ text: string; attributions: { lig_gausslegendre: { per_token: number[] } } }>(path.join(SHARED_FIXTURES, 'captum', 'classifier', 'spam_short_0.json'));
    const model = path.join(SHARED_FIXTURES, 'captum', 'models', 'classifier');
    const methods = 'ig,saliency,smoothgrad,gradshap,attention-gradient';
    const { code, stdout, stderr } = await loupe('explain', '--model', model, '--text', ref.text, '--method', methods, '--baseline', 'pad', '--samples', '8', '--noise', '0.05', '--json');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as { explanations: { method: string; scores: number[]; parameters: { gradients: string; noise: number | null } }[] };
    assert.deepEqual(out.explanations.map((e) => e.method), methods.split(','));
    for (const e of out.explanations) assert.equal(e.parameters.gradients, 'exact');
    assert.equal(out.explanations[2]!.parameters.noise, 0.05);
    const ig = out.explanations[0]!.scores;
    const refIg = ref.attributions.lig_gausslegendre.per_token;
    const l2 = (a: number[]): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    assert.ok(l2(ig.map((x, i) => x - refIg[i]!)) / l2(refIg) < 1e-3);
    const fd = await loupe('explain', '--model', model, '--text', ref.text, '--method', 'gradxinput', '--gradients', 'finite-differences', '--json');
    assert.equal(fd.code, 0, fd.stderr);
    assert.equal((JSON.parse(fd.stdout) as { explanations: { parameters: { gradients: string } }[] }).explanations[0]!.parameters.gradients, 'finite-differences');
    const bad = await loupe('explain', '--model', model, '--text', 'hi', '--method', 'saliency', '--gradients', 'sideways');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--gradients must be one of auto, exact, finite-differences/);
  });

  test('attention --relevance: R whose [CLS] row (minus the identity) is explain --method attention-gradient', async () => {
    const ref = readJson<{ text: string }>(path.join(SHARED_FIXTURES, 'captum', 'classifier', 'spam_short_0.json'));
    const model = path.join(SHARED_FIXTURES, 'captum', 'models', 'classifier');
    const rel = await loupe('attention', '--model', model, '--text', ref.text, '--relevance', '--json');
    assert.equal(rel.code, 0, rel.stderr);
    const out = JSON.parse(rel.stdout) as { tokens: unknown[]; relevance: { rows: number[]; matrix: number[][]; layerMaps: number[][][] } };
    const n = out.tokens.length;
    assert.deepEqual(out.relevance.rows, [0]);
    assert.deepEqual([out.relevance.matrix.length, out.relevance.layerMaps.length], [n, 2]);
    const ex = await loupe('explain', '--model', model, '--text', ref.text, '--method', 'attention-gradient', '--json');
    assert.equal(ex.code, 0, ex.stderr);
    const scores = (JSON.parse(ex.stdout) as { explanations: { scores: number[] }[] }).explanations[0]!.scores;
    const row = out.relevance.matrix[0]!.map((v, k) => v - (k === 0 ? 1 : 0));
    const scale = Math.max(...scores.map(Math.abs));
    assert.ok(row.every((v, k) => Math.abs(v - scores[k]!) < 1e-5 * scale), `${row.join(' ')} vs ${scores.join(' ')}`);
    const text = await loupe('attention', '--model', model, '--text', ref.text, '--relevance');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /attention-gradient relevance R − I of class/);
  });

  test('explain: a bad --target is a usage error naming the labels', async () => {
    const { code, stderr } = await loupe('explain', '--text', 'hello', '--target', 'class:eggs');
    assert.equal(code, 2);
    assert.match(stderr, /the model's labels are ham, spam/);
  });

  test('errors: a missing model exits 1 with a JSON error naming the path', async () => {
    const { code, stdout, stderr } = await loupe('predict', '--model', '/no/such/model', '--text', 'hi', '--json');
    assert.equal(code, 1);
    const out = JSON.parse(stdout) as { error: { code: string; message: string } };
    assert.equal(out.error.code, 'FILE_NOT_FOUND');
    assert.match(out.error.message, /\/no\/such\/model/);
    assert.match(stderr, /loupe: error: /);
  });

  test('usage errors exit 2 and show the help', async () => {
    const { code, stderr } = await loupe('predict', '--nope');
    assert.equal(code, 2);
    assert.match(stderr, /Unknown option --nope/);
    assert.match(stderr, /Usage: loupe/);
  });
});
