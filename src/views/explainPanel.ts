// The explanation panel: one per source file, beside the editor. The host computes (in the engine),
// the webview draws the shaded text and the table of methods. It survives a reload through a
// WebviewPanelSerializer: the webview's saved origin says what to recompute (methods and target
// included, so no question is asked again).

import * as vscode from 'vscode';
import {
  checkViewToHost,
  EXPLAIN_VIEW_TYPE,
  explainOrigin,
  type AttributionMethod,
  type ExplainOrigin,
  type ExplainProbe,
  type ExplainSelection,
  type ViewToHost,
} from '../protocol/explainViewProtocol';
import type { ExplainResult } from '../protocol/workerProtocol';
import type { SourceViewCommonToHost } from '../protocol/sourceView';
import { SourcePanel } from './sourcePanel';
import { webviewOptions } from './webviewHtml';

export interface ExplainPanelHost {
  /** Recomputes the panel's explanation from its source (after a reload or "Run again"). */
  rerun(panel: ExplainPanel): Promise<void>;
  /** The user picked another method in the panel (the inline highlights follow it). */
  methodChanged(panel: ExplainPanel, method: AttributionMethod): void;
  log: vscode.LogOutputChannel;
}

type OwnMessage = Exclude<ViewToHost, SourceViewCommonToHost<ExplainProbe>>;

export class ExplainPanel extends SourcePanel<ExplainOrigin, ExplainResult, ExplainSelection, ExplainProbe, OwnMessage> {
  private static readonly panels = new Map<string, ExplainPanel>();
  private static readonly kind = { bundle: 'explain', title: 'Explanation', noun: 'explanation', registry: ExplainPanel.panels };

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

  private constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, origin: ExplainOrigin, private readonly host: ExplainPanelHost) {
    super(panel, extensionUri, origin, host.log, ExplainPanel.kind, checkViewToHost);
  }

  protected handle(message: OwnMessage): void {
    switch (message.type) {
      case 'rerun':
        this.host.rerun(this).catch((e: unknown) => this.host.log.error(String(e)));
        return;
      case 'method':
        this.host.methodChanged(this, message.method);
        return;
    }
  }
}
