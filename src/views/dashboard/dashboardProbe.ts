// `loupe._dashboardState`: an internal command for the integration tests (not in package.json):
// opens the dashboard, optionally picks a model as a click in it would, and reports the state the
// host sent and what the webview drew.

import * as vscode from 'vscode';
import { Commands } from '../../commandIds';
import { bool, int, obj, optional, str } from '../../protocol/check';
import type { DashboardProbe, DashboardState } from '../../protocol/dashboardViewProtocol';
import type { DashboardView } from './dashboardView';

const args = obj({ select: optional(str), openRun: optional(str), waitForModel: optional(bool), timeoutMs: optional(int) });

export function registerDashboardProbe(view: DashboardView): vscode.Disposable {
  return vscode.commands.registerCommand(Commands.dashboardState, async (raw: unknown): Promise<{ state: DashboardState; drawn: DashboardProbe }> => {
    const a = args(raw ?? {}, 'args');
    const until = Date.now() + (a.timeoutMs ?? 60_000);
    if (!view.visible) await vscode.commands.executeCommand('loupe.dashboard.focus');
    if (a.select !== undefined) await view.selectModel(a.select);
    // As a click on a recent run would (the webview sends the same message).
    if (a.openRun !== undefined) await view.openRun(a.openRun);
    let state = await view.refresh();
    // The engine's description (or its error) arrives with the full state.
    while (a.waitForModel !== false && state.current.loading && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      state = view.lastState ?? state;
    }
    // Let the webview draw what was sent last.
    await new Promise((r) => setTimeout(r, 200));
    const drawn = await view.probe(Math.max(1000, until - Date.now()));
    return { state, drawn };
  });
}
