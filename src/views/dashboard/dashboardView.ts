// The Loupe dashboard: the webview view in the "Loupe" activity-bar container. It shows the current
// model (picked from the bundled models, the workspace's and loupe.models) with what the engine
// says of it (task, inputs and outputs with shapes, labels, opset, size, hash, whether attention can
// be read), the attribution methods' settings with the forward passes each implies for the active
// prompt, the recent runs of this workspace (click to reopen), and a summary of the active dataset.
// Nothing starts the engine until the view is shown.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../../commandIds';
import { describeError, type EngineClient } from '../../engineClient';
import { bundledModels, configuredModels, type CatalogEntry } from '../../modelCatalog';
import type { ModelSelection } from '../../modelSelection';
import { METHOD_LABELS } from '../../protocol/explainViewProtocol';
import {
  checkViewToHost,
  type Budgets,
  type CurrentModel,
  type DashboardProbe,
  type DashboardState,
  type DatasetSummary,
  type HostToView,
  type MethodBudget,
  type ModelChoice,
  type RunAction,
} from '../../protocol/dashboardViewProtocol';
import { ATTRIBUTION_METHODS, type AttentionSupport, type ModelInfo } from '../../protocol/workerProtocol';
import { readSettings, type MethodDefaults } from '../../settings';
import { modelRestriction, RESTRICTED_REASON } from '../../workspaceTrust';
import { workspaceModels } from '../../workspaceModels';
import { webviewHtml } from '../webviewHtml';
import { datasetFormat, sniffDataset } from './datasetSniff';
import type { RecentRuns } from './recentRuns';

/** What the budgets are planned for when no prompt is open: an ordinary sentence of 20-odd tokens. */
const SAMPLE_TEXT = 'Thanks for the update, I will review the attached report and send my comments before the meeting on Friday.';
const PROMPT_EXTENSIONS = new Set(['.txt', '.md', '.prompt']);

interface Described {
  info: ModelInfo | null;
  attention: AttentionSupport | null;
  error: string | null;
}

export interface DashboardHost {
  engine: EngineClient;
  models: ModelSelection;
  recent: RecentRuns;
  /** Reopens a recent run (see extension.ts). */
  openRun(id: string): Promise<void>;
}

export class DashboardView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | null = null;
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly described = new Map<string, Promise<Described>>();
  private readonly budgetCache = new Map<string, Promise<Budgets>>();
  private workspace: CatalogEntry[] = [];
  private workspaceScanned = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly probes = new Map<number, { resolve: (p: DashboardProbe) => void; timer: NodeJS.Timeout }>();
  private nextProbe = 1;
  /** The last state sent (for the test hook). */
  lastState: DashboardState | null = null;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: DashboardHost,
  ) {
    const soon = (): void => this.scheduleRefresh();
    this.disposables.push(
      host.models.onDidChange(soon),
      host.recent.onDidChange(soon),
      vscode.window.onDidChangeActiveTextEditor(soon),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.described.clear();
        soon();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('loupe')) return;
        this.budgetCache.clear();
        soon();
      }),
      vscode.workspace.onDidSaveTextDocument(soon),
    );
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.onnx', false, true, false);
    const rescan = (): void => {
      this.workspaceScanned = false;
      soon();
    };
    this.disposables.push(watcher, watcher.onDidCreate(rescan), watcher.onDidDelete(rescan));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'dashboard', 'Loupe dashboard');
    this.disposables.push(
      view.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      view.onDidChangeVisibility(() => {
        if (!view.visible) this.ready = false;
      }),
      view.onDidDispose(() => {
        if (this.view === view) this.view = null;
        this.ready = false;
      }),
    );
  }

  get visible(): boolean {
    return this.view?.visible === true;
  }

  scheduleRefresh(delayMs = 150): void {
    if (!this.view) return;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, delayMs);
  }

  /** Builds the state and sends it; twice when the engine has work to do (first with "loading"). */
  async refresh(): Promise<DashboardState> {
    const quick = await this.buildState(false);
    this.send(quick);
    const full = await this.buildState(true);
    this.send(full);
    return full;
  }

  private send(state: DashboardState): void {
    this.lastState = state;
    if (this.view && this.ready) void this.view.webview.postMessage({ type: 'state', state } satisfies HostToView);
  }

  private async modelChoices(): Promise<ModelChoice[]> {
    if (!this.workspaceScanned) {
      this.workspaceScanned = true;
      this.workspace = await workspaceModels().catch(() => []);
    }
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const seen = new Set<string>();
    const out: ModelChoice[] = [];
    for (const e of [...bundledModels(), ...configuredModels(readSettings().models, base), ...this.workspace]) {
      if (seen.has(e.path)) continue;
      seen.add(e.path);
      out.push({ name: e.name, path: e.path, source: e.source, allowed: modelRestriction(e.path) === null });
    }
    return out;
  }

  private describe(modelPath: string): Promise<Described> {
    let hit = this.described.get(modelPath);
    if (!hit) {
      const engine = this.host.engine;
      hit = (async (): Promise<Described> => {
        try {
          const info = await engine.request('describe', { model: { path: modelPath } });
          const attention = await engine.request('attentionSupport', { model: { path: modelPath } }).catch((e: unknown) => ({ readable: false, layers: 0, reason: describeError(e) }));
          return { info, attention, error: null };
        } catch (e) {
          return { info: null, attention: null, error: describeError(e) };
        }
      })();
      this.described.set(modelPath, hit);
      // Errors are not kept: the user may fix the file and look again.
      void hit.then((d) => {
        if (d.error !== null) this.described.delete(modelPath);
      });
    }
    return hit;
  }

  /** The prompt the budgets are planned for: the active editor's text file, else a sample sentence. */
  private basis(): { text: string; label: string } {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc && (PROMPT_EXTENSIONS.has(path.extname(doc.fileName).toLowerCase()) || doc.isUntitled) && doc.getText().trim() !== '') {
      const sel = vscode.window.activeTextEditor!.selection;
      const text = sel.isEmpty ? doc.getText() : doc.getText(sel);
      return { text, label: `${vscode.workspace.asRelativePath(doc.uri)}${sel.isEmpty ? '' : ' (selection)'}` };
    }
    return { text: SAMPLE_TEXT, label: 'a sample sentence (open a prompt to plan for it)' };
  }

  private budgets(modelPath: string, defaults: MethodDefaults): Promise<Budgets> {
    const { text, label } = this.basis();
    const key = `${modelPath}\u0000${text}`;
    let hit = this.budgetCache.get(key);
    if (!hit) {
      hit = (async (): Promise<Budgets> => {
        const settingsText = (m: (typeof ATTRIBUTION_METHODS)[number]): string => {
          const baseline = `baseline ${defaults.baseline ?? 'default'}`;
          switch (m) {
            case 'occlusion':
              return `${baseline} · one pass per token`;
            case 'lime':
            case 'kernelshap':
              return `samples ${defaults.samples ?? 500} · seed ${defaults.seed ?? 0} · ${baseline}`;
            case 'ig':
              return `steps ${defaults.steps ?? 50} · ${baseline}`;
            case 'gradxinput':
            case 'saliency':
            case 'attention-gradient':
              return 'one gradient (exact where the graph allows, else finite differences)';
            case 'layer-gradxact':
              return 'one exact gradient · the last block\'s input';
            case 'smoothgrad':
            case 'gradshap':
              return `samples ${defaults.samples ?? 50} · seed ${defaults.seed ?? 0} · exact gradients`;
          }
        };
        try {
          const plan = await this.host.engine.request('plan', { model: { path: modelPath }, text, methods: [...ATTRIBUTION_METHODS], maxTokens: readSettings().maxTokens ?? undefined });
          const methods: MethodBudget[] = ATTRIBUTION_METHODS.map((m) => ({
            method: m,
            label: METHOD_LABELS[m],
            forwardPasses: plan.plans.find((p) => p.method === m)?.forwardPasses ?? null,
            settings: settingsText(m),
          }));
          return { basis: label, tokens: plan.numTokens, methods, defaults, error: null };
        } catch (e) {
          const methods = ATTRIBUTION_METHODS.map((m) => ({ method: m, label: METHOD_LABELS[m], forwardPasses: null, settings: settingsText(m) }));
          return { basis: label, tokens: null, methods, defaults, error: describeError(e) };
        }
      })();
      if (this.budgetCache.size > 20) this.budgetCache.clear();
      this.budgetCache.set(key, hit);
    }
    return hit;
  }

  private async dataset(): Promise<DatasetSummary | null> {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || doc.uri.scheme !== 'file' || !datasetFormat(doc.fileName)) return null;
    const label = vscode.workspace.asRelativePath(doc.uri);
    try {
      const s = await sniffDataset(doc.fileName);
      return { file: doc.uri.toString(), label, ...s };
    } catch (e) {
      return { file: doc.uri.toString(), label, format: datasetFormat(doc.fileName)!, rows: 0, rowsExact: false, columns: [], sizeBytes: 0, error: `${label} could not be read: ${describeError(e)}` };
    }
  }

  private async buildState(withEngine: boolean): Promise<DashboardState> {
    const settings = readSettings();
    const modelPath = this.host.models.current();
    const restriction = modelRestriction(modelPath);
    let current: CurrentModel = { name: path.basename(modelPath), path: modelPath, info: null, attention: null, loading: withEngine ? false : true, error: restriction };
    let budgets: Budgets | null = null;
    if (restriction) current = { ...current, loading: false };
    else if (withEngine) {
      const d = await this.describe(modelPath);
      current = { ...current, info: d.info, attention: d.attention, error: d.error, loading: false };
      if (d.info && (d.info.task === 'text-classifier' || d.info.task === 'causal-lm')) budgets = await this.budgets(modelPath, settings.explain);
    }
    return {
      trusted: vscode.workspace.isTrusted,
      restriction: vscode.workspace.isTrusted ? null : RESTRICTED_REASON,
      models: await this.modelChoices(),
      current,
      budgets,
      recent: this.host.recent.list(),
      dataset: await this.dataset(),
    };
  }

  /** Asks the webview what it drew (tests). */
  async probe(timeoutMs = 10_000): Promise<DashboardProbe> {
    const until = Date.now() + timeoutMs;
    while (!this.view || !this.ready) {
      if (Date.now() > until) throw new Error('the dashboard view is not showing');
      await new Promise((r) => setTimeout(r, 50));
    }
    const id = this.nextProbe++;
    const view = this.view;
    return new Promise<DashboardProbe>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.probes.delete(id);
        reject(new Error('the dashboard did not answer'));
      }, Math.max(1000, until - Date.now()));
      this.probes.set(id, { resolve, timer });
      void view.webview.postMessage({ type: 'probe', id } satisfies HostToView);
    });
  }

  private receive(raw: unknown): void {
    let m;
    try {
      m = checkViewToHost(raw);
    } catch (e) {
      this.host.engine.log.warn(`Ignored a message from the dashboard: ${(e as Error).message}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (this.lastState) void this.view?.webview.postMessage({ type: 'state', state: this.lastState } satisfies HostToView);
        void this.refresh();
        return;
      case 'selectModel':
        void this.selectModel(m.path);
        return;
      case 'browseModel':
        void vscode.commands.executeCommand(Commands.selectModel);
        return;
      case 'openRun':
        void this.openRun(m.id);
        return;
      case 'clearRuns':
        void this.host.recent.clear();
        return;
      case 'openSettings':
        void vscode.commands.executeCommand('workbench.action.openSettings', m.key);
        return;
      case 'run':
        void vscode.commands.executeCommand(ACTION_COMMANDS[m.action]);
        return;
      case 'probeResult': {
        const p = this.probes.get(m.id);
        if (!p) return;
        clearTimeout(p.timer);
        this.probes.delete(m.id);
        p.resolve(m.probe);
        return;
      }
    }
  }

  async openRun(id: string): Promise<void> {
    try {
      await this.host.openRun(id);
    } catch (e) {
      void vscode.window.showErrorMessage(`Loupe: the run could not be reopened: ${describeError(e)}`);
    }
  }

  async selectModel(modelPath: string): Promise<void> {
    const choices = await this.modelChoices();
    const choice = choices.find((c) => c.path === modelPath);
    if (!choice) {
      void vscode.window.showWarningMessage(`Loupe: ${modelPath} is not among the models offered.`);
      return;
    }
    const restriction = modelRestriction(modelPath);
    if (restriction) {
      void vscode.window.showWarningMessage(`Loupe: ${restriction}`);
      this.scheduleRefresh(0);
      return;
    }
    await this.host.models.set(modelPath);
    this.host.engine.setModelLabel(this.host.models.label());
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const p of this.probes.values()) clearTimeout(p.timer);
    for (const d of this.disposables) d.dispose();
  }
}

const ACTION_COMMANDS: Record<RunAction, string> = {
  explain: Commands.explain,
  attention: Commands.showAttention,
  compare: Commands.compareMethods,
  export: Commands.exportResult,
  selectModel: Commands.selectModel,
};
