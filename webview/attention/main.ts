// The attention view: a query × key heatmap of one head, the mean over a layer's heads, or rollout;
// an overview of every layer × head; and the prompt, where picking a token shades what it attends
// to. Colours come from the theme at run time and follow theme changes. The host sends the maps as
// Float32Arrays; this page never asks for more than one result at a time. The attention-gradient
// relevance costs a backward pass (and, the first time, a gradient copy of the model): it is asked
// for only when a relevance mode is picked, and kept for the result shown.

import {
  ATTENTION_MODES,
  checkHostToView,
  checkRelevanceShape,
  RELEVANCE_MODES,
  viewOrigin,
  type AttentionMode,
  type HostToView,
  type RelevanceState,
  type RelevanceUpdate,
  type ViewOrigin,
  type ViewProbe,
  type ViewSelection,
} from '../../src/protocol/attentionViewProtocol';
import type { AttentionResult } from '../../src/protocol/workerProtocol';
import { badge, button, checkbox, divider, dropdown, progressRing, radioGroup, registerComponents, type Control } from '../components/toolkit';
import { createAnnouncer } from '../components/announcer';
import { Heatmap } from './heatmap';
import { host, type SavedState } from './host';
import { mapKey, mapOf, type ColourScale, type MapChoice, type Plan } from './matrix';
import { Overview } from './overview';
import { PromptText, tokenLabel } from './promptText';
import { readTheme, watchTheme, type Theme } from './theme';

registerComponents();
const app = document.getElementById('app')!;
const announce = createAnnouncer(app);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

interface Ui {
  mode: AttentionMode;
  /** The model's layer and head indices. */
  layer: number;
  head: number;
  /** The query token (index in result.tokens) shaded in the text. */
  query: number | null;
  scale: ColourScale;
}

const SCALES: readonly ColourScale[] = ['sqrt', 'linear', 'row'];

function savedState(v: unknown): SavedState | null {
  try {
    const s = v as Partial<SavedState> | null;
    if (!s || typeof s !== 'object' || !s.ui) return null;
    const origin = viewOrigin(s.origin, 'origin');
    const u = s.ui;
    if (!ATTENTION_MODES.includes(u.mode) || !Number.isInteger(u.layer) || !Number.isInteger(u.head)) return null;
    const scale = SCALES.includes(u.scale) ? u.scale : 'sqrt';
    return { origin, ui: { mode: u.mode, layer: u.layer, head: u.head, query: Number.isInteger(u.query) ? u.query : null, scale } };
  } catch {
    return null;
  }
}

let theme: Theme = readTheme();
let status: ViewProbe['status'] = 'empty';
let statusMessage = '';
let generation = 0;
const saved = savedState(host.getState());
let origin: ViewOrigin | null = saved?.origin ?? null;
let ui: Ui = saved?.ui ?? { mode: 'head', layer: 0, head: 0, query: null, scale: 'sqrt' };
let view: AttentionView | null = null;
/** Tokens in the maps of the result shown. */
let tokensShown = 0;
/** Where the relevance of the result shown stands, and what to say while it is not drawn. */
let relevance: { state: RelevanceState; message: string } = { state: 'none', message: '' };

function save(): void {
  if (origin) host.setState({ origin, ui });
}

const pct = (a: number, b: number): string => `${((100 * a) / b).toFixed(0)}%`;

class AttentionView {
  readonly heatmap: Heatmap;
  readonly overview: Overview;
  readonly prompt: PromptText;
  private readonly m: number;
  private readonly modeControl: Control<string>;
  private readonly layerControl: Control<string>;
  private readonly headControl: Control<string>;
  private readonly scaleControl: Control<string>;
  private readonly binsNote = el('p', 'notice');
  private readonly modeNote = el('p', 'muted');
  private readonly querySummary = el('p', 'query-summary');
  /** In place of the heatmap while a relevance mode waits for its relevance: progress and Cancel, or the error. */
  private readonly relevanceBox = el('div', 'relevance-status');
  private readonly resize: ResizeObserver;
  private resizePending = false;

  constructor(
    private readonly result: AttentionResult,
    private readonly from: ViewOrigin,
  ) {
    const r = result;
    this.m = r.shown.length;
    this.normalize();
    app.replaceChildren();

    const header = el('header');
    header.append(el('h1', undefined, `Attention · ${from.model}`), badge(r.model.task));
    const sel = from.range ? ` (selection, characters ${from.range.start}–${from.range.end})` : '';
    const meta = el(
      'p',
      'muted',
      `${from.label}${sel} · ${r.tokens.length} tokens · ${r.numLayers} layers × ${r.numHeads} heads · sha256 ${r.model.sha256.slice(0, 12)}… · onnxruntime ${r.run.onnxruntimeVersion} · engine ${r.run.engineVersion}`,
    );
    app.append(header, meta);

    if (r.truncation) {
      const t = r.truncation;
      const note = el(
        'p',
        'notice',
        `The text was truncated: the model saw ${t.keptTokens} of ${t.originalTokens} tokens (its maximum is ${t.maxLength}), the first ${t.keptChars} of ${r.text.length} characters (${pct(t.keptChars, r.text.length)}). The rest is greyed out below.`,
      );
      note.setAttribute('role', 'status');
      app.append(note);
    }
    const specials = r.tokens.filter((t) => t.special);
    if (r.hideSpecial) {
      const names = [...new Set(specials.map((t) => t.token))].join(', ');
      const note = el(
        'p',
        'notice',
        `Special tokens hidden: ${specials.length} (${names || 'none'}) left out of the maps, and every row renormalised over the remaining ${this.m} tokens.`,
      );
      note.setAttribute('role', 'status');
      app.append(note);
    }

    if (r.relevance?.unavailable) {
      const note = el('p', 'notice', `Relevance (attention × gradient) is not available: ${r.relevance.unavailable}`);
      note.setAttribute('role', 'status');
      app.append(note);
    }

    // Controls.
    const controls = el('div', 'controls');
    // Offered until the engine says the graph cannot give it; computed when first picked.
    const relevanceModes = !r.relevance?.unavailable
      ? [
          { value: 'relevance', label: 'Relevance (attention × gradient)' },
          { value: 'layer-relevance', label: 'Layer relevance (Ā)' },
        ]
      : [];
    this.modeControl = radioGroup(
      'Show',
      [
        { value: 'head', label: 'Single head' },
        { value: 'mean', label: 'Mean over heads' },
        { value: 'rollout', label: 'Rollout (all layers)' },
        ...relevanceModes,
      ],
      ui.mode,
      (v) => this.select({ mode: v as AttentionMode }),
    );
    this.layerControl = dropdown(
      'Layer',
      r.layers.map((l) => ({ value: String(l), label: `Layer ${l}` })),
      String(ui.layer),
      (v) => this.select({ layer: Number(v) }),
    );
    this.headControl = dropdown(
      'Head',
      r.heads.map((h) => ({ value: String(h), label: `Head ${h}` })),
      String(ui.head),
      (v) => this.select({ head: Number(v) }),
    );
    this.scaleControl = dropdown(
      'Colour scale',
      [
        { value: 'sqrt', label: 'Square root' },
        { value: 'linear', label: 'Linear' },
        { value: 'row', label: 'Each row to its maximum' },
      ],
      ui.scale,
      (v) => {
        ui.scale = SCALES.includes(v as ColourScale) ? (v as ColourScale) : 'sqrt';
        this.overview.redraw();
        this.update();
      },
    );
    const hide = checkbox(specials.length ? `Hide special tokens (${specials.length}) and renormalise` : 'Hide special tokens (there are none)', r.hideSpecial, (v) => {
      host.postMessage({ type: 'rerun', hideSpecial: v });
    });
    if (!specials.length && !r.hideSpecial) hide.setDisabled(true);
    const actions = el('div', 'actions');
    actions.append(
      button('Export PNG', () => this.exportPng()),
      button('Export JSON', () => host.postMessage({ type: 'exportJson' })),
      button('Export CSV', () => host.postMessage({ type: 'export', format: 'csv' })),
      button('Export HTML', () => host.postMessage({ type: 'export', format: 'html' })),
      button('Run again', () => host.postMessage({ type: 'rerun', hideSpecial: r.hideSpecial })),
    );
    controls.append(this.modeControl.element, this.layerControl.element, this.headControl.element, this.scaleControl.element, hide.element, actions);
    app.append(controls);

    // Heatmap and prompt, side by side when there is room.
    const body = el('div', 'attn-body');
    const heatSection = el('section', 'heat-section');
    heatSection.setAttribute('aria-label', 'Heatmap');
    heatSection.append(el('h2', undefined, 'Queries (rows) × keys (columns)'), this.modeNote, this.binsNote);
    this.binsNote.hidden = true;
    this.binsNote.setAttribute('role', 'status');
    this.heatmap = new Heatmap({
      theme: () => theme,
      scale: () => ui.scale,
      announce,
      onPickQuery: (t) => this.select({ query: t }),
      onPlan: (plan, m) => this.showPlan(plan, m),
    });
    this.relevanceBox.hidden = true;
    heatSection.append(this.heatmap.element, this.relevanceBox);

    const textSection = el('section', 'text-section');
    textSection.setAttribute('aria-label', 'What a token attends to');
    this.prompt = new PromptText(r, (t) => this.select({ query: t === ui.query ? null : t }));
    textSection.append(
      el('h2', undefined, 'What does a token attend to?'),
      el('p', 'muted', 'Pick a token in the text (click, or Enter/Space; arrow keys move): the tokens it attends to are shaded by their weight in the map shown.'),
      this.prompt.element,
      this.querySummary,
    );
    body.append(heatSection, textSection);
    app.append(body, divider());

    const ovSection = el('section', 'overview-section');
    ovSection.setAttribute('aria-label', 'Overview');
    ovSection.append(el('h2', undefined, 'All layers and heads'));
    this.overview = new Overview(r, () => theme, () => ui.scale, (c) => this.select(this.uiOf(c)));
    ovSection.append(this.overview.element);
    app.append(ovSection);

    this.resize = new ResizeObserver(() => {
      if (this.resizePending) return;
      this.resizePending = true;
      requestAnimationFrame(() => {
        this.resizePending = false;
        this.heatmap.draw();
      });
    });
    this.resize.observe(heatSection);
    this.update();
    this.overview.redraw();
  }

  dispose(): void {
    this.resize.disconnect();
    this.overview.dispose();
  }

  private hasRelevance(): boolean {
    return !!this.result.relevance && this.result.relevance.unavailable === null;
  }

  /** Whether a relevance mode is picked but its relevance is not here (being computed, failed or cancelled). */
  get pending(): boolean {
    return RELEVANCE_MODES.includes(ui.mode) && !this.hasRelevance();
  }

  /** The relevance of this result arrived: draw it, or (unavailable) say why in a view without its modes. */
  setRelevance(rel: NonNullable<AttentionResult['relevance']>): void {
    try {
      this.result.relevance = checkRelevanceShape(rel, this.result);
    } catch (e) {
      this.relevanceStatus({ type: 'relevance', generation, status: 'error', message: `Loupe received a relevance that does not fit the attention shown: ${(e as Error).message}` });
      return;
    }
    relevance = { state: rel.unavailable === null ? 'ready' : 'unavailable', message: '' };
    if (rel.unavailable !== null) {
      // The view is rebuilt without the relevance modes, and with the reason in its notices.
      announce(`Relevance (attention × gradient) is not available: ${rel.unavailable}`);
      this.dispose();
      view = new AttentionView(this.result, this.from);
      return;
    }
    announce(`Relevance of «${rel.target?.label ?? ''}» computed.`);
    this.update();
  }

  /** Keeps the ui state within this result (layers, heads, shown tokens and relevance it can have). */
  private normalize(): void {
    const r = this.result;
    if (RELEVANCE_MODES.includes(ui.mode) && r.relevance?.unavailable) ui.mode = 'head';
    if (!r.layers.includes(ui.layer)) ui.layer = r.layers[0]!;
    if (!r.heads.includes(ui.head)) ui.head = r.heads[0]!;
    if (ui.query !== null && !r.shown.includes(ui.query)) ui.query = null;
  }

  choice(): MapChoice {
    return { mode: ui.mode, layerPos: Math.max(0, this.result.layers.indexOf(ui.layer)), headPos: Math.max(0, this.result.heads.indexOf(ui.head)) };
  }

  private uiOf(c: MapChoice): ViewSelection {
    return { mode: c.mode, layer: this.result.layers[c.layerPos], head: this.result.heads[c.headPos] };
  }

  private caption(): string {
    const r = this.result;
    if (ui.mode === 'rollout') return `Rollout through ${r.numLayers} layers`;
    if (ui.mode === 'relevance') return `Relevance of «${r.relevance!.target!.label}» through ${r.numLayers} layers`;
    if (ui.mode === 'layer-relevance') return `Layer ${ui.layer} · gradient-weighted attention for «${r.relevance!.target!.label}»`;
    if (ui.mode === 'mean') return `Layer ${ui.layer} · mean over ${r.heads.length} heads`;
    return `Layer ${ui.layer} · head ${ui.head}`;
  }

  /** Applies a change of what is shown (from the controls, the overview, the text or the test hook). */
  select(s: ViewSelection): void {
    // Picking a relevance mode again after a cancel or an error asks again.
    const toRelevance = s.mode !== undefined && RELEVANCE_MODES.includes(s.mode) && !RELEVANCE_MODES.includes(ui.mode);
    if (toRelevance && (relevance.state === 'cancelled' || relevance.state === 'error')) relevance = { state: 'none', message: '' };
    if (s.mode !== undefined) ui.mode = s.mode;
    if (s.layer !== undefined) ui.layer = s.layer;
    if (s.head !== undefined) {
      ui.head = s.head;
      // Choosing a head means looking at one head.
      if (s.mode === undefined && ui.mode !== 'head') ui.mode = 'head';
    }
    if (s.query !== undefined) ui.query = s.query;
    this.normalize();
    this.update();
  }

  update(): void {
    const r = this.result;
    const c = this.choice();
    this.modeControl.set(ui.mode);
    this.layerControl.set(String(ui.layer));
    this.headControl.set(String(ui.head));
    this.layerControl.setDisabled(ui.mode === 'rollout' || ui.mode === 'relevance');
    this.headControl.setDisabled(ui.mode !== 'head');
    if (this.pending) {
      this.showPending(c);
      return;
    }
    // Keyboard focus on the box's Cancel moves to the map that replaces it.
    const focusMap = !this.relevanceBox.hidden && this.relevanceBox.contains(document.activeElement);
    this.relevanceBox.hidden = true;
    this.heatmap.element.hidden = false;
    if (focusMap) this.heatmap.element.querySelector('canvas')?.focus();
    const map = mapOf(r, c);
    const target = r.relevance?.target;
    const explained = target ? `${target.kind === 'class' ? 'class' : 'next token'} «${target.label}» (logit ${target.value.toFixed(3)})` : '';
    // Relevance is computed over every token; hiding special tokens drops their rows and columns without renormalising.
    const cut = r.hideSpecial && RELEVANCE_MODES.includes(ui.mode) ? ' Special tokens: their rows and columns are left out, the rest not renormalised.' : '';
    this.modeNote.textContent =
      ui.mode === 'relevance'
        ? `Relevance (Chefer et al., 2021) of the ${explained}: R = I, then R += Ā·R through all ${r.numLayers} layers, with Ā the mean over heads of (∂logit/∂A ⊙ A)⁺ from exact gradients. Shown: R − I (each token's relevance to itself left out); the attention-gradient token attribution is the row of the token the target is read from.`
        : ui.mode === 'layer-relevance'
          ? `Layer ${ui.layer}'s gradient-weighted attention Ā for the ${explained}: the mean over heads of (∂logit/∂A ⊙ A)⁺.` +
            (map.some((v) => v > 0) ? '' : ' Every entry is 0 here: no ∂logit/∂A ⊙ A of this layer is positive, so the layer adds nothing to R.')
          : ui.mode === 'rollout'
        ? `Attention rollout (Abnar & Zuidema, 2020): each layer's mean over heads, with the residual connection added, multiplied through all ${r.numLayers} layers.`
        : ui.mode === 'mean'
          ? `The mean over the ${r.heads.length} heads of layer ${ui.layer}.`
          : `Head ${ui.head} of layer ${ui.layer}. Hover a cell for its tokens and weight; click a row to pick its query token.`;
    this.modeNote.textContent += cut;
    this.heatmap.setInput({
      key: `${generation}:${mapKey(c)}`,
      map,
      m: this.m,
      labels: r.shown.map((t) => tokenLabel(r, t)),
      names: r.shown.map((t) => tokenLabel(r, t, 40)),
      tokenIndex: r.shown,
      caption: `${this.caption()} — ${this.from.model}`,
    });
    const pos = ui.query === null ? null : r.shown.indexOf(ui.query);
    this.heatmap.setQuery(pos);
    this.overview.setSelected(c);
    this.shade(map, pos);
    save();
  }

  /** A relevance mode without its relevance: ask the host for it (once), and show where it stands. */
  private showPending(c: MapChoice): void {
    if (relevance.state === 'none') {
      relevance = { state: 'busy', message: 'Computing the attention-gradient relevance…' };
      host.postMessage({ type: 'relevance', generation });
      announce('Computing the attention-gradient relevance. Cancel stops it.');
    }
    this.heatmap.element.hidden = true;
    this.binsNote.hidden = true;
    this.relevanceBox.hidden = false;
    this.modeNote.textContent = `Relevance (Chefer et al., 2021) needs the gradient of the explained logit with respect to every layer's attention: one forward and backward pass of ${this.from.model}, computed now that the mode is picked.`;
    const again = (label: string): HTMLElement =>
      button(label, () => {
        relevance = { state: 'none', message: '' };
        this.update();
      });
    const { state, message } = relevance;
    const hadFocus = this.relevanceBox.contains(document.activeElement);
    if (state === 'busy') {
      this.relevanceBox.replaceChildren(progressRing(), el('p', 'muted', message), button('Cancel', () => host.postMessage({ type: 'cancelRelevance' })));
    } else {
      const p = el('p', state === 'error' ? 'error' : 'muted', message);
      if (state === 'error') p.setAttribute('role', 'alert');
      this.relevanceBox.replaceChildren(p, again(state === 'error' ? 'Try again' : 'Compute relevance'));
    }
    // Keyboard focus stays in the box when its button is replaced (Cancel → Compute relevance and back).
    if (hadFocus) this.relevanceBox.querySelector<HTMLElement>('vscode-button')?.focus();
    this.prompt.shade(null, null, theme, ui.scale);
    this.querySummary.replaceChildren();
    this.overview.setSelected(c);
    save();
  }

  /** Progress, an error or a cancel of the relevance being computed for this result. */
  relevanceStatus(update: Extract<RelevanceUpdate, { message: string }>): void {
    relevance = { state: update.status, message: update.message };
    if (update.status !== 'busy') announce(update.message);
    if (this.pending) this.update();
  }

  private shade(map: Float32Array, pos: number | null): void {
    const r = this.result;
    const m = this.m;
    const row = pos === null || pos < 0 ? null : map.subarray(pos * m, (pos + 1) * m);
    this.prompt.shade(ui.query, row, theme, ui.scale);
    this.querySummary.replaceChildren();
    if (!row || ui.query === null) return;
    const top = Array.from(row, (w, p) => ({ w, p }))
      .sort((a, b) => b.w - a.w)
      .slice(0, 5);
    const q = r.tokens[ui.query]!;
    this.querySummary.append(
      el('b', undefined, `«${tokenLabel(r, ui.query, 40)}» ${RELEVANCE_MODES.includes(ui.mode) ? 'draws most relevance from' : 'attends most to'}: `),
      top.map((x) => `«${tokenLabel(r, r.shown[x.p]!, 40)}» ${x.w.toFixed(3)}`).join(', '),
      ' ',
    );
    if (q.start >= 0) this.querySummary.append(button('Reveal in editor', () => host.postMessage({ type: 'reveal', start: q.start, end: q.end })));
    this.querySummary.append(button('Clear', () => this.select({ query: null })));
    announce(`Query «${tokenLabel(r, ui.query, 40)}»: attends most to ${top.slice(0, 3).map((x) => `«${tokenLabel(r, r.shown[x.p]!, 40)}» ${x.w.toFixed(2)}`).join(', ')}.`);
  }

  private showPlan(plan: Plan, m: number): void {
    this.binsNote.hidden = plan.binSize === 1;
    if (plan.binSize > 1) {
      this.binsNote.textContent = `${m} tokens do not fit at one cell each: the map is summarised in ${plan.bins} × ${plan.bins} bins of ${plan.binSize} adjacent tokens (a bin's weight is its keys' weights summed and its queries' averaged). Widen the panel to see more detail.`;
    }
  }

  /** A theme change: every cached image is stale. */
  retheme(): void {
    this.heatmap.clearCache();
    this.heatmap.draw();
    this.overview.redraw();
    this.update();
  }

  fileNamePart(): string {
    if (ui.mode === 'relevance') return 'relevance';
    if (ui.mode === 'layer-relevance') return `layer${ui.layer}-relevance`;
    return ui.mode === 'rollout' ? 'rollout' : ui.mode === 'mean' ? `layer${ui.layer}-mean` : `layer${ui.layer}-head${ui.head}`;
  }

  private exportPng(): void {
    if (this.pending) {
      announce('There is no relevance map to export yet.');
      return;
    }
    this.heatmap.png().then(
      (png) => host.postMessage({ type: 'exportPng', png, name: this.fileNamePart() }),
      (e: unknown) => announce(`The PNG could not be made: ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}

function showBusy(message: string): void {
  view?.dispose();
  view = null;
  app.replaceChildren(progressRing(), el('p', 'muted', message));
}

function showError(message: string, canRerun: boolean): void {
  view?.dispose();
  view = null;
  const p = el('p', 'error', message);
  p.setAttribute('role', 'alert');
  app.replaceChildren(el('h1', undefined, 'Attention'), p);
  if (canRerun && origin) {
    const hideSpecial = origin.hideSpecial;
    app.append(button('Run again', () => host.postMessage({ type: 'rerun', hideSpecial })));
  }
}

async function answerProbe(id: number, select: ViewSelection | undefined, png: boolean): Promise<void> {
  if (select && view) view.select(select);
  // While a relevance mode waits, the (hidden) canvas still holds the previous map: report nothing drawn.
  const d = view && !view.pending ? view.heatmap.digest() : undefined;
  const plan = view?.heatmap.layout;
  const probe: ViewProbe = {
    status,
    message: statusMessage,
    generation: view ? generation : 0,
    mode: ui.mode,
    layer: ui.layer,
    head: ui.head,
    query: ui.query,
    hideSpecial: origin?.hideSpecial ?? false,
    tokens: view ? tokensShown : 0,
    bins: plan?.bins ?? 0,
    binSize: plan?.binSize ?? 1,
    width: d?.width ?? 0,
    height: d?.height ?? 0,
    nonBlank: d?.nonBlank ?? 0,
    hash: d?.hash ?? '',
    relevance: relevance.state,
    thumbnails: view?.overview.drawn ?? 0,
    shaded: view?.prompt.shaded ?? 0,
    notices: Array.from(app.querySelectorAll<HTMLElement>('.notice'))
      .filter((n) => !n.hidden)
      .map((n) => n.textContent ?? ''),
  };
  // No PNG of a map that is not drawn yet (a relevance mode waiting for its relevance).
  if (png && view && !view.pending) probe.png = await view.heatmap.png();
  host.postMessage({ type: 'probeResult', id, probe });
}

function onMessage(message: HostToView): void {
  switch (message.type) {
    case 'busy':
      origin = message.origin;
      status = 'busy';
      statusMessage = message.message;
      save();
      showBusy(message.message);
      return;
    case 'error':
      origin = message.origin;
      status = 'error';
      statusMessage = message.message;
      save();
      showError(message.message, true);
      return;
    case 'result':
      origin = message.origin;
      generation = message.generation;
      view?.dispose();
      tokensShown = message.result.shown.length;
      relevance = { state: message.result.relevance ? (message.result.relevance.unavailable === null ? 'ready' : 'unavailable') : 'none', message: '' };
      view = new AttentionView(message.result, message.origin);
      status = 'drawn';
      statusMessage = '';
      return;
    case 'relevance':
      // A late answer about an earlier result is dropped.
      if (!view || message.generation !== generation) return;
      if (message.status === 'done') view.setRelevance(message.relevance);
      else view.relevanceStatus(message);
      return;
    case 'probe':
      answerProbe(message.id, message.select, message.png).catch((e: unknown) => announce(`Loupe: ${e instanceof Error ? e.message : String(e)}`));
      return;
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  let message: HostToView;
  try {
    message = checkHostToView(event.data);
  } catch (e) {
    status = 'error';
    statusMessage = `Loupe received a message it does not understand: ${(e as Error).message}`;
    showError(statusMessage, true);
    return;
  }
  onMessage(message);
});

watchTheme(() => {
  theme = readTheme();
  view?.retheme();
});

host.postMessage({ type: 'ready' });
