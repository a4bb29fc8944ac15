// "Loupe: Select Model": the bundled demo models, the configured ones (loupe.models), or any
// folder or .onnx file picked from disk.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import { describeError, type EngineClient } from '../engineClient';
import { bundledModels, configuredModels } from '../modelCatalog';
import type { ModelSelection } from '../modelSelection';
import { readSettings } from '../settings';

export function registerSelectModel(engine: EngineClient, models: ModelSelection): vscode.Disposable {
  return vscode.commands.registerCommand(Commands.selectModel, async () => {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const entries = [...bundledModels(), ...configuredModels(readSettings().models, base)];
    const current = models.current();
    type Item = vscode.QuickPickItem & { path?: string };
    const browse: Item = { label: '$(folder-opened) Browse…', description: 'an export folder or an .onnx file' };
    const items: Item[] = [
      ...entries.map((e) => ({ label: e.name, description: e.source + (e.path === current ? ' · current' : ''), detail: e.path, path: e.path })),
      browse,
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Loupe: Select Model', placeHolder: 'The model Loupe runs' });
    if (!pick) return;
    let chosen = pick.path;
    if (pick === browse) {
      const uris = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: false, filters: { 'ONNX models': ['onnx'] }, title: 'A Hugging Face export folder or an .onnx file' });
      chosen = uris?.[0]?.fsPath;
    }
    if (!chosen) return;
    const folder = chosen;
    // Describing the model checks it now, rather than at the first explanation, and tells us
    // whether the folder offers several .onnx files to choose from.
    let info;
    try {
      info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loupe: loading ${path.basename(folder)}`, cancellable: true }, (_p, token) =>
        engine.request('describe', { model: { path: folder } }, token),
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Loupe: ${describeError(e)}`);
      return;
    }
    if (info.onnxCandidates.length > 1) {
      const def = path.relative(info.path, info.onnxFile);
      const file = await vscode.window.showQuickPick(
        [def, ...info.onnxCandidates.filter((c) => c !== def)].map((c) => ({ label: c, description: c === def ? 'default' : undefined })),
        { title: `${path.basename(info.path)} has several ONNX files`, placeHolder: 'Which one should Loupe run?' },
      );
      if (!file) return;
      chosen = path.join(info.path, file.label);
    }
    await models.set(chosen);
    engine.setModelLabel(models.label());
    void vscode.window.showInformationMessage(`Loupe: using ${models.label()} (${info.task}).`);
  });
}
