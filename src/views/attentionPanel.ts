// The attention panel: one per source file, beside the editor. The host computes (in the engine),
// the webview draws. The maps go to the webview as Float32Arrays. Exports: the webview draws the
// PNG; JSON, CSV and the HTML report are built here (src/views/export); all are written atomically
// to a place the user picked (a file that exists is replaced only when the user says so). It
// survives a reload through a WebviewPanelSerializer: the webview's saved origin says what to recompute.
// The attention-gradient relevance is computed only when the webview asks (a relevance mode was
// picked), once per result: it is added to the result, so exports and a reloaded page have it.

import * as vscode from 'vscode';
import {
  ATTENTION_VIEW_TYPE,
  checkViewToHost,
  viewOrigin,
  type ViewOrigin,
  type ViewProbe,
  type ViewSelection,
  type ViewToHost,
  type RelevanceUpdate,
} from '../protocol/attentionViewProtocol';
import type { ExportFormatName, SourceViewCommonToHost } from '../protocol/sourceView';
import type { AttentionRelevance, AttentionRelevanceParams, AttentionResult } from '../protocol/workerProtocol';
import { attentionCsv, attentionHtml, attentionJson } from './export/attentionFormats';
import { PanelRegistry, SourcePanel, type ResultRecord } from './sourcePanel';

export interface AttentionPanelHost {
  /** Recomputes the panel's attention from its source (after a reload, "Run again", hiding special tokens). */
  rerun(panel: AttentionPanel): Promise<void>;
  /** Computes the relevance of the panel's result (its mode was picked), showing progress with Cancel. */
  relevance(panel: AttentionPanel): Promise<void>;
  log: vscode.LogOutputChannel;
}

type OwnMessage = Exclude<ViewToHost, SourceViewCommonToHost<ViewProbe>>;

export class AttentionPanel extends SourcePanel<ViewOrigin, AttentionResult, ViewSelection, ViewProbe, OwnMessage> {
  private static readonly registry = new PanelRegistry<ViewOrigin, AttentionPanel>(ATTENTION_VIEW_TYPE, 'Attention', viewOrigin);
  private static readonly kind = { bundle: 'attention', id: 'attention' as const, title: 'Attention', noun: 'attention', registry: AttentionPanel.registry.panels };

  static show(extensionUri: vscode.Uri, origin: ViewOrigin, host: AttentionPanelHost): AttentionPanel {
    return AttentionPanel.registry.show(extensionUri, origin, (panel) => new AttentionPanel(panel, extensionUri, origin, host));
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, host: AttentionPanelHost): void {
    AttentionPanel.registry.revive(panel, extensionUri, state, (p, origin) => new AttentionPanel(p, extensionUri, origin, host), host.log);
  }

  /** The panel of a source (a URI string), or the most recently opened one. */
  static find(source?: string): AttentionPanel | undefined {
    return AttentionPanel.registry.find(source);
  }

  /** What the relevance of the result shown is computed from: the text and settings of its attention run. */
  relevanceParams: AttentionRelevanceParams | null = null;
  /** The relevance computation in flight, the generation of the result it completes, and what the view says meanwhile. */
  relevanceRun: { generation: number; cts: vscode.CancellationTokenSource; busy: string } | null = null;
  /** Relevance requests this panel sent to the engine (a view whose relevance modes were never picked sends none). */
  relevanceRequests = 0;

  private constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, origin: ViewOrigin, private readonly host: AttentionPanelHost) {
    super(panel, extensionUri, origin, host.log, AttentionPanel.kind, checkViewToHost);
    this.disposables.push(panel.onDidDispose(() => this.relevanceRun?.cts.cancel()));
  }

  // A new run, or its result, makes the relevance being computed for the previous result useless.
  override showBusy(message: string): void {
    this.relevanceRun?.cts.cancel();
    super.showBusy(message);
  }

  override showResult(result: AttentionResult): void {
    this.relevanceRun?.cts.cancel();
    super.showResult(result);
  }

  postRelevance(update: RelevanceUpdate): void {
    this.postOwn(update);
  }

  /** The relevance of the result of `generation` arrived: it joins the result (exports, reloads) and goes to the view. */
  addRelevance(generation: number, relevance: AttentionRelevance): void {
    const r = this.result;
    if (!r || generation !== this.generation || this.isDisposed) return;
    r.relevance = relevance;
    // The run now says it includes the relevance: rerunning it with these parameters gives the same numbers.
    r.run = { ...r.run, parameters: { ...r.run.parameters, relevance: true } };
    this.postRelevance({ type: 'relevance', generation, status: 'done', relevance });
  }

  /** The view asks for the relevance of the result of `generation` (a relevance mode was picked). */
  private askRelevance(generation: number): void {
    const r = this.result;
    if (!r || generation !== this.generation) return; // asked by a page showing an older result
    if (r.relevance) this.postRelevance({ type: 'relevance', generation, status: 'done', relevance: r.relevance });
    else if (this.relevanceRun?.generation === generation) this.postRelevance({ type: 'relevance', generation, status: 'busy', message: this.relevanceRun.busy });
    else this.host.relevance(this).catch((e: unknown) => this.host.log.error(String(e)));
  }

  rerun(): Promise<void> {
    return this.host.rerun(this);
  }

  record(): ResultRecord | null {
    const r = this.result;
    if (!r) return null;
    return { model: this.origin.model, modelPath: r.model.path, methods: [], summary: `${r.numLayers} layers × ${r.numHeads} heads · ${r.shown.length} tokens` };
  }

  protected handle(message: OwnMessage): void {
    switch (message.type) {
      case 'rerun':
        this.origin = { ...this.origin, hideSpecial: message.hideSpecial };
        this.rerun().catch((e: unknown) => this.host.log.error(String(e)));
        return;
      case 'exportPng':
        void this.exportPngInteractive(message.png, `attention.${message.name}`, 'attention heatmap');
        return;
      case 'exportJson':
        void this.exportInteractive('json');
        return;
      case 'relevance':
        this.askRelevance(message.generation);
        return;
      case 'cancelRelevance':
        this.relevanceRun?.cts.cancel();
        return;
    }
  }

  protected exportChunks(format: ExportFormatName, png: Uint8Array | undefined, exportedAt: string): Iterable<string> {
    const r = this.result!;
    switch (format) {
      case 'json':
        return attentionJson(r, this.origin, exportedAt);
      case 'csv':
        return attentionCsv(r);
      case 'html':
        return attentionHtml(r, this.origin, png, exportedAt);
    }
  }

  /** Writes the result as JSON (tokens, layers, heads, every map, the model's hash and the run) to `target`, atomically. */
  async writeJson(target: vscode.Uri): Promise<void> {
    await this.exportTo(target, 'json');
  }
}
