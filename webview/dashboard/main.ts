// The dashboard (the Loupe side panel): the current model and what the engine says of it, the
// actions, the attribution methods' settings with the forward passes each implies, the recent runs
// of this workspace and the active dataset. The host sends the whole state on every change; this
// page draws it, keeps keyboard focus where it was, and answers the tests' probe with what it drew.

import { formatByteSize } from '../../src/protocol/byteSize';
import { checkHostToView, type DashboardProbe, type DashboardState, type RunAction } from '../../src/protocol/dashboardViewProtocol';
import type { TensorSpec } from '../../src/protocol/workerProtocol';
import { badge, button, dropdown, progressRing, registerComponents } from '../components/toolkit';
import { createAnnouncer } from '../components/announcer';
import { el } from '../components/el';
import { host } from './host';

registerComponents();
const app = document.getElementById('app')!;
app.classList.add('dashboard');
const announce = createAnnouncer(app);

let state: DashboardState | null = null;
let lastModel = '';

function shape(t: TensorSpec): string {
  return `${t.name} ${t.type}[${t.shape.join(', ')}]`;
}

const KIND_TITLES: Record<DashboardState['recent'][number]['kind'], string> = { attention: 'Attention', explanation: 'Explanation', importance: 'Feature importance' };
const SOURCE_LABEL = { bundled: 'bundled', configured: 'loupe.models', workspace: 'workspace' } as const;

function section(title: string, id: string): HTMLElement {
  const s = el('section', 'dash-section');
  s.setAttribute('aria-labelledby', id);
  const h = el('h2', undefined, title);
  h.id = id;
  s.append(h);
  return s;
}

/** A row of the facts table. */
function fact(table: HTMLElement, name: string, value: string | HTMLElement): void {
  const tr = el('tr');
  const th = el('th', undefined, name);
  th.scope = 'row';
  const td = el('td');
  if (typeof value === 'string') td.textContent = value;
  else td.append(value);
  tr.append(th, td);
  table.append(tr);
}

function actionButton(label: string, action: RunAction, appearance: 'primary' | 'secondary' = 'secondary'): HTMLElement {
  const b = button(label, () => host.postMessage({ type: 'run', action }), appearance);
  b.dataset.focusKey = `action-${action}`;
  return b;
}

function draw(s: DashboardState): void {
  // Keep the keyboard where it was across a redraw.
  const focusKey = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-focus-key]')?.dataset.focusKey;
  app.replaceChildren();

  if (s.restriction) app.append(el('p', 'notice', s.restriction));

  // ---- model
  const model = section('Model', 'dash-model');
  const choices = s.models.map((m) => ({ value: m.path, label: `${m.name} · ${SOURCE_LABEL[m.source]}${m.allowed ? '' : ' (restricted)'}` }));
  if (!s.models.some((m) => m.path === s.current.path)) choices.unshift({ value: s.current.path, label: `${s.current.name} · picked` });
  const picker = dropdown('Current model', choices, s.current.path, (v) => host.postMessage({ type: 'selectModel', path: v }));
  picker.element.dataset.focusKey = 'model';
  picker.element.classList.add('dash-picker');
  const browse = button('Browse…', () => host.postMessage({ type: 'browseModel' }));
  browse.dataset.focusKey = 'browse';
  const row = el('div', 'dash-row');
  row.append(picker.element, browse);
  model.append(row);

  const facts = el('table', 'dash-facts');
  facts.setAttribute('aria-label', `Facts about ${s.current.name}`);
  const c = s.current;
  if (c.loading) {
    const p = el('p', 'busy');
    p.append(progressRing(), el('span', undefined, `Reading ${c.name}…`));
    model.append(p);
  } else if (c.error) {
    model.append(el('p', 'error', c.error));
  } else if (c.info) {
    const i = c.info;
    fact(facts, 'Task', `${i.task} (from ${i.taskSource})`);
    fact(facts, 'Inputs', i.inputs.map(shape).join('; '));
    fact(facts, 'Outputs', i.outputs.map(shape).join('; '));
    if (i.labels) fact(facts, 'Labels', i.labels.join(', '));
    if (i.featureNames) fact(facts, 'Features', `${i.featureNames.length}: ${i.featureNames.slice(0, 8).join(', ')}${i.featureNames.length > 8 ? ', …' : ''}`);
    fact(facts, 'Opset', i.opset === null ? 'unknown' : String(i.opset));
    fact(facts, 'Size', `${formatByteSize(i.sizeBytes)}${i.externalData ? ' + external data' : ''}`);
    const hash = el('code', 'mono', i.sha256);
    hash.title = i.sha256;
    fact(facts, 'SHA-256', hash);
    if (i.maxLength !== null) fact(facts, 'Max tokens', String(i.maxLength));
    const a = c.attention;
    fact(facts, 'Attention', a ? (a.readable ? `readable (${a.layers} layers)` : `not readable: ${a.reason ?? 'unknown'}`) : 'unknown');
    fact(facts, 'File', i.onnxFile);
    model.append(facts);
  }
  const actions = el('div', 'dash-actions');
  actions.append(actionButton('Explain', 'explain', 'primary'), actionButton('Show Attention', 'attention'), actionButton('Compare Methods', 'compare'), actionButton('Export Result', 'export'));
  model.append(actions);
  app.append(model);

  // ---- methods
  const methods = section('Methods', 'dash-methods');
  const b = s.budgets;
  if (!b) methods.append(el('p', 'muted', c.info ? 'Attribution methods apply to text models.' : c.loading ? 'Planning…' : 'Pick a model to plan.'));
  else {
    methods.append(el('p', 'muted', `Forward passes for ${b.basis}${b.tokens !== null ? ` (${b.tokens} tokens)` : ''}:`));
    if (b.error) methods.append(el('p', 'error', b.error));
    const t = el('table', 'dash-budgets');
    t.setAttribute('aria-label', 'Attribution methods, their settings and forward passes');
    const head = el('tr');
    for (const h of ['Method', 'Settings', 'Passes']) {
      const th = el('th', undefined, h);
      th.scope = 'col';
      head.append(th);
    }
    t.append(head);
    for (const m of b.methods) {
      const tr = el('tr');
      const th = el('th', undefined, m.label);
      th.scope = 'row';
      tr.append(th, el('td', 'muted', m.settings), el('td', 'num', m.forwardPasses === null ? '—' : String(m.forwardPasses)));
      tr.dataset.method = m.method;
      t.append(tr);
    }
    methods.append(t);
  }
  const settings = button('Method settings…', () => host.postMessage({ type: 'openSettings', key: 'loupe.explain' }));
  settings.dataset.focusKey = 'settings';
  methods.append(settings);
  app.append(methods);

  // ---- recent runs
  const recent = section('Recent runs', 'dash-recent');
  if (s.recent.length === 0) recent.append(el('p', 'muted', 'No runs yet in this workspace.'));
  else {
    const list = el('ul', 'dash-runs');
    list.setAttribute('aria-label', 'Recent runs: Enter reopens one');
    for (const r of s.recent) {
      const li = el('li');
      const open = el('button', 'dash-run');
      open.type = 'button';
      open.dataset.focusKey = `run-${r.id}`;
      open.append(el('span', 'dash-run-title', `${KIND_TITLES[r.kind]} · ${r.label}`), el('span', 'muted', `${r.model} · ${r.summary} · ${new Date(r.at).toLocaleString()}`));
      open.title = `Reopen the ${r.kind === 'importance' ? 'feature importance' : r.kind} of ${r.label}`;
      open.addEventListener('click', () => host.postMessage({ type: 'openRun', id: r.id }));
      li.append(open);
      list.append(li);
    }
    recent.append(list);
    const clear = button('Clear', () => host.postMessage({ type: 'clearRuns' }));
    clear.dataset.focusKey = 'clear';
    recent.append(clear);
  }
  app.append(recent);

  // ---- dataset
  if (s.dataset) {
    const d = s.dataset;
    const ds = section('Active dataset', 'dash-dataset');
    const head = el('p');
    head.append(el('strong', undefined, d.label), document.createTextNode(' '), badge(d.format.toUpperCase()));
    ds.append(head);
    if (d.error) ds.append(el('p', 'error', d.error));
    else {
      ds.append(el('p', 'dash-dataset-summary', `${d.rowsExact ? '' : '≈ '}${d.rows.toLocaleString()} rows · ${d.columns.length} columns · ${formatByteSize(d.sizeBytes)}`));
      const cols = el('p', 'muted mono', d.columns.join(', '));
      ds.append(cols);
    }
    app.append(ds);
  }

  if (focusKey) app.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
  if (lastModel !== s.current.path && !s.current.loading) {
    announce(`Current model: ${s.current.name}${s.current.error ? `: ${s.current.error}` : ''}`);
    lastModel = s.current.path;
  }
}

function probe(): DashboardProbe {
  const dd = app.querySelector<HTMLElement & { value?: string }>('.dash-picker vscode-dropdown');
  return {
    models: Array.from(app.querySelectorAll('.dash-picker vscode-option')).map((o) => o.textContent ?? ''),
    selected: dd?.value ?? dd?.querySelector('vscode-option[selected]')?.getAttribute('value') ?? '',
    facts: Array.from(app.querySelectorAll('.dash-facts tr')).map((tr) => ({ name: tr.querySelector('th')?.textContent ?? '', value: tr.querySelector('td')?.textContent ?? '' })),
    budgets: Array.from(app.querySelectorAll('.dash-budgets tr[data-method]')).map((tr) => Array.from(tr.children).map((c) => c.textContent ?? '').join(' | ')),
    recent: Array.from(app.querySelectorAll('.dash-run .dash-run-title')).map((e) => e.textContent ?? ''),
    dataset: app.querySelector('.dash-dataset-summary')?.textContent ?? null,
    notices: Array.from(app.querySelectorAll('.notice, .error')).map((e) => e.textContent ?? ''),
  };
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  let m;
  try {
    m = checkHostToView(event.data);
  } catch (e) {
    console.warn(`Loupe: ignored a message from the host: ${(e as Error).message}`);
    return;
  }
  if (m.type === 'state') {
    state = m.state;
    draw(state);
  } else host.postMessage({ type: 'probeResult', id: m.id, probe: probe() });
});

host.postMessage({ type: 'ready' });
