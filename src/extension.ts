// Loupe's extension entry point. Activation only registers commands and views: the engine worker,
// and with it onnxruntime-node and any model, starts on the first request.

import * as vscode from 'vscode';
import { Commands } from './commandIds';
import { registerExplain } from './commands/explain';
import { registerFeatureImportance } from './commands/featureImportance';
import { registerPredict } from './commands/predict';
import { registerSelectModel } from './commands/selectModel';
import { registerShowAttention } from './commands/showAttention';
import { EngineClient } from './engineClient';
import { ModelSelection } from './modelSelection';

let engine: EngineClient | null = null;

export interface LoupeApi {
  /** Whether the engine worker process is running (it starts on first use). */
  engineStarted(): boolean;
}

export function activate(context: vscode.ExtensionContext): LoupeApi {
  // Rewritten models (attention outputs) are cached in the extension's global storage, never beside the user's files.
  const client = new EngineClient(context.extensionPath, vscode.Uri.joinPath(context.globalStorageUri, 'models').fsPath);
  engine = client;
  const models = new ModelSelection(context.workspaceState);
  context.subscriptions.push(
    client,
    registerPredict(context, client, models),
    registerShowAttention(context, client, models),
    registerExplain(context, client, models),
    registerFeatureImportance(context, client, models),
    registerSelectModel(client, models),
    vscode.commands.registerCommand(Commands.restartEngine, async () => {
      await client.restart();
      void vscode.window.showInformationMessage('Loupe: the engine was restarted; it starts again on the next request.');
    }),
    vscode.commands.registerCommand(Commands.showLog, () => client.log.show()),
  );
  return { engineStarted: () => client.started };
}

export async function deactivate(): Promise<void> {
  await engine?.shutdown();
  engine = null;
}
