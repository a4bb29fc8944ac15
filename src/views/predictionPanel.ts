// The prediction panel: one per source file, beside the editor. It shows the model's answer and
// the tokens it saw; clicking a token reveals its span in the source. It survives a reload through
// a WebviewPanelSerializer (the host re-runs the prediction on request).

import * as vscode from 'vscode';
import { revealSourceRange } from '../editorSource';
import { checkViewToHost, HostToView } from '../protocol/predictionViewProtocol';
import type { PredictResult } from '../protocol/workerProtocol';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const PREDICTION_VIEW_TYPE = 'loupe.prediction';

interface PanelState {
  source: string;
}

export class PredictionPanel {
  private static readonly panels = new Map<string, PredictionPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private last: HostToView | null = null;
  private ready = false;
  /** Where the explained text starts in the source document (a selection's offset). */
  private offset = 0;

  static show(extensionUri: vscode.Uri, source: vscode.Uri, onRerun: (source: vscode.Uri) => void): PredictionPanel {
    const key = source.toString();
    const existing = PredictionPanel.panels.get(key);
    if (existing) {
      existing.panel.reveal(vscode.ViewColumn.Beside, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(PREDICTION_VIEW_TYPE, `Loupe: ${vscode.workspace.asRelativePath(source)}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(extensionUri));
    return new PredictionPanel(panel, extensionUri, source, onRerun);
  }

  static find(source: vscode.Uri): PredictionPanel | undefined {
    return PredictionPanel.panels.get(source.toString());
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, onRerun: (source: vscode.Uri) => void): void {
    const source = typeof (state as PanelState | undefined)?.source === 'string' ? vscode.Uri.parse((state as PanelState).source) : null;
    if (!source) {
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(extensionUri);
    const view = new PredictionPanel(panel, extensionUri, source, onRerun);
    onRerun(view.source);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    readonly source: vscode.Uri,
    private readonly onRerun: (source: vscode.Uri) => void,
  ) {
    PredictionPanel.panels.set(source.toString(), this);
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'prediction', 'Loupe prediction');
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'loupe.svg');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
    );
  }

  post(message: HostToView): void {
    this.last = message;
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  showResult(result: PredictResult, offset: number): void {
    this.offset = offset;
    this.post({ type: 'result', result, source: this.source.toString() });
  }

  private receive(raw: unknown): void {
    let message;
    try {
      message = checkViewToHost(raw);
    } catch {
      return; // a webview message that does not fit the protocol is ignored
    }
    if (message.type === 'ready') {
      this.ready = true;
      if (this.last) void this.panel.webview.postMessage(this.last);
    } else if (message.type === 'rerun') this.onRerun(this.source);
    else void revealSourceRange(this.source, this.offset + message.start, this.offset + message.end);
  }

  private dispose(): void {
    PredictionPanel.panels.delete(this.source.toString());
    for (const d of this.disposables) d.dispose();
  }
}
