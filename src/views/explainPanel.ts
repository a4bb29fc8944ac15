// The explanation panel: one per source file, beside the editor. The host computes (in the engine),
// the webview draws the shaded text and the table of methods. It survives a reload through a
// WebviewPanelSerializer: the webview's saved origin says what to recompute (methods and target
// included, so no question is asked again).

import * as vscode from 'vscode';
import { revealSourceRange } from '../editorSource';
import {
  checkViewToHost,
  EXPLAIN_VIEW_TYPE,
  explainOrigin,
  type AttributionMethod,
  type ExplainOrigin,
  type ExplainProbe,
  type ExplainSelection,
  type HostToView,
  type ViewToHost,
} from '../protocol/explainViewProtocol';
import type { ExplainResult } from '../protocol/workerProtocol';
import { webviewHtml, webviewOptions } from './webviewHtml';

export interface ExplainPanelHost {
  /** Recomputes the panel's explanation from its source (after a reload or "Run again"). */
  rerun(panel: ExplainPanel): Promise<void>;
  /** The user picked another method in the panel (the inline highlights follow it). */
  methodChanged(panel: ExplainPanel, method: AttributionMethod): void;
  log: vscode.LogOutputChannel;
}

export class ExplainPanel {
  private static readonly panels = new Map<string, ExplainPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly probes = new Map<number, { resolve: (p: ExplainProbe) => void; timer: NodeJS.Timeout }>();
  private nextProbe = 1;
  private last: HostToView | null = null;
  private ready = false;
  private disposed = false;
  result: ExplainResult | null = null;
  generation = 0;
  running: vscode.CancellationTokenSource | null = null;

  static show(extensionUri: vscode.Uri, origin: ExplainOrigin, host: ExplainPanelHost): ExplainPanel {
    const existing = ExplainPanel.panels.get(origin.source);
    if (existing) {
      existing.origin = origin;
      existing.panel.reveal(existing.panel.viewColumn, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(EXPLAIN_VIEW_TYPE, `Explanation: ${origin.label}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(extensionUri));
    return new ExplainPanel(panel, extensionUri, origin, host);
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, host: ExplainPanelHost): void {
    let origin: ExplainOrigin;
    try {
      origin = explainOrigin((state as { origin?: unknown } | undefined)?.origin, 'origin');
    } catch {
      panel.dispose();
      return;
    }
    ExplainPanel.panels.get(origin.source)?.panel.dispose();
    panel.webview.options = webviewOptions(extensionUri);
    const view = new ExplainPanel(panel, extensionUri, origin, host);
    host.rerun(view).catch((e: unknown) => host.log.error(String(e)));
  }

  static find(source?: string): ExplainPanel | undefined {
    if (source !== undefined) return ExplainPanel.panels.get(source);
    return [...ExplainPanel.panels.values()].pop();
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    public origin: ExplainOrigin,
    private readonly host: ExplainPanelHost,
  ) {
    ExplainPanel.panels.set(origin.source, this);
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'explain', 'Loupe explanation');
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'loupe.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.ready = false;
      }),
    );
  }

  get source(): vscode.Uri {
    return vscode.Uri.parse(this.origin.source);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  showBusy(message: string): void {
    this.post({ type: 'busy', origin: this.origin, message });
  }

  showError(message: string): void {
    this.post({ type: 'error', origin: this.origin, message });
  }

  showResult(result: ExplainResult): void {
    this.result = result;
    this.generation++;
    this.panel.title = `Explanation: ${this.origin.label}`;
    this.post({ type: 'result', origin: this.origin, generation: this.generation, result });
  }

  private post(message: HostToView): void {
    if (this.disposed) return;
    if (message.type !== 'probe') this.last = message;
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  /** Asks the webview what it drew (optionally changing what it shows first). */
  async probe(select: ExplainSelection | undefined, png: boolean, timeoutMs = 10_000): Promise<ExplainProbe> {
    const until = Date.now() + timeoutMs;
    if (!this.panel.visible) this.panel.reveal(this.panel.viewColumn, true);
    while (!this.ready) {
      if (this.disposed) throw new Error('the explanation view was closed');
      if (Date.now() > until) throw new Error('the explanation webview did not load');
      await new Promise((r) => setTimeout(r, 50));
    }
    const id = this.nextProbe++;
    return new Promise<ExplainProbe>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.probes.delete(id);
        reject(new Error('the explanation webview did not answer'));
      }, Math.max(1000, until - Date.now()));
      this.probes.set(id, { resolve, timer });
      void this.panel.webview.postMessage({ type: 'probe', id, png, ...(select ? { select } : {}) } satisfies HostToView);
    });
  }

  private receive(raw: unknown): void {
    let message: ViewToHost;
    try {
      message = checkViewToHost(raw);
    } catch (e) {
      this.host.log.warn(`Ignored a message from the explanation view: ${(e as Error).message}`);
      return;
    }
    switch (message.type) {
      case 'ready':
        this.ready = true;
        if (this.last) void this.panel.webview.postMessage(this.last);
        return;
      case 'rerun':
        this.host.rerun(this).catch((e: unknown) => this.host.log.error(String(e)));
        return;
      case 'reveal': {
        const base = this.origin.range?.start ?? 0;
        revealSourceRange(this.source, base + message.start, base + message.end).catch((e: unknown) => this.host.log.error(String(e)));
        return;
      }
      case 'method':
        this.host.methodChanged(this, message.method);
        return;
      case 'probeResult': {
        const p = this.probes.get(message.id);
        if (!p) return;
        clearTimeout(p.timer);
        this.probes.delete(message.id);
        p.resolve(message.probe);
        return;
      }
    }
  }

  private dispose(): void {
    this.disposed = true;
    if (ExplainPanel.panels.get(this.origin.source) === this) ExplainPanel.panels.delete(this.origin.source);
    this.running?.cancel();
    for (const p of this.probes.values()) clearTimeout(p.timer);
    this.probes.clear();
    for (const d of this.disposables) d.dispose();
  }
}
