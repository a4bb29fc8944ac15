// Small DOM helpers of the importance view: element creation (the shared one) and the screen-reader announcer.

import { el } from '../components/el';

export { el };

const announcer = el('div', 'sr-only');
announcer.setAttribute('aria-live', 'polite');
announcer.setAttribute('role', 'status');
document.body.append(announcer);

/** Says `text` to a screen reader (a polite live region). */
export function announce(text: string): void {
  announcer.textContent = text;
}
