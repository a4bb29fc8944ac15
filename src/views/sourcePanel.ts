// What the panels bound to a source file (attention, explanation) share: one panel per source,
// beside the editor; a result kept and re-sent when the page reloads (a hidden panel's page is
// unloaded); busy/error/result messages; "reveal" back into the source; and the probe the
// integration tests use to ask the page what it drew. Each view adds its own messages in `handle`.

import * as vscode from 'vscode';
import { revealSourceRange } from '../editorSource';
import type { SourceViewCommonToHost, SourceViewHostToView } from '../protocol/sourceView';
import { webviewHtml } from './webviewHtml';

export interface SourceOrigin {
  source: string;
  label: string;
  range: { start: number; end: number } | null;
}

export interface PanelKind<V> {
  /** The webview bundle in dist/webview. */
  bundle: string;
  /** Title prefix ("Attention", "Explanation"). */
  title: string;
  /** For messages ("attention", "explanation"). */
  noun: string;
  /** The open panels of this kind, by source URI. */
  registry: Map<string, V>;
}

export abstract class SourcePanel<O extends SourceOrigin, R, S, P, Own extends { type: string }> {
  protected readonly disposables: vscode.Disposable[] = [];
  private readonly probes = new Map<number, { resolve: (p: P) => void; timer: NodeJS.Timeout }>();
  private nextProbe = 1;
  private last: SourceViewHostToView<O, R, S> | null = null;
  private ready = false;
  private disposed = false;
  /** The result shown, and a counter of results posted (the webview reports which one it drew). */
  result: R | null = null;
  generation = 0;
  /** The computation in flight for this panel, if any. */
  running: vscode.CancellationTokenSource | null = null;

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    public origin: O,
    protected readonly log: vscode.LogOutputChannel,
    private readonly kind: PanelKind<SourcePanel<O, R, S, P, Own>>,
    private readonly check: (raw: unknown) => SourceViewCommonToHost<P> | Own,
  ) {
    kind.registry.set(origin.source, this);
    panel.webview.html = webviewHtml(panel.webview, extensionUri, kind.bundle, `Loupe ${kind.noun}`);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'loupe.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      // A hidden panel's page is unloaded (no retainContextWhenHidden): it says 'ready' again when shown.
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

  /**
   * The text this panel explains, read again from its source (the saved selection, or the whole
   * document when the selection no longer fits). Shows the error and returns null when unreadable.
   */
  async readSourceText(): Promise<string | null> {
    try {
      const all = (await vscode.workspace.openTextDocument(this.source)).getText();
      const r = this.origin.range;
      if (r && r.end > all.length) this.origin = { ...this.origin, range: null };
      return r && r.end <= all.length ? all.slice(r.start, r.end) : all;
    } catch (e) {
      this.showError(`${this.origin.label} could not be read: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  showBusy(message: string): void {
    this.post({ type: 'busy', origin: this.origin, message });
  }

  showError(message: string): void {
    this.post({ type: 'error', origin: this.origin, message });
  }

  showResult(result: R): void {
    this.result = result;
    this.generation++;
    this.panel.title = `${this.kind.title}: ${this.origin.label}`;
    this.post({ type: 'result', origin: this.origin, generation: this.generation, result });
  }

  private post(message: SourceViewHostToView<O, R, S>): void {
    if (this.disposed) return;
    if (message.type !== 'probe') this.last = message;
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  /** Asks the webview what it drew (optionally changing what it shows first). */
  async probe(select: S | undefined, png: boolean, timeoutMs = 10_000): Promise<P> {
    const until = Date.now() + timeoutMs;
    // Only a visible panel has a page to ask.
    if (!this.panel.visible) this.panel.reveal(this.panel.viewColumn, true);
    while (!this.ready) {
      if (this.disposed) throw new Error(`the ${this.kind.noun} view was closed`);
      if (Date.now() > until) throw new Error(`the ${this.kind.noun} webview did not load`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const id = this.nextProbe++;
    return new Promise<P>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.probes.delete(id);
        reject(new Error(`the ${this.kind.noun} webview did not answer`));
      }, Math.max(1000, until - Date.now()));
      this.probes.set(id, { resolve, timer });
      const message: SourceViewHostToView<O, R, S> = { type: 'probe', id, png, ...(select ? { select } : {}) };
      void this.panel.webview.postMessage(message);
    });
  }

  /** The view's own messages (all but ready, reveal and probeResult). */
  protected abstract handle(message: Own): void;

  private receive(raw: unknown): void {
    let message: SourceViewCommonToHost<P> | Own;
    try {
      message = this.check(raw);
    } catch (e) {
      this.log.warn(`Ignored a message from the ${this.kind.noun} view: ${(e as Error).message}`);
      return;
    }
    if (!isCommon(message)) {
      this.handle(message);
      return;
    }
    switch (message.type) {
      case 'ready':
        this.ready = true;
        if (this.last) void this.panel.webview.postMessage(this.last);
        return;
      case 'reveal': {
        const base = this.origin.range?.start ?? 0;
        revealSourceRange(this.source, base + message.start, base + message.end).catch((e: unknown) => this.log.error(String(e)));
        return;
      }
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
    if (this.kind.registry.get(this.origin.source) === this) this.kind.registry.delete(this.origin.source);
    this.running?.cancel();
    for (const p of this.probes.values()) clearTimeout(p.timer);
    this.probes.clear();
    for (const d of this.disposables) d.dispose();
  }
}

const COMMON = new Set(['ready', 'reveal', 'probeResult']);

function isCommon<P, Own extends { type: string }>(m: SourceViewCommonToHost<P> | Own): m is SourceViewCommonToHost<P> {
  return COMMON.has(m.type);
}
