// Loupe's extension entry point. Activation only registers commands and views: the engine worker,
// and with it onnxruntime-node and any model, starts on the first request.

import * as vscode from 'vscode';
import { Commands } from './commandIds';
import { registerClearCache } from './commands/clearCache';
import { registerExplain } from './commands/explain';
import { registerFeatureImportance } from './commands/featureImportance';
import { registerPredict } from './commands/predict';
import { registerResultCommands } from './commands/resultCommands';
import { registerSelectModel } from './commands/selectModel';
import { registerShowAttention } from './commands/showAttention';
import { EngineClient } from './engineClient';
import { ModelSelection } from './modelSelection';
import { DASHBOARD_VIEW_ID } from './protocol/dashboardViewProtocol';
import { DashboardView } from './views/dashboard/dashboardView';
import { registerDashboardProbe } from './views/dashboard/dashboardProbe';
import { RecentRuns } from './views/dashboard/recentRuns';
import { onDidShowResult, openResultPanels } from './views/sourcePanel';

/** When the bundle started to load (set by its banner, tools/build.mjs) and when this module was evaluated. */
const bundleStart = (globalThis as { __loupeBundleStart?: number }).__loupeBundleStart;
const moduleEvaluated = performance.now();
let engine: EngineClient | null = null;

export interface LoupeApi {
  /** Whether the engine worker process is running (it starts on first use). */
  engineStarted(): boolean;
  /** How long activate() took, and loading the bundle before it, in ms (the bench reads them). */
  activationMs(): number;
  bundleLoadMs(): number | null;
  /** Where the engine caches rewritten models (attention outputs, gradient copies): the tests check what was written. */
  cacheDir(): string;
}

export function activate(context: vscode.ExtensionContext): LoupeApi {
  const t0 = performance.now();
  // Rewritten models (attention outputs) are cached in the extension's global storage, never beside the user's files.
  const cacheDir = vscode.Uri.joinPath(context.globalStorageUri, 'models').fsPath;
  const client = new EngineClient(context.extensionPath, cacheDir);
  engine = client;
  const models = new ModelSelection(context.workspaceState);
  const recent = new RecentRuns(context.workspaceState);
  const dashboard = new DashboardView(context.extensionUri, {
    engine: client,
    models,
    recent,
    openRun: async (id) => {
      const run = recent.find(id);
      if (!run) throw new Error('that run is no longer listed');
      // The panel still open with its result: show it; else run it again (same model, methods and seed).
      const open = openResultPanels().find((p) => p.kind === run.kind && p.origin.source === run.source && p.hasResult && !p.isDisposed);
      if (open) {
        open.panel.reveal(open.panel.viewColumn, false);
        return;
      }
      const uri = vscode.Uri.parse(run.source);
      if (run.kind === 'importance') {
        if (!run.importance) throw new Error('that run did not record its settings; run Feature Importance again');
        await vscode.commands.executeCommand(Commands.featureImportance, { origin: run.importance, noPrompt: true });
      } else if (run.kind === 'explanation') await vscode.commands.executeCommand(Commands.explain, { uri, methods: run.methods, noPrompt: true, ...(run.modelPath ? { model: run.modelPath } : {}) });
      else await vscode.commands.executeCommand(Commands.showAttention, uri);
    },
  });
  context.subscriptions.push(
    client,
    models,
    recent,
    dashboard,
    vscode.window.registerWebviewViewProvider(DASHBOARD_VIEW_ID, dashboard),
    registerDashboardProbe(dashboard),
    registerPredict(context, client, models),
    registerShowAttention(context, client, models),
    registerExplain(context, client, models),
    registerFeatureImportance(context, client, models),
    registerSelectModel(client, models),
    registerResultCommands(),
    vscode.commands.registerCommand(Commands.restartEngine, async () => {
      await client.restart();
      void vscode.window.showInformationMessage('Loupe: the engine was restarted; it starts again on the next request.');
    }),
    vscode.commands.registerCommand(Commands.showLog, () => client.log.show()),
    registerClearCache(client, cacheDir),
    onDidShowResult((panel) => {
      const r = panel.record();
      if (r) void recent.add({ kind: panel.kind, source: panel.origin.source, label: panel.origin.label, model: r.model, modelPath: r.modelPath, methods: r.methods, summary: r.summary, ...(r.importance ? { importance: r.importance } : {}) });
    }),
    // The open result panels follow the current model and the settings that change their numbers.
    models.onDidChange(() => refreshPanels(client)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('loupe.maxTokens') || e.affectsConfiguration('loupe.explain')) refreshPanels(client);
    }),
  );
  const activationMs = performance.now() - t0;
  const bundleLoadMs = bundleStart !== undefined ? moduleEvaluated - bundleStart : null;
  client.log.info(`Activated in ${activationMs.toFixed(1)} ms (bundle loaded in ${bundleLoadMs?.toFixed(1) ?? '?'} ms, ${(t0 - moduleEvaluated).toFixed(1)} ms before activate() was called).`);
  return { engineStarted: () => client.started, activationMs: () => activationMs, bundleLoadMs: () => bundleLoadMs, cacheDir: () => cacheDir };
}

function refreshPanels(client: EngineClient): void {
  for (const p of openResultPanels()) {
    if (!p.followsCurrentModel || p.isDisposed) continue;
    p.rerun().catch((e: unknown) => client.log.error(String(e)));
  }
}

export async function deactivate(): Promise<void> {
  await engine?.shutdown();
  engine = null;
}
