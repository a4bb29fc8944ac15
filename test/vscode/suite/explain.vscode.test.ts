// The explanation view inside a real VS Code: "Loupe: Explain" called programmatically returns the
// engine's explanations; run on prompt.txt (without its quick picks, through the test-only
// `noPrompt`) it opens a webview beside the editor whose tokens are shaded, and decorates the
// editor's tokens inline. What the view drew and the inline decorations set are read through the
// internal command `loupe._explainViewState`.
//
// The shaded text is saved as a PNG artifact: $LOUPE_TEST_ARTIFACTS/explain.png, else
// /tmp/loupe-artifacts/explain.png.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExplainResult } from '../../../src/protocol/workerProtocol';
import { activateLoupe, artifactsDir, closeAllEditors, EXTENSION_ID, panelState, PNG_SIGNATURE, until, webviewTabs } from './helpers';

const VIEW_TYPE = 'loupe.explain';
const EXPLAIN = 'loupe.explain';
const TOGGLE = 'loupe.toggleInlineAttributions';
const STATE = 'loupe._explainViewState';

/** What `loupe._explainViewState` returns (see src/commands/explain.ts). */
interface ViewState {
  status: 'empty' | 'busy' | 'error' | 'drawn';
  message: string;
  generation: number;
  method: string;
  showSpecial: boolean;
  tokens: number;
  shaded: number;
  methods: string[];
  agreements: number;
  notices: string[];
  generationRows?: number;
  pngBase64?: string;
  viewColumn?: number;
  source: string;
  inlineDecorations: number;
  inlineEnabled: boolean;
}

function viewState(args: { source?: string; select?: { method?: string; showSpecial?: boolean }; png?: boolean; timeoutMs?: number }): Promise<ViewState> {
  return panelState<ViewState>(STATE, args);
}

const explainTabs = (): vscode.Tab[] => webviewTabs(VIEW_TYPE);

suite('Explanation view (loupe.explain)', function () {
  this.timeout(180_000);
  let prompt: vscode.Uri;
  let interactive: ExplainResult;

  suiteSetup(async () => {
    const { folder: f } = await activateLoupe();
    prompt = vscode.Uri.joinPath(f, 'prompt.txt');
    await closeAllEditors();
  });

  suiteTeardown(async () => {
    await closeAllEditors();
  });

  test('is contributed: palette commands, explorer and editor context menus; the test hook is not', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      activationEvents: string[];
      contributes: { commands: { command: string; title: string; category?: string }[]; menus: Record<string, { command: string; when?: string }[]> };
    };
    const cmd = pkg.contributes.commands.find((c) => c.command === EXPLAIN);
    assert.strictEqual(cmd && `${cmd.category}: ${cmd.title}`, 'Loupe: Explain');
    const toggle = pkg.contributes.commands.find((c) => c.command === TOGGLE);
    assert.strictEqual(toggle && `${toggle.category}: ${toggle.title}`, 'Loupe: Toggle Inline Attributions');
    assert.ok(pkg.contributes.menus['explorer/context']?.find((m) => m.command === EXPLAIN)?.when?.includes('txt|md|prompt'));
    assert.ok(pkg.contributes.menus['editor/context']?.find((m) => m.command === EXPLAIN)?.when?.includes('editorHasSelection'));
    assert.ok(pkg.activationEvents.includes('onWebviewPanel:loupe.explain'));
    assert.ok(!pkg.contributes.commands.some((c) => c.command === STATE), 'the internal test command must not be contributed');
  });

  test('programmatic: returns an explanation per requested method, a score per token, the planned passes', async () => {
    const text = (await vscode.workspace.openTextDocument(prompt)).getText();
    const methods = ['occlusion', 'kernelshap', 'gradxinput'];
    const r = await vscode.commands.executeCommand<ExplainResult | undefined>(EXPLAIN, { text, methods });
    assert.ok(r, `${EXPLAIN} returned nothing`);
    assert.deepStrictEqual(
      r.explanations.map((e) => e.method),
      methods,
    );
    for (const e of r.explanations) {
      assert.ok(e.tokens.length > 3, `${e.method}: ${e.tokens.length} tokens`);
      assert.strictEqual(e.scores.length, e.tokens.length, `${e.method}: scores per token`);
      assert.strictEqual(e.attributed.length, e.tokens.length);
      assert.ok(e.scores.every((s) => Number.isFinite(s)), `${e.method}: non-finite scores`);
      assert.ok(e.scores.some((s, i) => e.attributed[i] && s !== 0), `${e.method}: all scores are 0`);
      assert.strictEqual(e.forwardPasses, e.plannedForwardPasses, `${e.method}: ${e.forwardPasses} passes, ${e.plannedForwardPasses} planned`);
      assert.strictEqual(e.text, text);
    }
    // No panel for a programmatic call.
    assert.strictEqual(explainTabs().length, 0);
  });

  test('interactive on prompt.txt: the panel opens beside the editor, shaded, and the editor is decorated', async () => {
    const doc = await vscode.workspace.openTextDocument(prompt);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    const result = await vscode.commands.executeCommand<ExplainResult | undefined>(EXPLAIN, { uri: prompt, methods: ['occlusion', 'kernelshap'], noPrompt: true });
    assert.ok(result, `${EXPLAIN} returned nothing (an error? see the Loupe log)`);
    interactive = result;
    const tabs = await until('the explanation tab', async () => explainTabs(), (t) => t.length > 0);
    assert.strictEqual(tabs.length, 1);
    assert.strictEqual(tabs[0]!.label, 'Explanation: prompt.txt');
    assert.ok(editor.viewColumn !== undefined);
    assert.ok(tabs[0]!.group.viewColumn > editor.viewColumn, `the view is in column ${tabs[0]!.group.viewColumn}, the editor in ${editor.viewColumn}`);

    const s = await viewState({ source: prompt.toString(), png: true });
    assert.strictEqual(s.status, 'drawn', s.message);
    assert.deepStrictEqual(s.methods, ['occlusion', 'kernelshap']);
    assert.strictEqual(s.method, 'occlusion');
    assert.strictEqual(s.showSpecial, false);
    const e = interactive.explanations[0]!;
    const visible = e.tokens.filter((t) => t.start >= 0).length;
    const nonZero = e.tokens.filter((t, i) => t.start >= 0 && e.attributed[i] && e.scores[i] !== 0).length;
    assert.strictEqual(s.tokens, visible, 'special tokens are hidden by default');
    assert.strictEqual(s.shaded, nonZero);
    assert.ok(s.shaded > 0, 'no token is shaded');
    assert.strictEqual(s.agreements, 2, 'one Spearman ρ per pair of different methods, each way');
    const inlineExpected = e.tokens.filter((t, i) => !t.special && t.start >= 0 && e.attributed[i] && e.scores[i] !== 0).length;
    assert.strictEqual(s.inlineDecorations, inlineExpected, 'inline decorations');

    if (s.pngBase64) {
      const png = Buffer.from(s.pngBase64, 'base64');
      assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'the PNG is not a PNG');
      const dir = artifactsDir();
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'explain.png');
      fs.writeFileSync(file, png);
      console.log(`    [explain] shaded text PNG (${png.length} bytes): ${file}`);
    }

    // Special tokens appear when asked; another method shades the text by its own scores.
    const s2 = await viewState({ source: prompt.toString(), select: { showSpecial: true, method: 'kernelshap' } });
    assert.strictEqual(s2.tokens, e.tokens.length);
    assert.strictEqual(s2.method, 'kernelshap');
  });

  test('inline attributions toggle, and clear when the document is edited', async () => {
    const on = await viewState({ source: prompt.toString() });
    assert.ok(on.inlineDecorations > 0);
    assert.strictEqual(await vscode.commands.executeCommand<boolean>(TOGGLE), false);
    assert.strictEqual((await viewState({ source: prompt.toString() })).inlineDecorations, 0);
    assert.strictEqual(await vscode.commands.executeCommand<boolean>(TOGGLE), true);
    assert.ok((await viewState({ source: prompt.toString() })).inlineDecorations > 0);

    const doc = await vscode.workspace.openTextDocument(prompt);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'x'));
    await until('the decorations to clear', async () => (await viewState({ source: prompt.toString() })).inlineDecorations, (n) => n === 0, 5_000);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    assert.strictEqual(doc.isDirty, false);
  });

  test('interactive generation with the bundled LM: the panel draws a generated-token × source-token matrix', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const model = path.join(ext.extensionPath, 'models', 'moby-lm');
    const f = vscode.workspace.workspaceFolders![0]!;
    const lmPrompt = vscode.Uri.joinPath(f.uri, 'explain-lm-prompt.txt');
    await vscode.workspace.fs.writeFile(lmPrompt, Buffer.from('Call me Ishmael. Some years ago', 'utf8'));
    try {
      const result = await vscode.commands.executeCommand<ExplainResult | undefined>(EXPLAIN, {
        uri: lmPrompt,
        methods: ['occlusion'],
        noPrompt: true,
        model,
        target: { kind: 'generate', maxTokens: 3 },
      });
      assert.ok(result, `${EXPLAIN} returned nothing (an error? see the Loupe log)`);
      const g = result.explanations[0]?.generation;
      assert.ok(g, 'the explanation has no generation');
      assert.strictEqual(g.steps.length, 3);
      await until('the explanation tab', async () => explainTabs().filter((t) => t.label === 'Explanation: explain-lm-prompt.txt'), (t) => t.length > 0);
      const s = await viewState({ source: lmPrompt.toString() });
      assert.strictEqual(s.status, 'drawn', s.message);
      assert.deepStrictEqual(s.methods, ['occlusion']);
      assert.strictEqual(s.generationRows, 3, 'one matrix row per generated token');
    } finally {
      await vscode.workspace.fs.delete(lmPrompt).then(undefined, () => undefined);
    }
  });
});
