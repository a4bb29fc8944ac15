// Inline attributions: after an explanation, the source document's tokens get a background by score
// and a hover with the token's score under every method. The backgrounds are theme colours that
// Loupe contributes (package.json contributes.colors: loupe.attribution.positiveBackground1…4 and
// negativeBackground1…4, light/dark/high-contrast defaults that themes and users can override): a
// decoration cannot blend a ThemeColor, so the magnitude is bucketed into four decoration types per
// sign, each with its own colour. High-contrast themes also outline the tokens. They are cleared when the document
// is edited (the offsets no longer hold) and toggled by "Loupe: Toggle Inline Attributions".

import * as vscode from 'vscode';
import type { ExplainResult } from '../protocol/workerProtocol';

const BUCKETS = 4;
/** The contributed colour of bucket b (0-based) of a sign. */
export const attributionColorId = (sign: 'positive' | 'negative', b: number): string => `loupe.attribution.${sign}Background${b + 1}`;

interface Entry {
  result: ExplainResult;
  /** Offset of the explained text in the document (a selection's start), 0 for the whole document. */
  base: number;
  method: string;
}

/** The hover of token i: what is explained, then the token's score under every method (the shaded one in bold). */
function tokenHover(entry: Entry, i: number): vscode.MarkdownString {
  const shown = entry.result.explanations.find((x) => x.method === entry.method)!;
  const t = shown.tokens[i]!;
  const target = shown.target;
  const what = target.label !== null ? `${target.label} (${target.output})` : target.output;
  const hover = new vscode.MarkdownString();
  hover.appendMarkdown(`**Loupe** · token \`${t.token.replace(/`/g, "'")}\` · explaining ${escapeMarkdown(what)}\n\n`);
  hover.appendMarkdown('| method | score |\n|:--|--:|\n');
  for (const x of entry.result.explanations) {
    const v = x.scores[i];
    const name = x.method === entry.method ? `**${x.method}** (shaded)` : x.method;
    hover.appendMarkdown(`| ${name} | ${v === undefined || !x.attributed[i] ? '—' : v.toPrecision(4)} |\n`);
  }
  return hover;
}

const escapeMarkdown = (s: string): string => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);

export class InlineAttributions implements vscode.Disposable {
  private readonly positive: vscode.TextEditorDecorationType[] = [];
  private readonly negative: vscode.TextEditorDecorationType[] = [];
  private readonly entries = new Map<string, Entry>();
  private readonly counts = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];
  enabled = true;

  constructor() {
    const decoration = (sign: 'positive' | 'negative', b: number): vscode.TextEditorDecorationType =>
      vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor(attributionColorId(sign, b)),
        borderColor: new vscode.ThemeColor('loupe.attribution.border'),
        borderStyle: 'solid',
        borderWidth: '1px',
        borderRadius: '2px',
        overviewRulerColor: new vscode.ThemeColor(sign === 'positive' ? 'charts.blue' : 'charts.red'),
        overviewRulerLane: vscode.OverviewRulerLane.Center,
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      });
    for (let b = 0; b < BUCKETS; b++) {
      this.positive.push(decoration('positive', b));
      this.negative.push(decoration('negative', b));
    }
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        const key = e.document.uri.toString();
        if (this.entries.delete(key)) this.apply(key);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => {
        for (const key of this.entries.keys()) this.apply(key);
      }),
    );
  }

  /** Shows `result` (of the text at `base` in `source`) shaded by `method`'s scores. */
  set(source: vscode.Uri, base: number, result: ExplainResult, method?: string): void {
    const key = source.toString();
    const m = method && result.explanations.some((e) => e.method === method) ? method : (result.explanations[0]?.method ?? '');
    this.entries.set(key, { result, base, method: m });
    this.apply(key);
  }

  /** Shades by another method of the result shown (the panel's method selector). */
  setMethod(source: vscode.Uri, method: string): void {
    const key = source.toString();
    const e = this.entries.get(key);
    if (!e || e.method === method) return;
    e.method = method;
    this.apply(key);
  }

  /** Shows or hides every inline attribution; returns whether they are shown. */
  toggle(): boolean {
    this.enabled = !this.enabled;
    for (const key of new Set([...this.entries.keys(), ...this.counts.keys()])) this.apply(key);
    return this.enabled;
  }

  /** Decorations currently set on the editors of `source`. */
  count(source: vscode.Uri): number {
    return this.counts.get(source.toString()) ?? 0;
  }

  private apply(key: string): void {
    const editors = vscode.window.visibleTextEditors.filter((ed) => ed.document.uri.toString() === key);
    const entry = this.enabled ? this.entries.get(key) : undefined;
    const pos: vscode.DecorationOptions[][] = this.positive.map(() => []);
    const neg: vscode.DecorationOptions[][] = this.negative.map(() => []);
    if (entry && editors.length > 0) {
      const doc = editors[0]!.document;
      const shown = entry.result.explanations.find((x) => x.method === entry.method);
      if (shown) {
        let max = 0;
        shown.scores.forEach((s, i) => {
          if (shown.attributed[i] && Number.isFinite(s)) max = Math.max(max, Math.abs(s));
        });
        const length = doc.getText().length;
        shown.tokens.forEach((t, i) => {
          if (!shown.attributed[i] || t.special || t.start < 0 || t.end <= t.start) return;
          const s = shown.scores[i]!;
          if (!Number.isFinite(s) || s === 0 || max === 0) return;
          const start = entry.base + t.start;
          const end = entry.base + t.end;
          if (end > length) return;
          const bucket = Math.min(BUCKETS - 1, Math.floor((Math.abs(s) / max) * BUCKETS));
          const hover = tokenHover(entry, i);
          (s > 0 ? pos : neg)[bucket]!.push({ range: new vscode.Range(doc.positionAt(start), doc.positionAt(end)), hoverMessage: hover });
        });
      }
    }
    let n = 0;
    for (const ed of editors) {
      this.positive.forEach((d, b) => ed.setDecorations(d, pos[b]!));
      this.negative.forEach((d, b) => ed.setDecorations(d, neg[b]!));
    }
    if (editors.length > 0) n = pos.reduce((a, p) => a + p.length, 0) + neg.reduce((a, p) => a + p.length, 0);
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }

  dispose(): void {
    for (const d of [...this.positive, ...this.negative, ...this.disposables]) d.dispose();
    this.entries.clear();
    this.counts.clear();
  }
}
