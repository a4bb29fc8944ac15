// Runs the UI tests (every *.ui.mjs in this folder, mocha tdd) against a workbench page that is
// already open. Called by test/vscode/runTest.mjs in its second phase; the tests drive the page with
// playwright (see workbench.mjs) and read the shared state from context.mjs.
//
// On a failing test it saves a screenshot (<shotsDir>/failure-<n>-<test>.png) and prints what was
// on screen (tabs, notifications, quick input, status bar, webview text).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Mocha from 'mocha';
import { ui } from './context.mjs';
import { Workbench } from './workbench.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * @param {object} o
 * @param {import('playwright-core').Page} o.page
 * @param {import('playwright-core').BrowserContext} o.context
 * @param {string} o.origin      the workbench's origin (http://127.0.0.1:<port>)
 * @param {string} o.workspace   the folder the workbench has open
 * @param {string} o.shotsDir    screenshots go here
 * @param {string} [o.grep]      only tests whose full title matches this regular expression
 * @param {boolean} [o.bail]
 * @param {string} [o.dir]       the folder of the *.ui.mjs files (default: this one)
 * @returns {Promise<{passed: number, failed: number, pending: number}>}
 */
export async function runUiTests({ page, context, origin, workspace, shotsDir, grep, bail = false, dir = here }) {
  const wb = new Workbench({ page, workspace, shotsDir });
  Object.assign(ui, { wb, context, workspace, shotsDir, origin });
  await wb.waitReady();

  let failures = 0;
  const mocha = new Mocha({
    ui: 'tdd',
    reporter: 'spec',
    color: false,
    timeout: 90_000,
    slow: 4_000, // the spec reporter prints the duration of tests over half of this
    bail,
    rootHooks: {
      async afterEach() {
        const t = this.currentTest;
        if (t?.state !== 'failed') return;
        failures++;
        const slug = t.title.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 60).toLowerCase();
        try {
          const file = await wb.screenshot(`failure-${failures}-${slug}`);
          console.log(`      screenshot of the failure: ${file}`);
        } catch (err) {
          console.log(`      (no screenshot: ${err.message.split('\n')[0]})`);
        }
        const screen = await wb.describeScreen().catch((err) => `(could not describe the screen: ${err.message})`);
        console.log(`      on screen:\n${screen.replace(/^/gm, '        ')}`);
      },
    },
  });
  if (grep) mocha.grep(new RegExp(grep));
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ui.mjs')).sort();
  if (files.length === 0) throw new Error(`no *.ui.mjs files in ${dir}`);
  for (const f of files) mocha.addFile(path.join(dir, f));
  await mocha.loadFilesAsync();

  return new Promise((resolve) => {
    const runner = mocha.run(() => {
      const s = runner.stats ?? {};
      resolve({ passed: s.passes ?? 0, failed: s.failures ?? 0, pending: s.pending ?? 0 });
    });
  });
}
