// Models found in the workspace: every `*.onnx` file, offered as its Hugging Face export folder when
// it sits beside a config.json (the engine picks the folder's model file), else as the file itself.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CatalogEntry } from './modelCatalog';

const MAX_FILES = 200;

export async function workspaceModels(token?: vscode.CancellationToken): Promise<CatalogEntry[]> {
  if (!vscode.workspace.workspaceFolders?.length) return [];
  const files = await vscode.workspace.findFiles('**/*.onnx', '{**/node_modules/**,**/.git/**}', MAX_FILES, token);
  const configs = new Set(
    (await vscode.workspace.findFiles('**/config.json', '{**/node_modules/**,**/.git/**}', MAX_FILES * 2, token)).map((u) => path.dirname(u.fsPath)),
  );
  const byPath = new Map<string, CatalogEntry>();
  for (const f of files) {
    const dir = path.dirname(f.fsPath);
    // An export folder often keeps its model under onnx/ (optimum): the folder is the parent then.
    const folder = configs.has(dir) ? dir : path.basename(dir) === 'onnx' && configs.has(path.dirname(dir)) ? path.dirname(dir) : null;
    const p = folder ?? f.fsPath;
    if (!byPath.has(p)) byPath.set(p, { name: vscode.workspace.asRelativePath(p), path: p, source: 'workspace' });
  }
  return [...byPath.values()].sort((a, b) => a.name.localeCompare(b.name));
}
