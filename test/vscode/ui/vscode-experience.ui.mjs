// UI tests of the VS Code experience (issue #7), through the real workbench as a user would: the
// command palette opens the attention panel with a drawn heatmap; the Loupe dashboard in the side bar
// lists the bundled models and a model picked there is the one the next run uses; Cancel on a long
// run's progress notification stops it and the engine is ready again; Restart Engine; Clear Model
// Cache (its question, and the copies written again); Export Result
// through the save dialog (and no replacing without asking); the panels are restored after a reload.
// Screenshots go to the artifacts folder (ux-*.png).
//
// This file sorts after loupe.ui.mjs on purpose: picking a model in the dashboard is kept in
// workspaceState and would win over the loupe.defaultModel setting those tests steer by.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ui } from './context.mjs';
import { waitFor } from './workbench.mjs';

const PROMPT = 'prompt.txt';
const STATUS_ITEM = 'loupe-dev.loupe.loupe.engine';

async function shot(name, clip) {
  fs.mkdirSync(ui.wb.shotsDir, { recursive: true });
  const file = path.join(ui.wb.shotsDir, `ux-${name}.png`);
  await ui.wb.page.screenshot({ path: file, ...(clip ? { clip } : {}) });
  console.log(`      screenshot: ${file}`);
}

/** The dashboard's frame: the webview view laid over the side bar. */
function dashboardFrame() {
  return ui.wb.sidebarWebview('main.dashboard');
}

async function dashboardFacts(frame) {
  return frame.evaluate(() => Object.fromEntries([...document.querySelectorAll('.dash-facts tr')].map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? ''])));
}

/** Distinct colours in the heatmap canvas (a blank canvas has one). */
async function heatmapColours(frame) {
  return frame.evaluate(() => {
    const c = document.querySelector('canvas.heatmap');
    if (!c || c.width === 0) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  });
}

/** What the attention view shows: its mode note, whether the heatmap or the relevance status is visible, and a hash of the canvas. */
async function attentionShown(frame) {
  return frame.evaluate(() => {
    const c = document.querySelector('canvas.heatmap');
    const wrap = document.querySelector('.heat-wrap');
    const box = document.querySelector('.relevance-status');
    let hash = 0;
    if (c && c.width > 0) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4 * 5) hash = (Math.imul(hash, 31) + ((d[i] << 16) | (d[i + 1] << 8) | d[i + 2])) | 0;
    }
    return {
      note: document.querySelector('.heat-section p.muted')?.textContent ?? '',
      heatmap: !!wrap && !wrap.hidden,
      status: box && !box.hidden ? box.textContent ?? '' : null,
      hash,
    };
  });
}

/** Picks a model in the dashboard's dropdown with the keyboard, as a user would: open it, arrow to the option, Enter. */
async function pickModel(frame, label) {
  const options = (await frame.locator('.dash-picker vscode-option').allInnerTexts()).map((t) => t.trim());
  const target = options.indexOf(label);
  assert.ok(target >= 0, `no option '${label}' in ${JSON.stringify(options)}`);
  const dd = frame.locator('.dash-picker vscode-dropdown');
  await dd.focus();
  const page = ui.wb.page;
  await page.keyboard.press('Home');
  for (let i = 0; i < target; i++) await page.keyboard.press('ArrowDown');
  await waitFor(`the dropdown to show '${label}'`, () => dd.evaluate((e) => e.value), { accept: (v) => typeof v === 'string' && v.length > 0, timeout: 5_000 });
  await page.keyboard.press('Enter');
}

async function showExplorer() {
  const { wb } = ui;
  if (await wb.explorerRow(PROMPT).isVisible().catch(() => false)) return;
  await wb.runCommand('View: Show Explorer');
  await wb.explorerRow(PROMPT).waitFor({ state: 'visible', timeout: 10_000 });
}

async function shadedTokens(frame) {
  return frame.evaluate(() => [...document.querySelectorAll('.explain-token')].filter((t) => t.style.backgroundColor !== '').length);
}

async function openAttentionFromPalette() {
  const { wb } = ui;
  await wb.openFileInEditor(PROMPT);
  await wb.runCommand('Loupe: Show Attention');
  return waitFor(
    'the attention panel to draw its heatmap',
    async () => {
      const { frame, group } = await wb.webview(`Attention: ${PROMPT}`, { timeout: 3_000 });
      return { frame, group, colours: await heatmapColours(frame), title: await frame.evaluate(() => document.querySelector('h1')?.textContent ?? '') };
    },
    { timeout: 60_000, accept: (v) => v.colours > 10 },
  );
}

suite('The VS Code experience: dashboard, palette, cancel, restart, reload', function () {
  // Compare Methods runs five methods; on a loaded machine that takes a while.
  this.timeout(180_000);
  setup(async () => {
    await ui.wb.dismiss();
    await ui.wb.clearNotifications();
    await showExplorer();
  });

  test('command palette: "Loupe: Show Attention" opens the attention panel with a drawn heatmap; picking Relevance draws it', async () => {
    await ui.wb.closeAllEditors();
    const { frame, group, colours } = await openAttentionFromPalette();
    assert.ok(colours > 10, `the heatmap has ${colours} colours`);
    await shot('attention-palette', group.rect);

    // The relevance is computed when its mode is picked: click it, as a user, and see it drawn.
    const before = await attentionShown(frame);
    assert.ok(before.heatmap && before.status === null, JSON.stringify(before));
    await frame.locator('vscode-radio', { hasText: 'Relevance (attention × gradient)' }).click();
    const drawn = await waitFor('the relevance map to be drawn', () => attentionShown(frame), {
      timeout: 60_000,
      accept: (v) => v.heatmap && v.status === null && /^Relevance \(Chefer/.test(v.note) && v.hash !== before.hash,
    });
    assert.match(drawn.note, /of the class «/);
    assert.ok((await heatmapColours(frame)) > 10, 'the relevance map is blank');
    await shot('attention-relevance', group.rect);
    // Its progress notification (with Cancel) closes once it is drawn.
    await waitFor('the relevance progress notification to close', async () => (await ui.wb.toasts()).filter((t) => /attention-gradient relevance/.test(t.message)).length, {
      timeout: 15_000,
      accept: (n) => n === 0,
    });
    await frame.locator('vscode-radio', { hasText: 'Single head' }).click();
  });

  test('dashboard: lists the bundled models; the model picked there is the one the next run uses', async () => {
    const { wb } = ui;
    await wb.runCommand('Loupe: Open Dashboard');
    const { frame, rect } = await dashboardFrame();
    const options = await waitFor('the model picker to list the bundled models', () => frame.locator('.dash-picker vscode-option').allInnerTexts(), {
      accept: (o) => ['spam-classifier', 'moby-lm', 'breast-cancer'].every((n) => o.some((t) => t.trim() === `${n} · bundled`)),
      timeout: 30_000,
    });
    assert.ok(options.length >= 3, JSON.stringify(options));
    const facts = await waitFor('the facts of the current model', () => dashboardFacts(frame), { accept: (f) => /^text-classifier/.test(f.Task ?? ''), timeout: 30_000 });
    assert.match(facts['SHA-256'], /^[0-9a-f]{64}$/);
    assert.match(facts.Attention, /^readable/);
    assert.ok((await frame.locator('.dash-budgets tr[data-method]').count()) === 10, 'the ten attribution methods with their forward passes');
    await shot('dashboard', rect);

    // Pick the bundled LM in the view, as a user: open the dropdown, click the option.
    await pickModel(frame, 'moby-lm · bundled');
    await waitFor('the dashboard to describe moby-lm', () => dashboardFacts(frame), { accept: (f) => /^causal-lm/.test(f.Task ?? ''), timeout: 30_000 });
    await waitFor('the status bar to name moby-lm', () => wb.statusBarText(STATUS_ITEM), { accept: (s) => /moby-lm/.test(s ?? '') });
    try {
      await wb.closeAllEditors();
      await showExplorer();
      const { title } = await openAttentionFromPalette();
      assert.equal(title, 'Attention · moby-lm', 'the next run did not use the model picked in the dashboard');
    } finally {
      await wb.runCommand('Loupe: Open Dashboard');
      const again = await dashboardFrame();
      await pickModel(again.frame, 'spam-classifier · bundled');
      await waitFor('the dashboard to describe spam-classifier', () => dashboardFacts(again.frame), { accept: (f) => /^text-classifier/.test(f.Task ?? ''), timeout: 30_000 });
      await showExplorer();
    }
  });

  test('Cancel on a long run stops it, and the engine is ready again', async () => {
    const { wb } = ui;
    await wb.closeAllEditors();
    // LIME with the most samples the setting allows: far longer than it takes to press Cancel.
    await wb.setWorkspaceSettings({ 'loupe.explain.samples': 100000 });
    try {
      await wb.openFileInEditor(PROMPT);
      await wb.runCommand('Loupe: Compare Methods');
      const toast = await wb.waitForToast('the progress notification of the run', (t) => /^Loupe: explaining/.test(t.message) && t.buttons.includes('Cancel'), { timeout: 30_000 });
      assert.ok(toast.buttons.includes('Cancel'));
      await wb.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: /^Cancel$/ }).first().click();
      await waitFor('the panel to say the run was cancelled', async () => {
        const { frame } = await wb.webview(`Explanation: ${PROMPT}`, { timeout: 2_000 });
        return frame.evaluate(() => document.querySelector('.error')?.textContent ?? '');
      }, { accept: (t) => /^Cancelled/.test(t), timeout: 20_000 });
      await waitFor('the engine to be ready again', () => wb.statusBarText(STATUS_ITEM), { accept: (s) => /Loupe: ready/.test(s ?? ''), timeout: 30_000 });
      const { group } = await wb.webview(`Explanation: ${PROMPT}`);
      await shot('cancelled', group.rect);
    } finally {
      // Back to the default samples: the open panel follows the setting and runs again.
      await wb.setWorkspaceSettings({});
    }
    const shaded = await waitFor('the explanation to be drawn again with the default samples', async () => {
      const { frame } = await wb.webview(`Explanation: ${PROMPT}`, { timeout: 2_000 });
      return shadedTokens(frame);
    }, { accept: (n) => n > 0, timeout: 90_000 });
    assert.ok(shaded > 0);
  });

  test('Restart Engine: the engine stops, and the next run starts it again', async () => {
    const { wb } = ui;
    await wb.runCommand('Loupe: Restart Engine');
    await wb.waitForToast('the restart confirmation', (t) => /the engine was restarted/.test(t.message));
    const stopped = await wb.statusBarText(STATUS_ITEM);
    assert.doesNotMatch(stopped ?? '', /ready|working|starting/, `status bar after the restart: ${stopped}`);
    await wb.closeAllEditors();
    const { colours } = await openAttentionFromPalette();
    assert.ok(colours > 10);
    await waitFor('the engine to be ready', () => wb.statusBarText(STATUS_ITEM), { accept: (s) => /Loupe: ready/.test(s ?? '') });
  });

  test('Clear Model Cache: asks with the size and folder, deletes the copies on "Delete"; Show Attention writes them again', async () => {
    const { wb } = ui;
    await wb.clearNotifications();
    await wb.runCommand('Loupe: Clear Model Cache');
    const question = await waitFor('the question before deleting', () => wb.page.locator('.monaco-dialog-box').innerText().catch(() => ''), {
      accept: (t) => /Delete Loupe's model cache/.test(t),
    });
    await shot('clear-cache-question');
    assert.match(question, /\(\d+(\.\d)? (KB|MB)\)/, `no size in: ${question}`);
    const dir = /files? in (.+?): copies of models/.exec(question)?.[1];
    assert.ok(dir && fs.existsSync(dir), `no cache folder named in: ${question}`);
    await wb.page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Delete$/ }).first().click();
    await wb.waitForToast('the deletion confirmation', (t) => /deleted the model cache/.test(t.message));
    assert.ok(!fs.existsSync(dir), `${dir} is still there`);
    await wb.closeAllEditors();
    const { colours } = await openAttentionFromPalette();
    assert.ok(colours > 10, `the heatmap has ${colours} colours`);
    assert.ok(fs.existsSync(dir), 'the attention copy was not written again');
  });

  test('Export Result: pick JSON, accept the save dialog; the file opens; an existing file is not replaced without asking', async () => {
    const { wb } = ui;
    await wb.closeAllEditors();
    await wb.openFileInEditor(PROMPT);
    await wb.runCommand('Loupe: Compare Methods');
    await waitFor('the explanation to be drawn', async () => shadedTokens((await wb.webview(`Explanation: ${PROMPT}`, { timeout: 3_000 })).frame), { accept: (n) => n > 0, timeout: 90_000 });
    const target = path.join(ui.workspace, 'prompt.explanation.json');
    fs.rmSync(target, { force: true });
    const input = wb.quickInput().locator('.quick-input-box input').first();
    const exportJson = async () => {
      await wb.runCommand('Loupe: Export Result');
      await waitFor('the format quick pick', () => wb.quickInput().locator('.monaco-list-row .label-name').allInnerTexts(), { accept: (r) => r.includes('JSON') });
      await input.fill('JSON');
      await wb.page.keyboard.press('Enter');
      // The save dialog (VS Code's own, in a quick input here) opens at the default place beside the prompt.
      await waitFor('the save dialog at prompt.explanation.json', () => input.inputValue().catch(() => ''), { accept: (v) => v.endsWith('prompt.explanation.json') });
      await wb.page.keyboard.press('Enter');
    };
    await exportJson();
    await waitFor('the JSON export to be written', () => fs.existsSync(target), { timeout: 30_000 });
    const j = JSON.parse(fs.readFileSync(target, 'utf8'));
    assert.equal(j.format, 'loupe-explanation');
    // The perturbation methods, then the gradient methods the bundled classifier has exact gradients for.
    assert.deepEqual(j.explanations.map((e) => e.method), ['occlusion', 'lime', 'kernelshap', 'gradxinput', 'ig']);
    assert.deepEqual(j.explanations.slice(3).map((e) => e.parameters.gradients), ['exact', 'exact']);
    assert.match(j.model.sha256, /^[0-9a-f]{64}$/);
    fs.writeFileSync(target, 'keep me\n');
    await wb.clearNotifications();
    await exportJson();
    // Asked before replacing (the dialog's question or Loupe's): say no.
    const asked = await waitFor(
      'a question before replacing the file',
      async () => {
        const modal = await wb.page.locator('.monaco-dialog-box').innerText().catch(() => '');
        if (/already exists/i.test(modal)) return 'modal';
        const qi = await wb.quickInput().innerText().catch(() => '');
        return /already exists/i.test(qi) ? 'quick input' : null;
      },
      { timeout: 15_000 },
    );
    await wb.page.keyboard.press('Escape');
    if (asked === 'quick input') await wb.dismiss();
    await waitFor('the question to close', async () => (await wb.page.locator('.monaco-dialog-box').count()) === 0, { timeout: 5_000 }).catch(() => {});
    await wb.dismiss();
    assert.equal(fs.readFileSync(target, 'utf8'), 'keep me\n', 'the file was replaced without a yes');
    fs.rmSync(target, { force: true });
  });

  test('the panels are restored after a reload of the window', async () => {
    const { wb } = ui;
    // An explanation panel beside the prompt (Compare Methods asks no question).
    await wb.closeAllEditors();
    await wb.openFileInEditor(PROMPT);
    await wb.runCommand('Loupe: Compare Methods');
    await waitFor('the explanation to be drawn', async () => shadedTokens((await wb.webview(`Explanation: ${PROMPT}`, { timeout: 3_000 })).frame), { accept: (n) => n > 0, timeout: 90_000 });

    // As a user reloads: the command shuts the workbench down properly (state saved), then reloads the page.
    const navigated = wb.page.waitForNavigation({ timeout: 60_000 });
    await wb.runCommand('Developer: Reload Window');
    await navigated;
    await wb.waitReady();
    const shaded = await waitFor('the restored explanation panel to draw its shaded text again', async () => {
      const { frame } = await wb.webview(`Explanation: ${PROMPT}`, { timeout: 3_000 });
      return shadedTokens(frame);
    }, { accept: (n) => n > 0, timeout: 120_000 });
    assert.ok(shaded > 0);
    const { group } = await wb.webview(`Explanation: ${PROMPT}`);
    await shot('restored', group.rect);
  });
});
