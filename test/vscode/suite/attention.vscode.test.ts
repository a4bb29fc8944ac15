// The attention view inside a real VS Code: "Loupe: Show Attention" on a prompt file opens a webview
// beside the editor whose canvas is really drawn. The webview's pixels are read through the internal
// command `loupe._attentionViewState` (a digest of the heatmap canvas, and optionally its PNG), which
// can also change what the view shows (head, mean, rollout, attention-gradient relevance, query token)
// and export like its buttons. The relevance is computed only once a relevance mode is picked: until
// then no relevance request reaches the engine and no gradient copy of the model is written.
//
// The heatmap PNG is saved as an artifact: $LOUPE_TEST_ARTIFACTS/attention.png, else
// /tmp/loupe-artifacts/attention.png.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttentionRelevance, AttentionResult } from '../../../src/protocol/workerProtocol';
import { modelWithUnsupportedOp } from '../../unsupportedOpModel';
import { artifactsDir, closeAllEditors, EXTENSION_ID, panelState, PNG_SIGNATURE, until, webviewTabs } from './helpers';

const VIEW_TYPE = 'loupe.attention';
const SHOW = 'loupe.showAttention';
const STATE = 'loupe._attentionViewState';

type Mode = 'head' | 'mean' | 'rollout' | 'relevance' | 'layer-relevance';

/** What `loupe._attentionViewState` returns (see src/commands/showAttention.ts). */
interface ViewState {
  status: 'empty' | 'busy' | 'error' | 'drawn';
  message: string;
  generation: number;
  mode: Mode;
  layer: number;
  head: number;
  query: number | null;
  hideSpecial: boolean;
  tokens: number;
  bins: number;
  binSize: number;
  width: number;
  height: number;
  nonBlank: number;
  hash: string;
  thumbnails: number;
  shaded: number;
  notices: string[];
  /** The view's relevance: not asked for, being computed, failed, cancelled, drawn, or unavailable. */
  relevance: 'none' | 'busy' | 'error' | 'cancelled' | 'ready' | 'unavailable';
  /** Relevance requests the panel sent to the engine. */
  relevanceRequests: number;
  pngBase64?: string;
  viewColumn?: number;
  source: string;
}

interface StateArgs {
  source?: string;
  select?: { mode?: Mode; layer?: number; head?: number; query?: number | null };
  hideSpecial?: boolean;
  png?: boolean;
  exportTo?: { kind: 'png' | 'json'; path: string };
  timeoutMs?: number;
}

function viewState(args: StateArgs): Promise<ViewState> {
  return panelState<ViewState>(STATE, args);
}

function attentionTabs(): vscode.Tab[] {
  return webviewTabs(VIEW_TYPE);
}

function rowSums(flat: ArrayLike<number>, n: number, at = 0): number[] {
  const sums: number[] = [];
  for (let q = 0; q < n; q++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += flat[at + q * n + k]!;
    sums.push(s);
  }
  return sums;
}

/** The gradient copies of a model (sha256) in Loupe's cache: folders holding a `*.loupe-gradient.json`. */
function gradientCopies(cacheDir: string, sha256: string): string[] {
  const root = path.join(cacheDir, 'rewritten');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((d) => d.startsWith(sha256.slice(0, 32)) && fs.readdirSync(path.join(root, d)).some((f) => f.endsWith('.loupe-gradient.json')))
    .sort();
}

suite('Attention view (loupe.showAttention)', function () {
  this.timeout(180_000);
  let folder: vscode.Uri;
  let prompt: vscode.Uri;
  let ham: vscode.Uri;
  let first: AttentionResult;
  let cacheDir: string;
  /** The relevance the engine computes with the attention when asked directly: what the view must show once its mode is picked. */
  let reference: AttentionRelevance;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<{ cacheDir(): string }>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
    cacheDir = (await ext.activate()).cacheDir();
    const f = vscode.workspace.workspaceFolders?.[0];
    assert.ok(f, 'no workspace folder is open');
    folder = f.uri;
    prompt = vscode.Uri.joinPath(folder, 'prompt.txt');
    ham = vscode.Uri.joinPath(folder, 'ham.txt');
    await closeAllEditors();
  });

  suiteTeardown(async () => {
    await closeAllEditors();
  });

  test('is contributed: palette command, explorer and editor context menus', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string; title: string; category?: string }[]; menus: Record<string, { command: string; when?: string }[]> };
    };
    const cmd = pkg.contributes.commands.find((c) => c.command === SHOW);
    assert.ok(cmd, `${SHOW} is not contributed`);
    assert.strictEqual(`${cmd.category}: ${cmd.title}`, 'Loupe: Show Attention');
    const explorer = pkg.contributes.menus['explorer/context']?.find((m) => m.command === SHOW);
    assert.ok(explorer?.when?.includes('txt|md|prompt'), `explorer/context: ${JSON.stringify(explorer)}`);
    const editor = pkg.contributes.menus['editor/context']?.find((m) => m.command === SHOW);
    assert.ok(editor?.when?.includes('editorHasSelection'), `editor/context: ${JSON.stringify(editor)}`);
    assert.ok(!pkg.contributes.commands.some((c) => c.command === STATE), 'the internal test command must not be contributed');
  });

  test('on prompt.txt it opens the view in a column beside the editor', async () => {
    const doc = await vscode.workspace.openTextDocument(prompt);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    const result = await vscode.commands.executeCommand<AttentionResult | undefined>(SHOW);
    assert.ok(result, `${SHOW} returned nothing (an error? see the Loupe log)`);
    first = result;
    const n = result.tokens.length;
    assert.strictEqual(result.numLayers, 2);
    assert.strictEqual(result.numHeads, 4);
    assert.ok(n > 3, `only ${n} tokens`);
    assert.strictEqual(result.shown.length, n);
    assert.strictEqual(result.attention.length, 2 * 4 * n * n);
    assert.strictEqual(result.text, doc.getText());
    // Raw attention only: the relevance waits until its mode is picked.
    assert.strictEqual(result.relevance, undefined, 'the view asked for the relevance before its mode was picked');
    assert.strictEqual(result.run.parameters.relevance, false);

    // The extension host's tab model follows the workbench's asynchronously.
    const tabs = await until('the attention tab', async () => attentionTabs(), (t) => t.length > 0);
    assert.strictEqual(tabs.length, 1, `attention tabs: ${tabs.map((t) => t.label).join(', ')}`);
    const tab = tabs[0]!;
    assert.strictEqual(tab.label, 'Attention: prompt.txt');
    assert.ok(editor.viewColumn !== undefined);
    assert.ok(tab.group.viewColumn > editor.viewColumn, `the view is in column ${tab.group.viewColumn}, the editor in ${editor.viewColumn}: not beside it`);
    // The editor is still open in its own column, and kept the focus.
    const editorGroup = vscode.window.tabGroups.all.find((g) => g.viewColumn === editor.viewColumn);
    assert.ok(editorGroup?.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === prompt.toString()), 'prompt.txt is no longer open in its column');
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.toString(), prompt.toString(), 'the editor lost the focus');
  });

  test('the heatmap canvas is drawn (not blank) and changes with the head, the mean and rollout', async () => {
    const s0 = await viewState({ source: prompt.toString(), select: { mode: 'head', layer: 0, head: 0 }, png: true });
    assert.strictEqual(s0.status, 'drawn', s0.message);
    assert.strictEqual(s0.viewColumn, attentionTabs()[0]!.group.viewColumn);
    assert.strictEqual(s0.tokens, first.tokens.length);
    assert.strictEqual(s0.binSize, 1, 'a 13-token prompt needs no bins');
    assert.strictEqual(s0.bins, first.tokens.length);
    assert.ok(s0.width > 0 && s0.height > 0, `canvas ${s0.width}×${s0.height}`);
    // Nearly every pixel of the cells differs from the background (weights are never all ~0).
    assert.ok(s0.nonBlank > 0, 'the heatmap is blank');
    assert.ok(s0.hash.length === 8, `hash ${s0.hash}`);

    assert.ok(s0.pngBase64, 'no PNG came back');
    const png = Buffer.from(s0.pngBase64, 'base64');
    assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'the PNG is not a PNG');
    const dir = artifactsDir();
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'attention.png');
    fs.writeFileSync(file, png);
    console.log(`    [attention] heatmap PNG (${png.length} bytes): ${file}`);

    const s1 = await viewState({ source: prompt.toString(), select: { head: 1 } });
    assert.strictEqual(s1.head, 1);
    assert.strictEqual(s1.mode, 'head');
    assert.ok(s1.nonBlank > 0);
    assert.notStrictEqual(s1.hash, s0.hash, 'the canvas did not change when head 1 was chosen');

    const layer1 = await viewState({ source: prompt.toString(), select: { layer: 1, head: 1 } });
    const mean = await viewState({ source: prompt.toString(), select: { mode: 'mean', layer: 0 } });
    const rollout = await viewState({ source: prompt.toString(), select: { mode: 'rollout' } });
    assert.strictEqual(mean.mode, 'mean');
    assert.strictEqual(rollout.mode, 'rollout');
    const hashes = [s0.hash, s1.hash, layer1.hash, mean.hash, rollout.hash];
    assert.strictEqual(new Set(hashes).size, hashes.length, `two maps drew the same pixels: ${hashes.join(' ')}`);

    // Back to layer 0 head 0: the same pixels as before (cached image, same colours).
    const again = await viewState({ source: prompt.toString(), select: { mode: 'head', layer: 0, head: 0 } });
    assert.strictEqual(again.hash, s0.hash);

    // The overview draws every layer × head, each layer's mean, and the rollout.
    const grid = await until('the overview thumbnails', () => viewState({ source: prompt.toString() }), (s) => s.thumbnails === 2 * (4 + 1) + 1);
    assert.strictEqual(grid.thumbnails, 11);
  });

  test('without a relevance mode picked, no relevance is computed: no engine request, no gradient copy of the model', async () => {
    const s = await viewState({ source: prompt.toString(), select: { mode: 'mean', layer: 1 } });
    assert.strictEqual(s.status, 'drawn', s.message);
    assert.strictEqual(s.relevance, 'none');
    assert.strictEqual(s.relevanceRequests, 0, 'the panel asked the engine for the relevance');
    assert.deepStrictEqual(gradientCopies(cacheDir, first.model.sha256), [], `a gradient copy of the model was written into ${cacheDir}`);
    // The relevance modes are offered (they are computed when picked).
    await viewState({ source: prompt.toString(), select: { mode: 'head', layer: 0, head: 0 } });
  });

  test('picking the relevance mode computes it, once per result: R − I of the predicted class; the layer mode draws each Ā', async () => {
    const head = await viewState({ source: prompt.toString(), select: { mode: 'head', layer: 0, head: 0 } });
    assert.strictEqual(head.relevanceRequests, 0);
    const r = await viewState({ source: prompt.toString(), select: { mode: 'relevance' }, png: true });
    assert.strictEqual(r.status, 'drawn', r.message);
    assert.strictEqual(r.mode, 'relevance');
    assert.strictEqual(r.relevance, 'ready', `relevance ${r.relevance}`);
    assert.strictEqual(r.relevanceRequests, 1);
    // Picking the mode built the model's gradient copy.
    assert.ok(gradientCopies(cacheDir, first.model.sha256).length > 0, `no gradient copy of the model in ${cacheDir}`);

    const direct = await vscode.commands.executeCommand<AttentionResult>(SHOW, { text: first.text, relevance: true });
    assert.ok(direct.relevance, 'the engine returned no relevance when asked directly');
    reference = direct.relevance;
    const rel = reference;
    assert.strictEqual(rel.unavailable, null, rel.unavailable ?? '');
    const n = first.tokens.length;
    assert.strictEqual(rel.matrix.length, n * n);
    assert.strictEqual(rel.target?.kind, 'class');
    const offDiagonal = Array.from(rel.matrix).reduce((s, v, i) => (Math.floor(i / n) === i % n ? s : s + v), 0);
    assert.ok(offDiagonal > 0, 'R is only the identity');
    assert.strictEqual(r.bins, n);
    assert.ok(r.nonBlank > 0, 'the relevance heatmap is blank');
    assert.ok(r.pngBase64 && Buffer.from(r.pngBase64, 'base64').subarray(0, 8).equals(PNG_SIGNATURE));
    fs.writeFileSync(path.join(artifactsDir(), 'attention-relevance.png'), Buffer.from(r.pngBase64, 'base64'));
    const l0 = await viewState({ source: prompt.toString(), select: { mode: 'layer-relevance', layer: 0 } });
    const l1 = await viewState({ source: prompt.toString(), select: { mode: 'layer-relevance', layer: 1 } });
    assert.strictEqual(l1.mode, 'layer-relevance');
    // A layer whose Ā has no positive entry (every ∂logit/∂A ⊙ A ≤ 0: it happens in the bundled
    // classifier's last layer) draws blank cells, and the view says so.
    const positive = (l: number): boolean => rel.layerMaps.subarray(l * n * n, (l + 1) * n * n).some((v) => v > 0);
    assert.ok(positive(0), 'layer 0 has no positive gradient-weighted attention');
    assert.ok(l0.nonBlank > 0, 'layer 0 relevance is blank');
    assert.strictEqual(l1.nonBlank > 0, positive(1), `layer 1 drew ${l1.nonBlank} non-blank pixels`);
    const hashes = [head.hash, r.hash, l0.hash, ...(positive(1) ? [l1.hash] : [])];
    assert.strictEqual(new Set(hashes).size, hashes.length, `two maps drew the same pixels: ${hashes.join(' ')}`);
    // A query picked in the relevance mode shades the tokens it draws relevance from.
    const q = await viewState({ source: prompt.toString(), select: { mode: 'relevance', query: rel.rows[0]! } });
    assert.ok(q.shaded > 0, 'no token shaded');
    // Back to a head and to the relevance again: kept for this result, drawn at once, not asked for again.
    await viewState({ source: prompt.toString(), select: { mode: 'head', layer: 0, head: 0, query: null } });
    const again = await viewState({ source: prompt.toString(), select: { mode: 'relevance' } });
    assert.strictEqual(again.hash, r.hash);
    assert.strictEqual(again.relevanceRequests, 1, 'switching back asked the engine again');
    await viewState({ source: prompt.toString(), select: { mode: 'head', layer: 0, head: 0, query: null } });
  });

  test('the colours follow the theme: light, dark and high contrast redraw the canvas (PNGs saved)', async () => {
    const config = vscode.workspace.getConfiguration('workbench');
    const before = config.inspect<string>('colorTheme')?.globalValue;
    const dir = artifactsDir();
    fs.mkdirSync(dir, { recursive: true });
    const seen = new Map<string, string>();
    try {
      for (const [key, theme] of [
        ['light', 'Default Light Modern'],
        ['dark', 'Default Dark Modern'],
        ['high-contrast', 'Default High Contrast'],
      ] as const) {
        await config.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
        // The webview redraws when its body class and theme variables change (MutationObserver).
        const s = await until(
          `a redraw in ${theme}`,
          () => viewState({ source: prompt.toString(), select: { mode: 'head', layer: 0, head: 0, query: null }, png: true }),
          (v) => v.status === 'drawn' && v.nonBlank > 0 && ![...seen.values()].includes(v.hash),
        );
        seen.set(key, s.hash);
        const file = path.join(dir, `attention-${key}.png`);
        fs.writeFileSync(file, Buffer.from(s.pngBase64!, 'base64'));
        console.log(`    [attention] ${theme}: ${file}`);
      }
      assert.strictEqual(new Set(seen.values()).size, 3, 'two themes drew the same pixels');
    } finally {
      await config.update('colorTheme', before, vscode.ConfigurationTarget.Global);
    }
  });

  test('picking a query token shades the key tokens in the text', async () => {
    const s = await viewState({ source: prompt.toString(), select: { mode: 'head', layer: 0, head: 0, query: 1 } });
    assert.strictEqual(s.query, 1);
    assert.ok(s.shaded > 1, `only ${s.shaded} key tokens shaded`);
    const cleared = await viewState({ source: prompt.toString(), select: { query: null } });
    assert.strictEqual(cleared.shaded, 0);
  });

  test('hiding special tokens recomputes with them left out, rows renormalised, and the view says so', async () => {
    const specials = first.tokens.filter((t) => t.special).length;
    assert.ok(specials >= 2, 'the classifier adds [CLS] and [SEP]');
    const hidden = await viewState({ source: prompt.toString(), hideSpecial: true });
    assert.strictEqual(hidden.status, 'drawn', hidden.message);
    assert.strictEqual(hidden.hideSpecial, true);
    assert.strictEqual(hidden.tokens, first.tokens.length - specials);
    assert.ok(hidden.notices.some((n) => /special tokens hidden/i.test(n) && /renormalised/.test(n)), `notices: ${JSON.stringify(hidden.notices)}`);

    const r = await vscode.commands.executeCommand<AttentionResult>(SHOW, { text: first.text, hideSpecial: true });
    const m = r.shown.length;
    for (const s of rowSums(r.attention, m)) assert.ok(Math.abs(s - 1) < 1e-3, `a row sums to ${s}`);

    const shown = await viewState({ source: prompt.toString(), hideSpecial: false });
    assert.strictEqual(shown.tokens, first.tokens.length);
    assert.ok(!shown.notices.some((n) => /special tokens hidden/i.test(n)));
  });

  test('exports JSON (maps, tokens, model hash, run) and PNG, written atomically', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-attention-export-'));
    try {
      const jsonFile = path.join(dir, 'prompt.attention.json');
      await viewState({ source: prompt.toString(), exportTo: { kind: 'json', path: jsonFile } });
      const j = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as {
        format: string;
        model: { sha256: string };
        run: { method: string; modelSha256: string };
        tokens: unknown[];
        shown: number[];
        layers: number[];
        heads: number[];
        attention: number[][][][];
        headMean: number[][][];
        rollout: number[][];
        relevance?: { matrix: number[][]; layerMaps: number[][][] };
        relevanceTarget?: { label: string };
      };
      const n = first.tokens.length;
      // The special-token tests ran the view again: its new result has no relevance until the mode is picked.
      assert.strictEqual(j.relevance, undefined, 'the JSON has a relevance the view never computed');
      assert.strictEqual(j.format, 'loupe-attention');
      assert.match(j.model.sha256, /^[0-9a-f]{64}$/);
      assert.strictEqual(j.model.sha256, first.model.sha256);
      assert.strictEqual(j.run.method, 'attention');
      assert.strictEqual(j.tokens.length, n);
      assert.deepStrictEqual([j.attention.length, j.attention[0]!.length, j.attention[0]![0]!.length, j.attention[0]![0]![0]!.length], [2, 4, n, n]);
      assert.deepStrictEqual([j.headMean.length, j.headMean[0]!.length], [2, n]);
      assert.strictEqual(j.rollout.length, n);
      // The exported weights are the engine's float32 values.
      assert.strictEqual(Math.fround(j.attention[1]![2]![3]![4]!), first.attention[((1 * 4 + 2) * n + 3) * n + 4]);

      // Once the layer relevance is picked, the export has it: the engine's numbers, and a run that says so.
      const picked = await viewState({ source: prompt.toString(), select: { mode: 'layer-relevance', layer: 0 } });
      assert.strictEqual(picked.relevance, 'ready', picked.message);
      assert.strictEqual(picked.relevanceRequests, 2, 'one relevance request per result');
      const withRelevance = path.join(dir, 'prompt.relevance.json');
      await viewState({ source: prompt.toString(), exportTo: { kind: 'json', path: withRelevance } });
      const k = JSON.parse(fs.readFileSync(withRelevance, 'utf8')) as typeof j & { run: { parameters: { relevance?: boolean } } };
      assert.ok(k.relevance && k.relevanceTarget, 'the JSON has no relevance');
      assert.strictEqual(k.run.parameters.relevance, true);
      assert.deepStrictEqual([k.relevance.matrix.length, k.relevance.matrix[0]!.length, k.relevance.layerMaps.length], [n, n, 2]);
      assert.strictEqual(Math.fround(k.relevance.matrix[0]![1]!), reference.matrix[1]);
      assert.strictEqual(Math.fround(k.relevance.layerMaps[1]![0]![2]!), reference.layerMaps[n * n + 2]);
      fs.rmSync(withRelevance);

      const pngFile = path.join(dir, 'prompt.attention.png');
      await viewState({ source: prompt.toString(), select: { mode: 'rollout' }, exportTo: { kind: 'png', path: pngFile } });
      assert.ok(fs.readFileSync(pngFile).subarray(0, 8).equals(PNG_SIGNATURE));
      // Atomic writes leave no temporary files behind.
      assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['prompt.attention.json', 'prompt.attention.png']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('from the explorer (a file URI) it opens one panel per source file, beside the editor', async () => {
    const result = await vscode.commands.executeCommand<AttentionResult | undefined>(SHOW, ham);
    assert.ok(result);
    assert.strictEqual(result.text, fs.readFileSync(ham.fsPath, 'utf8'));
    const tabs = await until('the ham.txt attention tab', async () => attentionTabs(), (t) => t.length > 1);
    assert.deepStrictEqual(tabs.map((t) => t.label).sort(), ['Attention: ham.txt', 'Attention: prompt.txt']);
    const hamTab = tabs.find((t) => t.label === 'Attention: ham.txt')!;
    const hamEditor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === ham.toString());
    assert.ok(hamEditor?.viewColumn !== undefined, 'ham.txt was not shown in an editor');
    assert.ok(hamTab.group.viewColumn > hamEditor.viewColumn, `view in column ${hamTab.group.viewColumn}, editor in ${hamEditor.viewColumn}`);
    const s = await viewState({ source: ham.toString() });
    assert.strictEqual(s.status, 'drawn', s.message);
    assert.ok(s.nonBlank > 0);

    // A selection of prompt.txt goes to prompt.txt's panel (no third panel).
    const doc = await vscode.workspace.openTextDocument(prompt);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    const text = doc.getText();
    const start = text.indexOf('you');
    editor.selection = new vscode.Selection(doc.positionAt(start), doc.positionAt(text.length));
    const sel = await vscode.commands.executeCommand<AttentionResult | undefined>(SHOW);
    assert.ok(sel);
    assert.strictEqual(sel.text, text.slice(start));
    await new Promise((r) => setTimeout(r, 500));
    assert.strictEqual(attentionTabs().length, 2, 'a selection of prompt.txt opened a second panel for it');
    const ps = await viewState({ source: prompt.toString() });
    assert.strictEqual(ps.tokens, sel.tokens.length);
  });

  test('a prompt over the model’s maximum is truncated, and the view says so', async () => {
    const long = vscode.Uri.joinPath(folder, 'long-prompt.txt');
    const words = Array.from({ length: 400 }, (_, i) => `word${i % 37} free prize meeting`).join(' ');
    fs.writeFileSync(long.fsPath, words);
    try {
      const doc = await vscode.workspace.openTextDocument(long);
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
      const result = await vscode.commands.executeCommand<AttentionResult | undefined>(SHOW);
      assert.ok(result?.truncation, 'no truncation reported');
      assert.strictEqual(result.tokens.length, result.truncation.maxLength);
      const s = await viewState({ source: long.toString() });
      assert.strictEqual(s.status, 'drawn', s.message);
      assert.strictEqual(s.tokens, result.tokens.length);
      assert.ok(
        s.notices.some((n) => /truncated/.test(n) && n.includes(String(result.truncation!.originalTokens))),
        `notices: ${JSON.stringify(s.notices)}`,
      );
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      fs.rmSync(long.fsPath, { force: true });
    }
  });

  test('a model Loupe cannot differentiate: its attention is drawn; picking Relevance says why, and the relevance modes go', async function () {
    const fixtures = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures');
    if (!fs.existsSync(path.join(fixtures, 'models', 'bert-token-type', 'model.onnx'))) this.skip();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-elu-'));
    const config = vscode.workspace.getConfiguration('loupe');
    try {
      await config.update('defaultModel', modelWithUnsupportedOp(fixtures, tmp), vscode.ConfigurationTarget.Workspace);
      const doc = await vscode.workspace.openTextDocument(prompt);
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
      const result = await vscode.commands.executeCommand<AttentionResult | undefined>(SHOW);
      assert.ok(result, 'no attention for the model with a Tan');
      assert.strictEqual(result.relevance, undefined);
      const before = await viewState({ source: prompt.toString() });
      assert.strictEqual(before.relevance, 'none');
      const s = await viewState({ source: prompt.toString(), select: { mode: 'relevance' } });
      assert.strictEqual(s.relevance, 'unavailable', s.message);
      assert.strictEqual(s.relevanceRequests, before.relevanceRequests + 1);
      // The view went back to a head map, and says why the relevance is not there.
      assert.strictEqual(s.status, 'drawn', s.message);
      assert.strictEqual(s.mode, 'head');
      assert.ok(s.nonBlank > 0, 'the attention is no longer drawn');
      assert.ok(s.notices.some((n) => /Relevance .* is not available/.test(n) && /Tan/.test(n)), `notices: ${JSON.stringify(s.notices)}`);
    } finally {
      await config.update('defaultModel', undefined, vscode.ConfigurationTarget.Workspace);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('engine errors show in the view naming the file and the problem: fused attention, a missing model', async function () {
    // The repo's test fixtures (the compiled suite is in <repo>/out/test/vscode/suite).
    const fused = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'models', 'fused-attention');
    if (!fs.existsSync(path.join(fused, 'model.onnx'))) this.skip();
    const missing = path.join(os.tmpdir(), `loupe-no-such-model-${process.pid}-${Date.now()}`);
    const config = vscode.workspace.getConfiguration('loupe');
    const doc = await vscode.workspace.openTextDocument(prompt);
    try {
      for (const [model, expected] of [
        [fused, 'fused com.microsoft.Attention operator'],
        [missing, missing],
      ] as const) {
        await config.update('defaultModel', model, vscode.ConfigurationTarget.Workspace);
        await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
        const result = await vscode.commands.executeCommand<AttentionResult | undefined>(SHOW);
        assert.strictEqual(result, undefined, 'an error should leave no result');
        const s = await viewState({ source: prompt.toString() });
        assert.strictEqual(s.status, 'error', `status ${s.status}: ${s.message}`);
        assert.ok(s.message.startsWith('prompt.txt: '), `the message does not name the file: ${s.message}`);
        assert.ok(s.message.includes(expected), `the message does not say ${expected}: ${s.message}`);
      }
    } finally {
      await config.update('defaultModel', undefined, vscode.ConfigurationTarget.Workspace);
    }
    // The extension is alive: the same command works again with the default model.
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
    const again = await vscode.commands.executeCommand<AttentionResult | undefined>(SHOW);
    assert.ok(again && again.numHeads === 4);
    const s = await viewState({ source: prompt.toString() });
    assert.strictEqual(s.status, 'drawn', s.message);
  });

  test('a bad model rejects with an error naming the path, and the extension stays alive', async () => {
    const bad = path.join(os.tmpdir(), `loupe-no-such-model-${process.pid}-${Date.now()}`);
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand(SHOW, { text: 'hello there', model: bad })), (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      assert.ok(message.includes(bad), `error message does not name the path: ${message}`);
      return true;
    });
    const s = await viewState({ source: prompt.toString() });
    assert.strictEqual(s.status, 'drawn');
  });
});
