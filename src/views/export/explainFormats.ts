// The explanation's exports. JSON: every method's scores with the model's hash, the method, its
// parameters, the seed and the versions (enough to reproduce it). CSV: one row per token, one
// column per method. HTML: a self-contained report: the text shaded by each method, the methods
// table, the view as drawn (PNG) and the JSON data embedded.

import { METHOD_LABELS, type ExplainOrigin } from '../../protocol/explainViewProtocol';
import type { Explanation, ExplainResult } from '../../protocol/workerProtocol';
import { csvRow, escapeHtml, htmlPage, jsonForHtml, modelJson, pngImg, provenanceHtml, reportShade } from './formats';


/** Scores as JSON numbers: a token a method does not attribute (a special token) is null. */
function scoresOf(e: { scores: number[]; attributed: boolean[] }): (number | null)[] {
  return e.scores.map((s, i) => (e.attributed[i] && Number.isFinite(s) ? s : null));
}

export function explanationJsonValue(r: ExplainResult, origin: ExplainOrigin, exportedAt: string): unknown {
  return {
    format: 'loupe-explanation',
    version: 1,
    exportedAt,
    source: origin.source,
    range: origin.range,
    model: { ...modelJson(r.model), labels: r.model.labels },
    run: r.run,
    explanations: r.explanations.map((e) => ({
      method: e.method,
      parameters: e.parameters,
      seed: e.seed,
      target: e.target,
      text: e.text,
      truncation: e.truncation,
      tokens: e.tokens,
      scores: scoresOf(e),
      completenessGap: e.completenessGap,
      fit: e.fit,
      faithfulness: e.faithfulness,
      words: e.words,
      plannedForwardPasses: e.plannedForwardPasses,
      forwardPasses: e.forwardPasses,
      batchSize: e.batchSize,
      warnings: e.warnings,
      generation: e.generation ? { text: e.generation.text, tokens: e.generation.tokens, steps: e.generation.steps.map((s) => ({ target: s.target, tokens: s.tokens, scores: scoresOf(s) })) } : null,
    })),
  };
}

export function* explanationJson(r: ExplainResult, origin: ExplainOrigin, exportedAt: string): Generator<string> {
  yield JSON.stringify(explanationJsonValue(r, origin, exportedAt), null, 1) + '\n';
}

/** One row per token of the first method's tokenisation (all methods share it), one score column per method. */
export function* explanationCsv(r: ExplainResult): Generator<string> {
  const xs = r.explanations;
  const first = xs[0];
  yield csvRow(['index', 'token', 'start', 'end', 'special', 'text', ...xs.map((x) => x.method)]);
  if (!first) return;
  for (let i = 0; i < first.tokens.length; i++) {
    const t = first.tokens[i]!;
    yield csvRow([i, t.token, t.start, t.end, t.special, t.start >= 0 ? first.text.slice(t.start, t.end) : '', ...xs.map((x) => (x.attributed[i] ? x.scores[i] : null))]);
  }
}

function shadedText(e: Explanation): string {
  let max = 0;
  e.scores.forEach((s, i) => {
    if (e.attributed[i] && Number.isFinite(s)) max = Math.max(max, Math.abs(s));
  });
  let at = 0;
  let out = '';
  e.tokens.forEach((t, i) => {
    if (t.start < 0 || t.start < at) return;
    if (t.start > at) out += escapeHtml(e.text.slice(at, t.start));
    const s = e.scores[i]!;
    const on = e.attributed[i] && max > 0 && Number.isFinite(s) && s !== 0;
    const title = `${t.token}: ${e.attributed[i] ? s.toPrecision(4) : 'not attributed'}`;
    out += `<span class="tok"${on ? ` style="background:${reportShade(s / max)}"` : ''} title="${escapeHtml(title)}">${escapeHtml(e.text.slice(t.start, t.end))}</span>`;
    at = t.end;
  });
  if (at < e.text.length) out += escapeHtml(e.text.slice(at));
  return out;
}

const num = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(4));

export function* explanationHtml(r: ExplainResult, origin: ExplainOrigin, png: Uint8Array | undefined, exportedAt: string): Generator<string> {
  const first = r.explanations[0];
  const t = first?.target;
  const target = t ? `${t.kind}${t.label !== null ? ` “${t.label}”` : t.index !== null ? ` ${t.index}` : ''} · ${t.output} ${num(t.value)}` : '—';
  const sections = r.explanations
    .map((e) => `<h2>${escapeHtml(METHOD_LABELS[e.method])}</h2><p class="muted">parameters ${escapeHtml(JSON.stringify(e.parameters))} · seed ${e.seed} · ${e.forwardPasses} forward passes</p><div class="text">${shadedText(e)}</div>`)
    .join('\n');
  const header = `<tr><th></th>${r.explanations.map((e) => `<th>${escapeHtml(METHOD_LABELS[e.method])}</th>`).join('')}</tr>`;
  const row = (label: string, cell: (e: Explanation) => string): string => `<tr><th>${escapeHtml(label)}</th>${r.explanations.map((e) => `<td class="num">${escapeHtml(cell(e))}</td>`).join('')}</tr>`;
  const table = `<table>${header}${row('Forward passes', (e) => String(e.forwardPasses))}${row('Completeness gap', (e) => num(e.completenessGap))}${row('Comprehensiveness', (e) => num(e.faithfulness?.attribution.comprehensivenessMean))}${row('Sufficiency', (e) => num(e.faithfulness?.attribution.sufficiencyMean))}${row('Fit R²', (e) => num(e.fit?.r2))}</table>`;
  const body = [
    `<h1>Explanation · ${escapeHtml(origin.label)}</h1>`,
    `<p class="muted">Exported ${escapeHtml(exportedAt)} by Loupe · target ${escapeHtml(target)} · ${first?.tokens.length ?? 0} tokens${first?.truncation ? ` (truncated from ${first.truncation.originalTokens})` : ''}</p>`,
    provenanceHtml(r.model.path, r.model.sha256, r.run, [['Source', origin.source]]),
    `<p class="legend"><span style="background:${reportShade(-1)}"></span>lowers the target <span style="background:${reportShade(1)}"></span>raises it (shade normalised per method)</p>`,
    png ? '<h2>As shown in VS Code</h2>' + pngImg(png, `The explanation of ${origin.label} as drawn in VS Code`) : '',
    sections,
    '<h2>Methods compared</h2>',
    table,
    `<script type="application/json" id="loupe-data">${jsonForHtml(explanationJsonValue(r, origin, exportedAt))}</script>`,
  ].join('\n');
  yield htmlPage(`Loupe explanation · ${origin.label}`, body);
}
