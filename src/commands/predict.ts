// "Loupe: Predict": runs the current model on the active editor's selection or document, or on a
// file from the explorer, in the engine worker, with progress and Cancel; shows the answer beside
// the source. Called with { text, model } it returns the result (for other extensions and tests).

import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import { describeError, EngineClient } from '../engineClient';
import { resolveModelArg } from '../modelCatalog';
import type { ModelSelection } from '../modelSelection';
import type { PredictResult } from '../protocol/workerProtocol';
import { readSettings } from '../settings';
import { PredictionPanel } from '../views/predictionPanel';
import { sourceTextFrom } from '../editorSource';

interface Target {
  text: string;
  source: vscode.Uri | null;
  offset: number;
}

export interface PredictArgs {
  text: string;
  model?: string;
}

function isPredictArgs(v: unknown): v is PredictArgs {
  if (typeof v !== 'object' || v === null || v instanceof vscode.Uri) return false;
  const o = v as Record<string, unknown>;
  return typeof o.text === 'string' && (o.model === undefined || typeof o.model === 'string');
}

async function targetFrom(arg: unknown): Promise<Target | null> {
  const t = await sourceTextFrom(arg);
  return t ? { text: t.text, source: t.source, offset: t.range?.start ?? 0 } : null;
}

/** An error the user should see: a notification (with the log one click away) and the log itself. */
async function showError(engine: EngineClient, message: string): Promise<void> {
  engine.log.error(message);
  if (/^Cancelled/.test(message)) return;
  const choice = await vscode.window.showErrorMessage(`Loupe: ${message}`, 'Show Log');
  if (choice === 'Show Log') engine.log.show();
}

export function registerPredict(context: vscode.ExtensionContext, engine: EngineClient, models: ModelSelection): vscode.Disposable {
  const run = async (target: Target, modelPath: string, interactive: boolean): Promise<PredictResult> => {
    const maxTokens = readSettings().maxTokens ?? undefined;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Loupe: running ${models.label()}`, cancellable: true },
      async (progress, token) => {
        let reported = 0;
        const result = await engine.request('predict', { model: { path: modelPath }, texts: [target.text], maxTokens }, token, (done, total) => {
          const pct = total > 0 ? (100 * done) / total : 0;
          progress.report({ increment: pct - reported });
          reported = pct;
        });
        engine.setModelLabel(models.label());
        if (target.source && interactive) PredictionPanel.show(context.extensionUri, target.source, rerun).showResult(result, target.offset);
        return result;
      },
    );
  };

  // "Run again" from a panel: the panel shows that it is working, and an error both in itself and
  // as a notification, rather than keeping a result that no longer holds.
  const rerun = (source: vscode.Uri): void => {
    const panel = PredictionPanel.find(source);
    panel?.post({ type: 'busy', message: `Running ${models.label()}…` });
    targetFrom(source)
      .then((t) => (t ? run(t, models.current(), true) : undefined))
      .catch((e: unknown) => {
        const message = describeError(e);
        panel?.post({ type: 'error', message: `${vscode.workspace.asRelativePath(source)}: ${message}` });
        return showError(engine, message);
      });
  };

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer('loupe.prediction', {
      deserializeWebviewPanel: async (panel, state) => PredictionPanel.revive(panel, context.extensionUri, state, rerun),
    }),
  );

  return vscode.commands.registerCommand(Commands.predict, async (arg?: unknown): Promise<PredictResult | undefined> => {
    if (isPredictArgs(arg)) {
      // Programmatic use: errors go to the caller.
      const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
      const modelPath = arg.model !== undefined ? resolveModelArg(arg.model, base) : models.current();
      return run({ text: arg.text, source: null, offset: 0 }, modelPath, false);
    }
    const target = await targetFrom(arg);
    if (!target) {
      void vscode.window.showInformationMessage('Loupe: open a prompt file, or select some text, to run the model on it.');
      return undefined;
    }
    try {
      return await run(target, models.current(), true);
    } catch (e) {
      await showError(engine, describeError(e));
      return undefined;
    }
  });
}
