// Exports from the explanation and attention panels inside a real VS Code: HTML (self-contained:
// the view as drawn as a PNG, the provenance, the data embedded), JSON (scores with the model's
// hash, method, parameters, seed and versions) and CSV; each file is opened and read back. Written
// through the internal command `loupe._exportResultTo` (the same code as the panels' Export buttons
// and "Loupe: Export Result", without the save dialog), which never replaces an existing file.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { parse } from 'csv-parse/sync';
import type { AttentionResult, ExplainResult } from '../../../src/protocol/workerProtocol';
import { activateLoupe, artifactsDir, closeAllEditors, PNG_SIGNATURE } from './helpers';

const EXPORT = 'loupe._exportResultTo';

/** The JSON embedded in an HTML report, and its images. */
function readHtml(file: string): { html: string; data: unknown; pngs: Buffer[] } {
  const html = fs.readFileSync(file, 'utf8');
  assert.ok(html.startsWith('<!DOCTYPE html>'), 'not an HTML document');
  assert.ok(html.trimEnd().endsWith('</html>'), 'the HTML document is cut short');
  // Self-contained: nothing fetched, no script to run.
  assert.ok(!/\b(src|href)="(https?:)?\/\//.test(html), 'the report references something online');
  assert.ok(!/<script(?![^>]*type="application\/json")/.test(html), 'the report runs a script');
  const m = /<script type="application\/json" id="loupe-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'no embedded data');
  const pngs = [...html.matchAll(/src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)].map((x) => Buffer.from(x[1]!, 'base64'));
  return { html, data: JSON.parse(m[1]!), pngs };
}

suite('Exports (HTML, JSON, CSV)', function () {
  this.timeout(180_000);
  let prompt: vscode.Uri;
  let dir: string;

  suiteSetup(async () => {
    const { folder } = await activateLoupe();
    prompt = vscode.Uri.joinPath(folder, 'prompt.txt');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-exports-'));
    await closeAllEditors();
  });

  suiteTeardown(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await closeAllEditors();
  });

  test('the explanation exports to JSON, CSV and HTML that read back to the same scores', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(prompt));
    const r = await vscode.commands.executeCommand<ExplainResult | undefined>('loupe.explain', { uri: prompt, methods: ['occlusion', 'kernelshap'], noPrompt: true });
    assert.ok(r, 'no explanation');
    await vscode.commands.executeCommand('loupe._explainViewState', { source: prompt.toString() });

    const jsonFile = path.join(dir, 'prompt.explanation.json');
    await vscode.commands.executeCommand(EXPORT, { kind: 'explanation', source: prompt.toString(), format: 'json', path: jsonFile });
    const j = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as {
      format: string;
      model: { sha256: string };
      run: { engineVersion: string; onnxruntimeVersion: string; nodeVersion: string };
      explanations: { method: string; parameters: Record<string, unknown>; seed: number; tokens: unknown[]; scores: (number | null)[] }[];
    };
    assert.strictEqual(j.format, 'loupe-explanation');
    assert.strictEqual(j.model.sha256, r.model.sha256);
    assert.match(j.model.sha256, /^[0-9a-f]{64}$/);
    assert.ok(j.run.engineVersion && j.run.onnxruntimeVersion && j.run.nodeVersion, JSON.stringify(j.run));
    assert.deepStrictEqual(j.explanations.map((e) => e.method), ['occlusion', 'kernelshap']);
    r.explanations.forEach((e, k) => {
      const x = j.explanations[k]!;
      assert.strictEqual(x.seed, e.seed);
      assert.deepStrictEqual(x.parameters, e.parameters);
      assert.strictEqual(x.scores.length, e.tokens.length);
      e.scores.forEach((s, i) => assert.strictEqual(x.scores[i], e.attributed[i] ? s : null, `${e.method} token ${i}`));
    });

    const csvFile = path.join(dir, 'prompt.explanation.csv');
    await vscode.commands.executeCommand(EXPORT, { kind: 'explanation', format: 'csv', path: csvFile });
    const rows = parse(fs.readFileSync(csvFile, 'utf8'), { columns: true }) as Record<string, string>[];
    const e0 = r.explanations[0]!;
    assert.strictEqual(rows.length, e0.tokens.length);
    rows.forEach((row, i) => {
      assert.strictEqual(row.token, e0.tokens[i]!.token);
      for (const e of r.explanations) assert.strictEqual(row[e.method], e.attributed[i] ? String(e.scores[i]) : '', `${e.method} row ${i}`);
    });

    const htmlFile = path.join(dir, 'prompt.explanation.html');
    await vscode.commands.executeCommand(EXPORT, { kind: 'explanation', format: 'html', path: htmlFile });
    const h = readHtml(htmlFile);
    assert.ok(h.pngs.length >= 1 && h.pngs[0]!.subarray(0, 8).equals(PNG_SIGNATURE), 'the report lacks the view as drawn (PNG)');
    assert.ok(h.html.includes(r.model.sha256), "the report does not name the model's hash");
    const shaded = (h.html.match(/<span class="tok" style="background:/g) ?? []).length;
    assert.ok(shaded > 0, 'no shaded token in the report');
    assert.deepStrictEqual((h.data as { explanations: { scores: unknown }[] }).explanations.map((e) => e.scores), j.explanations.map((e) => e.scores));
    const art = artifactsDir();
    fs.mkdirSync(art, { recursive: true });
    fs.copyFileSync(htmlFile, path.join(art, 'explanation-report.html'));
    // Atomic writes leave no temporary file behind.
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['prompt.explanation.csv', 'prompt.explanation.html', 'prompt.explanation.json']);
  });

  test('an existing file is never replaced without asking', async () => {
    const file = path.join(dir, 'keep.json');
    fs.writeFileSync(file, 'the user’s file\n');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand(EXPORT, { kind: 'explanation', format: 'json', path: file })), /already exists/);
    assert.strictEqual(fs.readFileSync(file, 'utf8'), 'the user’s file\n');
    assert.ok(!fs.readdirSync(dir).some((f) => f.endsWith('.tmp')), 'a temporary file was left behind');
  });

  test('the attention exports to CSV and an HTML report with the heatmap', async () => {
    const r = await vscode.commands.executeCommand<AttentionResult | undefined>('loupe.showAttention', prompt);
    assert.ok(r, 'no attention');
    await vscode.commands.executeCommand('loupe._attentionViewState', { source: prompt.toString() });
    const m = r.shown.length;

    const csvFile = path.join(dir, 'prompt.attention.csv');
    await vscode.commands.executeCommand(EXPORT, { kind: 'attention', format: 'csv', path: csvFile });
    const rows = parse(fs.readFileSync(csvFile, 'utf8'), { columns: true }) as Record<string, string>[];
    // Every layer's head mean, rollout, and the relevance R when the panel computed it.
    const relevance = r.relevance && r.relevance.unavailable === null ? r.relevance : null;
    assert.strictEqual(rows.length, (r.layers.length + 1 + (relevance ? 1 : 0)) * m * m);
    if (relevance) assert.strictEqual(rows.filter((x) => x.matrix === 'relevance').length, m * m);
    const roll = rows.filter((x) => x.matrix === 'rollout');
    assert.strictEqual(roll.length, m * m);
    assert.strictEqual(Math.fround(Number(roll[3]!.weight)), r.rollout[3]);

    const htmlFile = path.join(dir, 'prompt.attention.html');
    await vscode.commands.executeCommand(EXPORT, { kind: 'attention', format: 'html', path: htmlFile });
    const h = readHtml(htmlFile);
    assert.ok(h.pngs.length === 1 && h.pngs[0]!.subarray(0, 8).equals(PNG_SIGNATURE), 'the report lacks the heatmap (PNG)');
    const d = h.data as { model: { sha256: string }; rollout: number[][]; headMean: number[][][] };
    assert.strictEqual(d.model.sha256, r.model.sha256);
    assert.strictEqual(d.rollout.length, m);
    assert.strictEqual(d.headMean.length, r.layers.length);
    assert.strictEqual(Math.fround(d.rollout[0]![1]!), r.rollout[1]);
  });
});
