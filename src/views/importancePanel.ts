// The feature-importance panel: one per dataset file, beside it. The host computes (in the engine),
// the webview draws the chart, the table, the dataset summary and the settings. Exports, like every
// result panel's (SourcePanel): HTML (the chart as drawn), JSON (the whole run) and CSV built here
// (src/views/export/importanceFormats.ts), and the PNG the webview draws; all through the one writer
// (save dialog, ask before replacing, atomic). It survives a reload through a
// WebviewPanelSerializer: the webview's saved origin holds the whole run's settings, so it is
// recomputed without a question.

import * as vscode from 'vscode';
import {
  checkViewToHost,
  IMPORTANCE_VIEW_TYPE,
  importanceOrigin,
  type ImportanceOrigin,
  type ImportanceProbe,
  type ImportanceSelection,
  type RowMessage,
  type ViewToHost,
} from '../protocol/importanceViewProtocol';
import type { ExportFormatName, SourceViewCommonToHost } from '../protocol/sourceView';
import type { ImportanceResult } from '../protocol/workerProtocol';
import { importanceCsv, importanceHtml, importanceJson } from './export/importanceFormats';
import { PanelRegistry, SourcePanel, type ResultRecord } from './sourcePanel';

export interface ImportancePanelHost {
  /** Recomputes the panel's importance from its dataset (after a reload or "Run again"). */
  rerun(panel: ImportancePanel): Promise<void>;
  /** Explains one data row of the panel's dataset (KernelSHAP) and posts it to the panel. */
  explainRow(panel: ImportancePanel, row: number): Promise<void>;
  log: vscode.LogOutputChannel;
}

type OwnMessage = Exclude<ViewToHost, SourceViewCommonToHost<ImportanceProbe>>;

export class ImportancePanel extends SourcePanel<ImportanceOrigin, ImportanceResult, ImportanceSelection, ImportanceProbe, OwnMessage> {
  private static readonly registry = new PanelRegistry<ImportanceOrigin, ImportancePanel>(IMPORTANCE_VIEW_TYPE, 'Feature Importance', importanceOrigin);
  private static readonly kind = { bundle: 'importance', id: 'importance' as const, title: 'Feature Importance', noun: 'feature importance', registry: ImportancePanel.registry.panels };

  static show(extensionUri: vscode.Uri, origin: ImportanceOrigin, host: ImportancePanelHost): ImportancePanel {
    return ImportancePanel.registry.show(extensionUri, origin, (panel) => new ImportancePanel(panel, extensionUri, origin, host));
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, host: ImportancePanelHost): void {
    ImportancePanel.registry.revive(panel, extensionUri, state, (p, origin) => new ImportancePanel(p, extensionUri, origin, host), host.log);
  }

  /** The panel of a dataset (a URI string), or the most recently opened one. */
  static find(source?: string): ImportancePanel | undefined {
    return ImportancePanel.registry.find(source);
  }

  private constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, origin: ImportanceOrigin, private readonly host: ImportancePanelHost) {
    super(panel, extensionUri, origin, host.log, ImportancePanel.kind, checkViewToHost);
  }

  /** A run names its model (the one picked for this dataset): it does not follow the current model. */
  override get followsCurrentModel(): boolean {
    return false;
  }

  rerun(): Promise<void> {
    return this.host.rerun(this);
  }

  record(): ResultRecord | null {
    const r = this.result;
    if (!r) return null;
    const o = this.origin;
    const what = r.text
      ? `${r.text.rowsExplained} rows · top token ${[...r.text.overall].sort((a, b) => b.meanAbs - a.meanAbs)[0]?.token ?? '—'}`
      : `${r.features.length} features · top ${[...r.features].sort((a, b) => b.mean - a.mean)[0]?.name ?? '—'}`;
    const how = o.target === null ? 'label-free' : `target ${o.target}${r.scoring ? ` · ${r.scoring}` : ''}`;
    return { model: o.model, modelPath: o.modelPath, methods: o.method ? [o.method] : [], summary: `${how} · ${what}`, importance: o };
  }

  protected handle(message: OwnMessage): void {
    switch (message.type) {
      case 'rerun':
        this.rerun().catch((e: unknown) => this.host.log.error(String(e)));
        return;
      case 'exportPng':
        void this.exportPngInteractive(message.png, 'importance', 'feature importance chart');
        return;
      case 'explainRow':
        this.host.explainRow(this, message.row).catch((e: unknown) => this.host.log.error(String(e)));
        return;
    }
  }

  protected exportChunks(format: ExportFormatName, png: Uint8Array | undefined, exportedAt: string): Iterable<string> {
    const r = this.result!;
    switch (format) {
      case 'json':
        return importanceJson(r, this.origin, exportedAt);
      case 'csv':
        return importanceCsv(r);
      case 'html':
        return importanceHtml(r, this.origin, png, exportedAt);
    }
  }

  /** A row explanation's progress or result (the page keeps the last one in its own saved state). */
  postRow(message: RowMessage): void {
    if (!this.isDisposed) void this.panel.webview.postMessage(message);
  }
}
