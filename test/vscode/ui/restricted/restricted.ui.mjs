// A restricted (untrusted) workspace, through the real workbench (phase 3 of runTest.mjs: workspace
// trust on, this folder never trusted). The workspace holds a model of its own (my-model/, a copy
// of the bundled classifier's export folder). Loupe must run only its bundled models here: the
// dashboard says why, lists the workspace model as restricted, refuses it when picked with a message
// naming it, and the bundled model still runs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ui } from '../context.mjs';
import { waitFor } from '../workbench.mjs';

const STATUS_ITEM = 'loupe-dev.loupe.loupe.engine';

/** The dashboard's frame: the webview view laid over the side bar. */
function dashboardFrame() {
  return ui.wb.sidebarWebview('main.dashboard');
}

suite('Restricted workspace', function () {
  test('only the bundled models run: the workspace model is refused with the reason', async () => {
    const { wb, workspace } = ui;
    await wb.runCommand('Loupe: Open Dashboard', { timeout: 30_000 });
    const { frame, rect } = await dashboardFrame();
    const notice = await waitFor('the dashboard to say the workspace is restricted', () => frame.evaluate(() => document.querySelector('.notice')?.textContent ?? ''), {
      accept: (t) => /Restricted Mode/.test(t) && /bundled models/.test(t),
      timeout: 30_000,
    });
    assert.match(notice, /Trust the workspace/);
    const options = await waitFor('the workspace model to be listed as restricted', () => frame.locator('.dash-picker vscode-option').allInnerTexts(), {
      accept: (o) => o.some((t) => t.trim() === 'my-model · workspace (restricted)'),
      timeout: 30_000,
    });
    assert.ok(options.some((t) => t.trim() === 'spam-classifier · bundled'), JSON.stringify(options));
    fs.mkdirSync(wb.shotsDir, { recursive: true });
    await wb.page.screenshot({ path: path.join(wb.shotsDir, 'ux-restricted-dashboard.png'), clip: rect });

    // Pick the workspace model, with the keyboard.
    const target = options.map((t) => t.trim()).indexOf('my-model · workspace (restricted)');
    const dd = frame.locator('.dash-picker vscode-dropdown');
    await dd.focus();
    await wb.page.keyboard.press('Home');
    for (let i = 0; i < target; i++) await wb.page.keyboard.press('ArrowDown');
    await wb.page.keyboard.press('Enter');
    const mine = path.join(workspace, 'my-model');
    const toast = await wb.waitForToast('the refusal naming the model', (t) => t.message.includes(mine), { timeout: 20_000 });
    assert.match(toast.message, /was not loaded/);
    assert.match(toast.message, /Restricted Mode/);
    // The current model did not change.
    const task = await waitFor('the dashboard to keep the bundled classifier', () => frame.evaluate(() => document.querySelector('.dash-facts td')?.textContent ?? ''), {
      accept: (t) => /^text-classifier/.test(t),
      timeout: 30_000,
    });
    assert.match(task, /^text-classifier/);
    const selected = await waitFor('the picker to show the bundled classifier again', () => frame.evaluate(() => document.querySelector('.dash-picker vscode-dropdown')?.value ?? ''), {
      accept: (v) => /[\\/]models[\\/]spam-classifier$/.test(v),
      timeout: 10_000,
    });
    assert.ok(!selected.startsWith(workspace), selected);

    // The bundled model still runs.
    await wb.runCommand('View: Show Explorer');
    await wb.openFileInEditor('prompt.txt');
    await wb.runCommand('Loupe: Show Attention');
    await waitFor('the attention of the bundled model', () => wb.statusBarText(STATUS_ITEM), { accept: (s) => /Loupe: ready · spam-classifier/.test(s ?? ''), timeout: 60_000 });
  });
});
