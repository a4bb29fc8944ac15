// Small DOM helpers of the importance view: element creation and the screen-reader announcer.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const announcer = el('div', 'sr-only');
announcer.setAttribute('aria-live', 'polite');
announcer.setAttribute('role', 'status');
document.body.append(announcer);

/** Says `text` to a screen reader (a polite live region). */
export function announce(text: string): void {
  announcer.textContent = text;
}
