// The attention exports. JSON: every map (layer × head × query × key, the head means, rollout, and
// the attention-gradient relevance R and Ā when computed) with the model's hash and the run, streamed
// in pieces. CSV: the head mean of every layer, rollout and relevance R as rows (layer, query, key, weight). HTML: a self-contained report with the heatmap as drawn (PNG),
// the tokens, the provenance, and the head means and rollout embedded as data.

import type { ViewOrigin } from '../../protocol/attentionViewProtocol';
import type { AttentionResult } from '../../protocol/workerProtocol';
import { csvRow, escapeHtml, htmlPage, jsonForHtml, modelJson, pngImg, provenanceHtml } from './formats';

/** The shortest decimal that reads back as the same float32. */
export function float32Text(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return '0';
  for (let p = 6; p < 9; p++) {
    const s = Number(x.toPrecision(p));
    if (Math.fround(s) === x) return String(s);
  }
  return String(Number(x.toPrecision(9)));
}

function matrixRows(data: Float32Array, at: number, m: number): string[] {
  const rows: string[] = [];
  for (let q = 0; q < m; q++) {
    const cells = new Array<string>(m);
    for (let k = 0; k < m; k++) cells[k] = float32Text(data[at + q * m + k]!);
    rows.push(`[${cells.join(',')}]`);
  }
  return rows;
}

/**
 * The JSON export, in pieces (a 12-layer model at 512 tokens has 37 M weights: never one string).
 * attention is [layer][head][query][key], headMean [layer][query][key], rollout [query][key], all
 * over the `shown` tokens.
 */
export function* attentionJson(r: AttentionResult, origin: ViewOrigin, exportedAt: string): Generator<string> {
  const m = r.shown.length;
  const rel = r.relevance && r.relevance.unavailable === null ? r.relevance : null;
  const head = {
    format: 'loupe-attention',
    version: 1,
    exportedAt,
    source: origin.source,
    range: origin.range,
    text: r.text,
    model: { ...modelJson(r.model), maxLength: r.model.maxLength },
    run: r.run,
    tokens: r.tokens,
    truncation: r.truncation,
    hideSpecial: r.hideSpecial,
    shown: r.shown,
    numLayers: r.numLayers,
    numHeads: r.numHeads,
    layers: r.layers,
    heads: r.heads,
    sources: r.sources,
    layout: {
      attention: 'attention[layer][head][query][key]: layer and head are positions in `layers` and `heads`; query and key are positions in `shown`',
      headMean: 'headMean[layer][query][key]: the mean over all heads of each layer',
      rollout: 'rollout[query][key]: attention rollout through all layers',
      ...(rel ? { relevance: 'relevance.matrix[query][key]: R of the attention-gradient relevance (Chefer et al. 2021), identity included; relevance.layerMaps[layer][query][key]: each layer\'s Ā (layer is the model\'s index)' } : {}),
    },
    ...(r.relevance ? { relevanceTarget: r.relevance.target, relevanceRows: r.relevance.rows, relevanceUnavailable: r.relevance.unavailable } : {}),
  };
  const opening = JSON.stringify(head);
  yield opening.slice(0, -1);
  yield ',"attention":[';
  for (let li = 0; li < r.layers.length; li++) {
    yield li ? ',[' : '[';
    for (let hi = 0; hi < r.heads.length; hi++) {
      yield (hi ? ',[' : '[') + matrixRows(r.attention, (li * r.heads.length + hi) * m * m, m).join(',') + ']';
    }
    yield ']';
  }
  yield '],"headMean":[';
  for (let li = 0; li < r.layers.length; li++) yield (li ? ',[' : '[') + matrixRows(r.headMean, li * m * m, m).join(',') + ']';
  yield '],"rollout":[' + matrixRows(r.rollout, 0, m).join(',') + ']';
  if (rel) {
    yield ',"relevance":{"matrix":[' + matrixRows(rel.matrix, 0, m).join(',') + '],"layerMaps":[';
    for (let l = 0; l < r.numLayers; l++) yield (l ? ',[' : '[') + matrixRows(rel.layerMaps, l * m * m, m).join(',') + ']';
    yield ']}';
  }
  yield '}\n';
}

/** Long-format CSV: one row per (matrix, query, key) for each layer's head mean and for rollout. */
export function* attentionCsv(r: AttentionResult): Generator<string> {
  const m = r.shown.length;
  const tok = (k: number): string => r.tokens[r.shown[k]!]!.token;
  yield csvRow(['matrix', 'layer', 'query_index', 'query_token', 'key_index', 'key_token', 'weight']);
  const rows = function* (name: string, layer: number | null, data: Float32Array, at: number): Generator<string> {
    for (let q = 0; q < m; q++) {
      let chunk = '';
      for (let k = 0; k < m; k++) chunk += csvRow([name, layer, r.shown[q]!, tok(q), r.shown[k]!, tok(k), float32Text(data[at + q * m + k]!)]);
      yield chunk;
    }
  };
  for (let li = 0; li < r.layers.length; li++) yield* rows('head-mean', r.layers[li]!, r.headMean, li * m * m);
  yield* rows('rollout', null, r.rollout, 0);
  if (r.relevance && r.relevance.unavailable === null) yield* rows('relevance', null, r.relevance.matrix, 0);
}

function matrixArray(data: Float32Array, at: number, m: number): number[][] {
  return Array.from({ length: m }, (_, q) => Array.from(data.subarray(at + q * m, at + (q + 1) * m), (x) => Number(float32Text(x))));
}

export function* attentionHtml(r: AttentionResult, origin: ViewOrigin, png: Uint8Array | undefined, exportedAt: string): Generator<string> {
  const m = r.shown.length;
  const tokens = r.shown.map((i) => r.tokens[i]!);
  const data = {
    format: 'loupe-attention-report',
    version: 1,
    exportedAt,
    source: origin.source,
    model: { path: r.model.path, sha256: r.model.sha256, task: r.model.task },
    run: r.run,
    tokens,
    layers: r.layers,
    headMean: r.layers.map((_, li) => matrixArray(r.headMean, li * m * m, m)),
    rollout: matrixArray(r.rollout, 0, m),
  };
  const body = [
    `<h1>Attention · ${escapeHtml(origin.label)}</h1>`,
    `<p class="muted">Exported ${escapeHtml(exportedAt)} by Loupe · ${r.numLayers} layers × ${r.numHeads} heads · ${m} tokens shown${r.hideSpecial ? ' (special tokens hidden)' : ''}${r.truncation ? ` · truncated from ${r.truncation.originalTokens} tokens` : ''}</p>`,
    provenanceHtml(r.model.path, r.model.sha256, r.run, [['Source', origin.source]]),
    png ? '<h2>Heatmap as shown in VS Code</h2>' + pngImg(png, `The attention heatmap of ${origin.label} as drawn in VS Code`) : '<p class="muted">The heatmap image could not be read from the view.</p>',
    '<h2>Tokens</h2>',
    `<p class="text">${tokens.map((t, k) => `<span class="tok" title="position ${r.shown[k]}">${escapeHtml(t.token)}</span>`).join(' ')}</p>`,
    '<p class="muted">The head mean of every layer and attention rollout are embedded below as JSON (element <code>#loupe-data</code>); the full per-head maps are in the JSON export.</p>',
    `<script type="application/json" id="loupe-data">${jsonForHtml(data)}</script>`,
  ].join('\n');
  yield htmlPage(`Loupe attention · ${origin.label}`, body);
}
