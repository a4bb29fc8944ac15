// The extension's handle on the engine: one supervised worker, its log in the "Loupe" output
// channel and its state in the status bar. The worker (and onnxruntime-node) start on first use.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from './commandIds';
import { LoupeError } from './protocol/errors';
import type { MethodName, ParamsOf, ResultOf } from './protocol/workerProtocol';
import { readSettings, withMethodDefaults } from './settings';
import { assertModelAllowed } from './workspaceTrust';
import { EngineState, WorkerSupervisor } from './worker/supervisor';

const STATE_TEXT: Record<EngineState, string> = {
  stopped: '$(telescope) Loupe',
  starting: '$(loading~spin) Loupe: starting',
  ready: '$(telescope) Loupe: ready',
  busy: '$(loading~spin) Loupe: working',
  crashed: '$(error) Loupe: engine stopped',
};

export class EngineClient implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  private readonly status: vscode.StatusBarItem;
  private readonly supervisor: WorkerSupervisor;
  private readonly disposables: vscode.Disposable[] = [];
  modelLabel: string | null = null;

  constructor(extensionPath: string, private readonly cacheDir: string) {
    this.log = vscode.window.createOutputChannel('Loupe', { log: true });
    this.status = vscode.window.createStatusBarItem('loupe.engine', vscode.StatusBarAlignment.Right, 100);
    this.status.name = 'Loupe engine';
    this.status.command = Commands.showLog;
    const problems: string[] = [];
    const settings = readSettings(problems);
    this.reportProblems(problems);
    this.supervisor = new WorkerSupervisor({
      workerPath: path.join(extensionPath, 'dist', 'worker.js'),
      settings: { threads: settings.engine.threads, maxMemoryMB: settings.engine.maxMemoryMB, cacheDir },
      requestTimeoutMs: settings.engine.requestTimeoutSeconds * 1000,
      onLog: (level, message) => this.log[level](message),
      onState: (state) => this.showState(state),
    });
    this.showState('stopped');
    this.status.show();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('loupe')) return;
        const p: string[] = [];
        const s = readSettings(p);
        this.reportProblems(p);
        // Only engine settings concern the running worker.
        if (!e.affectsConfiguration('loupe.engine')) return;
        this.supervisor.configure({ threads: s.engine.threads, maxMemoryMB: s.engine.maxMemoryMB, cacheDir: this.cacheDir }).catch((err: unknown) => this.log.error(String(err)));
      }),
    );
  }

  get started(): boolean {
    return this.supervisor.started;
  }

  request<M extends MethodName>(method: M, params: ParamsOf<M>, token?: vscode.CancellationToken, onProgress?: (done: number, total: number) => void): Promise<ResultOf<M>> {
    // The one gate every model passes: a restricted workspace runs only the bundled models.
    const modelPath = (params as { model?: { path?: unknown } }).model?.path;
    if (typeof modelPath === 'string') {
      try {
        assertModelAllowed(modelPath);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    // The per-method defaults of the settings (loupe.explain.*) fill what a request leaves open.
    if (method === 'explain' || method === 'plan') params = withMethodDefaults(params as ParamsOf<'explain'>) as ParamsOf<M>;
    const abort = new AbortController();
    const sub = token?.onCancellationRequested(() => abort.abort());
    const timeoutMs = readSettings().engine.requestTimeoutSeconds * 1000;
    return this.supervisor.request(method, params, { signal: abort.signal, onProgress, timeoutMs }).finally(() => sub?.dispose());
  }

  async restart(): Promise<void> {
    await this.supervisor.restart();
    this.log.info('Engine restarted.');
  }

  private showState(state: EngineState): void {
    this.status.text = STATE_TEXT[state] + (this.modelLabel && state !== 'crashed' ? ` · ${this.modelLabel}` : '');
    this.status.tooltip = `Loupe engine: ${state}. Click to show the log.`;
    this.status.backgroundColor = state === 'crashed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  setModelLabel(label: string): void {
    this.modelLabel = label;
    this.showState(this.supervisor.engineState);
  }

  private reportProblems(problems: string[]): void {
    for (const p of problems) {
      this.log.warn(p);
      void vscode.window.showWarningMessage(`Loupe: ${p}`);
    }
  }

  dispose(): void {
    void this.supervisor.dispose();
    for (const d of this.disposables) d.dispose();
    this.status.dispose();
    this.log.dispose();
  }

  /** For deactivate(): waits until the worker has exited. */
  shutdown(): Promise<void> {
    return this.supervisor.dispose();
  }
}

export function describeError(e: unknown): string {
  if (e instanceof LoupeError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
