// Which model the commands use: the one picked with "Loupe: Select Model" or in the dashboard (kept
// per workspace), else loupe.defaultModel, else the bundled spam classifier. Fires when it changes
// (a pick, or a change of loupe.defaultModel while nothing is picked).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveModelArg } from './modelCatalog';
import { readSettings } from './settings';

const KEY = 'loupe.selectedModel';

export class ModelSelection implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<string>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly state: vscode.Memento) {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('loupe.defaultModel') && !this.state.get<string>(KEY)) this.changed.fire(this.current());
    });
  }

  current(): string {
    const picked = this.state.get<string>(KEY);
    if (picked) return picked;
    const configured = readSettings().defaultModel;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    return resolveModelArg(configured ?? undefined, base);
  }

  label(): string {
    return path.basename(this.current());
  }

  async set(modelPath: string): Promise<void> {
    const before = this.current();
    await this.state.update(KEY, modelPath);
    if (before !== modelPath) this.changed.fire(modelPath);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
