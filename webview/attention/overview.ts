// The overview: every layer × head (and each layer's mean, and the rollout) as a small canvas.
// Clicking one, or Enter/Space on it, focuses it in the heatmap. One tab stop; the arrow keys move
// through the grid. Thumbnails are drawn a few at a time so a large model never blocks the view.

import type { AttentionResult } from '../../src/protocol/workerProtocol';
import { binMap, imageOf, mapKey, mapOf, type ColourScale, type MapChoice } from './matrix';
import { css, type Theme } from './theme';

const THUMB = 56;
/** Milliseconds of drawing per slice before yielding to the page. */
const SLICE_MS = 12;

interface Thumb {
  choice: MapChoice;
  el: HTMLCanvasElement;
  row: number;
  col: number;
}

export class Overview {
  readonly element: HTMLElement;
  private readonly thumbs: Thumb[] = [];
  private queue: Thumb[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private active: Thumb | null = null;
  /** Thumbnails drawn with the current theme. */
  drawn = 0;

  constructor(
    private readonly result: AttentionResult,
    private readonly theme: () => Theme,
    private readonly scale: () => ColourScale,
    private readonly onPick: (choice: MapChoice) => void,
  ) {
    const r = result;
    this.element = document.createElement('div');
    this.element.className = 'overview';
    this.element.setAttribute('role', 'group');
    this.element.setAttribute('aria-label', 'Every layer and head. Arrow keys move; Enter or Space shows one in the heatmap.');
    const cols = r.heads.length + 1;
    this.element.style.gridTemplateColumns = `auto repeat(${cols}, ${THUMB + 6}px)`;

    const head = (text: string): HTMLElement => {
      const h = document.createElement('div');
      h.className = 'ov-head';
      h.textContent = text;
      return h;
    };
    this.element.append(head(''), ...r.heads.map((h) => head(`Head ${h}`)), head('Mean'));
    r.layers.forEach((layer, li) => {
      this.element.append(head(`Layer ${layer}`));
      r.heads.forEach((h, hi) => this.element.append(this.thumb({ mode: 'head', layerPos: li, headPos: hi }, `Layer ${layer}, head ${h}`, li, hi)));
      this.element.append(this.thumb({ mode: 'mean', layerPos: li, headPos: 0 }, `Layer ${layer}, mean over ${r.heads.length} heads`, li, r.heads.length));
    });
    this.element.append(head('Rollout'), this.thumb({ mode: 'rollout', layerPos: 0, headPos: 0 }, `Rollout through ${r.numLayers} layers`, r.layers.length, 0));
    this.active = this.thumbs[0] ?? null;
    if (this.active) this.active.el.tabIndex = 0;
    this.element.addEventListener('keydown', (e) => this.key(e));
  }

  private thumb(choice: MapChoice, label: string, row: number, col: number): HTMLCanvasElement {
    const el = document.createElement('canvas');
    el.className = 'thumb';
    el.tabIndex = -1;
    el.setAttribute('role', 'button');
    el.setAttribute('aria-label', label);
    el.setAttribute('aria-pressed', 'false');
    el.title = label;
    const dpr = window.devicePixelRatio || 1;
    el.width = Math.round(THUMB * dpr);
    el.height = Math.round(THUMB * dpr);
    el.style.width = `${THUMB}px`;
    el.style.height = `${THUMB}px`;
    const t: Thumb = { choice, el, row, col };
    el.addEventListener('click', () => this.pick(t));
    this.thumbs.push(t);
    return el;
  }

  /** Marks the thumbnail of what the heatmap shows. */
  setSelected(choice: MapChoice): void {
    const key = mapKey(choice);
    for (const t of this.thumbs) {
      const on = mapKey(t.choice) === key;
      t.el.classList.toggle('selected', on);
      t.el.setAttribute('aria-pressed', String(on));
      if (on && this.active !== t && !this.element.contains(document.activeElement)) this.setActive(t);
    }
  }

  /** (Re)draws every thumbnail, a slice at a time. */
  redraw(): void {
    this.drawn = 0;
    this.queue = [...this.thumbs];
    if (this.timer === null) this.timer = setTimeout(() => this.step(), 0);
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }

  private step(): void {
    this.timer = null;
    const theme = this.theme();
    const m = this.result.shown.length;
    const binSize = Math.max(1, Math.ceil(m / THUMB));
    const until = performance.now() + SLICE_MS;
    while (this.queue.length > 0 && performance.now() < until) {
      const t = this.queue.shift()!;
      const ctx = t.el.getContext('2d');
      if (!ctx) continue;
      const image = imageOf(binMap(mapOf(this.result, t.choice), m, binSize), theme.lut, this.scale());
      ctx.fillStyle = css(theme.background);
      ctx.fillRect(0, 0, t.el.width, t.el.height);
      ctx.imageSmoothingEnabled = binSize === 1 && m < THUMB / 2 ? false : true;
      ctx.drawImage(image, 0, 0, t.el.width, t.el.height);
      this.drawn++;
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.step(), 0);
  }

  private setActive(t: Thumb): void {
    if (this.active) this.active.el.tabIndex = -1;
    this.active = t;
    t.el.tabIndex = 0;
  }

  private pick(t: Thumb): void {
    this.setActive(t);
    this.onPick(t.choice);
  }

  private key(e: KeyboardEvent): void {
    const a = this.active;
    if (!a) return;
    const at = (row: number, col: number): Thumb | undefined => this.thumbs.find((t) => t.row === row && t.col === col);
    let next: Thumb | undefined;
    switch (e.key) {
      case 'ArrowRight':
        next = at(a.row, a.col + 1);
        break;
      case 'ArrowLeft':
        next = at(a.row, a.col - 1);
        break;
      case 'ArrowDown':
        next = at(a.row + 1, a.col) ?? at(a.row + 1, 0);
        break;
      case 'ArrowUp':
        next = at(a.row - 1, a.col);
        break;
      case 'Home':
        next = this.thumbs[0];
        break;
      case 'End':
        next = this.thumbs[this.thumbs.length - 1];
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.pick(a);
        return;
      default:
        return;
    }
    e.preventDefault();
    if (next) {
      this.setActive(next);
      next.el.focus();
    }
  }
}
