// Which model the commands use: the one picked with "Loupe: Select Model" (kept per workspace),
// else loupe.defaultModel, else the bundled spam classifier.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveModelArg } from './modelCatalog';
import { readSettings } from './settings';

const KEY = 'loupe.selectedModel';

export class ModelSelection {
  constructor(private readonly state: vscode.Memento) {}

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
    await this.state.update(KEY, modelPath);
  }
}
