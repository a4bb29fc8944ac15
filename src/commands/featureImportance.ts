// "Loupe: Feature Importance…": right-click a .csv or .jsonl file (or run it from the palette on
// the active one, or pick one). It asks for the model, the target column (or none: label-free), the
// definition and scoring (for a text model: the text column and the attribution method), and has
// the user confirm which column feeds which model feature; the answers are remembered per dataset.
// Then the engine computes permutation importance (progress with Cancel) and a panel beside the
// dataset shows it (one per dataset file).
//
// Called with { uri, model, target?, definition?, scoring?, repeats?, seed?, maxSamples?,
// imputation?, textColumn?, method?, noPrompt: true } it runs without the quick picks (the engine's suggested mapping) and
// returns the engine's result (tests, other extensions); with { origin, noPrompt: true } it runs a
// recorded run again exactly (the dashboard's recent runs).
//
// Internal commands for the integration tests (not in package.json): `loupe._importanceViewState`
// reports what the view drew; `loupe._importanceExport` writes the chart's PNG to a given file (never
// over an existing one); the other exports are every result panel's (`loupe._exportResultTo`).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import { sourceLabel } from '../editorSource';
import { describeError, EngineClient } from '../engineClient';
import { resolveModelArg } from '../modelCatalog';
import type { ModelSelection } from '../modelSelection';
import { bool, int, literal, nullable, num, obj, optional, str } from '../protocol/check';
import { IMPORTANCE_VIEW_TYPE, importanceOrigin, importanceSelection, type ImportanceOrigin, type ImportanceProbe } from '../protocol/importanceViewProtocol';
import { ATTRIBUTION_METHODS, IMPORTANCE_DEFINITIONS, IMPUTATIONS, SCORINGS, type DatasetDescription, type ImportanceParams, type ImportanceResult } from '../protocol/workerProtocol';
import { ImportancePanel, type ImportancePanelHost } from '../views/importancePanel';
import { isCancel, runInPanel } from './panelRun';
import { confirmMapping, DatasetChoices, mappingStillFits, pickDefinition, pickImputation, pickModel, pickTarget, pickText, type Remembered } from './importancePicks';

const DATASET_EXTENSIONS = ['.csv', '.jsonl', '.ndjson'];
const DEFAULT_REPEATS = 5;
const DEFAULT_SEED = 0;

/** "<file>: <problem>", unless the engine's message already names the file. */
function aboutFile(file: string, message: string): string {
  return message.includes(path.basename(file)) ? message : `${file}: ${message}`;
}

const presetArgs = obj({
  uri: str,
  model: str,
  target: optional(nullable(str)),
  definition: optional(literal(...IMPORTANCE_DEFINITIONS)),
  scoring: optional(literal(...SCORINGS)),
  repeats: optional(int),
  seed: optional(int),
  maxSamples: optional(num),
  imputation: optional(literal(...IMPUTATIONS)),
  /** Text datasets: the text column (default: the engine's guess) and the attribution method. */
  textColumn: optional(str),
  method: optional(literal(...ATTRIBUTION_METHODS)),
  noPrompt: literal(true),
});

/** A run again exactly as recorded (a recent run of the dashboard). */
const originArgs = obj({ origin: importanceOrigin, noPrompt: literal(true) });

const probeArgs = obj({ source: optional(str), select: optional(importanceSelection), png: optional(bool), timeoutMs: optional(int) });
const exportPngArgs = obj({ source: optional(str), uri: str });

export type ImportanceViewState = Omit<ImportanceProbe, 'png'> & { pngBase64?: string; viewColumn?: number; source: string; title: string };

export function registerFeatureImportance(context: vscode.ExtensionContext, engine: EngineClient, models: ModelSelection): vscode.Disposable {
  const choices = new DatasetChoices(context.workspaceState);

  const paramsOf = (o: ImportanceOrigin): ImportanceParams => ({
    model: { path: o.modelPath },
    data: { path: vscode.Uri.parse(o.source).fsPath },
    mapping: o.mapping.length > 0 ? o.mapping : undefined,
    target: o.target,
    definition: o.definition,
    ...(o.scoring !== null ? { scoring: o.scoring } : {}),
    repeats: o.repeats,
    seed: o.seed,
    ...(o.maxSamples !== null ? { maxSamples: o.maxSamples } : {}),
    imputation: o.imputation,
    ...(o.textColumn !== null ? { textColumn: o.textColumn } : {}),
    ...(o.method !== null ? { method: o.method } : {}),
  });

  const compute = (panel: ImportancePanel): Promise<ImportanceResult | undefined> => {
    const { label, model } = panel.origin;
    return runInPanel(engine, panel, {
      model,
      busy: `Computing the feature importance of ${label} for ${model}…`,
      title: `Loupe: feature importance of ${path.basename(label)} (${model})`,
      noun: 'feature importance',
      cancelled: 'Cancelled. Run again to compute the feature importance.',
      request: (token, onProgress) => engine.request('importance', paramsOf(panel.origin), token, onProgress),
      progressMessage: (done, total) => (total > 0 ? `${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows through the model` : undefined),
      errorMessage: (message) => aboutFile(label, message),
    });
  };

  /** KernelSHAP for one data row, with the panel's model, mapping, imputation and seed. */
  const explainRow = async (panel: ImportancePanel, row: number): Promise<void> => {
    const o = panel.origin;
    const mapping = o.mapping.length > 0 ? o.mapping : panel.result?.dataset.mapping;
    panel.postRow({ type: 'rowBusy', row, message: `Explaining row ${row} of ${o.label} with KernelSHAP…` });
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Loupe: explaining row ${row} of ${path.basename(o.label)} (${o.model})`, cancellable: true },
        (_progress, token) =>
          engine.request(
            'explainRow',
            { model: { path: o.modelPath }, data: { path: vscode.Uri.parse(o.source).fsPath }, ...(mapping ? { mapping } : {}), row, seed: o.seed, imputation: o.imputation },
            token,
          ),
      );
      panel.postRow({ type: 'rowResult', row, result });
    } catch (e) {
      const message = isCancel(e) ? 'Cancelled.' : aboutFile(o.label, describeError(e));
      if (!isCancel(e)) engine.log.error(`Row ${row} of ${o.label}: ${message}`);
      panel.postRow({ type: 'rowError', row, message });
    }
  };

  const host: ImportancePanelHost = { rerun: async (panel) => void (await compute(panel)), explainRow, log: engine.log };

  const describe = (dataset: vscode.Uri, modelPath: string): Thenable<DatasetDescription> =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loupe: reading ${sourceLabel(dataset)}`, cancellable: true }, (_p, token) =>
      engine.request('describeDataset', { data: { path: dataset.fsPath }, model: { path: modelPath } }, token),
    );

  /** The questions, in order; undefined when the user dismissed one. */
  const ask = async (dataset: vscode.Uri): Promise<ImportanceOrigin | undefined> => {
    const name = path.basename(dataset.fsPath);
    const last = choices.get(dataset);
    const modelPath = await pickModel(name, last?.modelPath, models.current());
    if (!modelPath) return undefined;
    const desc = await describe(dataset, modelPath);
    const info = await engine.request('describe', { model: { path: modelPath } });
    const same = last?.modelPath === modelPath ? last : undefined;
    let chosen: Remembered;
    if (info.task === 'text-classifier') {
      const t = await pickText(name, desc, same);
      if (!t) return undefined;
      chosen = { modelPath, target: null, definition: 'label-free', scoring: null, mapping: [], textColumn: t.textColumn, method: t.method };
    } else {
      const target = await pickTarget(name, desc, same?.target);
      if (target === undefined) return undefined;
      const def = await pickDefinition(name, info.task, target, same);
      if (!def) return undefined;
      // A remembered mapping is reused while it still fits the file and the model; else the user confirms one.
      const mapping = same && mappingStillFits(same.mapping, desc) && !same.mapping.some((m) => m.column === target) ? same.mapping : await confirmMapping(name, desc, [target]);
      if (!mapping) return undefined;
      const imputation = await pickImputation(name, desc, mapping.map((m) => m.column), same?.imputation);
      if (!imputation) return undefined;
      chosen = { modelPath, target, definition: def.definition, scoring: def.scoring, mapping, textColumn: null, method: null, imputation };
    }
    await choices.set(dataset, chosen);
    return originOf(dataset, chosen, { imputation: chosen.imputation });
  };

  const originOf = (dataset: vscode.Uri, c: Remembered, extra: { repeats?: number; seed?: number; maxSamples?: number; imputation?: ImportanceOrigin['imputation'] }): ImportanceOrigin => ({
    source: dataset.toString(),
    label: sourceLabel(dataset),
    range: null,
    model: path.basename(c.modelPath),
    modelPath: c.modelPath,
    target: c.target,
    definition: c.definition,
    scoring: c.scoring,
    mapping: c.mapping,
    textColumn: c.textColumn,
    method: c.method,
    imputation: extra.imputation ?? 'none',
    repeats: extra.repeats ?? DEFAULT_REPEATS,
    seed: extra.seed ?? DEFAULT_SEED,
    maxSamples: extra.maxSamples ?? null,
  });

  const open = async (dataset: vscode.Uri, origin: ImportanceOrigin): Promise<ImportanceResult | undefined> => {
    // The panel goes beside the dataset: show the file first when no editor has it.
    if (!vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === dataset.toString())) {
      await vscode.window.showTextDocument(dataset, { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.One }).then(undefined, () => undefined);
    }
    const panel = ImportancePanel.show(context.extensionUri, origin, host);
    return compute(panel);
  };

  /** The dataset a command invocation is about: the explorer's file, the active editor's, or one picked. */
  const datasetFrom = async (arg: unknown): Promise<vscode.Uri | undefined> => {
    if (arg instanceof vscode.Uri) return arg;
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && DATASET_EXTENSIONS.includes(path.extname(active.fsPath).toLowerCase())) return active;
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Datasets (CSV, JSONL)': ['csv', 'jsonl', 'ndjson'] }, title: 'Loupe: the dataset to rank features on' });
    return picked?.[0];
  };

  const viewState = async (raw: unknown): Promise<ImportanceViewState> => {
    const args = probeArgs(raw ?? {}, 'args');
    const panel = ImportancePanel.find(args.source);
    if (!panel) throw new Error(args.source ? `no feature importance view for ${args.source}` : 'no feature importance view is open');
    const until = Date.now() + (args.timeoutMs ?? 60_000);
    for (;;) {
      const p = await panel.probe(undefined, false, Math.max(1000, until - Date.now()));
      const settled = !panel.running && (p.status === 'error' || (p.status === 'drawn' && p.generation === panel.generation));
      if (settled || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { png, ...rest } = await panel.probe(args.select, args.png === true, Math.max(1000, until - Date.now()));
    return { ...rest, source: panel.origin.source, title: panel.panel.title, viewColumn: panel.panel.viewColumn, ...(png ? { pngBase64: Buffer.from(png).toString('base64') } : {}) };
  };

  /** The chart as the view draws it, as a PNG (HTML, JSON and CSV go through `loupe._exportResultTo`). */
  const exportPng = async (raw: unknown): Promise<string> => {
    const args = exportPngArgs(raw, 'args');
    const panel = ImportancePanel.find(args.source);
    if (!panel?.hasResult) throw new Error('no feature importance view with a result is open');
    const { png } = await panel.probe(undefined, true);
    if (!png) throw new Error('the view did not send a PNG image');
    const target = vscode.Uri.parse(args.uri);
    await panel.writePng(target, png, { replace: false });
    return target.toString();
  };

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(IMPORTANCE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => ImportancePanel.revive(panel, context.extensionUri, state, host),
    }),
    vscode.commands.registerCommand(Commands.importanceViewState, viewState),
    vscode.commands.registerCommand(Commands.importanceExport, exportPng),
  );

  return vscode.commands.registerCommand(Commands.featureImportance, async (arg?: unknown): Promise<ImportanceResult | undefined> => {
    if (typeof arg === 'object' && arg !== null && 'origin' in arg) {
      let origin: ImportanceOrigin;
      try {
        origin = originArgs(arg, 'args').origin;
      } catch (e) {
        void vscode.window.showErrorMessage(`Loupe: invalid feature importance arguments: ${describeError(e)}`);
        return undefined;
      }
      return open(vscode.Uri.parse(origin.source), origin);
    }
    if (typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) && (arg as { noPrompt?: unknown }).noPrompt === true) {
      let preset;
      try {
        preset = presetArgs(arg, 'args');
      } catch (e) {
        void vscode.window.showErrorMessage(`Loupe: invalid feature importance arguments: ${describeError(e)}`);
        return undefined;
      }
      const dataset = vscode.Uri.parse(preset.uri);
      const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
      const modelPath = resolveModelArg(preset.model, base);
      const target = preset.target ?? null;
      const chosen: Remembered = {
        modelPath,
        target,
        definition: preset.definition ?? (target === null ? 'label-free' : 'sklearn'),
        scoring: preset.scoring ?? null,
        mapping: [],
        textColumn: preset.textColumn ?? null,
        method: preset.method ?? null,
      };
      return open(dataset, originOf(dataset, chosen, preset));
    }
    const dataset = await datasetFrom(arg);
    if (!dataset) return undefined;
    const ext = path.extname(dataset.fsPath).toLowerCase();
    if (!DATASET_EXTENSIONS.includes(ext)) {
      void vscode.window.showErrorMessage(`Loupe: ${sourceLabel(dataset)} is not a CSV or JSONL file (expected ${DATASET_EXTENSIONS.join(', ')}).`);
      return undefined;
    }
    let origin: ImportanceOrigin | undefined;
    try {
      origin = await ask(dataset);
    } catch (e) {
      if (isCancel(e)) return undefined;
      const message = aboutFile(sourceLabel(dataset), describeError(e));
      engine.log.error(`Feature importance of ${sourceLabel(dataset)}: ${message}`);
      void vscode.window.showErrorMessage(`Loupe: ${message}`);
      return undefined;
    }
    if (!origin) return undefined;
    return open(dataset, origin);
  });
}
