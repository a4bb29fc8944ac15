// One computation for a result panel: cancels the panel's previous one, shows "busy" in the panel and
// a progress notification with Cancel, then the result, or the error (in the panel, the log and a
// notification with "Show Log"). A run superseded by a newer one, or whose panel was closed, ends
// silently. Shared by the attention, explanation and feature importance commands.

import * as vscode from 'vscode';
import { describeError, type EngineClient } from '../engineClient';
import { LoupeError } from '../protocol/errors';

/** What a panel offers a run. */
export interface RunnablePanel<R> {
  running: vscode.CancellationTokenSource | null;
  readonly isDisposed: boolean;
  readonly origin: { label: string };
  showBusy(message: string): void;
  showError(message: string): void;
  showResult(result: R): void;
}

export interface PanelRunSpec<R> {
  /** The model's name (the status bar shows it once the run succeeds). */
  model: string;
  /** Shown in the panel while it runs. */
  busy: string;
  /** The progress notification's title. */
  title: string;
  /** What the run produces, for messages: "attention", "explanation". */
  noun: string;
  /** Shown in the panel when the user cancelled. */
  cancelled: string;
  /** The engine request; `onProgress` reports work done. */
  request(token: vscode.CancellationToken, onProgress: (done: number, total: number) => void): Promise<R>;
  /** The progress message for `done` of `total` (default: none). */
  progressMessage?(done: number, total: number): string | undefined;
  /** The error as the panel and the notification say it (default: "<source>: <message>"). */
  errorMessage?(message: string): string;
  /** After the panel shows the result. */
  shown?(result: R): void;
}

export const isCancel = (e: unknown): boolean => e instanceof LoupeError && e.code === 'CANCELLED';

export async function runInPanel<R>(engine: EngineClient, panel: RunnablePanel<R>, spec: PanelRunSpec<R>): Promise<R | undefined> {
  panel.running?.cancel();
  const cts = new vscode.CancellationTokenSource();
  panel.running = cts;
  const label = panel.origin.label;
  panel.showBusy(spec.busy);
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: spec.title, cancellable: true }, async (progress, token) => {
      const sub = token.onCancellationRequested(() => cts.cancel());
      let reported = 0;
      try {
        return await spec.request(cts.token, (done, total) => {
          const pct = total > 0 ? (100 * done) / total : 0;
          progress.report({ increment: pct - reported, message: spec.progressMessage?.(done, total) });
          reported = pct;
        });
      } finally {
        sub.dispose();
      }
    });
    if (panel.running !== cts || panel.isDisposed) return undefined; // superseded or closed
    engine.setModelLabel(spec.model);
    panel.showResult(result);
    spec.shown?.(result);
    return result;
  } catch (e) {
    if (panel.running !== cts || panel.isDisposed) return undefined;
    if (isCancel(e)) {
      panel.showError(spec.cancelled);
      return undefined;
    }
    const message = describeError(e);
    engine.log.error(`${spec.noun[0]!.toUpperCase()}${spec.noun.slice(1)} of ${spec.model} on ${label}: ${message}`);
    const said = spec.errorMessage?.(message) ?? `${label}: ${message}`;
    panel.showError(said);
    void vscode.window.showErrorMessage(`Loupe: no ${spec.noun} for ${said}`, 'Show Log').then((choice) => {
      if (choice === 'Show Log') engine.log.show();
    });
    return undefined;
  } finally {
    if (panel.running === cts) panel.running = null;
    cts.dispose();
  }
}
