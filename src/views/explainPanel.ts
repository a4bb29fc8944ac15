// The explanation panel: one per source file, beside the editor. The host computes (in the engine),
// the webview draws the shaded text and the table of methods. It survives a reload through a
// WebviewPanelSerializer: the webview's saved origin says what to recompute (methods and target
// included, so no question is asked again). Exports: HTML, JSON, CSV (src/views/export).

import * as vscode from 'vscode';
import {
  checkViewToHost,
  EXPLAIN_VIEW_TYPE,
  explainOrigin,
  METHOD_LABELS,
  type AttributionMethod,
  type ExplainOrigin,
  type ExplainProbe,
  type ExplainSelection,
  type ViewToHost,
} from '../protocol/explainViewProtocol';
import type { ExportFormatName, SourceViewCommonToHost } from '../protocol/sourceView';
import type { ExplainResult } from '../protocol/workerProtocol';
import { explanationCsv, explanationHtml, explanationJson } from './export/explainFormats';
import { PanelRegistry, SourcePanel, type ResultRecord } from './sourcePanel';

export interface ExplainPanelHost {
  /** Recomputes the panel's explanation from its source (after a reload or "Run again"). */
  rerun(panel: ExplainPanel): Promise<void>;
  /** The user picked another method in the panel (the inline highlights follow it). */
  methodChanged(panel: ExplainPanel, method: AttributionMethod): void;
  log: vscode.LogOutputChannel;
}

type OwnMessage = Exclude<ViewToHost, SourceViewCommonToHost<ExplainProbe>>;

export class ExplainPanel extends SourcePanel<ExplainOrigin, ExplainResult, ExplainSelection, ExplainProbe, OwnMessage> {
  private static readonly registry = new PanelRegistry<ExplainOrigin, ExplainPanel>(EXPLAIN_VIEW_TYPE, 'Explanation', explainOrigin);
  private static readonly kind = { bundle: 'explain', id: 'explanation' as const, title: 'Explanation', noun: 'explanation', registry: ExplainPanel.registry.panels };

  static show(extensionUri: vscode.Uri, origin: ExplainOrigin, host: ExplainPanelHost): ExplainPanel {
    return ExplainPanel.registry.show(extensionUri, origin, (panel) => new ExplainPanel(panel, extensionUri, origin, host));
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, host: ExplainPanelHost): void {
    ExplainPanel.registry.revive(panel, extensionUri, state, (p, origin) => new ExplainPanel(p, extensionUri, origin, host), host.log);
  }

  static find(source?: string): ExplainPanel | undefined {
    return ExplainPanel.registry.find(source);
  }

  private constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, origin: ExplainOrigin, private readonly host: ExplainPanelHost) {
    super(panel, extensionUri, origin, host.log, ExplainPanel.kind, checkViewToHost);
  }

  override get followsCurrentModel(): boolean {
    return this.origin.modelPath === undefined;
  }

  rerun(): Promise<void> {
    return this.host.rerun(this);
  }

  record(): ResultRecord | null {
    const r = this.result;
    if (!r) return null;
    const t = r.explanations[0]?.target;
    const target = t ? (t.label ?? (t.kind === 'class' ? `class ${t.index}` : t.kind)) : '';
    const methods = r.explanations.map((e) => e.method);
    return { model: this.origin.model, modelPath: r.model.path, methods, summary: `${target} · ${methods.map((m) => METHOD_LABELS[m]).join(', ')}` };
  }

  protected handle(message: OwnMessage): void {
    switch (message.type) {
      case 'rerun':
        this.rerun().catch((e: unknown) => this.host.log.error(String(e)));
        return;
      case 'method':
        this.host.methodChanged(this, message.method);
        return;
    }
  }

  protected exportChunks(format: ExportFormatName, png: Uint8Array | undefined, exportedAt: string): Iterable<string> {
    const r = this.result!;
    switch (format) {
      case 'json':
        return explanationJson(r, this.origin, exportedAt);
      case 'csv':
        return explanationCsv(r);
      case 'html':
        return explanationHtml(r, this.origin, png, exportedAt);
    }
  }
}
