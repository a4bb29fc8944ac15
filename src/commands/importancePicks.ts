// The questions "Loupe: Feature Importance…" asks, one quick pick each: the model, the target
// column (or none: label-free), the definition and scoring, the text column and method for a text
// model, and the confirmation of the column mapping (editable feature by feature). The answers are
// remembered per dataset (workspaceState) and offered first the next time; a remembered mapping is
// reused without asking while the file still has its columns and the model its features.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledModels, configuredModels } from '../modelCatalog';
import { arr, literal, nullable, obj, optional, str, type Checked } from '../protocol/check';
import { ATTRIBUTION_METHODS, featureMapping, IMPORTANCE_DEFINITIONS, IMPUTATIONS, SCORINGS, type DatasetDescription, type FeatureMapping, type Imputation, type Scoring, type TaskKind } from '../protocol/workerProtocol';
import { METHOD_LABELS } from '../protocol/explainViewProtocol';
import { readSettings } from '../settings';

export const SCORING_LABELS: Record<Scoring, string> = {
  accuracy: 'Accuracy',
  balanced_accuracy: 'Balanced accuracy',
  roc_auc: 'ROC AUC',
  neg_log_loss: 'Log loss (negated)',
  r2: 'R²',
  neg_mean_squared_error: 'Mean squared error (negated)',
  neg_mean_absolute_error: 'Mean absolute error (negated)',
};
const CLASSIFIER_SCORINGS: readonly Scoring[] = ['accuracy', 'balanced_accuracy', 'roc_auc', 'neg_log_loss'];
const REGRESSOR_SCORINGS: readonly Scoring[] = ['r2', 'neg_mean_squared_error', 'neg_mean_absolute_error'];

/** What is remembered per dataset (checked when read back: workspaceState outlives versions). */
const remembered = obj({
  modelPath: str,
  target: nullable(str),
  definition: literal(...IMPORTANCE_DEFINITIONS),
  scoring: nullable(literal(...SCORINGS)),
  mapping: arr(featureMapping),
  textColumn: nullable(str),
  method: nullable(literal(...ATTRIBUTION_METHODS)),
  imputation: optional(literal(...IMPUTATIONS)),
});
export type Remembered = Checked<typeof remembered>;

export class DatasetChoices {
  private static readonly PREFIX = 'loupe.importance.choices:';
  constructor(private readonly state: vscode.Memento) {}

  get(dataset: vscode.Uri): Remembered | undefined {
    try {
      const v = this.state.get<unknown>(DatasetChoices.PREFIX + dataset.toString());
      return v === undefined ? undefined : remembered(v, 'choices');
    } catch {
      return undefined;
    }
  }

  async set(dataset: vscode.Uri, choices: Remembered): Promise<void> {
    await this.state.update(DatasetChoices.PREFIX + dataset.toString(), choices);
  }
}

/** The model: the one used last on this dataset first, then the current one, the bundled and configured models, or Browse. */
export async function pickModel(datasetName: string, last: string | undefined, current: string): Promise<string | undefined> {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const entries = [...bundledModels(), ...configuredModels(readSettings().models, base)];
  type Item = vscode.QuickPickItem & { path?: string };
  const note = (p: string): string => [p === last ? `last used on ${datasetName}` : '', p === current ? 'current model' : ''].filter(Boolean).join(' · ');
  const items: Item[] = entries.map((e) => ({ label: e.name, description: [e.source, note(e.path)].filter(Boolean).join(' · '), detail: e.path, path: e.path }));
  for (const p of [current, last]) if (p && !items.some((i) => i.path === p)) items.unshift({ label: path.basename(p), description: note(p), detail: p, path: p });
  const rank = (i: Item): number => (i.path === last ? 0 : i.path === current && !last ? 0 : 1);
  items.sort((a, b) => rank(a) - rank(b));
  const browse: Item = { label: '$(folder-opened) Browse…', description: 'an export folder or an .onnx file' };
  const pick = await vscode.window.showQuickPick([...items, browse], { title: `Loupe: Feature Importance of ${datasetName} (1/3): model`, placeHolder: 'The model whose features are ranked' });
  if (!pick) return undefined;
  if (pick !== browse) return pick.path;
  const uris = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: false, filters: { 'ONNX models': ['onnx'] }, title: 'A model folder or an .onnx file' });
  return uris?.[0]?.fsPath;
}

/** The target column, or null (no target: label-free). Undefined when dismissed. */
export async function pickTarget(datasetName: string, desc: DatasetDescription, last: string | null | undefined): Promise<string | null | undefined> {
  const s = desc.suggestion;
  const fed = new Set(s?.mapping.map((m) => m.column) ?? []);
  const candidates = s?.targetCandidates ?? desc.columns.map((c) => c.name).filter((c) => !fed.has(c));
  const preferred = last !== undefined ? last : (s?.target ?? null);
  type Item = vscode.QuickPickItem & { column: string | null };
  const col = (name: string): Item => {
    const c = desc.columns.find((x) => x.name === name);
    const what = c ? `${c.type}${c.distinct !== null ? `, ${c.distinct} distinct values` : ''}${c.examples.length ? `: ${c.examples.slice(0, 3).join(', ')}` : ''}` : '';
    return { label: name, description: [name === s?.target ? 'suggested' : '', name === last ? 'last used' : ''].filter(Boolean).join(' · '), detail: what, column: name };
  };
  const none: Item = { label: 'No target (label-free)', description: last === null ? 'last used' : undefined, detail: "Importance = the mean squared change of the model's output when a column is shuffled", column: null };
  const items = [...candidates.map(col), none];
  items.sort((a, b) => Number(b.column === preferred) - Number(a.column === preferred));
  const pick = await vscode.window.showQuickPick(items, { title: `Loupe: Feature Importance of ${datasetName} (2/3): target column`, placeHolder: 'The column holding the true labels or values' });
  return pick ? pick.column : undefined;
}

/** The definition and scoring; with no target, only the label-free one applies (no question). */
export async function pickDefinition(
  datasetName: string,
  task: TaskKind,
  target: string | null,
  last: { definition: Remembered['definition']; scoring: Scoring | null } | undefined,
): Promise<{ definition: Remembered['definition']; scoring: Scoring | null } | undefined> {
  if (target === null) return { definition: 'label-free', scoring: null };
  const scorings = task === 'tabular-regressor' ? REGRESSOR_SCORINGS : CLASSIFIER_SCORINGS;
  type Item = vscode.QuickPickItem & { definition: Remembered['definition']; scoring: Scoring | null };
  const items: Item[] = [
    ...scorings.map((s, i) => ({
      label: `Score drop · ${SCORING_LABELS[s]}`,
      description: [i === 0 ? 'default' : '', last?.scoring === s ? 'last used' : ''].filter(Boolean).join(' · '),
      detail: `sklearn's permutation_importance: the baseline ${SCORING_LABELS[s].toLowerCase()} minus the one with the column shuffled`,
      definition: 'sklearn' as const,
      scoring: s,
    })),
    {
      label: 'Label-free · output change',
      description: last?.definition === 'label-free' ? 'last used' : '',
      detail: "The mean squared change of the model's output when the column is shuffled (the target is not used)",
      definition: 'label-free',
      scoring: null,
    },
  ];
  items.sort((a, b) => Number(b.description?.includes('last used') ?? false) - Number(a.description?.includes('last used') ?? false));
  const pick = await vscode.window.showQuickPick(items, { title: `Loupe: Feature Importance of ${datasetName} (3/3): definition and scoring`, placeHolder: `How importance is measured against "${target}"` });
  return pick ? { definition: pick.definition, scoring: pick.scoring } : undefined;
}

/** A text model's text column (asked only when there are several) and attribution method. */
export async function pickText(
  datasetName: string,
  desc: DatasetDescription,
  last: Remembered | undefined,
): Promise<{ textColumn: string; method: (typeof ATTRIBUTION_METHODS)[number] } | undefined> {
  const cols = desc.suggestion?.textColumns ?? desc.columns.filter((c) => c.type === 'text').map((c) => c.name);
  if (cols.length === 0) {
    void vscode.window.showErrorMessage(`Loupe: ${datasetName} has no text column for a text model to read.`);
    return undefined;
  }
  let textColumn = cols[0]!;
  if (cols.length > 1) {
    const preferred = last?.textColumn ?? desc.suggestion?.textColumn ?? cols[0];
    const items = cols.map((c) => ({ label: c, description: c === preferred ? 'suggested' : undefined }));
    items.sort((a, b) => Number(b.label === preferred) - Number(a.label === preferred));
    const pick = await vscode.window.showQuickPick(items, { title: `Loupe: token importance of ${datasetName}: text column`, placeHolder: 'The column with the texts the model reads' });
    if (!pick) return undefined;
    textColumn = pick.label;
  }
  const preferred = last?.method ?? 'occlusion';
  const items = ATTRIBUTION_METHODS.map((m) => ({ label: METHOD_LABELS[m], description: m === preferred ? (last?.method ? 'last used' : 'default') : undefined, method: m }));
  items.sort((a, b) => Number(b.method === preferred) - Number(a.method === preferred));
  const m = await vscode.window.showQuickPick(items, { title: `Loupe: token importance of ${datasetName}: method`, placeHolder: 'The attribution method run on each sampled row' });
  return m ? { textColumn, method: m.method } : undefined;
}

/** Whether a remembered mapping still applies: every column it names is in the file, and it covers the model's features. */
export function mappingStillFits(mapping: readonly FeatureMapping[], desc: DatasetDescription): boolean {
  const columns = new Set(desc.columns.map((c) => c.name));
  const features = desc.suggestion?.modelFeatures ?? [];
  if (features.length === 0 || mapping.length !== features.length) return false;
  return features.every((f, i) => mapping[i]?.feature === f) && mapping.every((m) => columns.has(m.column));
}

/**
 * The mapping the engine suggested, shown for confirmation: one row per model feature; picking a
 * row changes its column. Returns the confirmed mapping in the model's feature order, or undefined
 * when dismissed.
 */
export async function confirmMapping(datasetName: string, desc: DatasetDescription, exclude: readonly (string | null)[]): Promise<FeatureMapping[] | undefined> {
  const s = desc.suggestion;
  if (!s || s.modelFeatures.length === 0) {
    const why = s?.problems.join(' ') ?? 'the model describes no input features';
    void vscode.window.showErrorMessage(`Loupe: the columns of ${datasetName} cannot be mapped to the model: ${why}`);
    return undefined;
  }
  const mapping = new Map<string, string | undefined>(s.modelFeatures.map((f) => [f, s.mapping.find((m) => m.feature === f)?.column]));
  const columns = desc.columns.map((c) => c.name).filter((c) => !exclude.includes(c));
  type Item = vscode.QuickPickItem & { feature?: string };
  for (;;) {
    const missing = s.modelFeatures.filter((f) => mapping.get(f) === undefined);
    const accept: Item = {
      label: missing.length === 0 ? '$(check) Use this mapping' : `$(warning) ${missing.length} feature${missing.length === 1 ? ' has' : 's have'} no column`,
      description: missing.length === 0 ? `${s.modelFeatures.length} features, mapped by ${s.by}` : 'pick a column for each one below',
      detail: s.problems.length ? s.problems.join(' ') : undefined,
    };
    const rows: Item[] = s.modelFeatures.map((f, i) => {
      const c = mapping.get(f);
      return { label: `${i + 1}. ${f}`, description: c === undefined ? '$(warning) no column' : c === f ? `← ${c}` : `← ${c} (not the same name)`, feature: f };
    });
    const pick = await vscode.window.showQuickPick([accept, { label: 'Model features', kind: vscode.QuickPickItemKind.Separator }, ...rows], {
      title: `Loupe: Feature Importance of ${datasetName}: confirm the columns the model reads`,
      placeHolder: 'Enter on the first row accepts; a feature row changes its column',
      matchOnDescription: true,
    });
    if (!pick) return undefined;
    if (pick === accept) {
      if (missing.length === 0) return s.modelFeatures.map((f) => ({ feature: f, column: mapping.get(f)! }));
      continue;
    }
    const f = pick.feature!;
    const col = await vscode.window.showQuickPick(
      columns.map((c) => ({ label: c, description: c === mapping.get(f) ? 'current' : c === f ? 'same name' : undefined })),
      { title: `Column for the model feature "${f}"`, placeHolder: 'The dataset column that feeds this feature' },
    );
    if (col) mapping.set(f, col.label);
  }
}

const IMPUTATION_ITEMS: readonly { value: Imputation; label: string; detail: string }[] = [
  { value: 'none', label: 'Stop with an error', detail: 'Name the first missing value (row and column), compute nothing' },
  { value: 'mean', label: 'Impute the column mean', detail: 'Each missing value becomes its column’s mean over the rows read' },
  { value: 'median', label: 'Impute the column median', detail: 'Each missing value becomes its column’s median over the rows read' },
  { value: 'zero', label: 'Impute zero', detail: 'Each missing value becomes 0' },
  { value: 'drop-rows', label: 'Drop the rows', detail: 'Rows with a missing value are left out (the result says how many)' },
];

/**
 * How missing values in the columns the model reads are handled: asked only when the file has some
 * (the choice is stated in the result). Undefined when dismissed.
 */
export async function pickImputation(datasetName: string, desc: DatasetDescription, columns: readonly string[], last: Imputation | undefined): Promise<Imputation | undefined> {
  const gaps = desc.columns.filter((c) => columns.includes(c.name) && c.missing > 0);
  if (gaps.length === 0) return 'none';
  const list = gaps
    .slice(0, 4)
    .map((c) => `"${c.name}" (${c.missing})`)
    .join(', ');
  const more = gaps.length > 4 ? ` and ${gaps.length - 4} more columns` : '';
  const items = IMPUTATION_ITEMS.map((i) => ({ ...i, description: i.value === last ? 'last used' : undefined }));
  items.sort((a, b) => Number(b.value === last) - Number(a.value === last));
  const pick = await vscode.window.showQuickPick(items, {
    title: `Loupe: ${datasetName} has missing values in ${list}${more}`,
    placeHolder: desc.rowsExact ? `Among ${desc.scannedRows} rows read: how should they be handled?` : 'How should they be handled?',
  });
  return pick?.value;
}
