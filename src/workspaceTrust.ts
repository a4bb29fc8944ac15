// Workspace trust: in a restricted workspace Loupe runs only the models it ships. A workspace's
// models, and the settings that name them, are files a stranger may have put there; loading one
// parses it (ONNX protobuf, tokenizer JSON) and reads any path its settings name.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledModelsDir } from './modelCatalog';
import { LoupeError } from './protocol/errors';

export const RESTRICTED_REASON =
  'This workspace is in Restricted Mode, so Loupe runs only its bundled models here: models in the workspace and the paths its settings name could come from anyone. ' +
  'Trust the workspace (Workspaces: Manage Workspace Trust) to use them.';

export function isBundledModelPath(modelPath: string): boolean {
  const rel = path.relative(bundledModelsDir(), path.resolve(modelPath));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Why this model may not run now (a restricted workspace and not a bundled model), or null. */
export function modelRestriction(modelPath: string, trusted = vscode.workspace.isTrusted): string | null {
  if (trusted || isBundledModelPath(modelPath)) return null;
  return `${modelPath} was not loaded. ${RESTRICTED_REASON}`;
}

/** Throws the restriction as a LoupeError naming the file. */
export function assertModelAllowed(modelPath: string): void {
  const reason = modelRestriction(modelPath);
  if (reason) throw new LoupeError('UNSUPPORTED', reason, { file: modelPath });
}
