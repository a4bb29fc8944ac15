// Helpers the in-VS-Code suites share: activating Loupe in the test workspace, reading a panel's
// state through an internal command, waiting for a state, finding a view's tabs. Not a test file
// itself (index.ts runs only *.vscode.test.js).
import * as assert from 'assert';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'loupe-dev.loupe';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Activates Loupe; returns it and the test workspace's folder (failing clearly if either is missing). */
export async function activateLoupe(): Promise<{ ext: vscode.Extension<unknown>; folder: vscode.Uri }> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  await ext.activate();
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'no workspace folder is open');
  return { ext, folder: f.uri };
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** What an internal state command (`loupe._…State`) answers for `args`, checked to be an object. */
export async function panelState<T>(command: string, args: unknown): Promise<T> {
  const s = await vscode.commands.executeCommand<T>(command, args);
  assert.ok(s && typeof s === 'object', `${command} returned ${JSON.stringify(s)}`);
  return s;
}

/** The open webview tabs of `viewType`. */
export function webviewTabs(viewType: string): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));
}

/** Where the suites save their screenshots and exports: $LOUPE_TEST_ARTIFACTS, else /tmp/loupe-artifacts. */
export function artifactsDir(): string {
  return process.env.LOUPE_TEST_ARTIFACTS || '/tmp/loupe-artifacts';
}

/** Polls `get` until `ok` holds; fails naming `what` and the last value after `ms`. */
export async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
