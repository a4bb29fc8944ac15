// What the UI tests share with their runner (index.mjs fills it in before the test files load).
export const ui = {
  /** @type {import('./workbench.mjs').Workbench} */
  wb: null,
  /** @type {import('playwright-core').BrowserContext} */
  context: null,
  /** Absolute path of the workspace folder the workbench has open (a temp copy). */
  workspace: null,
  /** Where screenshots go (theme shots, failure shots). */
  shotsDir: null,
  /** The workbench's origin (for clipboard permissions). */
  origin: null,
};
