// The pieces every export format shares: CSV quoting, HTML escaping, the self-contained HTML shell
// (inline style, light and dark by the reader's preference, no script, no network), and the
// provenance block (model hash, method, parameters, seed, versions) that every report carries.

import type { ModelInfo, RunInfo } from '../../protocol/workerProtocol';

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(fields: readonly (string | number | boolean | null | undefined)[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that can sit inside a <script type="application/json"> element. */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The shade of a normalised score t ∈ [-1, 1] on the report's diverging scale (red lowers, blue raises). */
export function reportShade(t: number): string {
  const k = Math.min(1, Math.abs(t)) * 0.65;
  const c = t < 0 ? [220, 50, 47] : [38, 110, 220];
  return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${k.toFixed(3)})`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1f1f1f; --bg: #ffffff; --muted: #616161; --line: #d0d0d0; }
@media (prefers-color-scheme: dark) { :root { --fg: #d4d4d4; --bg: #1e1e1e; --muted: #9d9d9d; --line: #454545; } }
body { font: 14px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.muted { color: var(--muted); }
.text { font-family: ui-monospace, monospace; white-space: pre-wrap; line-height: 1.9; border: 1px solid var(--line); padding: .75rem; }
.tok { border-radius: 3px; padding: 1px 0; }
table { border-collapse: collapse; } th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid var(--line); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { color: var(--muted); } dd { margin: 0; word-break: break-all; }
.legend span { display: inline-block; width: 1.2em; height: 1em; vertical-align: middle; margin: 0 .3em; }
`;

/** A complete, self-contained HTML page: no script runs, nothing is fetched. */
export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="Loupe">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** What every JSON export says of the model: where it is and which one it was (its hash). */
export function modelJson(m: ModelInfo): Pick<ModelInfo, 'path' | 'onnxFile' | 'sha256' | 'task' | 'modelType' | 'architectures'> {
  return { path: m.path, onnxFile: m.onnxFile, sha256: m.sha256, task: m.task, modelType: m.modelType, architectures: m.architectures };
}

/** The provenance of a result, as a definition list. */
export function provenanceHtml(modelPath: string, sha256: string, run: RunInfo, extra: [string, string][] = []): string {
  const rows: [string, string][] = [
    ['Model', modelPath],
    ['Model SHA-256', sha256],
    ['Computed', run.method],
    ['Parameters', JSON.stringify(run.parameters)],
    ['Seed', run.seed === null ? '—' : String(run.seed)],
    ['Versions', `Loupe engine ${run.engineVersion} · ONNX Runtime ${run.onnxruntimeVersion} · tokenizers ${run.tokenizersVersion ?? '—'} · Node ${run.nodeVersion}`],
    ['Batch size · threads', `${run.batchSize} · ${run.threads}`],
    ...extra,
  ];
  return `<dl>${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

export function pngImg(png: Uint8Array | undefined, alt: string): string {
  if (!png) return '';
  return `<p><img alt="${escapeHtml(alt)}" src="data:image/png;base64,${Buffer.from(png).toString('base64')}"></p>`;
}
