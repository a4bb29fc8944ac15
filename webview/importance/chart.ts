// The importance chart: a chart.js horizontal bar per feature (or group), largest mean first, with
// a whisker of ± one standard deviation over the repeats. Colours come from the theme at run time
// (positive importances in the charts' blue, negative ones in its red) and are re-read on a theme
// change. The canvas is keyboard usable: ↑/↓/Home/End move through the bars and show their tooltip.

import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip, type TooltipItem } from 'chart.js';
import { css, firstColor, readTheme, type RGB } from '../attention/theme';
import { errorBars, type ErrorBars } from './errorBars';
import { fmt } from '../explain/stats';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface Bar {
  name: string;
  columns: readonly string[];
  mean: number;
  std: number;
  /** More for the tooltip (a row explanation: the feature's value). */
  detail?: string;
}

interface Colors {
  background: RGB;
  foreground: RGB;
  muted: RGB;
  positive: RGB;
  negative: RGB;
  grid: RGB;
  border: RGB | null;
  fontFamily: string;
  fontSize: number;
}

function readColors(): Colors {
  const t = readTheme();
  const negative = firstColor(['--vscode-charts-red', '--vscode-errorForeground'], t.background) ?? t.foreground;
  const grid = firstColor(['--vscode-widget-border', '--vscode-editorWidget-border', '--vscode-panel-border'], t.background) ?? t.muted;
  return { background: t.background, foreground: t.foreground, muted: t.muted, positive: t.accent, negative, grid, border: t.border, fontFamily: t.fontFamily, fontSize: t.fontSize };
}

/** Largest mean first; a non-finite mean sorts last; ties by name (so the order is stable). */
export function chartOrder(bars: readonly Bar[]): Bar[] {
  const key = (b: Bar): number => (Number.isFinite(b.mean) ? b.mean : -Infinity);
  return [...bars].sort((a, b) => key(b) - key(a) || a.name.localeCompare(b.name));
}

const BAR_PX = 24;

/** The bars as the chart laid them out, top to bottom: labels and signed lengths in pixels. */
function laidOut(chart: Chart<'bar'>): { labels: string[]; lengths: number[] } {
  const meta = chart.getDatasetMeta(0);
  const labels = chart.data.labels ?? [];
  const laid = meta.data.map((el, i) => {
    const p = (el as unknown as BarElement).getProps(['x', 'y', 'base'], true) as { x: number; y: number; base: number };
    return { label: String(labels[i]), y: p.y, length: p.x - p.base };
  });
  laid.sort((a, b) => a.y - b.y);
  return { labels: laid.map((l) => l.label), lengths: laid.map((l) => Math.round(l.length * 10) / 10) };
}

/** "mean ± std", or the mean alone when there is no standard deviation. */
const pm = (b: Bar): string => (Number.isFinite(b.std) ? `${fmt(b.mean, 4)} ± ${fmt(b.std, 4)}` : fmt(b.mean, 4));

export class ImportanceChart {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly chart: Chart<'bar', number[], string>;
  private readonly whiskers: ErrorBars;
  private readonly bars: Bar[];
  private colors = readColors();
  private active = -1;

  constructor(bars: readonly Bar[], axisTitle: string) {
    this.bars = chartOrder(bars);
    this.element = document.createElement('div');
    this.element.className = 'importance-chart';
    this.element.style.height = `${this.bars.length * BAR_PX + 64}px`;
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-roledescription', 'bar chart');
    this.element.append(this.canvas);
    this.whiskers = errorBars(
      () => this.bars.map((b) => b.std),
      () => ({ color: css(this.colors.foreground), lineWidth: 1.5 }),
    );
    this.chart = new Chart<'bar', number[], string>(this.canvas, {
      type: 'bar',
      data: {
        labels: this.bars.map((b) => b.name),
        datasets: [{ label: axisTitle, data: this.bars.map((b) => (Number.isFinite(b.mean) ? b.mean : 0)), borderWidth: 0, barPercentage: 0.8, categoryPercentage: 0.9 }],
      },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item: TooltipItem<'bar'>) => {
                const b = this.bars[item.dataIndex]!;
                const cols = b.columns.length > 1 || b.columns[0] !== b.name ? ` (columns: ${b.columns.join(', ')})` : '';
                return `${pm(b)}${cols}${b.detail ? ` · ${b.detail}` : ''}`;
              },
            },
          },
        },
        scales: {
          x: { title: { display: true, text: axisTitle } },
          y: { ticks: { autoSkip: false } },
        },
      },
      plugins: [
        this.whiskers.plugin,
        // What was laid out, for the UI tests (which read the page, not the chart object): labels top to bottom.
        { id: 'loupeDrawnOrder', afterRender: (chart) => void (this.canvas.dataset.bars = JSON.stringify(laidOut(chart).labels)) },
      ],
    });
    this.canvas.setAttribute('aria-label', this.describe());
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    this.canvas.addEventListener('blur', () => this.setActive(-1));
    this.applyTheme();
  }

  /** What a screen reader hears: the ranking, as drawn. */
  private describe(): string {
    const parts = this.bars.map((b, i) => `${i + 1}. ${b.name}: ${pm(b)}`);
    return `Feature importance, largest first. ${parts.join('; ')}. Arrow keys move through the bars.`;
  }

  applyTheme(): void {
    const c = (this.colors = readColors());
    const hc = c.border !== null;
    const ds = this.chart.data.datasets[0]!;
    ds.backgroundColor = this.bars.map((b) => css(b.mean < 0 ? c.negative : c.positive, hc ? 1 : 0.8));
    ds.borderColor = hc ? css(c.border!) : 'transparent';
    ds.borderWidth = hc ? 1 : 0;
    const font = { family: c.fontFamily, size: c.fontSize };
    const o = this.chart.options;
    const scales = o.scales as Record<'x' | 'y', { ticks?: { color?: string; font?: object }; grid?: { color?: string }; border?: { color?: string }; title?: { color?: string; font?: object } }>;
    for (const axis of ['x', 'y'] as const) {
      const s = scales[axis];
      s.ticks = { ...s.ticks, color: css(c.foreground), font };
      s.grid = { ...s.grid, color: css(c.grid, 0.6) };
      s.border = { ...s.border, color: css(c.muted) };
      if (s.title) s.title = { ...s.title, color: css(c.muted), font };
    }
    const tip = o.plugins!.tooltip!;
    tip.backgroundColor = css(c.background, 0.95);
    tip.titleColor = css(c.foreground);
    tip.bodyColor = css(c.foreground);
    tip.borderColor = css(c.border ?? c.muted);
    tip.borderWidth = 1;
    tip.titleFont = { ...font, weight: 'bold' };
    tip.bodyFont = font;
    this.chart.update('none');
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.bars.length;
    if (n === 0) return;
    let next = this.active;
    if (e.key === 'ArrowDown') next = Math.min(n - 1, this.active + 1);
    else if (e.key === 'ArrowUp') next = Math.max(0, this.active < 0 ? 0 : this.active - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = n - 1;
    else if (e.key === 'Escape') next = -1;
    else return;
    e.preventDefault();
    this.setActive(next);
  }

  private setActive(i: number): void {
    this.active = i;
    const els = i >= 0 ? [{ datasetIndex: 0, index: i }] : [];
    this.chart.setActiveElements(els);
    const bar = i >= 0 ? this.chart.getDatasetMeta(0).data[i] : undefined;
    this.chart.tooltip?.setActiveElements(els, { x: bar?.x ?? 0, y: bar?.y ?? 0 });
    this.chart.update('none');
    const b = this.bars[i];
    if (b) this.canvas.setAttribute('aria-valuetext', `${i + 1} of ${this.bars.length}: ${b.name}, ${pm(b)}`);
  }

  /** The bars as laid out on the canvas, top to bottom: their labels and signed lengths in pixels. */
  drawnBars(): { labels: string[]; lengths: number[] } {
    return laidOut(this.chart);
  }

  errorBarsDrawn(): number {
    return this.whiskers.drawn();
  }

  /** The chart as a PNG on the theme's background (the canvas itself is transparent). */
  async png(): Promise<Uint8Array | undefined> {
    const src = this.canvas;
    const out = document.createElement('canvas');
    out.width = src.width;
    out.height = src.height;
    const g = out.getContext('2d');
    if (!g) return undefined;
    g.fillStyle = css(this.colors.background);
    g.fillRect(0, 0, out.width, out.height);
    g.drawImage(src, 0, 0);
    const blob = await new Promise<Blob | null>((res) => out.toBlob(res, 'image/png'));
    return blob ? new Uint8Array(await blob.arrayBuffer()) : undefined;
  }

  destroy(): void {
    this.chart.destroy();
  }
}
