// `loupe explain --method layer-gradxact --layer <N|tensor>`, run as a user runs it, against the
// autograd reference of test/fixtures/attribution/distilbert-cls/layer_grads.json.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { readJson, TEST_FIXTURES } from '../helpers';
import { loupe } from './runLoupe';

const DIR = path.join(TEST_FIXTURES, 'attribution', 'distilbert-cls');
interface Ref {
  text: string;
  target: number;
  blocks: { block: number; logit: number[] }[];
}

describe('loupe explain --method layer-gradxact', () => {
  test('--layer 0 --json: the autograd reference; the layer is recorded; by name, the same scores', async () => {
    const ref = readJson<{ references: Ref[] }>(path.join(DIR, 'layer_grads.json')).references[0]!;
    const expected = ref.blocks.find((b) => b.block === 0)!.logit;
    const out = await loupe('explain', '--model', DIR, '--text', ref.text, '--method', 'layer-gradxact', '--layer', '0', '--target', `class:${ref.target}`, '--json');
    assert.equal(out.code, 0, out.stderr);
    const res = JSON.parse(out.stdout) as { run: { parameters: { layer: unknown } }; explanations: { scores: number[]; parameters: { layer: string; layerBlock: number } }[] };
    const e = res.explanations[0]!;
    assert.equal(res.run.parameters.layer, 0);
    assert.equal(e.parameters.layerBlock, 0);
    let num = 0;
    let den = 0;
    e.scores.forEach((s, i) => {
      num += (s - expected[i]!) ** 2;
      den += expected[i]! ** 2;
    });
    assert.ok(Math.sqrt(num / den) < 1e-4, `relative L2 ${Math.sqrt(num / den)}`);

    const named = await loupe('explain', '--model', DIR, '--text', ref.text, '--method', 'layer-gradxact', '--layer', e.parameters.layer, '--target', `class:${ref.target}`);
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, new RegExp(`layer: ${e.parameters.layer.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.match(named.stdout, /layer-gradxact: target class/);
  });

  test('--layer with another method, and a missing tensor: clear errors', async () => {
    const other = await loupe('explain', '--model', DIR, '--text', 'fine', '--method', 'saliency', '--layer', '0');
    assert.equal(other.code, 2);
    assert.match(other.stderr, /--layer \(explain\) is the layer of --method layer-gradxact/);
    const missing = await loupe('explain', '--model', DIR, '--text', 'fine', '--method', 'layer-gradxact', '--layer', 'nope');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /model\.onnx has no tensor named "nope"/);
  });
});
