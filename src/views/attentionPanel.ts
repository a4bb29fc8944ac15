// The attention panel: one per source file, beside the editor. The host computes (in the engine),
// the webview draws. The maps go to the webview as Float32Arrays. Exports: the webview draws the
// PNG; JSON, CSV and the HTML report are built here (src/views/export); all are written atomically
// to a place the user picked (a file that exists is replaced only when the user says so). It
// survives a reload through a WebviewPanelSerializer: the webview's saved origin says what to recompute.

import * as vscode from 'vscode';
import {
  ATTENTION_VIEW_TYPE,
  checkViewToHost,
  viewOrigin,
  type ViewOrigin,
  type ViewProbe,
  type ViewSelection,
  type ViewToHost,
} from '../protocol/attentionViewProtocol';
import type { ExportFormatName, SourceViewCommonToHost } from '../protocol/sourceView';
import type { AttentionResult } from '../protocol/workerProtocol';
import { attentionCsv, attentionHtml, attentionJson } from './export/attentionFormats';
import { PanelRegistry, SourcePanel, type ResultRecord } from './sourcePanel';

export interface AttentionPanelHost {
  /** Recomputes the panel's attention from its source (after a reload, "Run again", hiding special tokens). */
  rerun(panel: AttentionPanel): Promise<void>;
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

  private constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, origin: ViewOrigin, private readonly host: AttentionPanelHost) {
    super(panel, extensionUri, origin, host.log, AttentionPanel.kind, checkViewToHost);
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
