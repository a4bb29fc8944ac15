// The one place that knows which UI component library the webviews use. @vscode/webview-ui-toolkit
// is deprecated upstream (January 2025); moving to a maintained library changes only this folder.
// Views get plain HTMLElements and small typed handles (Control), never the library's classes.

import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
  vsCodeRadio,
  vsCodeRadioGroup,
} from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerComponents(): void {
  if (registered) return;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeBadge(),
    vsCodeDivider(),
    vsCodeProgressRing(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeCheckbox(),
    vsCodeRadioGroup(),
    vsCodeRadio(),
  );
  registered = true;
}

export function button(label: string, onClick: () => void, appearance: 'primary' | 'secondary' = 'secondary'): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', appearance);
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

export function badge(text: string): HTMLElement {
  const b = document.createElement('vscode-badge');
  b.textContent = text;
  return b;
}

export function divider(): HTMLElement {
  return document.createElement('vscode-divider');
}

export function progressRing(): HTMLElement {
  return document.createElement('vscode-progress-ring');
}

// ---- form controls ------------------------------------------------------------------------------

export interface Choice {
  value: string;
  label: string;
}

/** A form control: its element (to place in the page) and its value, read and set without events. */
export interface Control<T> {
  readonly element: HTMLElement;
  get(): T;
  /** Sets the value without calling the change handler. */
  set(value: T): void;
  setDisabled(disabled: boolean): void;
}

/** The component's value, whether or not the custom element has been upgraded yet. */
function valueOf(e: HTMLElement): string {
  const v = (e as HTMLElement & { value?: unknown }).value;
  return typeof v === 'string' ? v : (e.getAttribute('value') ?? '');
}

function setDisabledAttr(e: HTMLElement, disabled: boolean): void {
  if (disabled) e.setAttribute('disabled', '');
  else e.removeAttribute('disabled');
  (e as HTMLElement & { disabled?: boolean }).disabled = disabled;
}

/**
 * What the controls share: the value they hold, a user's change reported once through `onChange`,
 * and `set` from the code, which updates the element without echoing back as a change.
 */
function controlled<T>(
  element: HTMLElement,
  input: HTMLElement,
  initial: T,
  onChange: (value: T) => void,
  how: { read: (current: T) => T; write: (value: T) => void; accepts?: (value: T) => boolean },
): Control<T> {
  let current = initial;
  let silent = false;
  input.addEventListener('change', () => {
    if (silent) return;
    const v = how.read(current);
    if (v === current) return;
    current = v;
    onChange(v);
  });
  return {
    element,
    get: () => current,
    set: (v) => {
      if (v === current || (how.accepts && !how.accepts(v))) return;
      current = v;
      silent = true;
      try {
        how.write(v);
      } finally {
        silent = false;
      }
    },
    setDisabled: (d) => setDisabledAttr(input, d),
  };
}

/** A labelled dropdown (<vscode-dropdown>). */
export function dropdown(label: string, choices: readonly Choice[], selected: string, onChange: (value: string) => void): Control<string> {
  const wrap = document.createElement('div');
  wrap.className = 'field';
  const id = `dd-${Math.random().toString(36).slice(2)}`;
  const caption = document.createElement('label');
  caption.htmlFor = id;
  caption.textContent = label;
  const dd = document.createElement('vscode-dropdown');
  dd.id = id;
  dd.setAttribute('aria-label', label);
  for (const c of choices) {
    const o = document.createElement('vscode-option');
    o.setAttribute('value', c.value);
    if (c.value === selected) o.setAttribute('selected', '');
    o.textContent = c.label;
    dd.append(o);
  }
  wrap.append(caption, dd);
  return controlled(wrap, dd, selected, onChange, {
    read: () => valueOf(dd),
    write: (v) => {
      (dd as HTMLElement & { value?: string }).value = v;
      for (const o of Array.from(dd.children)) o.toggleAttribute('selected', o.getAttribute('value') === v);
    },
  });
}

/** A labelled group of radio buttons (<vscode-radio-group>); arrow keys move between them. */
export function radioGroup(label: string, choices: readonly Choice[], selected: string, onChange: (value: string) => void): Control<string> {
  const group = document.createElement('vscode-radio-group');
  const caption = document.createElement('label');
  caption.slot = 'label';
  caption.textContent = label;
  group.append(caption);
  const radios = new Map<string, HTMLElement>();
  for (const c of choices) {
    const r = document.createElement('vscode-radio');
    r.setAttribute('value', c.value);
    if (c.value === selected) r.setAttribute('checked', '');
    r.textContent = c.label;
    radios.set(c.value, r);
    group.append(r);
  }
  return controlled(group, group, selected, onChange, {
    // Radios and the group both send 'change'; the checked radio is the truth.
    read: (current) => {
      let v = current;
      for (const [value, r] of radios) if (value !== current && (r as HTMLElement & { checked?: unknown }).checked === true) v = value;
      return v;
    },
    write: (v) => {
      (group as HTMLElement & { value?: string }).value = v;
      for (const [value, r] of radios) {
        (r as HTMLElement & { checked?: boolean }).checked = value === v;
        r.toggleAttribute('checked', value === v);
      }
    },
    accepts: (v) => radios.has(v),
  });
}

/** A checkbox (<vscode-checkbox>) with its label. */
export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void): Control<boolean> {
  const cb = document.createElement('vscode-checkbox');
  cb.textContent = label;
  if (checked) cb.setAttribute('checked', '');
  return controlled(cb, cb, checked, onChange, {
    read: () => (cb as HTMLElement & { checked?: unknown }).checked === true,
    write: (v) => {
      (cb as HTMLElement & { checked?: boolean }).checked = v;
    },
  });
}
