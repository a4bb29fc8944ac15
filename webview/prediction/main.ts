// The prediction view: the model's answer and the tokens it saw. Keyboard: every token is a
// focusable button; Enter reveals its span in the source file.

import { checkHostToView, type HostToView } from '../../src/protocol/predictionViewProtocol';
import type { NextTokenPrediction, PredictResult, ScoredLabel, TextClassification, TokenSpan } from '../../src/protocol/workerProtocol';
import { badge, button, divider, progressRing, registerComponents } from '../components/toolkit';
import { host } from '../vscodeApi';

registerComponents();
const app = document.getElementById('app')!;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;

function labelRows(labels: ScoredLabel[], predicted: ScoredLabel): HTMLElement {
  const list = el('div', 'labels');
  list.setAttribute('role', 'list');
  for (const l of labels) {
    const row = el('div', l.index === predicted.index ? 'label-row predicted' : 'label-row');
    row.setAttribute('role', 'listitem');
    row.append(el('span', 'label-name', l.label));
    const bar = el('span', 'bar');
    const fill = el('span', 'bar-fill');
    fill.style.width = pct(l.probability);
    bar.append(fill);
    bar.setAttribute('aria-hidden', 'true');
    row.append(bar, el('span', 'label-prob', pct(l.probability)));
    row.title = `logit ${l.logit.toFixed(4)}`;
    list.append(row);
  }
  return list;
}

function tokenStrip(tokens: TokenSpan[]): HTMLElement {
  const strip = el('div', 'tokens');
  strip.setAttribute('aria-label', 'Tokens the model saw');
  for (const t of tokens) {
    const b = el('button', t.special ? 'token special' : 'token', t.token);
    b.title = t.special ? `${t.token} (special token, id ${t.id})` : `id ${t.id}, characters ${t.start}–${t.end}`;
    if (t.start >= 0) b.addEventListener('click', () => host.postMessage({ type: 'reveal', start: t.start, end: t.end }));
    else b.disabled = true;
    strip.append(b);
  }
  return strip;
}

function renderClassification(p: TextClassification): HTMLElement[] {
  return [el('h2', undefined, `${p.predicted.label} · ${pct(p.predicted.probability)}`), labelRows(p.labels, p.predicted)];
}

function renderNextToken(p: NextTokenPrediction): HTMLElement[] {
  const top = p.top[0];
  const out: HTMLElement[] = [el('h2', undefined, top ? `Next token: ${JSON.stringify(top.text)} · ${pct(top.probability)}` : 'Next token')];
  const table = el('table', 'top');
  const head = el('tr');
  head.append(el('th', undefined, 'Token'), el('th', undefined, 'Probability'), el('th', undefined, 'Logit'));
  table.append(head);
  for (const t of p.top) {
    const tr = el('tr');
    tr.append(el('td', 'mono', JSON.stringify(t.text)), el('td', undefined, pct(t.probability)), el('td', undefined, t.logit.toFixed(3)));
    table.append(tr);
  }
  out.push(table);
  if (p.generated) out.push(el('p', undefined, `Continuation: ${p.generated.text}`));
  return out;
}

function render(result: PredictResult): void {
  app.replaceChildren();
  const m = result.model;
  const header = el('header');
  header.append(el('h1', undefined, m.path.split(/[\\/]/).pop() ?? m.path), badge(m.task));
  const meta = el('p', 'muted', `sha256 ${m.sha256.slice(0, 12)}… · opset ${m.opset ?? '?'} · onnxruntime ${result.run.onnxruntimeVersion} · engine ${result.run.engineVersion}`);
  app.append(header, meta);
  for (const p of result.predictions) {
    if (p.kind !== 'tabular' && p.truncation) {
      const note = el('p', 'notice', `The text was truncated: the model saw ${p.truncation.keptTokens} of ${p.truncation.originalTokens} tokens (its maximum is ${p.truncation.maxLength}), the first ${p.truncation.keptChars} characters.`);
      note.setAttribute('role', 'status');
      app.append(note);
    }
    if (p.kind === 'text-classification') app.append(...renderClassification(p));
    else if (p.kind === 'next-token') app.append(...renderNextToken(p));
    if (p.kind !== 'tabular') app.append(divider(), el('h3', undefined, `Tokens (${p.tokens.length})`), tokenStrip(p.tokens));
  }
  app.append(divider(), button('Run again', () => host.postMessage({ type: 'rerun' })));
}

function onMessage(message: HostToView): void {
  if (message.type === 'result') {
    host.setState({ source: message.source });
    render(message.result);
  } else if (message.type === 'busy') {
    app.replaceChildren(progressRing(), el('p', 'muted', message.message));
  } else {
    app.replaceChildren(el('p', 'error', message.message));
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  let message: HostToView;
  try {
    message = checkHostToView(event.data);
  } catch (e) {
    app.replaceChildren(el('p', 'error', `Loupe received a message it does not understand: ${(e as Error).message}`));
    return;
  }
  onMessage(message);
});

host.postMessage({ type: 'ready' });
