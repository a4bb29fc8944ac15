// The attention panel: one per source file, beside the editor. The host computes (in the engine),
// the webview draws. The maps go to the webview as Float32Arrays. Exports: the webview draws the
// PNG, the host builds the JSON; both are written atomically (a temporary file, then a rename) to a
// place the user picked in the save dialog (which asks before replacing a file). It survives a
// reload through a WebviewPanelSerializer: the webview's saved origin says what to recompute.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
import type { AttentionResult } from '../protocol/workerProtocol';
import type { SourceViewCommonToHost } from '../protocol/sourceView';
import { SourcePanel } from './sourcePanel';
import { webviewOptions } from './webviewHtml';

export interface AttentionPanelHost {
  /** Recomputes the panel's attention from its source (after a reload, "Run again", hiding special tokens). */
  rerun(panel: AttentionPanel): Promise<void>;
  log: vscode.LogOutputChannel;
}

type OwnMessage = Exclude<ViewToHost, SourceViewCommonToHost<ViewProbe>>;

export class AttentionPanel extends SourcePanel<ViewOrigin, AttentionResult, ViewSelection, ViewProbe, OwnMessage> {
  private static readonly panels = new Map<string, AttentionPanel>();
  private static readonly kind = { bundle: 'attention', title: 'Attention', noun: 'attention', registry: AttentionPanel.panels };

  static show(extensionUri: vscode.Uri, origin: ViewOrigin, host: AttentionPanelHost): AttentionPanel {
    const existing = AttentionPanel.panels.get(origin.source);
    if (existing) {
      existing.origin = origin;
      existing.panel.reveal(existing.panel.viewColumn, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(ATTENTION_VIEW_TYPE, `Attention: ${origin.label}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(extensionUri));
    return new AttentionPanel(panel, extensionUri, origin, host);
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, host: AttentionPanelHost): void {
    let origin: ViewOrigin;
    try {
      origin = viewOrigin((state as { origin?: unknown } | undefined)?.origin, 'origin');
    } catch {
      panel.dispose(); // nothing to recompute from
      return;
    }
    AttentionPanel.panels.get(origin.source)?.panel.dispose();
    panel.webview.options = webviewOptions(extensionUri);
    const view = new AttentionPanel(panel, extensionUri, origin, host);
    host.rerun(view).catch((e: unknown) => host.log.error(String(e)));
  }

  /** The panel of a source (a URI string), or the most recently opened one. */
  static find(source?: string): AttentionPanel | undefined {
    if (source !== undefined) return AttentionPanel.panels.get(source);
    return [...AttentionPanel.panels.values()].pop();
  }

  private constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, origin: ViewOrigin, private readonly host: AttentionPanelHost) {
    super(panel, extensionUri, origin, host.log, AttentionPanel.kind, checkViewToHost);
  }

  protected handle(message: OwnMessage): void {
    switch (message.type) {
      case 'rerun':
        this.origin = { ...this.origin, hideSpecial: message.hideSpecial };
        this.host.rerun(this).catch((e: unknown) => this.host.log.error(String(e)));
        return;
      case 'exportPng':
        this.exportPng(message.png, message.name).catch((e: unknown) => this.reportExportError('PNG', e));
        return;
      case 'exportJson':
        this.exportJson().catch((e: unknown) => this.reportExportError('JSON', e));
        return;
    }
  }

  private reportExportError(kind: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.host.log.error(`Export of the attention ${kind} failed: ${message}`);
    void vscode.window.showErrorMessage(`Loupe: the attention ${kind} of ${this.origin.label} could not be saved: ${message}`);
  }

  private defaultUri(part: string, ext: string): vscode.Uri {
    const src = this.source;
    const stem = path.posix.basename(src.path).replace(/\.[^.]*$/, '') || 'prompt';
    const name = `${stem}.attention.${part}.${ext}`;
    if (src.scheme === 'untitled') {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      return folder ? vscode.Uri.joinPath(folder, name) : vscode.Uri.file(path.join(os.homedir(), name));
    }
    return vscode.Uri.joinPath(src, '..', name);
  }

  private async exportPng(png: Uint8Array, part: string): Promise<void> {
    const target = await vscode.window.showSaveDialog({
      defaultUri: this.defaultUri(part, 'png'),
      filters: { 'PNG image': ['png'] },
      title: 'Export the attention heatmap as PNG',
      saveLabel: 'Export',
    });
    if (!target) return;
    await this.writePng(target, png);
    void vscode.window.showInformationMessage(`Loupe: saved the heatmap to ${vscode.workspace.asRelativePath(target)}.`);
  }

  private async exportJson(): Promise<void> {
    if (!this.result) throw new Error('there is no result to export yet');
    const target = await vscode.window.showSaveDialog({
      defaultUri: this.defaultUri('all', 'json'),
      filters: { JSON: ['json'] },
      title: 'Export the attention maps as JSON',
      saveLabel: 'Export',
    });
    if (!target) return;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Loupe: writing the attention JSON' }, () => this.writeJson(target));
    void vscode.window.showInformationMessage(`Loupe: saved the attention maps to ${vscode.workspace.asRelativePath(target)}.`);
  }

  /** Writes the PNG the webview drew (checked to be one) to `target`, atomically. */
  async writePng(target: vscode.Uri, png: Uint8Array): Promise<void> {
    const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    if (png.length < 8 || signature.some((b, i) => png[i] !== b)) throw new Error('the view did not send a PNG image');
    await writeAtomic(target, [png]);
  }

  /** Writes the result as JSON (tokens, layers, heads, every map, the model's hash and the run) to `target`, atomically. */
  async writeJson(target: vscode.Uri): Promise<void> {
    if (!this.result) throw new Error('there is no result to export yet');
    await writeAtomic(target, attentionJson(this.result, this.origin, new Date().toISOString()));
  }
}

// ---- export ---------------------------------------------------------------------------------------

/** The shortest decimal that reads back as the same float32. */
export function float32Text(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return '0';
  for (let p = 6; p < 9; p++) {
    const s = Number(x.toPrecision(p));
    if (Math.fround(s) === x) return String(s);
  }
  return String(Number(x.toPrecision(9)));
}

function matrixRows(data: Float32Array, at: number, m: number): string[] {
  const rows: string[] = [];
  for (let q = 0; q < m; q++) {
    const cells = new Array<string>(m);
    for (let k = 0; k < m; k++) cells[k] = float32Text(data[at + q * m + k]!);
    rows.push(`[${cells.join(',')}]`);
  }
  return rows;
}

/**
 * The JSON export, in pieces (a 12-layer model at 512 tokens has 37 M weights: never one string).
 * attention is [layer][head][query][key], headMean [layer][query][key], rollout [query][key], all
 * over the `shown` tokens.
 */
export function* attentionJson(r: AttentionResult, origin: ViewOrigin, exportedAt: string): Generator<string> {
  const m = r.shown.length;
  const head = {
    format: 'loupe-attention',
    version: 1,
    exportedAt,
    source: origin.source,
    range: origin.range,
    text: r.text,
    model: {
      path: r.model.path,
      onnxFile: r.model.onnxFile,
      sha256: r.model.sha256,
      task: r.model.task,
      modelType: r.model.modelType,
      architectures: r.model.architectures,
      maxLength: r.model.maxLength,
    },
    run: r.run,
    tokens: r.tokens,
    truncation: r.truncation,
    hideSpecial: r.hideSpecial,
    shown: r.shown,
    numLayers: r.numLayers,
    numHeads: r.numHeads,
    layers: r.layers,
    heads: r.heads,
    sources: r.sources,
    layout: {
      attention: 'attention[layer][head][query][key]: layer and head are positions in `layers` and `heads`; query and key are positions in `shown`',
      headMean: 'headMean[layer][query][key]: the mean over all heads of each layer',
      rollout: 'rollout[query][key]: attention rollout through all layers',
    },
  };
  const opening = JSON.stringify(head);
  yield opening.slice(0, -1);
  yield ',"attention":[';
  for (let li = 0; li < r.layers.length; li++) {
    yield li ? ',[' : '[';
    for (let hi = 0; hi < r.heads.length; hi++) {
      yield (hi ? ',[' : '[') + matrixRows(r.attention, (li * r.heads.length + hi) * m * m, m).join(',') + ']';
    }
    yield ']';
  }
  yield '],"headMean":[';
  for (let li = 0; li < r.layers.length; li++) yield (li ? ',[' : '[') + matrixRows(r.headMean, li * m * m, m).join(',') + ']';
  yield '],"rollout":[' + matrixRows(r.rollout, 0, m).join(',') + ']}\n';
}

/**
 * Writes `chunks` to `target` so that no reader ever sees a half-written file: into a temporary file
 * beside it, then a rename over the target. The target was chosen in a save dialog, which asked
 * before replacing an existing file.
 */
export async function writeAtomic(target: vscode.Uri, chunks: Iterable<string | Uint8Array>): Promise<void> {
  const suffix = `.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`;
  if (target.scheme === 'file') {
    const dest = target.fsPath;
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}${suffix}`);
    const fh = await fs.promises.open(tmp, 'wx');
    try {
      let pending: Buffer[] = [];
      let size = 0;
      const flush = async (): Promise<void> => {
        if (size === 0) return;
        await fh.write(Buffer.concat(pending, size));
        pending = [];
        size = 0;
      };
      for (const c of chunks) {
        const b = typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        pending.push(b);
        size += b.length;
        if (size >= 1 << 20) await flush();
      }
      await flush();
      await fh.sync();
      await fh.close();
      await fs.promises.rename(tmp, dest);
    } catch (e) {
      await fh.close().catch(() => undefined);
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    return;
  }
  // Another file system (remote, virtual): the same through VS Code's file system API.
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));
  const tmp = target.with({ path: `${path.posix.dirname(target.path)}/.${path.posix.basename(target.path)}${suffix}` });
  await vscode.workspace.fs.writeFile(tmp, Buffer.concat(parts));
  try {
    await vscode.workspace.fs.rename(tmp, target, { overwrite: true });
  } catch (e) {
    await Promise.resolve(vscode.workspace.fs.delete(tmp)).catch(() => undefined);
    throw e;
  }
}
