// A view's screen-reader announcements: the shell's main region stops being live (a redraw would be
// read out whole) and a hidden status region says what changed instead.

/** Makes `app` quiet and returns the function that announces `text`. */
export function createAnnouncer(app: HTMLElement): (text: string) => void {
  app.setAttribute('aria-live', 'off');
  const region = document.createElement('div');
  region.className = 'sr-only';
  region.setAttribute('aria-live', 'polite');
  region.setAttribute('role', 'status');
  document.body.append(region);
  return (text) => {
    region.textContent = text;
  };
}
