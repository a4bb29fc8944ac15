// Layer gradient × activation (layer-gradxact) inside a real VS Code: "Loupe: Explain" called
// programmatically with a layer returns the engine's explanation at that block's output, and run on
// prompt.txt without its quick picks (the test-only `noPrompt`) keeps the layer for "Run again".
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ExplainResult } from '../../../src/protocol/workerProtocol';
import { activateLoupe, closeAllEditors, panelState } from './helpers';

const EXPLAIN = 'loupe.explain';

suite('Layer gradient × activation (loupe.explain, layer-gradxact)', function () {
  this.timeout(180_000);
  let prompt: vscode.Uri;

  suiteSetup(async () => {
    const { folder } = await activateLoupe();
    prompt = vscode.Uri.joinPath(folder, 'prompt.txt');
    await closeAllEditors();
  });

  suiteTeardown(async () => {
    await closeAllEditors();
  });

  test('programmatic: a block index, a tensor name, and the default give the recorded layer', async () => {
    const text = (await vscode.workspace.openTextDocument(prompt)).getText();
    const byBlock = await vscode.commands.executeCommand<ExplainResult | undefined>(EXPLAIN, { text, methods: ['layer-gradxact'], layer: 1 });
    assert.ok(byBlock, `${EXPLAIN} returned nothing`);
    const e = byBlock.explanations[0]!;
    assert.strictEqual(e.method, 'layer-gradxact');
    assert.strictEqual(e.parameters.layerBlock, 1);
    assert.strictEqual(e.parameters.layer, '/layers.1/ln2/Add_1_output_0');
    // The last block's output reaches the classifier through [CLS] only.
    assert.deepStrictEqual(
      e.scores.map((s, i) => (s !== 0 ? i : -1)).filter((i) => i >= 0),
      [0],
    );
    assert.ok(e.warnings.some((w) => /Only the position the target is read from/.test(w)), e.warnings.join(' | '));

    const byDefault = await vscode.commands.executeCommand<ExplainResult | undefined>(EXPLAIN, { text, methods: ['layer-gradxact'] });
    const d = byDefault!.explanations[0]!;
    assert.strictEqual(d.parameters.layerBlock, 0, "the default: the last block's input");
    assert.ok(d.scores.filter((s) => s !== 0).length > 3);
    const byName = await vscode.commands.executeCommand<ExplainResult | undefined>(EXPLAIN, { text, methods: ['layer-gradxact'], layer: d.parameters.layer });
    assert.deepStrictEqual(byName!.explanations[0]!.scores, d.scores);
  });

  test('interactive without the quick picks: the panel draws layer-gradxact at the given layer', async () => {
    const result = await vscode.commands.executeCommand<ExplainResult | undefined>(EXPLAIN, { uri: prompt, methods: ['layer-gradxact', 'occlusion'], layer: 0, noPrompt: true });
    assert.ok(result, `${EXPLAIN} returned nothing (an error? see the Loupe log)`);
    assert.strictEqual(result.explanations[0]!.parameters.layerBlock, 0);
    assert.strictEqual(result.run.parameters.layer, 0);
    const s = await panelState<{ status: string; message: string; methods: string[]; shaded: number }>('loupe._explainViewState', { source: prompt.toString() });
    assert.strictEqual(s.status, 'drawn', s.message);
    assert.deepStrictEqual(s.methods, ['layer-gradxact', 'occlusion']);
    assert.ok(s.shaded > 0);
  });
});
