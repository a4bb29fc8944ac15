// The feature-importance panel: one per dataset file, beside it. The host computes (in the engine),
// the webview draws the chart, the table, the dataset summary and the settings. Exports: the
// webview draws the PNG, the host builds the CSV and JSON from its result; each goes to a place the
// user picked in the save dialog (which asks before replacing a file) and is written atomically (a
// temporary file, then a rename). It survives a reload through a WebviewPanelSerializer: the
// webview's saved origin holds the whole run's settings, so it is recomputed without a question.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  checkViewToHost,
  IMPORTANCE_VIEW_TYPE,
  importanceOrigin,
  type ExportFormat,
  type ImportanceOrigin,
  type ImportanceProbe,
  type ImportanceSelection,
  type RowMessage,
  type ViewToHost,
} from '../protocol/importanceViewProtocol';
import type { SourceViewCommonToHost } from '../protocol/sourceView';
import type { ImportanceResult } from '../protocol/workerProtocol';
import { writeAtomic } from './attentionPanel';
import { importanceCsv, importanceJson } from './importanceExport';
import { SourcePanel } from './sourcePanel';
import { webviewOptions } from './webviewHtml';

export interface ImportancePanelHost {
  /** Recomputes the panel's importance from its dataset (after a reload or "Run again"). */
  rerun(panel: ImportancePanel): Promise<void>;
  /** Explains one data row of the panel's dataset (KernelSHAP) and posts it to the panel. */
  explainRow(panel: ImportancePanel, row: number): Promise<void>;
  log: vscode.LogOutputChannel;
}

type OwnMessage = Exclude<ViewToHost, SourceViewCommonToHost<ImportanceProbe>>;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const FILTERS: Record<ExportFormat, Record<string, string[]>> = {
  csv: { CSV: ['csv'] },
  json: { JSON: ['json'] },
  png: { 'PNG image': ['png'] },
};

export class ImportancePanel extends SourcePanel<ImportanceOrigin, ImportanceResult, ImportanceSelection, ImportanceProbe, OwnMessage> {
  private static readonly panels = new Map<string, ImportancePanel>();
  private static readonly kind = { bundle: 'importance', title: 'Feature Importance', noun: 'feature importance', registry: ImportancePanel.panels };

  static show(extensionUri: vscode.Uri, origin: ImportanceOrigin, host: ImportancePanelHost): ImportancePanel {
    const existing = ImportancePanel.panels.get(origin.source);
    if (existing) {
      existing.origin = origin;
      existing.panel.reveal(existing.panel.viewColumn, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(IMPORTANCE_VIEW_TYPE, `Feature Importance: ${origin.label}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(extensionUri));
    return new ImportancePanel(panel, extensionUri, origin, host);
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, host: ImportancePanelHost): void {
    let origin: ImportanceOrigin;
    try {
      origin = importanceOrigin((state as { origin?: unknown } | undefined)?.origin, 'origin');
    } catch (e) {
      host.log.warn(`A feature importance panel could not be restored (${e instanceof Error ? e.message : String(e)}); it was closed.`);
      panel.dispose(); // nothing to recompute from
      return;
    }
    host.log.info(`Restoring the feature importance of ${origin.label} (${origin.model}).`);
    ImportancePanel.panels.get(origin.source)?.panel.dispose();
    panel.webview.options = webviewOptions(extensionUri);
    const view = new ImportancePanel(panel, extensionUri, origin, host);
    host.rerun(view).catch((e: unknown) => host.log.error(String(e)));
  }

  /** The panel of a dataset (a URI string), or the most recently opened one. */
  static find(source?: string): ImportancePanel | undefined {
    if (source !== undefined) return ImportancePanel.panels.get(source);
    return [...ImportancePanel.panels.values()].pop();
  }

  private constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, origin: ImportanceOrigin, private readonly host: ImportancePanelHost) {
    super(panel, extensionUri, origin, host.log, ImportancePanel.kind, checkViewToHost);
  }

  protected handle(message: OwnMessage): void {
    switch (message.type) {
      case 'rerun':
        this.host.rerun(this).catch((e: unknown) => this.host.log.error(String(e)));
        return;
      case 'export':
        this.exportWithDialog(message.format, message.png).catch((e: unknown) => this.reportExportError(message.format, e));
        return;
      case 'explainRow':
        this.host.explainRow(this, message.row).catch((e: unknown) => this.host.log.error(String(e)));
        return;
    }
  }

  /** A row explanation's progress or result (the page keeps the last one in its own saved state). */
  postRow(message: RowMessage): void {
    if (!this.isDisposed) void this.panel.webview.postMessage(message);
  }

  private reportExportError(format: ExportFormat, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.host.log.error(`Export of the feature importance ${format.toUpperCase()} for ${this.origin.label} failed: ${message}`);
    void vscode.window.showErrorMessage(`Loupe: the feature importance ${format.toUpperCase()} of ${this.origin.label} could not be saved: ${message}`);
  }

  /** `<dataset>.importance.<ext>` beside the dataset. */
  defaultUri(format: ExportFormat): vscode.Uri {
    const src = this.source;
    const stem = path.posix.basename(src.path).replace(/\.[^.]*$/, '') || 'dataset';
    return vscode.Uri.joinPath(src, '..', `${stem}.importance.${format}`);
  }

  private async exportWithDialog(format: ExportFormat, png: Uint8Array | undefined): Promise<void> {
    if (!this.result) throw new Error('there is no result to export yet');
    const target = await vscode.window.showSaveDialog({
      defaultUri: this.defaultUri(format),
      filters: FILTERS[format],
      title: `Export the feature importance as ${format.toUpperCase()}`,
      saveLabel: 'Export',
    });
    if (!target) return;
    // The save dialog has asked before an existing file is replaced.
    await this.write(format, target, png);
    void vscode.window.showInformationMessage(`Loupe: saved the feature importance to ${vscode.workspace.asRelativePath(target)}.`);
  }

  /**
   * Writes an export to `target`, atomically. `png` is the chart the webview drew (asked for
   * when absent). Callers that did not go through the save dialog pass `replace: false`: an
   * existing file is then left alone and the error says so.
   */
  async write(format: ExportFormat, target: vscode.Uri, png?: Uint8Array, options: { replace?: boolean } = {}): Promise<void> {
    const result = this.result;
    if (!result) throw new Error('there is no result to export yet');
    if (options.replace === false) {
      const exists = await Promise.resolve(vscode.workspace.fs.stat(target)).then(
        () => true,
        () => false,
      );
      if (exists) throw new Error(`${vscode.workspace.asRelativePath(target)} already exists; it was not replaced`);
    }
    let bytes: string | Uint8Array;
    if (format === 'csv') bytes = importanceCsv(result);
    else if (format === 'json') bytes = importanceJson(result, this.origin.source, new Date().toISOString());
    else {
      const image = png ?? (await this.probe(undefined, true)).png;
      if (!image || image.length < 8 || PNG_SIGNATURE.some((b, i) => image[i] !== b)) throw new Error('the view did not send a PNG image');
      bytes = image;
    }
    await writeAtomic(target, [bytes]);
  }
}
