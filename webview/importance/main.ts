// The feature-importance view: for one dataset, a horizontal bar chart of each feature's permutation
// importance (mean over the repeats, whiskers ± one standard deviation), a sortable table, a summary
// of the dataset as read (rows used, columns, types, missing values) and the run's settings, with
// export to HTML, JSON and CSV (written by the host from the result; the HTML report carries the
// chart as drawn here) and PNG (the chart, drawn here).

import { checkHostToView, importanceOrigin, SORT_KEYS, type HostToView, type ImportanceOrigin, type ImportanceProbe, type ImportanceSelection, type RowMessage, type SortKey } from '../../src/protocol/importanceViewProtocol';
import { rowExplanation, type DatasetColumn, type ImportanceResult, type RowExplanation } from '../../src/protocol/workerProtocol';
import { watchTheme } from '../attention/theme';
import { listenForResults } from '../components/resultView';
import { badge, button, registerComponents } from '../components/toolkit';
import { fmt } from '../explain/stats';
import { chartOrder, ImportanceChart } from './chart';
import { announce, el } from './dom';
import { host, type SavedState } from './host';
import { RowSection } from './rowSection';
import { ImportanceTable, rankRows } from './table';

registerComponents();
const app = document.getElementById('app')!;
app.setAttribute('aria-live', 'off');

const SCORING_LABELS: Record<string, string> = {
  accuracy: 'accuracy',
  balanced_accuracy: 'balanced accuracy',
  roc_auc: 'ROC AUC',
  neg_log_loss: 'negative log loss',
  r2: 'R²',
  neg_mean_squared_error: 'negative MSE',
  neg_mean_absolute_error: 'negative MAE',
};

function definitionText(r: ImportanceResult): { badge: string; axis: string; explain: string } {
  if (r.definition === 'label-free') {
    return {
      badge: 'label-free',
      axis: "Mean squared change of the model's output",
      explain: "Importance = the mean squared change of the model's output when the column is shuffled (no target needed).",
    };
  }
  const scoring = SCORING_LABELS[r.scoring ?? ''] ?? r.scoring ?? 'score';
  return {
    badge: `sklearn · ${scoring}`,
    axis: `Drop in ${scoring}`,
    explain: `Importance = baseline ${scoring} (${fmt(r.baselineScore, 4)}) minus the ${scoring} with the column shuffled, as sklearn's permutation_importance computes it.`,
  };
}

// ---- state ----------------------------------------------------------------------------------------

function savedState(v: unknown): SavedState | null {
  try {
    const s = v as Partial<SavedState> | null;
    if (!s || typeof s !== 'object' || !s.ui) return null;
    const origin = importanceOrigin(s.origin, 'origin');
    const sort = (SORT_KEYS as readonly unknown[]).includes(s.ui.sort) ? s.ui.sort : 'rank';
    let row: RowExplanation | null = null;
    try {
      row = s.row ? rowExplanation(s.row, 'row') : null;
    } catch {
      row = null;
    }
    return { origin, ui: { sort, descending: s.ui.descending === true }, row };
  } catch {
    return null;
  }
}

const saved = savedState(host.getState());
let origin: ImportanceOrigin | null = saved?.origin ?? null;
let ui: SavedState['ui'] = saved?.ui ?? { sort: 'rank', descending: false };
let savedRow: RowExplanation | null = saved?.row ?? null;
let view: ImportanceView | null = null;

function save(): void {
  if (origin) host.setState({ origin, ui, row: savedRow });
}

/** Bars charted at most: tokens of a text dataset, features of a wide table (the table lists them all). */
const TEXT_CHART_TOKENS = 25;
const FEATURE_CHART_BARS = 60;

/** A column's part in the run: fed to the model, the target, the text column, or not used. */
function roleOf(c: DatasetColumn, r: ImportanceResult): string {
  if (r.dataset.mapping.some((m) => m.column === c.name)) return 'feature';
  if (c.name === r.dataset.target) return 'target';
  if (c.name === r.text?.textColumn) return 'text';
  return 'not used';
}

class ImportanceView {
  readonly chart: ImportanceChart;
  readonly table: ImportanceTable;
  readonly notices: string[] = [];
  readonly summaryColumns: number;
  readonly rowSection: RowSection | null = null;

  constructor(
    readonly result: ImportanceResult,
    from: ImportanceOrigin,
  ) {
    const r = result;
    const d = r.dataset;
    const text = r.text;
    const def = definitionText(r);
    app.replaceChildren();

    const header = el('header', 'importance-header');
    header.append(el('h1', undefined, `Feature importance · ${from.model}`), badge(text ? `text · ${text.method}` : def.badge));
    const rows = d.sampled ? `${d.rowsUsed} of ${d.rowsInFile} rows (sampled uniformly, seed ${from.seed})` : `${d.rowsUsed} rows`;
    const what = text ? `${text.rowsExplained} rows explained` : `${r.features.length} features`;
    app.append(header, el('p', 'muted', `${from.label} · ${rows} · ${what} · sha256 ${r.model.sha256.slice(0, 12)}… · engine ${r.run.engineVersion}`));

    if (d.rowsScored < d.rowsUsed) this.notices.push(`Each permutation is scored on ${d.rowsScored} of the ${d.rowsUsed} rows (max samples).`);
    if (d.droppedRows > 0) this.notices.push(`${d.droppedRows} rows with missing values were dropped.`);
    for (const m of d.imputed) this.notices.push(`${m.count} missing values of "${m.column}" were imputed with ${fmt(m.value, 4)} (${d.imputation}).`);
    this.notices.push(...r.warnings);
    for (const n of this.notices) app.append(el('p', 'notice', n));

    const actions = el('div', 'actions');
    actions.setAttribute('role', 'toolbar');
    actions.setAttribute('aria-label', 'Export and rerun');
    actions.append(
      button('Export HTML', () => host.postMessage({ type: 'export', format: 'html' })),
      button('Export JSON', () => host.postMessage({ type: 'export', format: 'json' })),
      button('Export CSV', () => host.postMessage({ type: 'export', format: 'csv' })),
      button('Export PNG', () => void this.exportPng()),
      button('Run again', () => host.postMessage({ type: 'rerun' })),
    );
    const controls = el('div', 'controls');
    controls.append(actions);
    app.append(controls);

    if (text) {
      const bars = text.overall.map((t) => ({
        name: t.token,
        columns: [text.textColumn],
        mean: t.meanAbs,
        std: NaN,
        extra: [fmt(t.meanSigned, 4), `${(100 * t.frequency).toFixed(1)}%`, String(t.count)],
      }));
      this.chart = new ImportanceChart(chartOrder(bars).slice(0, TEXT_CHART_TOKENS), `Mean |${text.method} score|`);
      const shown = Math.min(TEXT_CHART_TOKENS, bars.length);
      app.append(
        el('h2', undefined, 'Token importance'),
        el('p', 'muted', `Mean |score| of each token over ${text.rowsExplained} rows of "${text.textColumn}" (${text.method}, ${text.forwardPasses} forward passes); the ${shown} largest of ${bars.length} tokens.`),
        this.chart.element,
      );
      this.table = new ImportanceTable(
        rankRows(bars),
        { name: 'Token', mean: 'Mean |score|', std: false, extra: [{ label: 'Mean score', title: 'Mean signed score' }, { label: 'Frequency', title: 'Share of the explained rows it occurs in' }, { label: 'Count', title: 'Occurrences' }] },
        ui.sort,
        ui.descending,
        onSort,
      );
      app.append(el('h2', undefined, 'Table'), this.table.element, this.textDetails(text));
    } else {
      const bars = r.features.map((f) => ({ name: f.name, columns: f.columns, mean: f.mean, std: f.std, extra: [f.values.map((x) => fmt(x, 4)).join(' ')] }));
      this.chart = new ImportanceChart(chartOrder(bars).slice(0, FEATURE_CHART_BARS), def.axis);
      const stdNote = r.repeats > 1 ? `Whiskers: ± one standard deviation over ${r.repeats} repeats.` : 'One repeat: no standard deviation.';
      const cut = bars.length > FEATURE_CHART_BARS ? ` The chart shows the ${FEATURE_CHART_BARS} largest of ${bars.length}; the table lists them all.` : '';
      app.append(el('h2', undefined, 'Importance'), el('p', 'muted', `${def.explain} ${stdNote}${cut}`), this.chart.element);
      this.table = new ImportanceTable(rankRows(bars), { name: 'Feature', mean: 'Mean', std: true, extra: [{ label: 'Repeats', title: 'The importance measured in each repeat' }] }, ui.sort, ui.descending, onSort);
      app.append(el('h2', undefined, 'Table'), this.table.element);
      this.rowSection = new RowSection(r, (x) => {
        savedRow = x;
        save();
      });
      app.append(this.rowSection.element);
      if (savedRow && savedRow.model.sha256 === r.model.sha256) this.rowSection.showResult(savedRow);
    }

    const delim = d.delimiter ? ` (delimiter ${JSON.stringify(d.delimiter)})` : '';
    app.append(
      el('h2', undefined, 'Dataset'),
      el('p', 'muted', `${d.path} · ${d.format.toUpperCase()}${delim} · ${d.rowsInFile} rows in the file, ${d.rowsUsed} used · ${d.columns.length} columns · mapped by ${d.mappingBy}`),
    );
    this.summaryColumns = d.columns.length;
    app.append(this.datasetTable());

    app.append(el('h2', undefined, 'Settings'), this.settingsList(from));
  }

  private textDetails(text: NonNullable<ImportanceResult['text']>): HTMLElement {
    const box = el('div');
    for (const c of text.perClass) {
      box.append(el('h3', undefined, `Predicted “${c.label}” · ${c.rows} rows`), el('p', 'mono', c.tokens.slice(0, 12).map((t) => `${t.token} ${fmt(t.meanAbs, 3)}`).join(' · ') || '—'));
    }
    if (text.topRows.length > 0) {
      box.append(el('h3', undefined, 'Most influential rows'));
      const list = el('ol', 'importance-rows');
      for (const t of text.topRows) {
        const li = el('li');
        li.append(el('span', 'muted', `row ${t.row} · ${t.predicted} · influence ${fmt(t.influence, 3)} · `), el('span', undefined, t.text));
        list.append(li);
      }
      box.append(list);
    }
    return box;
  }

  private datasetTable(): HTMLElement {
    const table = el('table', 'importance-summary');
    const head = el('tr');
    for (const h of ['Column', 'Role', 'Type', 'Missing', 'Non-numeric', 'Range']) {
      const th = el('th', h === 'Missing' || h === 'Non-numeric' ? 'num' : undefined, h);
      th.scope = 'col';
      head.append(th);
    }
    const thead = el('thead');
    thead.append(head);
    const body = el('tbody');
    for (const c of this.result.dataset.columns) {
      const role = roleOf(c, this.result);
      const tr = el('tr', role === 'not used' ? 'muted' : undefined);
      const th = el('th', undefined, c.name);
      th.scope = 'row';
      const range = c.min !== null && c.max !== null ? `${fmt(c.min, 4)} … ${fmt(c.max, 4)}` : c.examples.slice(0, 3).join(', ');
      tr.append(th, el('td', undefined, role), el('td', undefined, c.type), el('td', 'num', String(c.missing)), el('td', 'num', String(c.nonNumeric)), el('td', undefined, range));
      body.append(tr);
    }
    table.append(thead, body);
    const wrap = el('div', 'table-wrap');
    wrap.append(table);
    return wrap;
  }

  private settingsList(from: ImportanceOrigin): HTMLElement {
    const r = this.result;
    const dl = el('dl', 'importance-settings');
    const item = (k: string, v: string): void => {
      dl.append(el('dt', undefined, k), el('dd', undefined, v));
    };
    item('Model', `${from.model} (${r.model.task})`);
    item('Model sha256', r.model.sha256);
    if (r.text) item('Method', `${r.text.method} on the text column "${r.text.textColumn}"`);
    else item('Definition', r.definition === 'label-free' ? "label-free (mean squared change of the model's output)" : "sklearn's (baseline score minus permuted score)");
    item('Target column', r.dataset.target ?? '— (none)');
    if (r.definition === 'sklearn' && !r.text) {
      item('Scoring', SCORING_LABELS[r.scoring ?? ''] ?? String(r.scoring));
      item('Baseline score', fmt(r.baselineScore, 6));
    }
    if (!r.text) item('Repeats', String(r.repeats));
    item('Seed', String(r.run.seed ?? from.seed));
    item('Rows scored', `${r.dataset.rowsScored}${from.maxSamples !== null ? ` (max samples ${from.maxSamples})` : ''}`);
    item('Missing values', r.dataset.imputation === 'none' ? 'an error (no imputation)' : r.dataset.imputation);
    item('Forward rows', String(r.forwardRows));
    item('Batch size · threads', `${r.run.batchSize} · ${r.run.threads}`);
    item('Versions', `engine ${r.run.engineVersion} · onnxruntime ${r.run.onnxruntimeVersion} · node ${r.run.nodeVersion}`);
    return dl;
  }

  private async exportPng(): Promise<void> {
    const png = await this.chart.png();
    if (png) host.postMessage({ type: 'exportPng', png });
    else announce('The chart could not be drawn as a PNG.');
  }

  destroy(): void {
    this.chart.destroy();
    this.rowSection?.destroy();
  }
}

function onSort(sort: SortKey, descending: boolean): void {
  ui = { sort, descending };
  save();
  announce(`Sorted by ${sort}, ${descending ? 'descending' : 'ascending'}`);
}

// ---- messages -------------------------------------------------------------------------------------

function clearView(): void {
  view?.destroy();
  view = null;
}

async function answerProbe(m: Extract<HostToView, { type: 'probe' }>): Promise<void> {
  if (m.select && view) {
    const sort: SortKey = m.select.sort ?? view.table.sortKey;
    view.table.setSort(sort, m.select.descending ?? view.table.isDescending);
    if (m.select.row !== undefined) view.rowSection?.request(m.select.row);
  }
  const rs = view?.rowSection ?? null;
  const bars = view?.chart.drawnBars() ?? { labels: [], lengths: [] };
  const probe: ImportanceProbe = {
    status: results.status,
    message: results.message,
    generation: results.generation,
    barOrder: bars.labels,
    barLengths: bars.lengths,
    errorBars: view?.chart.errorBarsDrawn() ?? 0,
    tableOrder: view?.table.names() ?? [],
    sort: view?.table.sortKey ?? ui.sort,
    descending: view?.table.isDescending ?? ui.descending,
    summaryColumns: view?.summaryColumns ?? 0,
    rowStatus: rs?.status ?? 'none',
    row: rs?.row ?? null,
    rowBars: rs?.drawnBars().labels ?? [],
    rowScores: rs?.status === 'drawn' ? rs.scores() : [],
    rowMessage: rs?.message ?? '',
    notices: view?.notices ?? [],
  };
  if (m.png && view) {
    const png = await view.chart.png().catch(() => undefined);
    if (png) probe.png = png;
  }
  host.postMessage({ type: 'probeResult', id: m.id, probe });
}

const results = listenForResults<ImportanceOrigin, ImportanceResult, ImportanceSelection, RowMessage>({
  app,
  announce,
  check: checkHostToView,
  setOrigin: (o) => {
    origin = o;
  },
  save,
  clear: clearView,
  draw: (result, o) => {
    view = new ImportanceView(result, o);
    return `Feature importance drawn: ${result.features.length} features`;
  },
  answerProbe,
  other: (m) => {
    switch (m.type) {
      case 'rowBusy':
        view?.rowSection?.showBusy(m.row, m.message);
        return;
      case 'rowError':
        view?.rowSection?.showError(m.row, m.message);
        return;
      case 'rowResult':
        if (!view?.rowSection || m.result.model.sha256 !== view.result.model.sha256) return;
        view.rowSection.showResult(m.result);
        return;
    }
  },
  rerun: () => host.postMessage({ type: 'rerun' }),
});

// Theme changes: the chart's colours are read again from the theme variables.
watchTheme(() => {
  view?.chart.applyTheme();
  view?.rowSection?.applyTheme();
});

host.postMessage({ type: 'ready' });
