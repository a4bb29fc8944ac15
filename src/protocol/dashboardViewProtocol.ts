// The protocol between the extension host and the dashboard (the Loupe side-panel view). Both sides
// import it; each checks what arrives with the checkers below.
//
// host → view: state (everything the view shows, sent whole on every change), probe (tests)
// view → host: ready, selectModel, browseModel, openRun, clearRuns, openSettings, run, probeResult

import { arr, bool, CheckError, int, literal, nullable, obj, optional, str, type Checked } from './check';
import { importanceOrigin } from './importanceViewProtocol';
import { ATTRIBUTION_METHODS, attentionSupportResult, BASELINES, modelInfo } from './workerProtocol';

export const DASHBOARD_VIEW_ID = 'loupe.dashboard';

const method = literal(...ATTRIBUTION_METHODS);

export const modelChoice = obj({
  name: str,
  path: str,
  source: literal('bundled', 'configured', 'workspace'),
  /** False in a restricted workspace for anything but a bundled model. */
  allowed: bool,
});
export type ModelChoice = Checked<typeof modelChoice>;


export const currentModel = obj({
  name: str,
  path: str,
  /** The engine's description; null while loading or when it failed. */
  info: nullable(modelInfo),
  attention: nullable(attentionSupportResult),
  loading: bool,
  error: nullable(str),
});
export type CurrentModel = Checked<typeof currentModel>;

export const methodBudget = obj({
  method,
  label: str,
  /** Forward passes planned for the budget text; null when unknown (a tabular model, an error). */
  forwardPasses: nullable(int),
  /** The settings that set it ("samples 256 · seed 0"). */
  settings: str,
});
export type MethodBudget = Checked<typeof methodBudget>;

export const methodDefaults = obj({ samples: nullable(int), steps: nullable(int), baseline: nullable(literal(...BASELINES)), seed: nullable(int) });
export type MethodDefaults = Checked<typeof methodDefaults>;

export const budgets = obj({
  /** What the budgets were planned for: the active editor's file, or a sample sentence. */
  basis: str,
  tokens: nullable(int),
  methods: arr(methodBudget),
  defaults: methodDefaults,
  error: nullable(str),
});
export type Budgets = Checked<typeof budgets>;

export const recentRun = obj({
  id: str,
  kind: literal('attention', 'explanation', 'importance'),
  /** The source file (URI) and its short name. */
  source: str,
  label: str,
  model: str,
  modelPath: nullable(str),
  methods: arr(method),
  /** ISO time of the run. */
  at: str,
  /** A one-line outcome ("spam 98.1% · Occlusion, KernelSHAP"). */
  summary: str,
  /** A feature importance run's settings (target, mapping, repeats, seed…): what reopening it runs again. */
  importance: optional(importanceOrigin),
});
export type RecentRun = Checked<typeof recentRun>;

export const datasetSummary = obj({
  file: str,
  label: str,
  format: literal('csv', 'jsonl'),
  /** Rows counted (exact when the file was read to its end), else estimated from the bytes read. */
  rows: int,
  rowsExact: bool,
  columns: arr(str),
  sizeBytes: int,
  error: nullable(str),
});
export type DatasetSummary = Checked<typeof datasetSummary>;

export const dashboardState = obj({
  trusted: bool,
  /** Why only the bundled models run, in a restricted workspace; null when trusted. */
  restriction: nullable(str),
  models: arr(modelChoice),
  current: currentModel,
  budgets: nullable(budgets),
  recent: arr(recentRun),
  dataset: nullable(datasetSummary),
});
export type DashboardState = Checked<typeof dashboardState>;

/** What the view drew: what the tests read. */
export const dashboardProbe = obj({
  /** The model names listed in the picker, in order, and the one selected. */
  models: arr(str),
  selected: str,
  /** The rows of the model's facts table ("Task", "Inputs", …) and their text. */
  facts: arr(obj({ name: str, value: str })),
  budgets: arr(str),
  recent: arr(str),
  dataset: nullable(str),
  notices: arr(str),
});
export type DashboardProbe = Checked<typeof dashboardProbe>;

export const RUN_ACTIONS = ['explain', 'attention', 'compare', 'export', 'selectModel'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

export type HostToView = { type: 'state'; state: DashboardState } | { type: 'probe'; id: number };

export type ViewToHost =
  | { type: 'ready' }
  | { type: 'selectModel'; path: string }
  | { type: 'browseModel' }
  | { type: 'openRun'; id: string }
  | { type: 'clearRuns' }
  | { type: 'openSettings'; key: string }
  | { type: 'run'; action: RunAction }
  | { type: 'probeResult'; id: number; probe: DashboardProbe };

export function checkHostToView(v: unknown): HostToView {
  const { type } = obj({ type: literal('state', 'probe') })(v, 'message');
  const r = v as Record<string, unknown>;
  if (type === 'state') return { type, state: dashboardState(r.state, 'state') };
  return { type, id: int(r.id, 'id') };
}

export function checkViewToHost(v: unknown): ViewToHost {
  const { type } = obj({ type: literal('ready', 'selectModel', 'browseModel', 'openRun', 'clearRuns', 'openSettings', 'run', 'probeResult') })(v, 'message');
  const r = v as Record<string, unknown>;
  switch (type) {
    case 'ready':
    case 'browseModel':
    case 'clearRuns':
      return { type };
    case 'selectModel':
      return { type, path: str(r.path, 'path') };
    case 'openRun':
      return { type, id: str(r.id, 'id') };
    case 'openSettings': {
      const key = str(r.key, 'key');
      if (!/^loupe(\.[\w]+)*$/.test(key)) throw new CheckError('key', 'a Loupe setting');
      return { type, key };
    }
    case 'run':
      return { type, action: literal(...RUN_ACTIONS)(r.action, 'action') };
    case 'probeResult':
      return { type, id: int(r.id, 'id'), probe: dashboardProbe(r.probe, 'probe') };
  }
}
