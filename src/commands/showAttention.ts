// "Loupe: Show Attention": reads the attention maps of the current model on the active editor's
// selection or document, or on a prompt file from the explorer, in the engine worker (progress with
// Cancel), and shows them in a panel beside the editor, one panel per source file. The relevance
// modes' attention-gradient relevance (a backward pass, and a gradient copy of the model the first
// time) is computed only when the view asks, once one of them is picked. Called with
// { text, model?, hideSpecial?, relevance? } it returns the engine's result without a panel (for
// other extensions and tests); interactively it returns the result too, once shown.
//
// `loupe._attentionViewState` is an internal command for the integration tests (not in package.json,
// not in the palette): it reports what the view drew, can change what it shows and export it.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import { describeError, EngineClient } from '../engineClient';
import { resolveModelArg } from '../modelCatalog';
import type { ModelSelection } from '../modelSelection';
import { ATTENTION_VIEW_TYPE, RELEVANCE_MODES, viewSelection, type ViewOrigin, type ViewProbe, type ViewSelection } from '../protocol/attentionViewProtocol';
import { bool, CheckError, int, literal, obj, optional, str } from '../protocol/check';
import type { AttentionRelevanceParams, AttentionResult } from '../protocol/workerProtocol';
import { readSettings } from '../settings';
import { AttentionPanel, type AttentionPanelHost } from '../views/attentionPanel';
import { promptSourceFrom, sourceLabel, type SourceText } from '../editorSource';
import { isCancel, runInPanel } from './panelRun';

export interface AttentionArgs {
  text: string;
  model?: string;
  hideSpecial?: boolean;
  /** Also compute the attention-gradient relevance. */
  relevance?: boolean;
}

function isAttentionArgs(v: unknown): v is AttentionArgs {
  if (typeof v !== 'object' || v === null || v instanceof vscode.Uri) return false;
  const o = v as Record<string, unknown>;
  return typeof o.text === 'string' && (o.model === undefined || typeof o.model === 'string') && (o.hideSpecial === undefined || typeof o.hideSpecial === 'boolean') && (o.relevance === undefined || typeof o.relevance === 'boolean');
}

/** The test hook's arguments. */
const probeArgs = obj({
  /** The panel's source URI (default: the most recent attention panel). */
  source: optional(str),
  select: optional(viewSelection),
  /** Recompute with special tokens hidden or shown (like the checkbox). */
  hideSpecial: optional(bool),
  png: optional(bool),
  /** Export to this file (no dialog), through the same code as the view's Export buttons. */
  exportTo: optional(obj({ kind: literal('png', 'json'), path: str })),
  timeoutMs: optional(int),
});

export type AttentionViewState = Omit<ViewProbe, 'png'> & { pngBase64?: string; viewColumn?: number; source: string; relevanceRequests: number };

export function registerShowAttention(context: vscode.ExtensionContext, engine: EngineClient, models: ModelSelection): vscode.Disposable {
  const maxTokens = (): number | undefined => readSettings().maxTokens ?? undefined;

  /** Computes the panel's attention from `text`, showing progress (with Cancel) and the outcome in the panel. */
  const compute = async (panel: AttentionPanel, text: string): Promise<AttentionResult | undefined> => {
    const label = panel.origin.label;
    const model = models.label();
    const modelPath = models.current();
    panel.origin = { ...panel.origin, model };
    const params: AttentionRelevanceParams = { model: { path: modelPath }, text, maxTokens: maxTokens(), hideSpecial: panel.origin.hideSpecial };
    return runInPanel(engine, panel, {
      model,
      noun: 'attention',
      busy: `Reading the attention of ${model} on ${label}…`,
      title: `Loupe: attention of ${model} on ${path.basename(label)}`,
      cancelled: 'Cancelled. Run again to read the attention.',
      request: (token, onProgress) => engine.request('attention', params, token, onProgress),
      shown: () => {
        panel.relevanceParams = params;
      },
    });
  };

  /** Computes the relevance of the panel's result (a relevance mode was picked): progress with Cancel, in the view and a notification. */
  const relevance = async (panel: AttentionPanel): Promise<void> => {
    const params = panel.relevanceParams;
    const generation = panel.generation;
    if (!params || !panel.result) return;
    const { model, label } = panel.origin;
    const cts = new vscode.CancellationTokenSource();
    const busy = `Computing the attention-gradient relevance of ${model} on ${label}: one forward and backward pass (the first time, Loupe writes a gradient copy of the model into its cache)…`;
    panel.relevanceRun = { generation, cts, busy };
    panel.relevanceRequests++;
    panel.postRelevance({ type: 'relevance', generation, status: 'busy', message: busy });
    try {
      const rel = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Loupe: attention-gradient relevance of ${model} on ${path.basename(label)}`, cancellable: true },
        async (_progress, token) => {
          const sub = token.onCancellationRequested(() => cts.cancel());
          try {
            return await engine.request('attentionRelevance', params, cts.token);
          } finally {
            sub.dispose();
          }
        },
      );
      panel.addRelevance(generation, rel);
    } catch (e) {
      if (panel.isDisposed || panel.generation !== generation) return; // a newer result replaced it
      if (isCancel(e)) {
        panel.postRelevance({ type: 'relevance', generation, status: 'cancelled', message: 'Cancelled. Pick a relevance mode again, or Compute relevance, to compute it.' });
        return;
      }
      const message = describeError(e);
      engine.log.error(`Attention-gradient relevance of ${model} on ${label}: ${message}`);
      panel.postRelevance({ type: 'relevance', generation, status: 'error', message: `${label}: ${message}` });
      void vscode.window.showErrorMessage(`Loupe: no relevance for ${label}: ${message}`, 'Show Log').then((choice) => {
        if (choice === 'Show Log') engine.log.show();
      });
    } finally {
      if (panel.relevanceRun?.cts === cts) panel.relevanceRun = null;
      cts.dispose();
    }
  };

  /** Recomputes a panel from its source document (after a reload, "Run again" or the special-token switch). */
  const rerun = async (panel: AttentionPanel): Promise<void> => {
    const text = await panel.readSourceText();
    if (text !== null) await compute(panel, text);
  };

  const host: AttentionPanelHost = { rerun, relevance, log: engine.log };

  const open = async (target: SourceText): Promise<AttentionResult | undefined> => {
    const origin: ViewOrigin = {
      source: target.source.toString(),
      label: sourceLabel(target.source),
      range: target.range,
      hideSpecial: AttentionPanel.find(target.source.toString())?.origin.hideSpecial ?? false,
      model: models.label(),
    };
    const panel = AttentionPanel.show(context.extensionUri, origin, host);
    return compute(panel, target.text);
  };

  const stateOf = (panel: AttentionPanel, p: ViewProbe): AttentionViewState => {
    const { png, ...rest } = p;
    return { ...rest, source: panel.origin.source, viewColumn: panel.panel.viewColumn, relevanceRequests: panel.relevanceRequests, ...(png ? { pngBase64: Buffer.from(png).toString('base64') } : {}) };
  };

  const viewState = async (raw: unknown): Promise<AttentionViewState> => {
    const args = probeArgs(raw ?? {}, 'args');
    const panel = AttentionPanel.find(args.source);
    if (!panel) throw new Error(args.source ? `no attention view for ${args.source}` : 'no attention view is open');
    const until = Date.now() + (args.timeoutMs ?? 60_000);
    if (args.hideSpecial !== undefined && args.hideSpecial !== panel.origin.hideSpecial) {
      panel.origin = { ...panel.origin, hideSpecial: args.hideSpecial };
      await rerun(panel);
    }
    // Wait until the webview has drawn the panel's latest result (or shows its error).
    for (;;) {
      const p = await panel.probe(undefined, false, Math.max(1000, until - Date.now()));
      const settled = !panel.running && (p.status === 'error' || (p.status === 'drawn' && p.generation === panel.generation));
      if (settled) break;
      if (Date.now() > until) return stateOf(panel, p);
      await new Promise((r) => setTimeout(r, 100));
    }
    const wantPng = args.png === true || args.exportTo?.kind === 'png';
    let p = await panel.probe(args.select as ViewSelection | undefined, wantPng, Math.max(1000, until - Date.now()));
    // A relevance mode picked for the first time computes the relevance: wait until it is drawn (or fails).
    const waiting = (s: ViewProbe): boolean => RELEVANCE_MODES.includes(s.mode) && (s.relevance === 'none' || s.relevance === 'busy');
    if (waiting(p)) {
      while (waiting(p) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        p = await panel.probe(undefined, false, Math.max(1000, until - Date.now()));
      }
      if (wantPng) p = await panel.probe(undefined, true, Math.max(1000, until - Date.now()));
    }
    if (args.exportTo) {
      const target = vscode.Uri.file(args.exportTo.path);
      if (args.exportTo.kind === 'json') await panel.writeJson(target);
      else if (p.png) await panel.writePng(target, p.png);
      else throw new CheckError('png', 'a PNG from the view');
    }
    return stateOf(panel, p);
  };

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(ATTENTION_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => AttentionPanel.revive(panel, context.extensionUri, state, host),
    }),
    vscode.commands.registerCommand(Commands.attentionViewState, viewState),
  );

  return vscode.commands.registerCommand(Commands.showAttention, async (arg?: unknown): Promise<AttentionResult | undefined> => {
    if (isAttentionArgs(arg)) {
      // Programmatic use: no panel; errors go to the caller.
      const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
      const modelPath = arg.model !== undefined ? resolveModelArg(arg.model, base) : models.current();
      return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loupe: attention of ${path.basename(modelPath)}`, cancellable: true }, (_progress, token) =>
        engine.request('attention', { model: { path: modelPath }, text: arg.text, maxTokens: maxTokens(), hideSpecial: arg.hideSpecial, relevance: arg.relevance }, token),
      );
    }
    const target = await promptSourceFrom(arg, { nothingOpen: 'open a prompt file, or select some text, to show its attention.', empty: 'there is no text to read the attention of.' });
    if (!target) return undefined;
    return open(target);
  });
}
