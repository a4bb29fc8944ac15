// The dashboard (the Loupe side panel) inside a real VS Code: it lists the bundled models, shows
// what the engine says of the current one (task, inputs and outputs, labels, opset, size, hash,
// attention) and the forward passes each method implies; switching the model there changes the next
// result; runs are listed and reopen; an open CSV is summarised. What the webview drew is read through
// the internal command `loupe._dashboardState`, which also picks a model and reopens a run as the
// view's own messages do.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { DashboardProbe, DashboardState } from '../../../src/protocol/dashboardViewProtocol';
import type { AttentionResult, ModelInfo } from '../../../src/protocol/workerProtocol';
import { activateLoupe, closeAllEditors, webviewTabs } from './helpers';

const STATE = 'loupe._dashboardState';

interface Answer {
  state: DashboardState;
  drawn: DashboardProbe;
}

async function dashboard(args: { select?: string; openRun?: string } = {}): Promise<Answer> {
  const a = await vscode.commands.executeCommand<Answer>(STATE, args);
  assert.ok(a && a.state && a.drawn, `${STATE} returned ${JSON.stringify(a)}`);
  return a;
}

function fact(a: Answer, name: string): string {
  const f = a.drawn.facts.find((x) => x.name === name);
  assert.ok(f, `the dashboard shows no "${name}" row: ${JSON.stringify(a.drawn.facts)}`);
  return f.value;
}

suite('Dashboard (Loupe side panel)', function () {
  this.timeout(180_000);
  let ext: vscode.Extension<unknown>;
  let prompt: vscode.Uri;
  const bundled = (name: string): string => path.join(ext.extensionPath, 'models', name);

  suiteSetup(async () => {
    const loupe = await activateLoupe();
    ext = loupe.ext;
    prompt = vscode.Uri.joinPath(loupe.folder, 'prompt.txt');
    await closeAllEditors();
  });

  suiteTeardown(async () => {
    // Later suites expect the default model: pick it back.
    await dashboard({ select: bundled('spam-classifier') }).catch(() => undefined);
    await closeAllEditors();
  });

  test('is contributed: an activity-bar container with a webview view, its commands under "Loupe"', () => {
    const pkg = ext.packageJSON as {
      contributes: { viewsContainers: { activitybar: { id: string; icon: string }[] }; views: Record<string, { id: string; type: string }[]>; commands: { command: string; category: string }[] };
    };
    const container = pkg.contributes.viewsContainers.activitybar.find((c) => c.id === 'loupe');
    assert.ok(container, 'no "loupe" activity-bar container');
    assert.ok(fs.existsSync(path.join(ext.extensionPath, container.icon)), `the container's icon ${container.icon} is not shipped`);
    assert.deepStrictEqual(pkg.contributes.views.loupe?.map((v) => [v.id, v.type]), [['loupe.dashboard', 'webview']]);
    for (const id of ['loupe.explainPrompt', 'loupe.explainSelection', 'loupe.compareMethods', 'loupe.exportResult', 'loupe.openDashboard', 'loupe.restartEngine', 'loupe.showLog', 'loupe.selectModel', 'loupe.showAttention', 'loupe.toggleInlineAttributions']) {
      const c = pkg.contributes.commands.find((x) => x.command === id);
      assert.ok(c, `${id} is not contributed`);
      assert.strictEqual(c.category, 'Loupe', `${id}'s category`);
    }
  });

  test('the walkthrough: three steps, their pages shipped, their buttons registered commands', async () => {
    const pkg = ext.packageJSON as { contributes: { walkthroughs: { steps: { description: string; media: { markdown: string } }[] }[] } };
    const steps = pkg.contributes.walkthroughs[0]!.steps;
    assert.strictEqual(steps.length, 3);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const s of steps) {
      assert.ok(fs.existsSync(path.join(ext.extensionPath, s.media.markdown)), `${s.media.markdown} is not shipped`);
      const links = [...s.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]!);
      assert.ok(links.length > 0, `step without a button: ${s.description}`);
      for (const c of links) assert.ok(registered.has(c), `the walkthrough's ${c} is not a registered command`);
    }
  });

  test('lists the bundled models and shows the current one as the engine describes it', async () => {
    const a = await dashboard({ select: bundled('spam-classifier') });
    for (const name of ['spam-classifier', 'moby-lm', 'breast-cancer']) {
      assert.ok(a.state.models.some((m) => m.name === name && m.source === 'bundled'), `${name} not in the state: ${JSON.stringify(a.state.models.map((m) => m.name))}`);
      assert.ok(a.drawn.models.some((l) => l.startsWith(`${name} · bundled`)), `${name} not listed in the view: ${JSON.stringify(a.drawn.models)}`);
    }
    assert.strictEqual(a.drawn.selected, bundled('spam-classifier'));
    const info = await vscode.commands.executeCommand<unknown>('loupe.predict', { text: 'hello', model: 'spam-classifier' }).then((r) => (r as { model: ModelInfo }).model);
    assert.match(fact(a, 'Task'), /^text-classifier/);
    assert.strictEqual(fact(a, 'SHA-256'), info.sha256);
    assert.match(fact(a, 'SHA-256'), /^[0-9a-f]{64}$/);
    assert.strictEqual(fact(a, 'Labels'), info.labels!.join(', '));
    assert.ok(fact(a, 'Inputs').includes(info.inputs[0]!.name), fact(a, 'Inputs'));
    assert.ok(/\[.+\]/.test(fact(a, 'Outputs')), `outputs without shapes: ${fact(a, 'Outputs')}`);
    assert.strictEqual(fact(a, 'Opset'), String(info.opset));
    assert.match(fact(a, 'Size'), /\d+(\.\d+)? (KB|MB)/);
    assert.match(fact(a, 'Attention'), /^readable \(\d+ layers\)$/);
    // Each of the engine's ten attribution methods with the forward passes it implies (planned by the engine).
    const planned = a.state.budgets!.methods;
    assert.strictEqual(planned.length, 10, JSON.stringify(planned.map((m) => m.method)));
    assert.strictEqual(a.drawn.budgets.length, planned.length, JSON.stringify(a.drawn.budgets));
    for (const m of planned) assert.ok(m.forwardPasses !== null && m.forwardPasses > 0, `${m.method}: ${m.forwardPasses} passes`);
    assert.ok(a.drawn.budgets.some((b) => b.startsWith('Occlusion |') && b.endsWith(`| ${planned.find((m) => m.method === 'occlusion')!.forwardPasses}`)), JSON.stringify(a.drawn.budgets));
  });

  test('the budgets follow the method settings (loupe.explain.samples)', async () => {
    const config = vscode.workspace.getConfiguration('loupe');
    const before = (await dashboard()).state.budgets!.methods.find((m) => m.method === 'lime')!;
    try {
      await config.update('explain.samples', 64, vscode.ConfigurationTarget.Workspace);
      let after = before;
      for (let i = 0; i < 50 && after.forwardPasses === before.forwardPasses; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = (await dashboard()).state.budgets!.methods.find((m) => m.method === 'lime')!;
      }
      assert.ok(after.settings.includes('samples 64'), after.settings);
      assert.ok(after.forwardPasses! < before.forwardPasses!, `LIME: ${after.forwardPasses} passes with 64 samples, ${before.forwardPasses} with the default`);
    } finally {
      await config.update('explain.samples', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('switching the model in the dashboard changes the next result', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(prompt));
    const first = await vscode.commands.executeCommand<AttentionResult | undefined>('loupe.showAttention', prompt);
    assert.ok(first, 'no attention result');
    assert.strictEqual(path.basename(first.model.path), 'spam-classifier');

    const a = await dashboard({ select: bundled('moby-lm') });
    assert.strictEqual(a.state.current.path, bundled('moby-lm'));
    assert.strictEqual(a.drawn.selected, bundled('moby-lm'));
    assert.match(fact(a, 'Task'), /^causal-lm/);

    const second = await vscode.commands.executeCommand<AttentionResult | undefined>('loupe.showAttention', prompt);
    assert.ok(second, 'no attention result after switching');
    assert.strictEqual(path.basename(second.model.path), 'moby-lm');
    assert.notStrictEqual(second.model.sha256, first.model.sha256);
  });

  test('recent runs are listed, and clicking one reopens its result', async () => {
    const a = await dashboard();
    const run = a.state.recent.find((r) => r.kind === 'attention' && r.source === prompt.toString());
    assert.ok(run, `no attention run of prompt.txt listed: ${JSON.stringify(a.state.recent)}`);
    assert.ok(a.drawn.recent.includes('Attention · prompt.txt'), JSON.stringify(a.drawn.recent));
    await closeAllEditors();
    const tabs = (): vscode.Tab[] => webviewTabs('loupe.attention');
    assert.strictEqual(tabs().length, 0);
    await dashboard({ openRun: run.id });
    for (let i = 0; i < 100 && tabs().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(tabs().length, 1, 'the run was not reopened');
    const s = await vscode.commands.executeCommand<{ status: string; tokens: number }>('loupe._attentionViewState', { source: prompt.toString() });
    assert.strictEqual(s.status, 'drawn');
    assert.ok(s.tokens > 0);
  });

  test('an open CSV is summarised: rows and columns', async () => {
    const csv = path.join(ext.extensionPath, 'models', 'breast-cancer', 'sample.csv');
    const lines = fs.readFileSync(csv, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(csv));
    let a = await dashboard();
    for (let i = 0; i < 30 && !a.state.dataset; i++) a = await dashboard();
    assert.ok(a.state.dataset, 'no dataset summary');
    assert.strictEqual(a.state.dataset.rows, lines.length - 1);
    assert.strictEqual(a.state.dataset.rowsExact, true);
    assert.deepStrictEqual(a.state.dataset.columns, lines[0]!.split(',').map((c) => c.trim()));
    assert.ok(a.drawn.dataset?.startsWith(`${lines.length - 1} rows · ${lines[0]!.split(',').length} columns`), String(a.drawn.dataset));
  });
});
