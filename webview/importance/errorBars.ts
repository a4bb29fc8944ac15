// Error bars for chart.js horizontal bar charts (chart.js has none built in): a whisker from
// mean − e to mean + e across each bar, with end caps. The plugin also widens the value axis so a
// whisker is never cut off, and counts what it drew (the view reports it to the tests).

import type { BarElement, Chart, Plugin } from 'chart.js';

export interface ErrorBarStyle {
  color: string;
  lineWidth: number;
}

export interface ErrorBars {
  plugin: Plugin<'bar'>;
  /** Whiskers drawn by the last draw. */
  drawn(): number;
}

/**
 * `errors()` gives the half-width of each bar's whisker (the std over repeats), by data index; a
 * value that is not a positive finite number draws nothing.
 */
export function errorBars(errors: () => readonly number[], style: () => ErrorBarStyle): ErrorBars {
  let drawn = 0;
  const valueAt = (chart: Chart<'bar'>, i: number): number => {
    const v = chart.data.datasets[0]?.data[i];
    return typeof v === 'number' ? v : NaN;
  };
  const plugin: Plugin<'bar'> = {
    id: 'loupeErrorBars',
    afterDataLimits(chart, args) {
      // The value axis of a horizontal bar chart is x.
      if (args.scale.axis !== 'x') return;
      const e = errors();
      for (let i = 0; i < e.length; i++) {
        const m = valueAt(chart, i);
        const s = e[i]!;
        if (!Number.isFinite(m) || !(s > 0) || !Number.isFinite(s)) continue;
        args.scale.min = Math.min(args.scale.min, m - s);
        args.scale.max = Math.max(args.scale.max, m + s);
      }
    },
    afterDatasetsDraw(chart) {
      drawn = 0;
      const meta = chart.getDatasetMeta(0);
      const x = chart.scales.x;
      if (!x || meta.hidden) return;
      const e = errors();
      const { color, lineWidth } = style();
      const g = chart.ctx;
      const area = chart.chartArea;
      g.save();
      g.beginPath();
      g.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      g.clip();
      g.strokeStyle = color;
      g.lineWidth = lineWidth;
      meta.data.forEach((el, i) => {
        const m = valueAt(chart, i);
        const s = e[i];
        if (s === undefined || !Number.isFinite(m) || !(s > 0) || !Number.isFinite(s)) return;
        const bar = el as unknown as BarElement;
        const { y, height } = bar.getProps(['y', 'height'], true) as { y: number; height: number };
        const x0 = x.getPixelForValue(m - s);
        const x1 = x.getPixelForValue(m + s);
        const cap = Math.max(3, Math.min(8, height * 0.35));
        g.beginPath();
        g.moveTo(x0, y);
        g.lineTo(x1, y);
        g.moveTo(x0, y - cap);
        g.lineTo(x0, y + cap);
        g.moveTo(x1, y - cap);
        g.lineTo(x1, y + cap);
        g.stroke();
        drawn++;
      });
      g.restore();
    },
  };
  return { plugin, drawn: () => drawn };
}
