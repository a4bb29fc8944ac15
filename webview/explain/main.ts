// The explanation view: the prompt with each token shaded by its attribution score on a diverging
// scale (negative: the theme's charts red, positive: its charts blue, blended with the editor
// background; the magnitude normalised per method), a method selector, a tooltip with the token's
// score under every method, and a table comparing the methods (forward passes, completeness gap,
// faithfulness against the random floor, rank agreement). For a generation (a causal LM's greedy
// output) it also draws a generated-token × source-token matrix: one row per generated token, one
// column per prompt token and previously generated token, shaded on the same scale (normalised per
// row). Colours are read from the theme at run time and follow theme changes.

import { ATTRIBUTION_METHODS } from '../../src/protocol/workerProtocol';
import { checkHostToView, explainOrigin, METHOD_LABELS, type AttributionMethod, type ExplainOrigin, type ExplainProbe, type ExplainSelection, type HostToView } from '../../src/protocol/explainViewProtocol';
import type { Explanation, ExplainResult } from '../../src/protocol/workerProtocol';
import { badge, button, checkbox, dropdown, registerComponents, type Control } from '../components/toolkit';
import { createAnnouncer } from '../components/announcer';
import { el } from '../components/el';
import { listenForResults } from '../components/resultView';
import { host, type SavedState } from './host';
import { fmt, maxMagnitude, spearman } from './stats';

registerComponents();
const app = document.getElementById('app')!;
const announce = createAnnouncer(app);

// ---- theme colours -----------------------------------------------------------------------------

type RGB = [number, number, number];

function resolveColor(cssValue: string, fallback: RGB): RGB {
  const probe = document.createElement('span');
  probe.style.color = cssValue;
  document.body.append(probe);
  const c = getComputedStyle(probe).color;
  probe.remove();
  const m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/.exec(c);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : fallback;
}

interface Palette {
  background: RGB;
  foreground: RGB;
  negative: RGB;
  positive: RGB;
}

function readPalette(): Palette {
  return {
    background: resolveColor('var(--vscode-editor-background)', [30, 30, 30]),
    foreground: resolveColor('var(--vscode-foreground)', [204, 204, 204]),
    negative: resolveColor('var(--vscode-charts-red, var(--vscode-errorForeground))', [241, 76, 76]),
    positive: resolveColor('var(--vscode-charts-blue, var(--vscode-focusBorder))', [55, 148, 255]),
  };
}

let palette = readPalette();

/** The shade of a normalised score t ∈ [-1, 1]: up to 65% of the sign's colour over the background. */
function shade(t: number): string {
  const k = Math.min(1, Math.abs(t)) * 0.65;
  const c = t < 0 ? palette.negative : palette.positive;
  const b = palette.background;
  const mix = (i: 0 | 1 | 2): number => Math.round(b[i] + (c[i] - b[i]) * k);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

// ---- state ----------------------------------------------------------------------------------------

function savedState(v: unknown): SavedState | null {
  try {
    const s = v as Partial<SavedState> | null;
    if (!s || typeof s !== 'object' || !s.ui) return null;
    const origin = explainOrigin(s.origin, 'origin');
    const method = (ATTRIBUTION_METHODS as readonly unknown[]).includes(s.ui.method) ? s.ui.method : null;
    return { origin, ui: { method, showSpecial: s.ui.showSpecial === true } };
  } catch {
    return null;
  }
}

const saved = savedState(host.getState());
let origin: ExplainOrigin | null = saved?.origin ?? null;
let ui: SavedState['ui'] = saved?.ui ?? { method: null, showSpecial: false };
let view: ExplainView | null = null;

function save(): void {
  if (origin) host.setState({ origin, ui });
}

class ExplainView {
  private readonly textBox = el('div', 'explain-text');
  private readonly tooltip = el('div', 'explain-tooltip');
  private readonly matrixBox = el('div', 'explain-matrix-box');
  private readonly methodControl: Control<string>;
  private readonly specialControl: Control<boolean>;
  readonly notices: string[] = [];
  agreements = 0;
  shaded = 0;
  drawnTokens = 0;
  generationRows = 0;

  constructor(
    readonly result: ExplainResult,
    from: ExplainOrigin,
  ) {
    const r = result;
    app.replaceChildren();
    const first = r.explanations[0];
    if (!ui.method || !r.explanations.some((e) => e.method === ui.method)) ui.method = first?.method ?? null;

    const header = el('header');
    header.append(el('h1', undefined, `Explanation · ${from.model}`), badge(r.model.task));
    const sel = from.range ? ` (selection, characters ${from.range.start}–${from.range.end})` : '';
    const t = first?.target;
    const targetText = t ? `${t.kind}${t.label !== null ? ` “${t.label}”` : t.index !== null ? ` ${t.index}` : ''} · ${t.output} ${fmt(t.value)}${t.baselineValue !== null ? ` (baseline ${fmt(t.baselineValue)})` : ''}` : '';
    app.append(
      header,
      el('p', 'muted', `${from.label}${sel} · ${first?.tokens.length ?? 0} tokens · target ${targetText} · sha256 ${r.model.sha256.slice(0, 12)}… · engine ${r.run.engineVersion}`),
    );

    const trunc = first?.truncation;
    if (trunc) {
      const n = `Truncated: the model reads ${trunc.keptTokens} of ${trunc.originalTokens} tokens (maximum ${trunc.maxLength}); only the first ${trunc.keptChars} characters are explained.`;
      this.notices.push(n);
      app.append(el('p', 'notice', n));
    }
    for (const e of r.explanations) {
      // Which hidden state layer-gradxact attributed (recorded in its parameters).
      const { layer, layerBlock } = e.parameters;
      if (typeof layer === 'string') app.append(el('p', 'muted', `${METHOD_LABELS[e.method]} at ${typeof layerBlock === 'number' ? `block ${layerBlock}'s output, ` : 'the tensor '}${layer}`));
    }
    for (const e of r.explanations) for (const w of e.warnings) {
      const n = `${METHOD_LABELS[e.method]}: ${w}`;
      this.notices.push(n);
      app.append(el('p', 'notice', n));
    }

    const controls = el('div', 'controls');
    this.methodControl = dropdown(
      'Shade by',
      r.explanations.map((e) => ({ value: e.method, label: METHOD_LABELS[e.method] })),
      ui.method ?? '',
      (v) => this.selectMethod(v as AttributionMethod),
    );
    this.specialControl = checkbox('Show special tokens', ui.showSpecial, (c) => {
      ui.showSpecial = c;
      save();
      this.drawText();
    });
    const actions = el('div', 'actions');
    actions.append(
      button('Run again', () => host.postMessage({ type: 'rerun' })),
      button('Export HTML', () => host.postMessage({ type: 'export', format: 'html' })),
      button('Export JSON', () => host.postMessage({ type: 'export', format: 'json' })),
      button('Export CSV', () => host.postMessage({ type: 'export', format: 'csv' })),
    );
    controls.append(this.methodControl.element, this.specialControl.element, actions);

    const legend = el('div', 'explain-legend');
    const neg = el('span', 'legend-swatch');
    neg.style.backgroundColor = shade(-1);
    const pos = el('span', 'legend-swatch');
    pos.style.backgroundColor = shade(1);
    legend.append(neg, el('span', 'muted', 'lowers the target'), pos, el('span', 'muted', 'raises it · shade normalised per method; Enter on a token selects it in the editor'));

    app.append(controls, legend, this.textBox, this.tooltip, this.matrixBox, el('h2', undefined, 'Methods compared'), this.table());
    this.tooltip.setAttribute('role', 'tooltip');
    this.tooltip.id = 'explain-tooltip';
    this.tooltip.hidden = true;
    this.drawText();
  }

  get current(): Explanation | undefined {
    return this.result.explanations.find((e) => e.method === ui.method) ?? this.result.explanations[0];
  }

  selectMethod(m: AttributionMethod): void {
    if (!this.result.explanations.some((e) => e.method === m)) return;
    ui.method = m;
    this.methodControl.set(m);
    save();
    this.drawText();
    host.postMessage({ type: 'method', method: m });
    announce(`Shaded by ${METHOD_LABELS[m]}`);
  }

  setShowSpecial(s: boolean): void {
    ui.showSpecial = s;
    this.specialControl.set(s);
    save();
    this.drawText();
  }

  private hoverText(i: number): string {
    const e = this.current!;
    const tok = e.tokens[i]!;
    const lines = [`${JSON.stringify(tok.token)}${tok.special ? ' (special)' : ''}`];
    for (const x of this.result.explanations) lines.push(`${METHOD_LABELS[x.method]}: ${x.attributed[i] ? fmt(x.scores[i], 4) : 'not attributed'}`);
    return lines.join('\n');
  }

  private showTooltip(span: HTMLElement, i: number): void {
    this.tooltip.textContent = this.hoverText(i);
    this.tooltip.hidden = false;
    const box = span.getBoundingClientRect();
    this.tooltip.style.left = `${Math.max(4, box.left + window.scrollX)}px`;
    this.tooltip.style.top = `${box.bottom + window.scrollY + 4}px`;
  }

  drawText(): void {
    const e = this.current;
    this.textBox.replaceChildren();
    this.shaded = 0;
    this.drawnTokens = 0;
    if (!e) return;
    const max = maxMagnitude(e.scores, e.attributed);
    const text = e.text;
    let at = 0;
    const specials = (where: 'start' | 'end'): void => {
      if (!ui.showSpecial) return;
      e.tokens.forEach((t, i) => {
        if (t.start >= 0) return;
        const before = e.tokens.slice(0, i).every((u) => u.start < 0);
        if ((where === 'start') !== before) return;
        this.textBox.append(this.tokenSpan(e, i, max));
      });
    };
    specials('start');
    e.tokens.forEach((t, i) => {
      if (t.start < 0 || t.end < t.start) return;
      if (t.start > at) this.textBox.append(document.createTextNode(text.slice(at, t.start)));
      if (t.start < at) return; // overlapping tokens (rare): the first one wins
      this.textBox.append(this.tokenSpan(e, i, max));
      at = t.end;
    });
    if (at < text.length) this.textBox.append(document.createTextNode(text.slice(at)));
    specials('end');
    this.drawMatrix();
  }

  /**
   * The generation matrix of the current method: row k is the k-th generated token, its cells the
   * scores of the prompt tokens and the k generated tokens before it (step k of the engine's
   * generation), each row normalised by its own largest |score|.
   */
  private drawMatrix(): void {
    this.matrixBox.replaceChildren();
    this.generationRows = 0;
    const e = this.current;
    const g = e?.generation;
    if (!e || !g || g.steps.length === 0) return;
    // Columns: the longest step's tokens (the prompt plus every generated token but the last).
    const widest = g.steps.reduce((a, b) => (b.tokens.length > a.tokens.length ? b : a));
    const cols = widest.tokens.map((_, j) => j).filter((j) => ui.showSpecial || !widest.tokens[j]!.special);
    const promptCount = g.steps[0]!.tokens.length;
    const label = (t: { token: string }): string => JSON.stringify(t.token).slice(1, -1);

    const legend = el('div', 'explain-legend');
    const neg = el('span', 'legend-swatch');
    neg.style.backgroundColor = shade(-1);
    const pos = el('span', 'legend-swatch');
    pos.style.backgroundColor = shade(1);
    legend.append(neg, el('span', 'muted', 'lowers'), pos, el('span', 'muted', `raises the generated token · shade normalised per row (each generated token's largest |score|) · ${METHOD_LABELS[e.method]}; ↑/↓ move between rows`));

    const table = el('table', 'explain-matrix');
    table.setAttribute('aria-label', `Attribution of each generated token (rows) to the prompt and earlier generated tokens (columns), ${METHOD_LABELS[e.method]}`);
    const head = el('tr');
    const corner = el('th', undefined, 'generated ↓ · source →');
    corner.scope = 'col';
    head.append(corner);
    for (const j of cols) {
      const t = widest.tokens[j]!;
      const th = el('th', `${j >= promptCount ? 'generated' : ''}${t.special ? ' special' : ''}`.trim() || undefined, label(t));
      th.scope = 'col';
      th.title = `${JSON.stringify(t.token)}${j >= promptCount ? ` (generated token ${j - promptCount + 1})` : ' (prompt)'}${t.special ? ' (special)' : ''}`;
      head.append(th);
    }
    const thead = el('thead');
    thead.append(head);
    const body = el('tbody');
    g.steps.forEach((step, k) => {
      const gen = g.tokens[k];
      const genText = gen ? JSON.stringify(gen.token) : `#${k + 1}`;
      const tr = el('tr');
      tr.tabIndex = 0;
      const max = maxMagnitude(step.scores, step.attributed);
      const th = el('th', undefined, gen ? label(gen) : `#${k + 1}`);
      th.scope = 'row';
      tr.append(th);
      let top = -1;
      for (const j of cols) {
        const td = el('td');
        const src = step.tokens[j];
        if (!src) {
          td.className = 'na';
          td.title = `${genText} ← ${JSON.stringify(widest.tokens[j]!.token)}: not yet generated`;
        } else {
          const sc = step.scores[j]!;
          const attributed = step.attributed[j] === true;
          if (attributed && max > 0 && Number.isFinite(sc) && sc !== 0) td.style.backgroundColor = shade(sc / max);
          if (attributed && Number.isFinite(sc) && (top < 0 || Math.abs(sc) > Math.abs(step.scores[top]!))) top = j;
          td.title = `${genText} ← ${JSON.stringify(src.token)}: ${attributed ? fmt(sc, 4) : 'not attributed'}`;
        }
        tr.append(td);
      }
      const topText = top >= 0 ? `; strongest source ${JSON.stringify(step.tokens[top]!.token)} (${fmt(step.scores[top], 4)})` : '';
      tr.setAttribute('aria-label', `Generated token ${k + 1} of ${g.steps.length}: ${genText}, ${step.target.output} ${fmt(step.target.value)}${topText}`);
      tr.title = `${genText}: ${step.target.output} ${fmt(step.target.value, 4)}`;
      tr.addEventListener('keydown', (ev) => {
        const next = (ev.key === 'ArrowDown' ? tr.nextElementSibling : ev.key === 'ArrowUp' ? tr.previousElementSibling : null) as HTMLElement | null;
        if (next) {
          ev.preventDefault();
          next.focus();
        }
      });
      body.append(tr);
      this.generationRows++;
    });
    table.append(thead, body);
    const wrap = el('div', 'table-wrap');
    wrap.append(table);
    this.matrixBox.append(el('h2', undefined, `Generation · ${g.steps.length} tokens`), el('p', 'muted', g.text), legend, wrap);
  }

  private tokenSpan(e: Explanation, i: number, max: number): HTMLElement {
    const t = e.tokens[i]!;
    const span = el('span', `explain-token${t.special ? ' special' : ''}`, t.start >= 0 ? e.text.slice(t.start, t.end) : t.token);
    const s = e.scores[i]!;
    const attributed = e.attributed[i] === true;
    if (attributed && max > 0 && Number.isFinite(s) && s !== 0) {
      span.style.backgroundColor = shade(s / max);
      this.shaded++;
    }
    this.drawnTokens++;
    span.dataset.index = String(i);
    span.tabIndex = 0;
    span.setAttribute('role', 'button');
    span.setAttribute('aria-label', `${t.token}: ${attributed ? `score ${fmt(s, 4)}` : 'not attributed'}`);
    span.setAttribute('aria-describedby', 'explain-tooltip');
    span.addEventListener('mouseenter', () => this.showTooltip(span, i));
    span.addEventListener('focus', () => this.showTooltip(span, i));
    span.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    span.addEventListener('blur', () => (this.tooltip.hidden = true));
    const reveal = (): void => {
      if (t.start >= 0) host.postMessage({ type: 'reveal', start: t.start, end: t.end });
    };
    span.addEventListener('click', reveal);
    span.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        reveal();
      } else if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        const next = (ev.key === 'ArrowRight' ? span.nextElementSibling : span.previousElementSibling) as HTMLElement | null;
        if (next?.classList.contains('explain-token')) {
          ev.preventDefault();
          next.focus();
        }
      } else if (ev.key === 'Escape') this.tooltip.hidden = true;
    });
    return span;
  }

  private table(): HTMLElement {
    const xs = this.result.explanations;
    const table = el('table', 'explain-table');
    const head = el('tr');
    head.append(el('th', undefined, ''));
    for (const x of xs) {
      const th = el('th', undefined, METHOD_LABELS[x.method]);
      th.scope = 'col';
      head.append(th);
    }
    const thead = el('thead');
    thead.append(head);
    const body = el('tbody');
    const row = (label: string, cell: (x: Explanation) => string, title?: string): void => {
      const tr = el('tr');
      const th = el('th', undefined, label);
      th.scope = 'row';
      if (title) th.title = title;
      tr.append(th);
      for (const x of xs) tr.append(el('td', 'num', cell(x)));
      body.append(tr);
    };
    const vsRandom = (a: number | undefined, b: number | undefined): string => (a === undefined ? '—' : `${fmt(a)} (random ${fmt(b)})`);
    row('Forward passes', (x) => `${x.forwardPasses}${x.forwardPasses !== x.plannedForwardPasses ? ` (planned ${x.plannedForwardPasses})` : ''}`);
    row('Completeness gap', (x) => fmt(x.completenessGap), 'f(x) − f(baseline) − Σ scores: 0 for a complete attribution');
    row('Comprehensiveness ↑', (x) => vsRandom(x.faithfulness?.attribution.comprehensivenessMean, x.faithfulness?.random.comprehensivenessMean), 'The drop when the top tokens are removed; the random ranking is the floor');
    row('Sufficiency ↓', (x) => vsRandom(x.faithfulness?.attribution.sufficiencyMean, x.faithfulness?.random.sufficiencyMean), 'The drop when only the top tokens are kept; the random ranking is the floor');
    row('AOPC (deletion) ↑', (x) => vsRandom(x.faithfulness?.attribution.deletion.aopc, x.faithfulness?.random.deletion.aopc), 'Area over the perturbation curve, deleting the most important tokens first');
    row('Fit R²', (x) => (x.fit ? `${fmt(x.fit.r2)}${x.fit.exact ? ' (exact)' : ''}` : '—'));
    this.agreements = 0;
    for (const y of xs) {
      row(`Spearman ρ with ${METHOD_LABELS[y.method]}`, (x) => {
        if (x === y) return '1';
        const idx = x.scores.map((_, i) => i).filter((i) => x.attributed[i] && y.attributed[i]);
        const rho = spearman(
          idx.map((i) => x.scores[i]!),
          idx.map((i) => y.scores[i]!),
        );
        this.agreements++;
        return fmt(rho);
      }, 'Rank agreement over the tokens both methods attribute');
    }
    table.append(thead, body);
    const wrap = el('div', 'table-wrap');
    wrap.append(table);
    return wrap;
  }

  /** The shaded text as a PNG (for the tests' artifact): token boxes in reading order. */
  async png(): Promise<Uint8Array | undefined> {
    const spans = Array.from(this.textBox.querySelectorAll<HTMLElement>('.explain-token'));
    const box = this.textBox.getBoundingClientRect();
    const w = Math.max(1, Math.ceil(box.width));
    const h = Math.max(1, Math.ceil(box.height));
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext('2d');
    if (!g) return undefined;
    const rgb = (c: RGB): string => `rgb(${c.join(',')})`;
    g.fillStyle = rgb(palette.background);
    g.fillRect(0, 0, w, h);
    const font = getComputedStyle(this.textBox).font;
    g.font = font;
    g.textBaseline = 'top';
    for (const s of spans) {
      const r = s.getBoundingClientRect();
      const bg = s.style.backgroundColor;
      if (bg) {
        g.fillStyle = bg;
        g.fillRect(r.left - box.left, r.top - box.top, r.width, r.height);
      }
      g.fillStyle = rgb(palette.foreground);
      g.fillText(s.textContent ?? '', r.left - box.left, r.top - box.top + 2);
    }
    const blob = await new Promise<Blob | null>((res) => canvas.toBlob(res, 'image/png'));
    return blob ? new Uint8Array(await blob.arrayBuffer()) : undefined;
  }
}

// ---- messages -------------------------------------------------------------------------------------

async function answerProbe(m: Extract<HostToView, { type: 'probe' }>): Promise<void> {
  if (m.select && view) {
    if (m.select.method) view.selectMethod(m.select.method);
    if (m.select.showSpecial !== undefined) view.setShowSpecial(m.select.showSpecial);
  }
  const probe: ExplainProbe = {
    status: results.status,
    message: results.message,
    generation: results.generation,
    method: ui.method ?? '',
    showSpecial: ui.showSpecial,
    tokens: view?.drawnTokens ?? 0,
    shaded: view?.shaded ?? 0,
    methods: view?.result.explanations.map((e) => e.method) ?? [],
    agreements: view?.agreements ?? 0,
    notices: view?.notices ?? [],
    generationRows: view?.generationRows ?? 0,
  };
  if (m.png && view) {
    const png = await view.png().catch(() => undefined);
    if (png) probe.png = png;
  }
  host.postMessage({ type: 'probeResult', id: m.id, probe });
}

const results = listenForResults<ExplainOrigin, ExplainResult, ExplainSelection>({
  app,
  announce,
  check: checkHostToView,
  setOrigin: (o) => {
    origin = o;
  },
  save,
  clear: () => {
    view = null;
  },
  draw: (result, o) => {
    view = new ExplainView(result, o);
    return `Explanation drawn: ${result.explanations.length} methods`;
  },
  answerProbe,
  rerun: () => host.postMessage({ type: 'rerun' }),
});

// Theme changes: re-read the colours and redraw.
new MutationObserver(() => {
  palette = readPalette();
  view?.drawText();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

host.postMessage({ type: 'ready' });
