// The feature-importance view inside a real VS Code: "Loupe: Feature Importance…" on the bundled
// sample CSV (copied into the workspace), run without its quick picks (the test-only `noPrompt`),
// opens a panel beside the dataset whose chart lays out its bars in the engine's ranking (read from
// the bars' pixel positions through the internal command `loupe._importanceViewState`), with a
// whisker per bar with a standard deviation, a sortable table and the dataset summary. Exports go
// through every result panel's writer: HTML, JSON and CSV through `loupe._exportResultTo` (what
// "Loupe: Export Result" writes), the chart's PNG through `loupe._importanceExport`; never over an
// existing file. A dataset with a bad cell gets an error naming the file, the row and the column.
//
// The chart is saved as a PNG artifact: $LOUPE_TEST_ARTIFACTS/importance.png, else
// /tmp/loupe-artifacts/importance.png.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ImportanceResult } from '../../../src/protocol/workerProtocol';
import { activateLoupe, artifactsDir, closeAllEditors, EXTENSION_ID, panelState, PNG_SIGNATURE, until, webviewTabs } from './helpers';

const VIEW_TYPE = 'loupe.importance';
const COMMAND = 'loupe.featureImportance';
const STATE = 'loupe._importanceViewState';
const EXPORT_PNG = 'loupe._importanceExport';
const EXPORT = 'loupe._exportResultTo';

/** What `loupe._importanceViewState` returns (see src/commands/featureImportance.ts). */
interface ViewState {
  status: 'empty' | 'busy' | 'error' | 'drawn';
  message: string;
  generation: number;
  barOrder: string[];
  barLengths: number[];
  errorBars: number;
  tableOrder: string[];
  sort: string;
  descending: boolean;
  summaryColumns: number;
  rowStatus: 'none' | 'busy' | 'error' | 'drawn';
  row: number | null;
  rowBars: string[];
  rowScores: number[];
  rowMessage: string;
  notices: string[];
  pngBase64?: string;
  viewColumn?: number;
  source: string;
  title: string;
}

function viewState(args: { source?: string; select?: { sort?: string; descending?: boolean; row?: number }; png?: boolean; timeoutMs?: number }): Promise<ViewState> {
  return panelState<ViewState>(STATE, args);
}

const importanceTabs = (): vscode.Tab[] => webviewTabs(VIEW_TYPE);

/** The engine's ranking: largest mean first, ties by name (as the view promises to draw it). */
function ranking(r: ImportanceResult): string[] {
  const key = (m: number): number => (Number.isFinite(m) ? m : -Infinity);
  return [...r.features].sort((a, b) => key(b.mean) - key(a.mean) || a.name.localeCompare(b.name)).map((f) => f.name);
}

suite('Feature importance view (loupe.featureImportance)', function () {
  this.timeout(240_000);
  let folder: vscode.Uri;
  let dataset: vscode.Uri;
  let model: string;
  let result: ImportanceResult;

  suiteSetup(async () => {
    const { ext, folder: f } = await activateLoupe();
    folder = f;
    model = path.join(ext.extensionPath, 'models', 'breast-cancer');
    // The bundled sample, copied into the workspace as a user would keep it beside their work.
    dataset = vscode.Uri.joinPath(folder, 'sample.csv');
    await vscode.workspace.fs.copy(vscode.Uri.file(path.join(model, 'sample.csv')), dataset, { overwrite: true });
    await closeAllEditors();
  });

  suiteTeardown(async () => {
    await closeAllEditors();
  });

  /** A copy of the sample dataset, named `name` in the workspace, whose cell (`line`, `column`) is `value`. */
  async function copyWithCell(name: string, line: number, column: number, value: string): Promise<vscode.Uri> {
    const text = Buffer.from(await vscode.workspace.fs.readFile(dataset)).toString('utf8').split(/\r?\n/);
    const cells = text[line]!.split(',');
    cells[column] = value;
    text[line] = cells.join(',');
    const copy = vscode.Uri.joinPath(folder, name);
    await vscode.workspace.fs.writeFile(copy, Buffer.from(text.join('\n'), 'utf8'));
    return copy;
  }

  test('is contributed: palette command, explorer menu on .csv/.jsonl, panel activation; the test hooks are not', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      activationEvents: string[];
      contributes: { commands: { command: string; title: string; category?: string }[]; menus: Record<string, { command: string; when?: string }[]> };
    };
    const cmd = pkg.contributes.commands.find((c) => c.command === COMMAND);
    assert.strictEqual(cmd && `${cmd.category}: ${cmd.title}`, 'Loupe: Feature Importance…');
    const when = pkg.contributes.menus['explorer/context']?.find((m) => m.command === COMMAND)?.when ?? '';
    const re = /resourceExtname =~ \/(.*)\/$/.exec(when);
    assert.ok(re, `explorer/context when: ${when}`);
    const ext = new RegExp(re[1]!.replace(/\\\\/g, '\\'));
    assert.ok(ext.test('.csv') && ext.test('.jsonl'), `the menu's when clause must match .csv and .jsonl: ${when}`);
    assert.ok(!ext.test('.txt') && !ext.test('.csvx'), `the menu's when clause must not match .txt: ${when}`);
    assert.ok(pkg.activationEvents.includes('onWebviewPanel:loupe.importance'));
    assert.ok(!pkg.contributes.commands.some((c) => c.command === STATE || c.command === EXPORT || c.command === EXPORT_PNG), 'the internal test commands must not be contributed');
  });

  test('sample.csv: the panel opens beside the dataset, and the chart lays its bars out in the engine\'s ranking', async () => {
    const r = await vscode.commands.executeCommand<ImportanceResult | undefined>(COMMAND, { uri: dataset.toString(), model, target: 'diagnosis', noPrompt: true, repeats: 5, seed: 0 });
    assert.ok(r, `${COMMAND} returned nothing (an error? see the Loupe log)`);
    result = r;
    assert.strictEqual(r.features.length, 30, 'one importance per feature of the model');
    assert.strictEqual(r.repeats, 5);
    assert.strictEqual(r.dataset.rowsUsed, 60);

    const tabs = await until('the importance tab', async () => importanceTabs(), (t) => t.length > 0);
    assert.strictEqual(tabs.length, 1);
    assert.strictEqual(tabs[0]!.label, 'Feature Importance: sample.csv');
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === dataset.toString());
    assert.ok(editor?.viewColumn !== undefined, 'the dataset is shown in an editor');
    assert.ok(tabs[0]!.group.viewColumn > editor.viewColumn, `the view is in column ${tabs[0]!.group.viewColumn}, the dataset in ${editor.viewColumn}`);

    const s = await viewState({ source: dataset.toString(), png: true });
    assert.strictEqual(s.status, 'drawn', s.message);
    const expected = ranking(r);
    assert.deepStrictEqual(s.barOrder, expected, 'bars top to bottom = features by decreasing mean importance');
    // Longer bars for larger importances: the drawn lengths follow the means.
    for (let i = 1; i < s.barLengths.length; i++) assert.ok(s.barLengths[i]! <= s.barLengths[i - 1]! + 0.5, `bar ${i} (${s.barOrder[i]}) is longer than the one above it: ${s.barLengths.join(', ')}`);
    const byName = new Map(r.features.map((f) => [f.name, f]));
    s.barOrder.forEach((name, i) => {
      const m = byName.get(name)!.mean;
      if (Math.abs(m) > 1e-9) assert.strictEqual(Math.sign(s.barLengths[i]!), Math.sign(m), `${name}: bar length ${s.barLengths[i]} for mean ${m}`);
    });
    assert.strictEqual(s.errorBars, r.features.filter((f) => f.std > 0 && Number.isFinite(f.std)).length, 'one whisker per feature with a standard deviation');
    assert.ok(s.errorBars > 0, 'no whisker drawn');
    assert.deepStrictEqual(s.tableOrder, expected, 'the table starts in rank order');
    assert.strictEqual(s.summaryColumns, 31, 'the dataset summary lists every column of the file');

    assert.ok(s.pngBase64, 'no PNG of the chart');
    const png = Buffer.from(s.pngBase64, 'base64');
    assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'the PNG is not a PNG');
    const dir = artifactsDir();
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'importance.png');
    fs.writeFileSync(file, png);
    console.log(`    [importance] chart PNG (${png.length} bytes): ${file}; top 3: ${expected.slice(0, 3).join(', ')}`);
  });

  test('the table sorts by name and by standard deviation, and back to rank', async () => {
    const src = dataset.toString();
    const names = [...result.features.map((f) => f.name)].sort((a, b) => a.localeCompare(b));
    assert.deepStrictEqual((await viewState({ source: src, select: { sort: 'name', descending: false } })).tableOrder, names);
    const s = await viewState({ source: src, select: { sort: 'std', descending: true } });
    const stds = s.tableOrder.map((n) => result.features.find((f) => f.name === n)!.std);
    for (let i = 1; i < stds.length; i++) assert.ok(stds[i]! <= stds[i - 1]!, `not sorted by std: ${stds.join(', ')}`);
    const back = await viewState({ source: src, select: { sort: 'rank', descending: false } });
    assert.deepStrictEqual(back.tableOrder, ranking(result));
    assert.deepStrictEqual(back.barOrder, ranking(result), 'sorting the table leaves the chart in rank order');
  });

  test('explain one row (KernelSHAP): the row chart lays out every feature by its contribution, largest first; a row outside the file is refused', async () => {
    const src = dataset.toString();
    await viewState({ source: src, select: { row: 3 } });
    const s = await until('the row explanation', () => viewState({ source: src }), (v) => v.rowStatus === 'drawn' || v.rowStatus === 'error', 120_000);
    assert.strictEqual(s.rowStatus, 'drawn', s.rowMessage);
    assert.strictEqual(s.row, 3);
    assert.strictEqual(s.rowBars.length, 30, 'one bar per feature');
    for (let i = 1; i < s.rowScores.length; i++) assert.ok(s.rowScores[i]! <= s.rowScores[i - 1]!, `row bars not in decreasing contribution: ${s.rowScores.join(', ')}`);
    assert.ok(s.rowScores.some((x) => x !== 0), 'every contribution is 0');
    // A row outside the file: the view says so, naming the range, and asks the engine nothing.
    const bad = await viewState({ source: src, select: { row: 61 } });
    assert.strictEqual(bad.rowStatus, 'error');
    assert.match(bad.rowMessage, /from 1 to 60/);
    assert.deepStrictEqual((await viewState({ source: src })).barOrder, ranking(result), 'the importance chart is unchanged');
  });

  test('exports: HTML, CSV, JSON and PNG are written, and an existing file is never replaced without asking', async () => {
    const src = dataset.toString();
    const csv = vscode.Uri.joinPath(folder, 'exports', 'sample.importance.csv');
    const json = vscode.Uri.joinPath(folder, 'exports', 'sample.importance.json');
    const html = vscode.Uri.joinPath(folder, 'exports', 'sample.importance.html');
    const png = vscode.Uri.joinPath(folder, 'exports', 'sample.importance.png');
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(folder, 'exports'));
    for (const u of [csv, json, html, png]) await Promise.resolve(vscode.workspace.fs.delete(u)).catch(() => undefined);
    await vscode.commands.executeCommand(EXPORT, { kind: 'importance', source: src, format: 'csv', path: csv.fsPath });
    const lines = Buffer.from(await vscode.workspace.fs.readFile(csv)).toString('utf8').trim().split(/\r\n/);
    assert.strictEqual(lines.length, 31);
    assert.ok(lines[0]!.startsWith('rank,feature,columns,importance_mean,importance_std,repeat_1'), lines[0]);
    const top = ranking(result)[0]!;
    assert.ok(lines[1]!.startsWith(`1,${top},`), `first CSV row ${lines[1]} should be ${top}`);

    await vscode.commands.executeCommand(EXPORT, { kind: 'importance', source: src, format: 'json', path: json.fsPath });
    const j = JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(json)).toString('utf8')) as {
      model: { sha256: string };
      run: { seed: number; method: string; parameters: unknown; engineVersion: string; onnxruntimeVersion: string };
      settings: { seed: number; repeats: number; target: string | null };
      features: { name: string }[];
    };
    assert.strictEqual(j.model.sha256, result.model.sha256);
    assert.strictEqual(j.features[0]!.name, top);
    assert.deepStrictEqual(j.run, result.run, 'the run: method, parameters, seed and versions');
    assert.strictEqual(j.settings.target, 'diagnosis');
    assert.strictEqual(j.settings.repeats, result.repeats);

    // HTML: self-contained, with the chart as the view drew it and the ranking in order.
    await vscode.commands.executeCommand(EXPORT, { kind: 'importance', source: src, format: 'html', path: html.fsPath });
    const page = Buffer.from(await vscode.workspace.fs.readFile(html)).toString('utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    const img = /src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/.exec(page);
    assert.ok(img, 'the report embeds the chart as drawn');
    assert.ok(Buffer.from(img[1]!, 'base64').subarray(0, 8).equals(PNG_SIGNATURE), 'the embedded chart is a PNG');
    assert.ok(!/(src|href)="https?:/.test(page), 'the report fetches nothing');
    assert.ok(page.includes(result.model.sha256), "the report carries the model's hash");
    const at = ranking(result).slice(0, 3).map((n) => page.indexOf(`<td>${n}</td>`));
    assert.ok(at.every((i) => i > 0) && at[0]! < at[1]! && at[1]! < at[2]!, `the report's table in the ranking's order: ${at.join(', ')}`);

    await vscode.commands.executeCommand(EXPORT_PNG, { source: src, uri: png.toString() });
    assert.ok(Buffer.from(await vscode.workspace.fs.readFile(png)).subarray(0, 8).equals(PNG_SIGNATURE));

    // Again over the CSV (and the PNG): refused, and the files are left as they were.
    const before = Buffer.from(await vscode.workspace.fs.readFile(csv));
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand(EXPORT, { kind: 'importance', source: src, format: 'json', path: csv.fsPath })), /already exists/);
    assert.ok(Buffer.from(await vscode.workspace.fs.readFile(csv)).equals(before), 'the existing file was changed');
    const pngBefore = Buffer.from(await vscode.workspace.fs.readFile(png));
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand(EXPORT_PNG, { source: src, uri: png.toString() })), /already exists/);
    assert.ok(Buffer.from(await vscode.workspace.fs.readFile(png)).equals(pngBefore), 'the existing PNG was changed');
    const leftovers = (await vscode.workspace.fs.readDirectory(vscode.Uri.joinPath(folder, 'exports'))).map(([n]) => n).filter((n) => n.endsWith('.tmp'));
    assert.deepStrictEqual(leftovers, [], 'temporary files left behind');
  });

  test("the run is listed in the dashboard's recent runs, and clicking it reopens the panel with the same ranking", async () => {
    type Dash = { state: { recent: { id: string; kind: string; source: string; model: string; summary: string; importance?: { seed: number; repeats: number; target: string | null } }[] }; drawn: { recent: string[] } };
    const a = await vscode.commands.executeCommand<Dash>('loupe._dashboardState', {});
    const run = a.state.recent.find((r) => r.kind === 'importance' && r.source === dataset.toString());
    assert.ok(run, `no feature importance run of sample.csv listed: ${JSON.stringify(a.state.recent).slice(0, 400)}`);
    assert.ok(a.drawn.recent.includes('Feature importance · sample.csv'), JSON.stringify(a.drawn.recent));
    assert.strictEqual(run.model, 'breast-cancer');
    assert.match(run.summary, new RegExp(`top ${ranking(result)[0]}`));
    assert.deepStrictEqual([run.importance?.seed, run.importance?.repeats, run.importance?.target], [0, 5, 'diagnosis'], 'the run records its settings');

    await closeAllEditors();
    await until('the importance tab to close', async () => importanceTabs(), (t) => t.length === 0);
    await vscode.commands.executeCommand('loupe._dashboardState', { openRun: run.id });
    await until('the importance tab to reopen', async () => importanceTabs(), (t) => t.length === 1);
    const s = await viewState({ source: dataset.toString() });
    assert.strictEqual(s.status, 'drawn', s.message);
    assert.deepStrictEqual(s.barOrder, ranking(result), 'the reopened run draws the same ranking (same seed)');
  });

  test('the same data as JSONL: its own panel, and the same ranking as the CSV', async () => {
    const lines = Buffer.from(await vscode.workspace.fs.readFile(dataset)).toString('utf8').trim().split(/\r?\n/);
    const header = lines[0]!.split(',');
    const jsonl = lines
      .slice(1)
      .map((l) => JSON.stringify(Object.fromEntries(l.split(',').map((v, i) => [header[i]!, header[i] === 'diagnosis' ? v : Number(v)]))))
      .join('\n');
    const file = vscode.Uri.joinPath(folder, 'sample.jsonl');
    await vscode.workspace.fs.writeFile(file, Buffer.from(`${jsonl}\n`, 'utf8'));
    try {
      const r = await vscode.commands.executeCommand<ImportanceResult | undefined>(COMMAND, { uri: file.toString(), model, target: 'diagnosis', noPrompt: true, repeats: 5, seed: 0 });
      assert.ok(r, `${COMMAND} returned nothing for the JSONL file`);
      assert.strictEqual(r.dataset.format, 'jsonl');
      assert.deepStrictEqual(ranking(r), ranking(result), 'the same rows give the same ranking whatever the format');
      const s = await viewState({ source: file.toString() });
      assert.strictEqual(s.title, 'Feature Importance: sample.jsonl');
      assert.deepStrictEqual(s.barOrder, ranking(r));
      assert.strictEqual(importanceTabs().length, 2, 'one panel per dataset file');
    } finally {
      await Promise.resolve(vscode.workspace.fs.delete(file)).catch(() => undefined);
    }
  });

  test('missing values: an error naming the row and column, or the imputation chosen, stated in the view', async () => {
    const gaps = await copyWithCell('gaps.csv', 5, 0, '');
    try {
      assert.strictEqual(await vscode.commands.executeCommand(COMMAND, { uri: gaps.toString(), model, target: 'diagnosis', noPrompt: true }), undefined);
      const e = await viewState({ source: gaps.toString() });
      assert.strictEqual(e.status, 'error');
      assert.match(e.message, /gaps\.csv/);
      assert.match(e.message, /mean radius/, `the error names the column: ${e.message}`);
      const r = await vscode.commands.executeCommand<ImportanceResult | undefined>(COMMAND, { uri: gaps.toString(), model, target: 'diagnosis', noPrompt: true, imputation: 'median' });
      assert.ok(r, 'no result with imputation');
      assert.strictEqual(r.dataset.imputation, 'median');
      assert.deepStrictEqual(r.dataset.imputed.map((i) => [i.column, i.count]), [['mean radius', 1]]);
      const s = await viewState({ source: gaps.toString() });
      assert.strictEqual(s.status, 'drawn', s.message);
      assert.ok(s.notices.some((n) => /1 missing values of "mean radius" were imputed/.test(n)), `the view states the imputation: ${JSON.stringify(s.notices)}`);
    } finally {
      await Promise.resolve(vscode.workspace.fs.delete(gaps)).catch(() => undefined);
    }
  });

  test('a text dataset with the text classifier: the chart ranks tokens by mean |score|, the table lists them all', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    // The repo's fixture of prompts (the tests run from the repo, the extension from its install).
    const fixture = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'data', 'prompts.csv');
    const prompts = vscode.Uri.joinPath(folder, 'prompts.csv');
    await vscode.workspace.fs.copy(vscode.Uri.file(fixture), prompts, { overwrite: true });
    try {
      const r = await vscode.commands.executeCommand<ImportanceResult | undefined>(COMMAND, { uri: prompts.toString(), model: path.join(ext.extensionPath, 'models', 'spam-classifier'), noPrompt: true, method: 'occlusion' });
      assert.ok(r, `${COMMAND} returned nothing for the text dataset`);
      assert.strictEqual(r.kind, 'text');
      assert.ok(r.text && r.text.overall.length > 0, 'no token importance');
      assert.strictEqual(r.text.textColumn, 'text');
      const key = (m: number): number => (Number.isFinite(m) ? m : -Infinity);
      const tokens = [...r.text.overall].sort((a, b) => key(b.meanAbs) - key(a.meanAbs) || a.token.localeCompare(b.token)).map((t) => t.token);
      const s = await viewState({ source: prompts.toString() });
      assert.strictEqual(s.status, 'drawn', s.message);
      assert.deepStrictEqual(s.barOrder, tokens.slice(0, 25), 'the chart: the 25 largest mean |score| tokens, largest first');
      assert.deepStrictEqual(s.tableOrder, tokens, 'the table: every token, in rank order');
      assert.strictEqual(s.errorBars, 0, 'no whiskers without repeats');
    } finally {
      await Promise.resolve(vscode.workspace.fs.delete(prompts)).catch(() => undefined);
    }
  });

  test('a dataset with a non-numeric cell: the panel and the notification name the file, the row and the column', async () => {
    const bad = await copyWithCell('bad-cell.csv', 3, 2, 'n/a?');
    try {
      const r = await vscode.commands.executeCommand<ImportanceResult | undefined>(COMMAND, { uri: bad.toString(), model, target: 'diagnosis', noPrompt: true });
      assert.strictEqual(r, undefined, 'no result for a bad file');
      const s = await viewState({ source: bad.toString() });
      assert.strictEqual(s.status, 'error');
      assert.match(s.message, /bad-cell\.csv/, `the error names the file: ${s.message}`);
      assert.match(s.message, /mean perimeter/, `the error names the column: ${s.message}`);
      assert.match(s.message, /\b3\b/, `the error names the row: ${s.message}`);
    } finally {
      await Promise.resolve(vscode.workspace.fs.delete(bad)).catch(() => undefined);
    }
  });
});
