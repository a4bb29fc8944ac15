// The query × key heatmap: one <canvas>, no element per cell. Each map is turned into a bins × bins
// image once (cached per map, binning and theme) and drawn scaled without smoothing, so switching
// layers and heads at 512 tokens is a drawImage. When the tokens do not fit at MIN_CELL pixels,
// adjacent tokens are binned (and the view says so). Hover shows query, key and weight; with the
// keyboard, the arrow keys move a cell cursor and an aria-live region announces the same.

import { binMap, fnv1a, imageOf, planCells, rampPosition, type Binned, type ColourScale, type Plan } from './matrix';
import { css, rampColor, textOn, type Theme } from './theme';

export interface HeatInput {
  /** Identifies the map (and the result it came from): the cache key. */
  key: string;
  map: Float32Array;
  /** Rows and columns of the map (the shown tokens). */
  m: number;
  /** A short label per shown token (drawn on the axes). */
  labels: readonly string[];
  /** A longer name per shown token (tooltip and announcements). */
  names: readonly string[];
  /** The token index (in result.tokens) of each shown token. */
  tokenIndex: readonly number[];
  /** The title drawn above the map (and into the exported PNG). */
  caption: string;
}

export interface HeatmapOptions {
  theme: () => Theme;
  scale: () => ColourScale;
  announce: (text: string) => void;
  /** A row was picked (click, Enter or Space): its first token, an index in result.tokens. */
  onPickQuery: (tokenIndex: number) => void;
  /** The layout changed (e.g. binning): the view updates its notice. */
  onPlan: (plan: Plan, m: number) => void;
}

export interface Digest {
  width: number;
  height: number;
  nonBlank: number;
  hash: string;
}

interface Cached {
  image: HTMLCanvasElement;
  binned: Binned;
}

const PAD = 6;
const CAPTION_H = 22;
const LEGEND_H = 34;
const MAX_LABEL_W = 130;
const CACHE_LIMIT = 64;
const fmt = (w: number): string => (w >= 0.001 || w === 0 ? w.toFixed(3) : w.toExponential(1));

export class Heatmap {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly tooltip: HTMLElement;
  private readonly ctx: CanvasRenderingContext2D;
  private input: HeatInput | null = null;
  private readonly cache = new Map<string, Cached>();
  private current: Cached | null = null;
  private plan: Plan = { bins: 0, binSize: 1, cell: 0 };
  private origin = { x: 0, y: 0 };
  private cursor: { q: number; k: number } | null = null;
  private queryPos: number | null = null;
  private focused = false;
  private labelsShown = false;

  constructor(private readonly opts: HeatmapOptions) {
    this.element = document.createElement('div');
    this.element.className = 'heat-wrap';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'heatmap';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'application');
    this.canvas.setAttribute('aria-roledescription', 'attention heatmap');
    this.tooltip = document.createElement('div');
    this.tooltip.className = 'heat-tooltip';
    this.tooltip.setAttribute('role', 'tooltip');
    this.tooltip.hidden = true;
    this.element.append(this.canvas, this.tooltip);
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('This webview cannot draw on a canvas.');
    this.ctx = ctx;

    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    this.canvas.addEventListener('click', (e) => {
      const cell = this.cellAt(e);
      if (!cell) return;
      this.cursor = cell;
      this.pick(cell.q);
    });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('focus', () => {
      this.focused = true;
      if (!this.cursor && this.plan.bins > 0) this.cursor = { q: this.queryBin() ?? 0, k: 0 };
      this.paint();
      this.announceCursor();
    });
    this.canvas.addEventListener('blur', () => {
      this.focused = false;
      this.paint();
    });
  }

  setInput(input: HeatInput): void {
    const sameTokens = this.input?.m === input.m;
    this.input = input;
    if (!sameTokens) this.cursor = null;
    this.canvas.setAttribute(
      'aria-label',
      `${input.caption}: ${input.m} query tokens by ${input.m} key tokens. Arrow keys move between cells; Enter picks the row's token as the query.`,
    );
    this.draw();
  }

  /** Highlights the row of this query (a position in the shown tokens), or none. */
  setQuery(pos: number | null): void {
    this.queryPos = pos;
    this.paint();
  }

  /** Forgets every cached image (a new result or a new theme). */
  clearCache(): void {
    this.cache.clear();
    this.current = null;
  }

  get layout(): Plan {
    return this.plan;
  }

  /** Lays out for the current width and paints. */
  draw(): void {
    const input = this.input;
    if (!input) return;
    const theme = this.opts.theme();
    const width = Math.max(160, (this.element.clientWidth || 640) - 2);
    this.ctx.font = this.labelFont(theme, 12);
    const labelW = Math.min(MAX_LABEL_W, Math.ceil(Math.max(0, ...input.labels.map((l) => this.ctx.measureText(l).width))) + 10);
    let plan = planCells(input.m, width - labelW - PAD);
    const labels = plan.binSize === 1 && plan.cell >= Math.max(12, theme.fontSize);
    if (!labels) plan = planCells(input.m, width - 2 * PAD);
    const left = labels ? labelW : PAD;
    const top = CAPTION_H + (labels ? labelW : PAD);
    const size = plan.bins * plan.cell;
    const cssW = Math.max(left + size + PAD, 260);
    const cssH = top + size + LEGEND_H;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(cssW * dpr) || this.canvas.height !== Math.round(cssH * dpr)) {
      this.canvas.width = Math.round(cssW * dpr);
      this.canvas.height = Math.round(cssH * dpr);
    }
    this.canvas.style.width = `${cssW}px`;
    this.canvas.style.height = `${cssH}px`;
    this.plan = plan;
    this.origin = { x: left, y: top };
    this.labelsShown = labels;
    if (this.cursor) this.cursor = { q: Math.min(this.cursor.q, plan.bins - 1), k: Math.min(this.cursor.k, plan.bins - 1) };
    this.current = this.image(input, plan.binSize, theme);
    this.paint();
    this.opts.onPlan(plan, input.m);
  }


  private labelFont(theme: Theme, cap: number): string {
    return `${Math.max(8, Math.min(theme.fontSize, cap))}px ${theme.monoFamily}`;
  }

  private image(input: HeatInput, binSize: number, theme: Theme): Cached {
    const scale = this.opts.scale();
    const key = `${input.key}|${binSize}|${theme.version}|${scale}`;
    let c = this.cache.get(key);
    if (c) {
      // Most recently used last.
      this.cache.delete(key);
      this.cache.set(key, c);
      return c;
    }
    const binned = binMap(input.map, input.m, binSize);
    c = { image: imageOf(binned, theme.lut, scale), binned };
    this.cache.set(key, c);
    while (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
    return c;
  }

  /** Paints the cached image, labels, legend and the overlays (query row, keyboard cursor). */
  private paint(): void {
    const input = this.input;
    const cur = this.current;
    if (!input || !cur) return;
    const theme = this.opts.theme();
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    const { bins, cell } = this.plan;
    const { x: x0, y: y0 } = this.origin;
    const size = bins * cell;
    const cssW = this.canvas.width / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = css(theme.background);
    ctx.fillRect(0, 0, cssW, this.canvas.height / dpr);

    // Caption.
    ctx.fillStyle = css(theme.foreground);
    ctx.font = `600 ${theme.fontSize}px ${theme.fontFamily}`;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillText(input.caption, PAD, CAPTION_H / 2, cssW - 2 * PAD);

    // Token labels: queries down the left, keys along the top.
    if (this.labelsShown) {
      ctx.font = this.labelFont(theme, cell - 2);
      ctx.fillStyle = css(theme.foreground);
      ctx.textAlign = 'right';
      for (let i = 0; i < bins; i++) ctx.fillText(input.labels[i] ?? '', x0 - 4, y0 + i * cell + cell / 2, x0 - 6);
      ctx.save();
      ctx.translate(x0, y0 - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      for (let i = 0; i < bins; i++) ctx.fillText(input.labels[i] ?? '', 0, i * cell + cell / 2, y0 - CAPTION_H - 6);
      ctx.restore();
    }

    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(cur.image, x0, y0, size, size);
    if (theme.border) {
      ctx.strokeStyle = css(theme.border);
      ctx.lineWidth = 1;
      ctx.strokeRect(x0 - 0.5, y0 - 0.5, size + 1, size + 1);
    }

    // The picked query's row.
    const qb = this.queryBin();
    if (qb !== null) {
      ctx.strokeStyle = css(theme.foreground);
      ctx.lineWidth = 1;
      ctx.setLineDash([3, 2]);
      ctx.strokeRect(x0 + 0.5, y0 + qb * cell + 0.5, size - 1, Math.max(1, cell - 1));
      ctx.setLineDash([]);
    }
    // The keyboard cursor.
    if (this.focused && this.cursor) {
      ctx.strokeStyle = css(theme.focus);
      ctx.lineWidth = 2;
      const c = Math.max(cell, 4);
      ctx.strokeRect(x0 + this.cursor.k * cell - (c - cell) / 2, y0 + this.cursor.q * cell - (c - cell) / 2, c, c);
    }

    // Legend: the ramp from 0 to this map's maximum.
    const ly = y0 + size + 10;
    const lw = Math.min(200, Math.max(120, size));
    const ramp = document.createElement('canvas');
    ramp.width = 256;
    ramp.height = 1;
    ramp.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(theme.lut), 256, 1), 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(ramp, PAD, ly, lw, 10);
    ctx.strokeStyle = css(theme.border ?? theme.muted);
    ctx.lineWidth = 1;
    ctx.strokeRect(PAD - 0.5, ly - 0.5, lw + 1, 11);
    ctx.font = `${Math.max(9, theme.fontSize - 2)}px ${theme.fontFamily}`;
    ctx.fillStyle = css(theme.muted);
    ctx.textBaseline = 'top';
    const scale = this.opts.scale();
    const ticks: [number, string][] =
      scale === 'row' ? [[0, '0'], [1, 'row max']] : scale === 'sqrt' ? [[0, '0'], [0.5, fmt(cur.binned.max / 4)], [1, fmt(cur.binned.max)]] : [[0, '0'], [0.5, fmt(cur.binned.max / 2)], [1, fmt(cur.binned.max)]];
    for (const [at, text] of ticks) {
      ctx.textAlign = at === 0 ? 'left' : at === 1 ? 'right' : 'center';
      ctx.fillText(text, PAD + at * lw, ly + 13);
    }
    ctx.textAlign = 'left';
    const what = scale === 'row' ? 'weight (each row to its max)' : scale === 'sqrt' ? 'weight (square-root scale)' : 'weight (linear)';
    ctx.fillText(what, PAD + lw + 10, ly + 1, Math.max(40, cssW - lw - 2 * PAD - 10));
  }

  private queryBin(): number | null {
    return this.queryPos === null ? null : Math.floor(this.queryPos / this.plan.binSize);
  }

  private cellAt(e: MouseEvent): { q: number; k: number } | null {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left - this.origin.x;
    const y = e.clientY - r.top - this.origin.y;
    const { bins, cell } = this.plan;
    if (cell <= 0 || x < 0 || y < 0) return null;
    const k = Math.floor(x / cell);
    const q = Math.floor(y / cell);
    return q < bins && k < bins ? { q, k } : null;
  }

  /** Describes the tokens of a bin: «tok» #i, or a range. */
  private describeBin(b: number): string {
    const input = this.input!;
    const from = b * this.plan.binSize;
    const to = Math.min(input.m, from + this.plan.binSize) - 1;
    if (from === to) return `«${input.names[from]}» (token ${input.tokenIndex[from]})`;
    const parts = [];
    for (let i = from; i <= to && parts.length < 4; i++) parts.push(`«${input.names[i]}»`);
    return `tokens ${input.tokenIndex[from]}–${input.tokenIndex[to]} (${parts.join(' ')}${to - from + 1 > 4 ? ' …' : ''})`;
  }

  private weight(q: number, k: number): number {
    const cur = this.current!;
    return cur.binned.values[q * cur.binned.bins + k] ?? 0;
  }

  private rowMax(q: number): number {
    const b = this.current!.binned;
    let max = 0;
    for (let k = 0; k < b.bins; k++) max = Math.max(max, b.values[q * b.bins + k]!);
    return max;
  }

  describeCell(q: number, k: number): { query: string; key: string; weight: string } {
    return { query: this.describeBin(q), key: this.describeBin(k), weight: fmt(this.weight(q, k)) };
  }

  private hover(e: MouseEvent): void {
    const cell = this.cellAt(e);
    if (!cell || !this.input) {
      this.tooltip.hidden = true;
      return;
    }
    const d = this.describeCell(cell.q, cell.k);
    const lines: [string, string][] = [
      ['Query', d.query],
      ['Key', d.key],
      ['Weight', d.weight + (this.plan.binSize > 1 ? ' (keys summed, queries averaged)' : '')],
    ];
    this.tooltip.replaceChildren(
      ...lines.map(([k, v]) => {
        const row = document.createElement('div');
        const b = document.createElement('b');
        b.textContent = `${k}: `;
        row.append(b, v);
        return row;
      }),
    );
    // The colour of the cell, as a swatch.
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    const max = this.current?.binned.max ?? 0;
    const fill = rampColor(this.opts.theme(), rampPosition(this.weight(cell.q, cell.k), this.opts.scale() === 'row' ? this.rowMax(cell.q) : max, this.opts.scale()));
    swatch.style.backgroundColor = css(fill);
    swatch.style.borderColor = css(textOn(this.opts.theme(), fill));
    this.tooltip.firstElementChild?.prepend(swatch);
    this.tooltip.hidden = false;
    const wr = this.element.getBoundingClientRect();
    const x = e.clientX - wr.left + 14;
    const y = e.clientY - wr.top + 14;
    const tw = this.tooltip.offsetWidth;
    this.tooltip.style.left = `${Math.max(0, Math.min(x, this.element.clientWidth - tw - 4))}px`;
    this.tooltip.style.top = `${y}px`;
  }

  private key(e: KeyboardEvent): void {
    const bins = this.plan.bins;
    if (bins === 0) return;
    const c = this.cursor ?? { q: 0, k: 0 };
    let { q, k } = c;
    switch (e.key) {
      case 'ArrowLeft':
        k = Math.max(0, k - 1);
        break;
      case 'ArrowRight':
        k = Math.min(bins - 1, k + 1);
        break;
      case 'ArrowUp':
        q = Math.max(0, q - 1);
        break;
      case 'ArrowDown':
        q = Math.min(bins - 1, q + 1);
        break;
      case 'Home':
        k = 0;
        if (e.ctrlKey) q = 0;
        break;
      case 'End':
        k = bins - 1;
        if (e.ctrlKey) q = bins - 1;
        break;
      case 'PageUp':
        q = Math.max(0, q - 10);
        break;
      case 'PageDown':
        q = Math.min(bins - 1, q + 10);
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.cursor = c;
        this.pick(c.q);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.cursor = { q, k };
    this.paint();
    this.announceCursor();
  }

  private pick(qb: number): void {
    const input = this.input;
    if (!input) return;
    const pos = qb * this.plan.binSize;
    const t = input.tokenIndex[pos];
    if (t !== undefined) this.opts.onPickQuery(t);
  }

  private announceCursor(): void {
    if (!this.cursor || !this.input) return;
    const d = this.describeCell(this.cursor.q, this.cursor.k);
    this.opts.announce(`Query ${d.query}, key ${d.key}: weight ${d.weight}.`);
  }

  /** Pixels of the cells (not labels or legend): how many differ from the background, and a hash. */
  digest(): Digest {
    const dpr = window.devicePixelRatio || 1;
    const size = Math.round(this.plan.bins * this.plan.cell * dpr);
    if (!this.input || size === 0) return { width: this.canvas.width, height: this.canvas.height, nonBlank: 0, hash: '' };
    const data = this.ctx.getImageData(Math.round(this.origin.x * dpr), Math.round(this.origin.y * dpr), size, size).data;
    const bg = this.opts.theme().background;
    let nonBlank = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i]! - bg[0]) + Math.abs(data[i + 1]! - bg[1]) + Math.abs(data[i + 2]! - bg[2]) > 6) nonBlank++;
    }
    return { width: this.canvas.width, height: this.canvas.height, nonBlank, hash: fnv1a(data) };
  }

  /** The canvas as PNG bytes. */
  png(): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.canvas.toBlob((blob) => {
        if (!blob) {
          reject(new Error('the canvas could not be encoded as PNG'));
          return;
        }
        blob.arrayBuffer().then((b) => resolve(new Uint8Array(b)), reject);
      }, 'image/png');
    });
  }
}
