// The prompt as the model saw it, with each token mapped to its character span: pick a token (click,
// or Enter/Space) and the key tokens are shaded in the text itself by the weight the picked query
// gives them. Tokens that share characters (byte-level pieces of one character) share an element;
// special tokens the tokenizer added appear as chips. One tab stop: the arrow keys move between tokens.

import type { AttentionResult } from '../../src/protocol/workerProtocol';
import { rampPosition, type ColourScale } from './matrix';
import { css, rampColor, textOn, type Theme } from './theme';

interface Item {
  el: HTMLElement;
  /** Token indices (into result.tokens) shown by this element. */
  tokens: number[];
  /** Whether one of its tokens is in the maps (special tokens may be hidden). */
  shown: boolean;
  /** Its characters in the prompt; -1 for a chip (a special token the tokenizer added). */
  start: number;
  end: number;
  text: string;
}

/** A token's text for labels: its characters in the prompt, whitespace made visible. */
export function tokenLabel(r: AttentionResult, i: number, max = 14): string {
  const t = r.tokens[i]!;
  const raw = t.start >= 0 && t.end > t.start ? r.text.slice(t.start, t.end) : t.token;
  const visible = raw.replace(/\r?\n/g, '⏎').replace(/\t/g, '⇥').replace(/ /g, '␣');
  return visible.length > max ? `${visible.slice(0, max - 1)}…` : visible;
}

export class PromptText {
  readonly element: HTMLElement;
  private readonly items: Item[] = [];
  private readonly itemOf = new Map<number, Item>();
  private active: Item | null = null;
  private query: Item | null = null;
  /** Key items shaded with a non-zero weight. */
  shaded = 0;

  constructor(
    private readonly result: AttentionResult,
    private readonly onPick: (tokenIndex: number) => void,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'prompt';
    this.element.setAttribute('role', 'group');
    this.element.setAttribute('aria-label', 'The prompt, token by token. Arrow keys move between tokens; Enter or Space picks the query token.');
    this.build();
    this.element.addEventListener('keydown', (e) => this.key(e));
  }

  private build(): void {
    const r = this.result;
    const shown = new Set(r.shown);
    let lastSpan: Item | null = null;
    let last: Item | null = null;
    const add = (token: number, start: number, end: number, label: string, cls: string): Item => {
      const el = document.createElement('span');
      el.className = cls;
      const item: Item = { el, tokens: [token], shown: shown.has(token), start, end, text: label };
      this.items.push(item);
      this.itemOf.set(token, item);
      return item;
    };
    r.tokens.forEach((t, i) => {
      if (!(t.start >= 0 && t.end > t.start)) {
        // Added by the tokenizer ([CLS], <s>, …): a chip. A non-special token without characters joins its neighbour.
        if (t.special || !last) last = add(i, -1, -1, t.token, 'tok special');
        else this.attach(last, i);
        return;
      }
      if (lastSpan && t.start < lastSpan.end) {
        // Shares characters with the previous token (byte pieces of one character): one element for both.
        this.attach(lastSpan, i);
        lastSpan.end = Math.max(lastSpan.end, t.end);
        return;
      }
      lastSpan = last = add(i, t.start, t.end, '', 'tok');
    });
    this.element.replaceChildren(...this.layout(r.text, r.truncation ? r.truncation.keptChars : r.text.length));
    for (const item of this.items) {
      item.el.tabIndex = -1;
      if (item.shown) {
        item.el.setAttribute('role', 'button');
        item.el.setAttribute('aria-pressed', 'false');
        item.el.addEventListener('click', () => this.pick(item));
      } else {
        item.el.classList.add('hidden');
        item.el.setAttribute('aria-disabled', 'true');
        item.el.title = 'A special token, hidden from the maps';
      }
    }
    this.active = this.items.find((i) => i.shown) ?? null;
    if (this.active) this.active.el.tabIndex = 0;
  }

  private attach(item: Item, token: number): void {
    item.tokens.push(token);
    this.itemOf.set(token, item);
    if (this.result.shown.includes(token)) item.shown = true;
  }

  /** The nodes in order: text between tokens, the tokens, special chips, and the part the model did not see. */
  private layout(text: string, kept: number): Node[] {
    const nodes: Node[] = [];
    let cursor = 0;
    for (const item of this.items) {
      if (item.start >= 0) {
        if (item.start > cursor) nodes.push(document.createTextNode(text.slice(cursor, item.start)));
        item.text = text.slice(Math.max(cursor, item.start), item.end);
        cursor = Math.max(cursor, item.end);
      }
      item.el.textContent = item.text;
      nodes.push(item.el);
    }
    if (cursor < kept) nodes.push(document.createTextNode(text.slice(cursor, kept)));
    if (Math.max(cursor, kept) < text.length) {
      const mark = document.createElement('span');
      mark.className = 'truncated-mark';
      mark.textContent = 'truncated: the model did not see the rest';
      nodes.push(mark);
      const rest = document.createElement('span');
      rest.className = 'truncated';
      rest.title = 'Not seen by the model: the text was truncated';
      rest.textContent = text.slice(Math.max(cursor, kept));
      nodes.push(rest);
    }
    return nodes;
  }

  private selectable(): Item[] {
    return this.items.filter((i) => i.shown);
  }

  private key(e: KeyboardEvent): void {
    const items = this.selectable();
    if (items.length === 0 || !this.active) return;
    const at = items.indexOf(this.active);
    let next = at;
    switch (e.key) {
      case 'ArrowRight':
      case 'ArrowDown':
        next = Math.min(items.length - 1, at + 1);
        break;
      case 'ArrowLeft':
      case 'ArrowUp':
        next = Math.max(0, at - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = items.length - 1;
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.pick(this.active);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.focus(items[next]!);
  }

  private focus(item: Item): void {
    if (this.active) this.active.el.tabIndex = -1;
    this.active = item;
    item.el.tabIndex = 0;
    item.el.focus();
  }

  private pick(item: Item): void {
    if (this.active !== item) {
      if (this.active) this.active.el.tabIndex = -1;
      this.active = item;
      item.el.tabIndex = 0;
    }
    const t = item.tokens.find((i) => this.result.shown.includes(i));
    if (t !== undefined) this.onPick(t);
  }

  /**
   * Marks the query token and shades every key by its weight: `row` is the query's row of the map
   * (over the shown tokens), null clears the shading.
   */
  shade(query: number | null, row: Float32Array | null, theme: Theme, scale: ColourScale): void {
    const posOf = new Map(this.result.shown.map((t, p) => [t, p] as const));
    this.query?.el.classList.remove('query');
    this.query?.el.setAttribute('aria-pressed', 'false');
    this.query = query === null ? null : (this.itemOf.get(query) ?? null);
    this.shaded = 0;
    const weights = new Map<Item, number>();
    if (row && this.query) {
      for (const item of this.items) {
        let w = 0;
        let any = false;
        for (const t of item.tokens) {
          const p = posOf.get(t);
          if (p !== undefined) {
            w += row[p] ?? 0;
            any = true;
          }
        }
        if (any) weights.set(item, w);
      }
    }
    const max = Math.max(0, ...weights.values());
    for (const item of this.items) {
      const w = weights.get(item);
      if (w === undefined || max <= 0) {
        item.el.style.removeProperty('background-color');
        item.el.style.removeProperty('color');
        item.el.removeAttribute('aria-label');
        item.el.title = item.shown ? `Token ${item.tokens.join(', ')}: pick it to see what it attends to` : item.el.title;
        continue;
      }
      const fill = rampColor(theme, rampPosition(w, max, scale));
      item.el.style.backgroundColor = css(fill);
      item.el.style.color = css(textOn(theme, fill));
      if (w > 0) this.shaded++;
      const label = `${item.text.trim() || item.text}, weight ${w.toFixed(3)}`;
      item.el.setAttribute('aria-label', label);
      item.el.title = label;
    }
    if (this.query) {
      // The text's tab stop follows a query picked elsewhere (heatmap, test hook).
      if (this.query.shown && this.active !== this.query && !this.element.contains(document.activeElement)) {
        if (this.active) this.active.el.tabIndex = -1;
        this.active = this.query;
        this.query.el.tabIndex = 0;
      }
      this.query.el.classList.add('query');
      this.query.el.setAttribute('aria-pressed', 'true');
    }
  }

  /** The picked query's element text. */
  queryText(): string | null {
    return this.query?.text ?? null;
  }
}
