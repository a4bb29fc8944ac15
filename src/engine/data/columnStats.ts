// Per-column facts gathered while scanning rows: type, missing and non-numeric counts, a few
// examples, distinct values (up to a cap), and min/max/mean of the numeric cells.

import type { DatasetColumn } from '../../protocol/workerProtocol';
import { isMissing, parseNumber } from './values';

const DISTINCT_CAP = 50;
const EXAMPLES = 3;

export class ColumnStats {
  missing = 0;
  nonNumeric = 0;
  firstNonNumeric: { row: number; value: string } | null = null;
  private numeric = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  private readonly distinct = new Set<string>();
  private overflow = false;
  private readonly examples: string[] = [];

  constructor(readonly name: string, readonly index: number) {}

  add(cell: string | null, row: number): void {
    if (isMissing(cell)) {
      this.missing++;
      return;
    }
    const text = cell!;
    if (this.examples.length < EXAMPLES && !this.examples.includes(text)) this.examples.push(text.length > 80 ? text.slice(0, 77) + '…' : text);
    if (!this.overflow) {
      this.distinct.add(text);
      if (this.distinct.size > DISTINCT_CAP) {
        this.overflow = true;
        this.distinct.clear();
      }
    }
    const v = parseNumber(text);
    if (v === null) {
      this.nonNumeric++;
      this.firstNonNumeric ??= { row, value: text.length > 80 ? text.slice(0, 77) + '…' : text };
      return;
    }
    this.numeric++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  summary(): DatasetColumn {
    const type = this.numeric === 0 && this.nonNumeric === 0 ? 'empty' : this.nonNumeric === 0 ? 'numeric' : 'text';
    return {
      name: this.name,
      index: this.index,
      type,
      missing: this.missing,
      nonNumeric: this.nonNumeric,
      firstNonNumeric: this.firstNonNumeric,
      distinct: this.overflow ? null : this.distinct.size,
      examples: this.examples,
      min: this.numeric > 0 ? this.min : null,
      max: this.numeric > 0 ? this.max : null,
      mean: this.numeric > 0 ? this.sum / this.numeric : null,
    };
  }
}
