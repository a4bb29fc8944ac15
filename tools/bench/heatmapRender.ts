// `npm run bench`, part 7: the attention view's heatmap render time for a 512-token layer in Chromium.
//
// The real bundle (dist/webview/attention.js) and stylesheet (media/loupe.css) are loaded into a page
// shaped like the webview VS Code makes: a stub acquireVsCodeApi, the same strict CSP, a dark theme's
// variables set on <html> and `vscode-dark` on <body>. The page is sent a `result` message of the
// shape AttentionPanel.showResult posts (checked by the view with checkHostToView), with synthetic
// but valid maps: 512 tokens with character spans, every row softmax-normalised. Then:
//  (a) first draw: from posting the result to the first frame, painted, whose heatmap canvas holds
//      the map (polled once per frame, after the frame's paint, so the check costs nothing);
//  (b) head switch: clicking a head's thumbnail in the overview (what a user does), from the click
//      to the end of the frame that shows it, the click issued at the start of a frame so that no
//      waiting for the next vsync is counted. Twenty heads that were never drawn (the view caches
//      each map's image, so 2 layers × 12 heads are sent, 27 MB), then the same twenty again (cached).
// The view has no timing hook of its own: the message dispatch is bracketed with performance marks
// by a 'message' listener registered before the view's and one registered after it.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../../src/packageRoot';

const CHROMIUM = '/usr/bin/chromium';
const TOKENS = 512;
const NUM_LAYERS = 12;
const NUM_HEADS = 12;
/** The layers sent (the protocol allows a subset): 2 × 12 head maps of 1 MB each. */
const LAYERS = [0, 11];
const SWITCHES = 20;
/** A VS Code window's webview area when the panel has the editor area to itself. */
const VIEWPORT = { width: 1280, height: 800 };

const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** VS Code's Dark Modern theme, as the workbench sets it on the webview's <html> (font variables included). */
const DARK_THEME: Record<string, string> = {
  '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  '--vscode-font-weight': 'normal',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  '--vscode-editor-font-weight': 'normal',
  '--vscode-editor-font-size': '14px',
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-editor-foreground': '#cccccc',
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-disabledForeground': 'rgba(204, 204, 204, 0.5)',
  '--vscode-errorForeground': '#f85149',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-widget-border': '#313131',
  '--vscode-editorWidget-background': '#202020',
  '--vscode-editorWarning-foreground': '#cca700',
  '--vscode-inputValidation-warningBackground': '#352a05',
  '--vscode-editorHoverWidget-background': '#202020',
  '--vscode-editorHoverWidget-foreground': '#cccccc',
  '--vscode-editorHoverWidget-border': '#454545',
  '--vscode-textLink-foreground': '#4daafc',
  '--vscode-sideBar-background': '#181818',
};

/** What the page's helpers return. */
interface FirstDraw {
  /** Posting the result → end of the first painted frame with the heatmap drawn. */
  frameMs: number;
  /** The view's 'message' handler (check + build + draw), from the marks around the dispatch. */
  dispatchMs: number;
  /** Posting the result → end of the frame in which the last overview thumbnail was drawn. */
  overviewMs: number;
}
interface Switch {
  frameMs: number;
  scriptMs: number;
  label: string;
}
interface Probe {
  status: string;
  generation: number;
  layer: number;
  head: number;
  tokens: number;
  bins: number;
  binSize: number;
  width: number;
  height: number;
  nonBlank: number;
  thumbnails: number;
  notices: string[];
}

/**
 * The page's own code (plain JS: it runs in Chromium, before the view's bundle). It stubs
 * acquireVsCodeApi, sets the theme the way VS Code does (through the CSSOM, which the CSP allows),
 * brackets the view's message handler with performance marks, builds the synthetic result in the
 * page (27 MB of Float32Arrays never go through the DevTools protocol) and measures frames.
 */
const PAGE_SCRIPT = String.raw`
(() => {
  const sent = [];
  const waiting = new Map();
  let state;
  window.acquireVsCodeApi = () => ({
    postMessage(m) {
      sent.push(m);
      if (m && m.type === 'probeResult' && waiting.has(m.id)) {
        waiting.get(m.id)(m.probe);
        waiting.delete(m.id);
      }
    },
    getState: () => state,
    setState: (s) => { state = s; },
  });
  for (const [k, v] of Object.entries(__THEME__)) document.documentElement.style.setProperty(k, v);
  document.documentElement.style.setProperty('font-family', 'var(--vscode-font-family)');

  // What the strict CSP blocks (the real webview has the same policy), with where it came from.
  const violations = [];
  document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective + ' at ' + (e.sourceFile || 'the page') + ':' + e.lineNumber + ':' + e.columnNumber + (e.sample ? ' (' + e.sample + ')' : '')));

  // Registered before the view's listener (its bundle loads after this script), and one after it.
  window.addEventListener('message', () => performance.mark('loupe:dispatch-start'));
  document.addEventListener('DOMContentLoaded', () => {
    window.addEventListener('message', () => performance.mark('loupe:dispatch-end'));
  });

  // After the next frame's rendering: a task posted from requestAnimationFrame runs once the frame
  // has been laid out and painted.
  const afterNextFrame = () =>
    new Promise((resolve) =>
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => resolve(performance.now());
        ch.port2.postMessage(null);
      }),
    );

  function mulberry32(seed) {
    let a = seed | 0;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // A result of the shape the engine returns and AttentionPanel.showResult posts.
  let message = null;
  function makeMessage(p) {
    const rand = mulberry32(p.seed);
    const vocab = 'the model reads a long prompt and attends to every token before it answers ; with some heads looking back , others ahead , and many at the separator or the first token'.split(' ');
    const tokens = [{ id: 101, token: '[CLS]', start: -1, end: -1, special: true }];
    let text = '';
    for (let i = 0; i < p.tokens - 2; i++) {
      const w = vocab[Math.floor(rand() * vocab.length)];
      if (i > 0) text += w === ',' || w === ';' ? '' : ' ';
      tokens.push({ id: 1000 + vocab.indexOf(w), token: w, start: text.length, end: text.length + w.length, special: false });
      text += w;
    }
    tokens.push({ id: 102, token: '[SEP]', start: -1, end: -1, special: true });
    const m = tokens.length;
    const mm = m * m;
    const L = p.layers.length;
    const H = p.numHeads;
    const attention = new Float32Array(L * H * mm);
    const headMean = new Float32Array(L * mm);
    const row = new Float64Array(m);
    for (let li = 0; li < L; li++) {
      for (let hi = 0; hi < H; hi++) {
        // Each head its own pattern: a band along a diagonal at some offset and of some width over a
        // noisy floor, and a pull to [CLS]/[SEP].
        const offset = (hi % 5) - 2;
        const width = 1 + ((hi * 7 + li * 3) % 11);
        const sink = (hi % 3) * 1.5;
        for (let q = 0; q < m; q++) {
          let max = -Infinity;
          for (let k = 0; k < m; k++) {
            const x = 1.5 * rand() - Math.min(Math.abs(k - q - offset), 3 * width) / width + (k === 0 ? sink : 0) + (k === m - 1 ? sink / 2 : 0);
            row[k] = x;
            if (x > max) max = x;
          }
          let sum = 0;
          for (let k = 0; k < m; k++) sum += row[k] = Math.exp(row[k] - max);
          const base = ((li * H + hi) * m + q) * m;
          const mean = li * mm + q * m;
          for (let k = 0; k < m; k++) {
            const v = row[k] / sum;
            attention[base + k] = v;
            headMean[mean + k] += v / H;
          }
        }
      }
    }
    // Row-stochastic like the real rollout: half the last layer's mean, half the identity (the residual).
    const rollout = new Float32Array(mm);
    const last = (L - 1) * mm;
    for (let i = 0; i < mm; i++) rollout[i] = 0.5 * headMean[last + i];
    for (let q = 0; q < m; q++) rollout[q * m + q] += 0.5;
    const sha = '5f0c'.repeat(16);
    const result = {
      model: {
        path: '/bench/bert-base-512', format: 'hf-folder', onnxFile: '/bench/bert-base-512/model.onnx', onnxCandidates: ['model.onnx'],
        task: 'text-classifier', taskSource: 'config', inputs: [], outputs: [], labels: ['negative', 'positive'], featureNames: null,
        opset: 14, producer: 'pytorch', sizeBytes: 438000000, sha256: sha, maxLength: 512, modelType: 'bert',
        architectures: ['BertForSequenceClassification'], vocabSize: 30522, externalData: false,
      },
      run: {
        method: 'attention', parameters: { hideSpecial: false }, modelSha256: sha, engineVersion: '0.1.0', onnxruntimeVersion: '1.30.0',
        tokenizersVersion: '0.2.0', nodeVersion: '20.0.0', batchSize: 1, threads: 2, seed: null,
      },
      text,
      tokens,
      truncation: null,
      numLayers: p.numLayers,
      numHeads: p.numHeads,
      layers: p.layers,
      heads: Array.from({ length: H }, (_, i) => i),
      shown: tokens.map((_, i) => i),
      hideSpecial: false,
      attention,
      headMean,
      rollout,
      sources: Array.from({ length: p.numLayers }, (_, i) => '/bert/encoder/layer.' + i + '/attention/self/Softmax'),
    };
    const origin = { source: 'file:///bench/prompt.txt', label: 'prompt.txt', range: null, hideSpecial: false, model: 'model.onnx' };
    message = { type: 'result', origin, generation: 1, result };
    return { tokens: m, text: text.length, megabytes: (attention.byteLength + headMean.byteLength + rollout.byteLength) / 1048576 };
  }

  // Enough pixels unlike the background: the map is on the canvas (not just a caption or nothing).
  function heatmapDrawn() {
    const c = document.querySelector('canvas.heatmap');
    if (!c || c.width === 0 || c.height === 0) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const r = d[0], g = d[1], b = d[2];
    let differ = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) > 6) differ++;
    return differ > 0.1 * c.width * c.height;
  }

  // The overview draws its thumbnails a slice at a time, in order; the last is the rollout.
  function overviewDrawn() {
    const all = document.querySelectorAll('canvas.thumb');
    const t = all[all.length - 1];
    if (!t) return false;
    return t.getContext('2d').getImageData(t.width >> 1, t.height >> 1, 1, 1).data[3] === 255;
  }

  const lastMark = (name) => performance.getEntriesByName(name, 'mark').pop().startTime;

  window.__loupeBench = {
    sent,
    violations,
    ready: () => sent.some((m) => m && m.type === 'ready'),
    makeMessage,
    async firstDraw(generation) {
      message.generation = generation;
      performance.clearMarks();
      const t0 = performance.now();
      window.postMessage(message, '*');
      let frameMs = null;
      let overviewMs = null;
      while (frameMs === null || overviewMs === null) {
        const t = await afterNextFrame();
        if (t - t0 > 20000) {
          const shown = (document.getElementById('app').innerText || '').replace(/\s+/g, ' ').slice(0, 300);
          throw new Error('nothing was drawn within 20 s (' + (frameMs === null ? 'heatmap' : 'overview') + '); the view shows: ' + shown);
        }
        // The previous result's canvas does not count: only once the view has handled this message.
        if (frameMs === null && performance.getEntriesByName('loupe:dispatch-end', 'mark').length > 0 && heatmapDrawn()) frameMs = t - t0;
        if (frameMs !== null && overviewDrawn()) overviewMs = t - t0;
      }
      return { frameMs, overviewMs, dispatchMs: lastMark('loupe:dispatch-end') - lastMark('loupe:dispatch-start') };
    },
    switchTo(label) {
      return new Promise((resolve, reject) =>
        requestAnimationFrame(() => {
          const thumb = Array.from(document.querySelectorAll('canvas.thumb')).find((t) => t.getAttribute('aria-label') === label);
          if (!thumb) return reject(new Error('no thumbnail labelled ' + label));
          const t0 = performance.now();
          thumb.click();
          const t1 = performance.now();
          const ch = new MessageChannel();
          ch.port1.onmessage = () =>
            resolve({ frameMs: performance.now() - t0, scriptMs: t1 - t0, label: document.querySelector('canvas.heatmap').getAttribute('aria-label') || '' });
          ch.port2.postMessage(null);
        }),
      );
    },
    // The host's probe message (what the integration tests read): the view's state and a digest.
    probe(id) {
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        window.postMessage({ type: 'probe', id, png: false }, '*');
      });
    },
  };
})();
`;

function pageHtml(root: string, nonce: string): string {
  const href = (p: string): string => pathToFileURL(path.join(root, p)).href;
  // The CSP of src/views/webviewHtml.ts, with file: standing for the webview's resource origin.
  const csp = ["default-src 'none'", 'img-src file: data:', `style-src file: 'nonce-${nonce}'`, 'font-src file:', `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${href('media/loupe.css')}">
<title>Loupe attention</title>
<script nonce="${nonce}">${PAGE_SCRIPT.replace('__THEME__', JSON.stringify(DARK_THEME))}</script>
</head>
<body class="vscode-dark" data-vscode-theme-kind="vscode-dark" data-vscode-theme-id="Default Dark Modern">
<main id="app" aria-live="polite"><p class="muted">Loading…</p></main>
<script nonce="${nonce}" src="${href('dist/webview/attention.js')}"></script>
</body>
</html>`;
}

/** Evaluates an expression of the page's helpers (a string, so bundling never renames what runs in the page). */
function call<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

export async function benchHeatmapRender(): Promise<void> {
  const root = packageRoot();
  const bundle = path.join(root, 'dist', 'webview', 'attention.js');
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`heatmap render, ${TOKENS} tokens: skipped (${CHROMIUM} is not installed)`);
    return;
  }
  if (!fs.existsSync(bundle)) {
    console.log(`heatmap render, ${TOKENS} tokens: skipped (${path.relative(process.cwd(), bundle)} is missing: run npm run build)`);
    return;
  }
  // Loaded at run time from node_modules (a devDependency; its own files are found relative to it, so it is not bundled).
  let chromium: typeof import('playwright-core').chromium;
  try {
    chromium = (createRequire(path.join(root, 'package.json'))('playwright-core') as typeof import('playwright-core')).chromium;
  } catch {
    console.log(`heatmap render, ${TOKENS} tokens: skipped (playwright-core is not installed: npm ci)`);
    return;
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-heatmap-'));
  let browser: Browser | null = null;
  try {
    const html = path.join(dir, 'attention.html');
    fs.writeFileSync(html, pageHtml(root, Math.random().toString(36).slice(2)));
    fs.mkdirSync(path.join(dir, 'tmp'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Chromium's crash reports and temporary files go to the bench's folder, removed below.
      env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'xdg-config'), TMPDIR: path.join(dir, 'tmp') },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      // CSP reports are collected in the page (securitypolicyviolation, with their line) and printed as a note.
      if (m.type() === 'error' && !/Content Security Policy/.test(m.text())) pageErrors.push(m.text());
    });
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction('window.__loupeBench && window.__loupeBench.ready()', undefined, { timeout: 30_000 });

    const made = await call<{ tokens: number; megabytes: number }>(
      page,
      `window.__loupeBench.makeMessage(${JSON.stringify({ tokens: TOKENS, numLayers: NUM_LAYERS, numHeads: NUM_HEADS, layers: LAYERS, seed: 7 })})`,
    );

    // (a) First draw: a fresh page, then the same result posted again five times ("Run again").
    const first = await call<FirstDraw>(page, 'window.__loupeBench.firstDraw(1)');
    const again: FirstDraw[] = [];
    for (let g = 2; g <= 6; g++) again.push(await call<FirstDraw>(page, `window.__loupeBench.firstDraw(${g})`));
    let probeId = 1;
    const drawn = await call<Probe>(page, `window.__loupeBench.probe(${probeId++})`);
    const expectedThumbs = LAYERS.length * (NUM_HEADS + 1) + 1;
    if (drawn.status !== 'drawn' || drawn.generation !== 6 || drawn.tokens !== made.tokens || drawn.nonBlank === 0 || drawn.thumbnails !== expectedThumbs) {
      throw new Error(`the view did not draw the result: ${JSON.stringify(drawn)}${pageErrors.length ? `; page errors: ${pageErrors.join(' | ')}` : ''}`);
    }

    // (b) Head switches, through the overview's thumbnails: twenty heads never drawn, then the same again.
    const order: { layer: number; head: number }[] = [];
    for (const layer of LAYERS) for (let head = 0; head < NUM_HEADS; head++) if (!(layer === drawn.layer && head === drawn.head)) order.push({ layer, head });
    const targets = order.slice(0, SWITCHES);
    const pass = async (): Promise<Switch[]> => {
      const out: Switch[] = [];
      for (const t of targets) {
        const s = await call<Switch>(page, `window.__loupeBench.switchTo(${JSON.stringify(`Layer ${t.layer}, head ${t.head}`)})`);
        if (!s.label.startsWith(`Layer ${t.layer} · head ${t.head} `)) throw new Error(`clicking layer ${t.layer} head ${t.head} showed «${s.label}»`);
        out.push(s);
      }
      return out;
    };
    const cold = await pass();
    const warm = await pass();
    const after = await call<Probe>(page, `window.__loupeBench.probe(${probeId++})`);
    const lastTarget = targets[targets.length - 1]!;
    if (after.layer !== lastTarget.layer || after.head !== lastTarget.head || after.nonBlank === 0) throw new Error(`the view is not showing the last head clicked: ${JSON.stringify(after)}`);
    if (pageErrors.length) throw new Error(`the page reported errors: ${pageErrors.join(' | ')}`);

    const version = browser.version();
    const layout = after.binSize > 1 ? `${after.bins}×${after.bins} bins of ${after.binSize} tokens` : `${after.bins}×${after.bins} cells`;
    console.log(
      `heatmap render, ${made.tokens} tokens, first draw: ${fmt(first.frameMs)} ms; head switch: median ${fmt(median(cold.map((s) => s.frameMs)))} ms (Chromium ${version})`,
    );
    console.log(
      `  first draw: view's message handler ${fmt(first.dispatchMs)} ms of it; posted again ×${again.length}: median ${fmt(median(again.map((a) => a.frameMs)))} ms; all ${expectedThumbs} overview thumbnails after ${fmt(first.overviewMs)} ms`,
    );
    console.log(
      `  head switch (click → painted frame, ${SWITCHES} heads never drawn): median ${fmt(median(cold.map((s) => s.frameMs)))} ms, max ${fmt(Math.max(...cold.map((s) => s.frameMs)))} ms (script ${fmt(median(cold.map((s) => s.scriptMs)))} ms); same heads again, cached: median ${fmt(median(warm.map((s) => s.frameMs)))} ms`,
    );
    console.log(
      `  ${LAYERS.length} layers × ${NUM_HEADS} heads sent (${fmt(made.megabytes, 0)} MB of maps), viewport ${VIEWPORT.width}×${VIEWPORT.height} at 1×, canvas ${after.width}×${after.height}, ${layout}, headless --disable-gpu`,
    );
    const violations = await call<string[]>(page, 'window.__loupeBench.violations');
    if (violations.length) console.log(`  note: the webview's CSP blocked ${violations.length} inline style(s) in the bundle: ${[...new Set(violations)].join(', ')}`);
  } catch (e) {
    console.log(`heatmap render, ${TOKENS} tokens: failed: ${(e as Error).message}`);
    process.exitCode = 1;
  } finally {
    await browser?.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
