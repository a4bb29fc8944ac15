// The importance table: one row per feature (or group), sortable by rank, name, mean or standard
// deviation. The headers are buttons (Tab to one, Enter or Space sorts; again reverses) and carry
// aria-sort, so the sort is usable and announced without a mouse.

import type { SortKey } from '../../src/protocol/importanceViewProtocol';
import { fmt } from '../explain/stats';
import { chartOrder, type Bar } from './chart';

export interface Row extends Bar {
  /** 1 = largest mean (the chart's order). */
  rank: number;
  /** The cells of the extra columns (ImportanceTable's `extra` headers). */
  extra: readonly string[];
}

export function rankRows(bars: readonly (Bar & { extra: readonly string[] })[]): Row[] {
  return chartOrder(bars).map((b, i) => ({ ...(b as Bar & { extra: readonly string[] }), rank: i + 1 }));
}

export interface TableLayout {
  /** Header of the name column ("Feature", "Token") and of the mean ("Mean", "Mean |score|"). */
  name: string;
  mean: string;
  /** Whether there is a standard deviation to show. */
  std: boolean;
  /** Extra, unsortable columns: header and tooltip. */
  extra: readonly { label: string; title: string }[];
}

const num = (x: number): number => (Number.isFinite(x) ? x : -Infinity);

export function sortRows(rows: readonly Row[], key: SortKey, descending: boolean): Row[] {
  const cmp: Record<SortKey, (a: Row, b: Row) => number> = {
    rank: (a, b) => a.rank - b.rank,
    name: (a, b) => a.name.localeCompare(b.name),
    mean: (a, b) => num(a.mean) - num(b.mean) || a.rank - b.rank,
    std: (a, b) => num(a.std) - num(b.std) || a.rank - b.rank,
  };
  const sorted = [...rows].sort(cmp[key]);
  return descending ? sorted.reverse() : sorted;
}

function headers(layout: TableLayout): { key: SortKey; label: string; numeric: boolean }[] {
  const h: { key: SortKey; label: string; numeric: boolean }[] = [
    { key: 'rank', label: 'Rank', numeric: true },
    { key: 'name', label: layout.name, numeric: false },
    { key: 'mean', label: layout.mean, numeric: true },
  ];
  if (layout.std) h.push({ key: 'std', label: 'Std', numeric: true });
  return h;
}

export class ImportanceTable {
  readonly element: HTMLElement;
  private readonly body = document.createElement('tbody');
  private readonly buttons = new Map<SortKey, { th: HTMLTableCellElement; button: HTMLButtonElement }>();
  private order: Row[] = [];

  constructor(
    private readonly rows: readonly Row[],
    private readonly layout: TableLayout,
    private sort: SortKey,
    private descending: boolean,
    private readonly onSort: (sort: SortKey, descending: boolean) => void,
  ) {
    const table = document.createElement('table');
    table.className = 'importance-table';
    const groups = rows.some((r) => r.columns.length > 1 || r.columns[0] !== r.name);
    const head = document.createElement('tr');
    if (sort === 'std' && !layout.std) this.sort = 'rank';
    for (const h of headers(layout)) {
      const th = document.createElement('th');
      th.scope = 'col';
      if (h.numeric) th.className = 'num';
      const b = document.createElement('button');
      b.className = 'sort';
      b.type = 'button';
      b.textContent = h.label;
      b.addEventListener('click', () => this.setSort(h.key, h.key === this.sort ? !this.descending : h.key === 'mean' || h.key === 'std'));
      th.append(b);
      head.append(th);
      this.buttons.set(h.key, { th, button: b });
    }
    if (groups) head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: 'Columns' }));
    for (const x of layout.extra) head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: x.label, title: x.title }));
    const thead = document.createElement('thead');
    thead.append(head);
    table.append(thead, this.body);
    const caption = document.createElement('caption');
    caption.className = 'sr-only';
    caption.textContent = 'Permutation importance per feature; the column headers sort the table.';
    table.prepend(caption);
    this.element = document.createElement('div');
    this.element.className = 'table-wrap';
    this.element.append(table);
    this.groups = groups;
    this.render();
  }

  private readonly groups: boolean;

  get sortKey(): SortKey {
    return this.sort;
  }

  get isDescending(): boolean {
    return this.descending;
  }

  /** Feature names in row order, as shown. */
  names(): string[] {
    return this.order.map((r) => r.name);
  }

  setSort(sort: SortKey, descending: boolean, notify = true): void {
    if (!this.buttons.has(sort)) return;
    this.sort = sort;
    this.descending = descending;
    this.render();
    if (notify) this.onSort(sort, descending);
  }

  private render(): void {
    for (const [key, { th, button }] of this.buttons) {
      const on = key === this.sort;
      th.setAttribute('aria-sort', on ? (this.descending ? 'descending' : 'ascending') : 'none');
      button.dataset.arrow = on ? (this.descending ? '▼' : '▲') : '';
      button.setAttribute('aria-label', `${button.textContent ?? ''}${on ? `, sorted ${this.descending ? 'descending' : 'ascending'}` : ''}; sort`);
    }
    this.order = sortRows(this.rows, this.sort, this.descending);
    this.body.replaceChildren(
      ...this.order.map((r) => {
        const tr = document.createElement('tr');
        const td = (text: string, cls?: string): HTMLTableCellElement => {
          const c = document.createElement('td');
          c.textContent = text;
          if (cls) c.className = cls;
          return c;
        };
        const name = document.createElement('th');
        name.scope = 'row';
        name.textContent = r.name;
        if (r.mean < 0) tr.classList.add('negative');
        tr.append(td(String(r.rank), 'num'), name, td(fmt(r.mean, 4), 'num'));
        if (this.layout.std) tr.append(td(fmt(r.std, 4), 'num'));
        if (this.groups) tr.append(td(r.columns.join(', ')));
        for (const x of r.extra) tr.append(td(x, 'num muted extra'));
        return tr;
      }),
    );
  }
}
