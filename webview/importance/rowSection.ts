// "Explain one row" in the importance view: KernelSHAP for one data row against a background sample
// of the dataset (the engine's explainRow). The row number is typed (Enter or the button asks the
// host); the contributions are drawn as a second bar chart, largest first.

import type { ImportanceProbe } from '../../src/protocol/importanceViewProtocol';
import type { ImportanceResult, RowExplanation } from '../../src/protocol/workerProtocol';
import { button, progressRing } from '../components/toolkit';
import { fmt } from '../explain/stats';
import { ImportanceChart } from './chart';
import { announce, el } from './dom';
import { host } from './host';

export class RowSection {
  readonly element = el('section', 'importance-row');
  private readonly input = el('input');
  private readonly box = el('div', 'importance-row-result');
  private chart: ImportanceChart | null = null;
  status: ImportanceProbe['rowStatus'] = 'none';
  row: number | null = null;
  message = '';

  private current: RowExplanation | null = null;

  /** `onDrawn` keeps the drawn explanation (the page saves it, to show it again after a reload). */
  constructor(
    private readonly result: ImportanceResult,
    private readonly onDrawn: (x: RowExplanation) => void,
  ) {
    const max = result.dataset.rowsInFile;
    const id = 'importance-row-input';
    const label = el('label', undefined, `Data row (1–${max})`);
    label.htmlFor = id;
    this.input.id = id;
    this.input.type = 'number';
    this.input.min = '1';
    this.input.max = String(max);
    this.input.value = '1';
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.request();
      }
    });
    const field = el('div', 'field');
    field.append(label, this.input);
    const controls = el('div', 'controls');
    controls.append(field, button('Explain row', () => this.request()));
    this.element.append(
      el('h2', undefined, 'Explain one row'),
      el('p', 'muted', "KernelSHAP: each feature's contribution to the model's output for one row, against a background sample of this dataset; the contributions add up to the row's output minus the background's mean output."),
      controls,
      this.box,
    );
  }

  request(row?: number): void {
    const n = row ?? Number(this.input.value);
    const max = this.result.dataset.rowsInFile;
    if (!Number.isInteger(n) || n < 1 || n > max) {
      this.showError(n, `Enter a data row from 1 to ${max}.`);
      return;
    }
    this.input.value = String(n);
    host.postMessage({ type: 'explainRow', row: n });
  }

  private clear(): void {
    this.current = null;
    this.chart?.destroy();
    this.chart = null;
    this.box.replaceChildren();
  }

  showBusy(row: number, message: string): void {
    this.clear();
    this.status = 'busy';
    this.row = row;
    this.message = message;
    const p = el('p', 'busy');
    p.append(progressRing(), el('span', undefined, message));
    this.box.append(p);
    announce(message);
  }

  showError(row: number, message: string): void {
    this.clear();
    this.status = 'error';
    this.row = Number.isInteger(row) ? row : null;
    this.message = message;
    this.box.append(el('p', 'error', message));
    announce(message);
  }

  showResult(x: RowExplanation): void {
    this.clear();
    this.current = x;
    this.onDrawn(x);
    this.status = 'drawn';
    this.row = x.row;
    this.message = '';
    this.input.value = String(x.row);
    const t = x.target;
    const what = t.output === 'probability' ? `P(${t.label ?? `class ${t.index}`})` : 'the output';
    const sum = x.features.reduce((a, f) => a + f.score, 0);
    this.box.append(
      el('h3', undefined, `Row ${x.row}: ${what} = ${fmt(x.value, 4)}`),
      el('p', 'muted', `Background mean ${fmt(x.baseValue, 4)} over ${x.backgroundRows} rows; contributions sum to ${fmt(sum, 4)} (${x.fit.exact ? 'exact' : `${x.fit.evaluated} coalitions, fit R² ${fmt(x.fit.r2)}`}).`),
    );
    for (const w of x.warnings) this.box.append(el('p', 'notice', w));
    const bars = x.features.map((f) => ({ name: f.name, columns: [f.column], mean: f.score, std: NaN, detail: `value ${fmt(f.value, 4)}` }));
    this.chart = new ImportanceChart(bars, `Contribution to ${what}`);
    this.box.append(this.chart.element);
    announce(`Row ${x.row} explained`);
  }

  destroy(): void {
    this.chart?.destroy();
  }

  drawnBars(): { labels: string[]; lengths: number[] } {
    return this.chart?.drawnBars() ?? { labels: [], lengths: [] };
  }

  /** The drawn bars' scores, top to bottom. */
  scores(): number[] {
    const x = this.current;
    return x ? this.drawnBars().labels.map((b) => x.features.find((f) => f.name === b)?.score ?? NaN) : [];
  }

  applyTheme(): void {
    this.chart?.applyTheme();
  }
}
