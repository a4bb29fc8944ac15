// Theme-aware colours for the attention view. Every colour is read at run time from VS Code's theme
// variables (never hard-coded): the weight ramp runs from the editor background to the charts' blue
// (or the focus border), and is checked for contrast so that it reads in light, dark and
// high-contrast themes. A theme change (body class or the variables on <html>) re-reads everything.

export type RGB = readonly [number, number, number];

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  /** Bumped on every theme change: cached images keyed by it go stale. */
  readonly version: number;
  readonly kind: ThemeKind;
  readonly background: RGB;
  readonly foreground: RGB;
  readonly muted: RGB;
  readonly accent: RGB;
  readonly focus: RGB;
  /** The high-contrast border colour, when the theme has one. */
  readonly border: RGB | null;
  readonly fontFamily: string;
  readonly fontSize: number;
  readonly monoFamily: string;
  /** 256 RGBA entries: the colour of a weight t ∈ [0, 1] is entry round(255·t). */
  readonly lut: Uint8ClampedArray;
}

const probe = document.createElement('canvas').getContext('2d', { willReadFrequently: true });

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || getComputedStyle(document.body).getPropertyValue(name).trim();
}

/** Any CSS colour, as RGB composited over `under` (colours with alpha are common in themes). */
function parseColor(css: string, under: RGB | null): RGB | null {
  if (!css || !probe) return null;
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = '#010203';
  probe.fillStyle = css;
  if (probe.fillStyle === '#010203' && css.replace(/\s/g, '').toLowerCase() !== '#010203') return null; // not a colour
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = probe.getImageData(0, 0, 1, 1).data as unknown as [number, number, number, number];
  if (a === 255 || !under) return [r, g, b];
  // getImageData returns un-premultiplied values: blend by hand.
  const k = a / 255;
  return [Math.round(r * k + under[0] * (1 - k)), Math.round(g * k + under[1] * (1 - k)), Math.round(b * k + under[2] * (1 - k))];
}

export function firstColor(names: readonly string[], under: RGB | null): RGB | null {
  for (const n of names) {
    const c = parseColor(cssVar(n), under);
    if (c) return c;
  }
  return null;
}

function channel(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

export function luminance(c: RGB): number {
  return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
}

/** WCAG contrast ratio, 1 to 21. */
export function contrast(a: RGB, b: RGB): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function mix(a: RGB, b: RGB, t: number): RGB {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  return c.contains('vscode-light') ? 'light' : 'dark';
}

let version = 0;

export function readTheme(): Theme {
  const kind = themeKind();
  const dark = kind === 'dark' || kind === 'high-contrast';
  // Last-resort fallbacks only matter outside VS Code (the variables are always set inside it).
  const background = firstColor(['--vscode-editor-background', '--vscode-sideBar-background'], null) ?? (dark ? [30, 30, 30] : [255, 255, 255]);
  const foreground = firstColor(['--vscode-editor-foreground', '--vscode-foreground'], background) ?? (dark ? [220, 220, 220] : [30, 30, 30]);
  const muted = firstColor(['--vscode-descriptionForeground'], background) ?? mix(background, foreground, 0.7);
  const focus = firstColor(['--vscode-focusBorder', '--vscode-contrastActiveBorder'], background) ?? foreground;
  const border = firstColor(['--vscode-contrastBorder'], background);
  let accent = firstColor(['--vscode-charts-blue', '--vscode-focusBorder', '--vscode-textLink-foreground'], background) ?? foreground;
  // The ramp must separate high weights from the background: fall back to the text colour when not.
  if (contrast(accent, background) < 3) accent = contrast(focus, background) >= 3 ? focus : foreground;

  // background → accent over [0, 0.8], then towards the text colour for the peaks: more steps to read.
  const peak = mix(accent, foreground, kind.startsWith('high-contrast') ? 0.3 : 0.5);
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const c = t <= 0.8 ? mix(background, accent, t / 0.8) : mix(accent, peak, (t - 0.8) / 0.2);
    lut[i * 4] = c[0];
    lut[i * 4 + 1] = c[1];
    lut[i * 4 + 2] = c[2];
    lut[i * 4 + 3] = 255;
  }
  const bodyStyle = getComputedStyle(document.body);
  const fontSize = parseFloat(cssVar('--vscode-font-size')) || parseFloat(bodyStyle.fontSize) || 13;
  return {
    version: ++version,
    kind,
    background,
    foreground,
    muted,
    accent,
    focus,
    border,
    fontFamily: cssVar('--vscode-font-family') || bodyStyle.fontFamily || 'sans-serif',
    fontSize,
    monoFamily: cssVar('--vscode-editor-font-family') || 'monospace',
    lut,
  };
}

export function rampColor(theme: Theme, t: number): RGB {
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255))) * 4;
  return [theme.lut[i]!, theme.lut[i + 1]!, theme.lut[i + 2]!];
}

export function css(c: RGB, alpha = 1): string {
  const [r, g, b] = c.map((x) => Math.round(x));
  return alpha >= 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** The theme's text or background colour, whichever reads better on `fill`. */
export function textOn(theme: Theme, fill: RGB): RGB {
  return contrast(theme.foreground, fill) >= contrast(theme.background, fill) ? theme.foreground : theme.background;
}

/** Calls `onChange` after a theme change (VS Code swaps the body class and the variables on <html>). */
export function watchTheme(onChange: () => void): MutationObserver {
  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      onChange();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind', 'data-vscode-theme-id'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return observer;
}
