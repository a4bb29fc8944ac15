// What the panels bound to a source file (attention, explanation) share: one panel per source,
// beside the editor; a result kept and re-sent when the page reloads (a hidden panel's page is
// unloaded); busy/error/result messages; "reveal" back into the source; and the probe the
// integration tests use to ask the page what it drew; exports (HTML, JSON, CSV) through one writer.
// Each view adds its own messages in `handle` and its export formats in `exportChunks`.
// PanelRegistry holds the panels of one kind: show (one per source, beside the editor), revive after
// a reload, find.

import * as os from 'node:os';
import * as vscode from 'vscode';
import { revealSourceRange } from '../editorSource';
import type { Checker } from '../protocol/check';
import type { ImportanceOrigin } from '../protocol/importanceViewProtocol';
import type { AttributionMethod } from '../protocol/explainViewProtocol';
import type { ExportFormatName, SourceViewCommonToHost, SourceViewHostToView } from '../protocol/sourceView';
import { askExportTarget, exportUriBeside, isPng, writeAtomic } from './export/writeFile';
import { webviewHtml, webviewOptions } from './webviewHtml';

export interface SourceOrigin {
  source: string;
  label: string;
  range: { start: number; end: number } | null;
}

/** The kinds of result panel, as recent runs and exports name them. */
export type ResultKind = 'attention' | 'explanation' | 'importance';

export interface PanelKind<V> {
  /** The webview bundle in dist/webview. */
  bundle: string;
  /** The kind, as recent runs and exports name it. */
  id: ResultKind;
  /** Title prefix ("Attention", "Explanation"). */
  title: string;
  /** For messages ("attention", "explanation"). */
  noun: string;
  /** The open panels of this kind, by source URI. */
  registry: Map<string, V>;
}

const EXPORT_FILTERS: Record<ExportFormatName, string> = { html: 'HTML report', json: 'JSON', csv: 'CSV' };

/** Any source-bound panel, as the dashboard, the Export Result command and the model-change refresh see it. */
export interface AnyResultPanel {
  readonly kind: ResultKind;
  readonly panel: vscode.WebviewPanel;
  readonly origin: SourceOrigin;
  readonly isDisposed: boolean;
  readonly hasResult: boolean;
  /** Whether it follows the current model (false when its run named a model of its own). */
  readonly followsCurrentModel: boolean;
  rerun(): Promise<void>;
  /** What the recent runs record of the result shown (null before one). */
  record(): ResultRecord | null;
  exportTo(target: vscode.Uri, format: ExportFormatName, options?: { replace?: boolean }): Promise<void>;
  exportInteractive(format: ExportFormatName): Promise<vscode.Uri | undefined>;
}

export interface ResultRecord {
  model: string;
  modelPath: string;
  methods: AttributionMethod[];
  summary: string;
  /** The whole run's settings, when the source alone does not say how to run it again (feature importance). */
  importance?: ImportanceOrigin;
}

/** Every open result panel, most recently active last; and a signal when one shows a result. */
const allPanels: AnyResultPanel[] = [];
const resultShown = new vscode.EventEmitter<AnyResultPanel>();
export const onDidShowResult = resultShown.event;

export function openResultPanels(): readonly AnyResultPanel[] {
  return allPanels;
}

/** The result panel the user looked at last (the active one, if a result panel is active). */
export function lastActiveResultPanel(): AnyResultPanel | undefined {
  return allPanels[allPanels.length - 1];
}

export abstract class SourcePanel<O extends SourceOrigin, R, S, P extends { png?: Uint8Array }, Own extends { type: string }> implements AnyResultPanel {
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
    private readonly kindOf: PanelKind<SourcePanel<O, R, S, P, Own>>,
    private readonly check: (raw: unknown) => SourceViewCommonToHost<P> | Own,
  ) {
    kindOf.registry.set(origin.source, this);
    allPanels.push(this);
    panel.webview.html = webviewHtml(panel.webview, extensionUri, kindOf.bundle, `Loupe ${kindOf.noun}`);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'loupe.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      // A hidden panel's page is unloaded (no retainContextWhenHidden): it says 'ready' again when shown.
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.ready = false;
        if (e.webviewPanel.active) this.markActive();
      }),
    );
  }

  get kind(): ResultKind {
    return this.kindOf.id;
  }

  get hasResult(): boolean {
    return this.result !== null;
  }

  get followsCurrentModel(): boolean {
    return true;
  }

  /** Recomputes from the source (after a reload, "Run again", a change of model or settings). */
  abstract rerun(): Promise<void>;

  abstract record(): ResultRecord | null;

  /** The export in `format`, in pieces; `png` is the view as drawn (for HTML), when it could be read. */
  protected abstract exportChunks(format: ExportFormatName, png: Uint8Array | undefined, exportedAt: string): Iterable<string>;

  private markActive(): void {
    const i = allPanels.indexOf(this);
    if (i >= 0) allPanels.splice(i, 1);
    allPanels.push(this);
  }

  /** Writes the result in `format` to `target`, atomically (HTML carries the view as drawn). */
  async exportTo(target: vscode.Uri, format: ExportFormatName, options: { replace?: boolean } = {}): Promise<void> {
    if (!this.result) throw new Error(`there is no ${this.kindOf.noun} to export yet`);
    let png: Uint8Array | undefined;
    if (format === 'html') png = (await this.probe(undefined, true).catch(() => undefined))?.png;
    await writeAtomic(target, this.exportChunks(format, png, new Date().toISOString()), options);
  }

  /** Asks where (a save dialog beside the source; confirms replacing), then writes. */
  async exportInteractive(format: ExportFormatName): Promise<vscode.Uri | undefined> {
    if (!this.result) {
      void vscode.window.showWarningMessage(`Loupe: ${this.origin.label} has no ${this.kindOf.noun} to export yet.`);
      return undefined;
    }
    const target = await askExportTarget(exportUriBeside(this.source, this.kindOf.id, format, os.homedir()), { ext: format, filter: EXPORT_FILTERS[format] }, `Export the ${this.kindOf.noun} as ${format.toUpperCase()}`);
    if (!target) return undefined;
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loupe: writing the ${format.toUpperCase()} export` }, () => this.exportTo(target, format));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`Export of the ${this.kindOf.noun} of ${this.origin.label} as ${format}: ${message}`);
      void vscode.window.showErrorMessage(`Loupe: the ${this.kindOf.noun} of ${this.origin.label} could not be saved: ${message}`);
      return undefined;
    }
    void vscode.window.showInformationMessage(`Loupe: saved the ${this.kindOf.noun} to ${vscode.workspace.asRelativePath(target)}.`);
    return target;
  }

  /** Writes a PNG the webview drew (checked to be one) to `target`, atomically. */
  async writePng(target: vscode.Uri, png: Uint8Array, options: { replace?: boolean } = {}): Promise<void> {
    if (!isPng(png)) throw new Error('the view did not send a PNG image');
    await writeAtomic(target, [png], options);
  }

  /** The PNG export of a view that offers one: asks where (`<stem>.<part>.png` beside the source), then writes. */
  protected async exportPngInteractive(png: Uint8Array, part: string, what: string): Promise<void> {
    try {
      const target = await askExportTarget(exportUriBeside(this.source, part, 'png', os.homedir()), { ext: 'png', filter: 'PNG image' }, `Export the ${what} as PNG`);
      if (!target) return;
      await this.writePng(target, png);
      void vscode.window.showInformationMessage(`Loupe: saved the ${what} to ${vscode.workspace.asRelativePath(target)}.`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`Export of the ${what} PNG of ${this.origin.label}: ${message}`);
      void vscode.window.showErrorMessage(`Loupe: the ${what} PNG of ${this.origin.label} could not be saved: ${message}`);
    }
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
    this.panel.title = `${this.kindOf.title}: ${this.origin.label}`;
    this.post({ type: 'result', origin: this.origin, generation: this.generation, result });
    resultShown.fire(this);
  }

  private post(message: SourceViewHostToView<O, R, S>): void {
    if (this.disposed) return;
    if (message.type !== 'probe') this.last = message;
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  /**
   * A view's own host → view message (not kept for a reload: the reloaded page gets the last result,
   * which must carry what the message said).
   */
  protected postOwn(message: { type: string }): void {
    if (!this.disposed && this.ready) void this.panel.webview.postMessage(message);
  }

  /** Asks the webview what it drew (optionally changing what it shows first). */
  async probe(select: S | undefined, png: boolean, timeoutMs = 10_000): Promise<P> {
    const until = Date.now() + timeoutMs;
    // Only a visible panel has a page to ask.
    if (!this.panel.visible) this.panel.reveal(this.panel.viewColumn, true);
    while (!this.ready) {
      if (this.disposed) throw new Error(`the ${this.kindOf.noun} view was closed`);
      if (Date.now() > until) throw new Error(`the ${this.kindOf.noun} webview did not load`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const id = this.nextProbe++;
    return new Promise<P>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.probes.delete(id);
        reject(new Error(`the ${this.kindOf.noun} webview did not answer`));
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
      this.log.warn(`Ignored a message from the ${this.kindOf.noun} view: ${(e as Error).message}`);
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
      case 'export':
        void this.exportInteractive(message.format);
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
    const i = allPanels.indexOf(this);
    if (i >= 0) allPanels.splice(i, 1);
    if (this.kindOf.registry.get(this.origin.source) === this) this.kindOf.registry.delete(this.origin.source);
    this.running?.cancel();
    for (const p of this.probes.values()) clearTimeout(p.timer);
    this.probes.clear();
    for (const d of this.disposables) d.dispose();
  }
}

const COMMON = new Set(['ready', 'reveal', 'probeResult', 'export']);

function isCommon<P, Own extends { type: string }>(m: SourceViewCommonToHost<P> | Own): m is SourceViewCommonToHost<P> {
  return COMMON.has(m.type);
}

/**
 * The open panels of one kind, one per source file: show (reuse or create beside the editor), revive
 * after a reload (from the origin the webview saved), find.
 */
export class PanelRegistry<O extends SourceOrigin, V extends { origin: O; readonly panel: vscode.WebviewPanel; rerun(): Promise<void> }> {
  readonly panels = new Map<string, V>();

  constructor(
    private readonly viewType: string,
    private readonly title: string,
    private readonly checkOrigin: Checker<O>,
  ) {}

  show(extensionUri: vscode.Uri, origin: O, create: (panel: vscode.WebviewPanel) => V): V {
    const existing = this.panels.get(origin.source);
    if (existing) {
      existing.origin = origin;
      existing.panel.reveal(existing.panel.viewColumn, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(this.viewType, `${this.title}: ${origin.label}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(extensionUri));
    return create(panel);
  }

  /** A panel VS Code restored after a reload: recompute from its saved origin, or close it when there is none. */
  revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, create: (panel: vscode.WebviewPanel, origin: O) => V, log: vscode.LogOutputChannel): void {
    let origin: O;
    try {
      origin = this.checkOrigin((state as { origin?: unknown } | undefined)?.origin, 'origin');
    } catch (e) {
      log.warn(`A ${this.viewType} panel restored after a reload had no origin to recompute from (${e instanceof Error ? e.message : String(e)}); it was closed.`);
      panel.dispose(); // nothing to recompute from
      return;
    }
    log.info(`Restored the ${this.title.toLowerCase()} panel of ${origin.label}.`);
    this.panels.get(origin.source)?.panel.dispose();
    panel.webview.options = webviewOptions(extensionUri);
    create(panel, origin)
      .rerun()
      .catch((e: unknown) => log.error(String(e)));
  }

  /** The panel of a source (a URI string), or the most recently opened one. */
  find(source?: string): V | undefined {
    if (source !== undefined) return this.panels.get(source);
    return [...this.panels.values()].pop();
  }
}
