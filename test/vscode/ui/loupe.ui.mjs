// UI tests: Loupe used AS A USER WOULD, through the real VS Code workbench (code-server in headless
// chromium, the extension installed from the .vsix): explorer context menu, command palette, the
// prediction webview, the keyboard, themes, notifications and settings.
//
// Run by test/vscode/runTest.mjs after the extension-host suite (phase 2, a fresh code-server without
// the smoke-test driver, so notifications show as toasts as they do for users). The tests run in
// this order and some build on the state the previous one left (an open panel); each one that needs
// such state re-creates it when it is missing, so --ui-grep can pick single tests.
//
// Order matters for one thing: "Loupe: Select Model" stores the picked model in workspaceState, and
// that pick wins over the loupe.defaultModel setting for the rest of the session (src/modelSelection.ts).
// So the Select Model test runs LAST; the tests before it steer the model through the setting.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ui } from './context.mjs';
import { contrastRatio, tabMatches, waitFor } from './workbench.mjs';

const SPAM_FILE = 'prompt.txt';
const HAM_FILE = 'ham.txt';
const STATUS_ITEM = 'loupe-dev.loupe.loupe.engine';
const panelTitle = (file) => `Loupe: ${file}`;
const prediction = (label) => new RegExp(`^${label} · \\d+(\\.\\d+)?%$`);


async function labelRows(frame) {
  return frame.evaluate(() =>
    [...document.querySelectorAll('.label-row')].map((r) => ({
      name: r.querySelector('.label-name')?.textContent ?? '',
      prob: r.querySelector('.label-prob')?.textContent ?? '',
      predicted: r.classList.contains('predicted'),
    })),
  );
}

function checkLabelRows(rows, expected) {
  assert.deepEqual(rows.map((r) => r.name).sort(), ['ham', 'spam'], `label rows: ${JSON.stringify(rows)}`);
  const predicted = rows.filter((r) => r.predicted);
  assert.equal(predicted.length, 1, `exactly one row should be marked predicted: ${JSON.stringify(rows)}`);
  assert.equal(predicted[0].name, expected, `the highlighted row: ${JSON.stringify(rows)}`);
  const sum = rows.reduce((s, r) => s + Number.parseFloat(r.prob), 0);
  assert.ok(Math.abs(sum - 100) <= 0.2, `probabilities shown add up to ${sum}%: ${JSON.stringify(rows)}`);
}

async function tokenButtons(frame) {
  return frame.evaluate(() => [...document.querySelectorAll('button.token')].map((b) => ({ text: b.textContent ?? '', title: b.title, disabled: b.disabled })));
}

function charRange(title) {
  const m = /characters (\d+)–(\d+)/.exec(title);
  assert.ok(m, `token title does not give its characters: ${title}`);
  return { start: Number(m[1]), end: Number(m[2]) };
}

/** The source open in one group and its prediction panel in another, both visible (else: make it so). */
async function ensureSourceAndPanel(file, label) {
  const { wb } = ui;
  const groups = await wb.groups();
  const src = groups.find((g) => g.activeTab && tabMatches(g.activeTab, file));
  const panel = groups.find((g) => g.activeTab && tabMatches(g.activeTab, panelTitle(file)));
  if (src && panel && src.index !== panel.index) return;
  await wb.closeAllEditors();
  await wb.openFileInEditor(file);
  await wb.runCommand('Loupe: Predict');
  await wb.waitForPrediction(panelTitle(file), prediction(label));
}

/** The selection in the status bar: "Ln 1, Col 15 (6 selected)". */
async function waitForSelection(what) {
  const text = await waitFor(`the status bar to show ${what}`, () => ui.wb.statusBarText('status.editor.selection'), {
    accept: (v) => /\(\d+ selected\)/.test(v ?? ''),
  });
  const m = /Ln (\d+), Col (\d+) \((\d+) selected\)/.exec(text);
  assert.ok(m, `unexpected selection status: ${text}`);
  return { line: Number(m[1]), col: Number(m[2]), selected: Number(m[3]), text };
}

async function readClipboardAfterCopy() {
  const { page } = ui.wb;
  await ui.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ui.origin });
  await page.evaluate(() => navigator.clipboard.writeText(''));
  await page.keyboard.press('Control+C');
  return waitFor('the copied text on the clipboard', () => page.evaluate(() => navigator.clipboard.readText()), { accept: (v) => v.length > 0, timeout: 5_000 });
}

suite('Loupe through the workbench UI', function () {
  suiteSetup(async function () {
    // Fail fast (one failure, not one per test) when the extension is not in this workbench at all.
    this.timeout(60_000);
    try {
      await ui.wb.runCommand('Loupe: Show Log', { timeout: 30_000 });
    } catch (err) {
      throw new Error(`the Loupe extension is not loaded in the workbench: ${err.message}`);
    }
    // "Show Log" opens the Output panel; hide it to give the editors room. The palette offers
    // "Hide Panel" only while the panel is visible, so an already hidden panel is fine. Wait for
    // the panel first: opening it late takes focus and would close the palette typed into.
    await waitFor('the Output panel to open', () => ui.wb.page.locator('.part.panel').isVisible().catch(() => false), { timeout: 10_000 }).catch(() => undefined);
    try {
      await ui.wb.runCommand('View: Hide Panel', { timeout: 8_000 });
    } catch (err) {
      if (await ui.wb.page.locator('.part.panel').isVisible().catch(() => false)) throw err;
    }
  });

  setup(async () => {
    await ui.wb.dismiss();
    await ui.wb.clearNotifications();
  });

  test('explorer: right-click prompt.txt > "Predict" opens the panel and it shows spam', async () => {
    const { wb } = ui;
    const items = await wb.openExplorerContextMenu(SPAM_FILE, { expect: 'Predict' });
    // VS Code shows the bare title in context menus (the "Loupe:" category only in the palette).
    assert.ok(items.includes('Predict'), `no "Predict" in the explorer context menu of ${SPAM_FILE}: ${JSON.stringify(items)}`);
    await wb.clickContextMenuItem('Predict');

    await wb.waitForPrediction(panelTitle(SPAM_FILE), prediction('spam'));
    const { frame } = await wb.webview(panelTitle(SPAM_FILE));
    checkLabelRows(await labelRows(frame), 'spam');
    const tokens = await tokenButtons(frame);
    const words = tokens.filter((t) => !t.disabled).map((t) => t.text);
    for (const w of ['congratulations', 'free', 'prize']) assert.ok(words.includes(w), `token strip lacks '${w}': ${JSON.stringify(words)}`);
    assert.ok(await frame.locator(':is(vscode-button, button)', { hasText: /^\s*Run again\s*$/ }).first().isVisible(), 'no "Run again" button');
    // The status bar item names the model that ran.
    await waitFor('the Loupe status bar item to name the model', () => wb.statusBarText(STATUS_ITEM), { accept: (s) => /Loupe: ready · spam-classifier/.test(s ?? '') });
  });

  test('command palette: "Loupe: Predict" on ham.txt opens the panel beside the editor and it shows ham', async () => {
    const { wb } = ui;
    await wb.closeAllEditors();
    await wb.openFileInEditor(HAM_FILE);
    await wb.runCommand('Loupe: Predict');
    await wb.waitForPrediction(panelTitle(HAM_FILE), prediction('ham'));
    const { frame } = await wb.webview(panelTitle(HAM_FILE));
    checkLabelRows(await labelRows(frame), 'ham');

    const groups = await wb.groups();
    const src = groups.find((g) => g.activeTab && tabMatches(g.activeTab, HAM_FILE));
    const panel = groups.find((g) => g.activeTab && tabMatches(g.activeTab, panelTitle(HAM_FILE)));
    assert.ok(src, `the source editor is not visible any more: ${JSON.stringify(groups)}`);
    assert.ok(panel, `the panel is not visible: ${JSON.stringify(groups)}`);
    assert.notEqual(panel.index, src.index, 'the panel opened in the source editor group, not beside it');
    assert.ok(panel.rect.x >= src.rect.x + src.rect.width - 2, `the panel is not to the right of the editor: ${JSON.stringify(groups)}`);
    assert.ok(src.active, 'the source editor lost the focus (the panel should open with preserveFocus)');
  });

  test('keyboard: Tab to a token in the panel and press Enter; the source editor selects that token', async () => {
    const { wb } = ui;
    const { page } = wb;
    await ensureSourceAndPanel(HAM_FILE, 'ham');
    const text = fs.readFileSync(path.join(ui.workspace, HAM_FILE), 'utf8');

    // Ctrl+2: focus the panel's editor group (the panel is in the second group).
    const { group, frame } = await wb.webview(panelTitle(HAM_FILE));
    await wb.focusGroup(group.index + 1);
    await waitFor('the panel to have the keyboard focus', () => frame.evaluate(() => document.hasFocus()));
    const enabled = (await tokenButtons(frame)).filter((t) => !t.disabled);
    const TABS = 4; // [CLS] is disabled, so Tab goes hi, tom, ",", thanks
    assert.ok(enabled.length >= TABS, `too few tokens: ${JSON.stringify(enabled)}`);
    for (let i = 0; i < TABS; i++) await page.keyboard.press('Tab');
    const focused = await waitFor('a token button to have the focus', () =>
      frame.evaluate(() => {
        const a = document.activeElement;
        return a instanceof HTMLButtonElement && a.classList.contains('token') ? { text: a.textContent ?? '', title: a.title, disabled: a.disabled } : null;
      }),
    );
    assert.deepEqual(focused, enabled[TABS - 1], `Tab x${TABS} should focus the ${TABS}th token`);
    const { start, end } = charRange(focused.title);

    await page.keyboard.press('Enter');
    const sel = await waitForSelection(`the token '${focused.text}' selected`);
    // ham.txt is one line: the selection ends at column end+1 and spans end-start characters.
    assert.deepEqual({ line: sel.line, col: sel.col, selected: sel.selected }, { line: 1, col: end + 1, selected: end - start }, `status bar: ${sel.text}`);
    // The focus went back to the source editor, the panel stays visible beside it.
    await waitFor('the source editor to have the focus', async () => (await wb.groups()).find((g) => g.active)?.activeTab ?? '', { accept: (t) => tabMatches(t, HAM_FILE) });
    assert.ok(await wb.groupShowing(panelTitle(HAM_FILE)), 'the panel is no longer visible');
    // The selected text itself: copy it, as a user would.
    const copied = await readClipboardAfterCopy();
    assert.equal(copied, text.slice(start, end));
    assert.equal(copied.toLowerCase(), focused.text.replace(/^##/, ''), 'the selection is not the token (uncased WordPiece)');
  });

  test('themes: the panel follows light, dark and high-contrast themes (screenshots)', async () => {
    const { wb } = ui;
    await ensureSourceAndPanel(HAM_FILE, 'ham');
    const themes = [
      { key: 'light', name: 'Default Light Modern', type: 'vs', bodyClass: 'vscode-light' },
      { key: 'dark', name: 'Default Dark Modern', type: 'vs-dark', bodyClass: 'vscode-dark' },
      { key: 'high-contrast', name: 'Default High Contrast', type: 'hc-black', bodyClass: 'vscode-high-contrast' },
    ];
    const seen = {};
    try {
      for (const t of themes) {
        await wb.setWorkspaceSettings({ 'workbench.colorTheme': t.name });
        await waitFor(`the workbench to switch to ${t.name}`, () => wb.themeType(), { accept: (v) => v === t.type });
        // VS Code posts the theme to the webview, which sets its body class and CSS variables together.
        const colors = await waitFor(
          `the panel to take the ${t.key} theme (body.${t.bodyClass})`,
          async () => {
            const { frame } = await wb.webview(panelTitle(HAM_FILE), { timeout: 3_000 });
            return frame.evaluate(() => {
              const body = getComputedStyle(document.body);
              const tok = document.querySelector('button.token:not(.special)');
              const ts = tok ? getComputedStyle(tok) : null;
              return { bodyClass: document.body.className, color: body.color, background: body.backgroundColor, tokenColor: ts?.color ?? null, tokenBackground: ts?.backgroundColor ?? null };
            });
          },
          { accept: (c) => c.bodyClass.split(/\s+/).includes(t.bodyClass) },
        );
        seen[t.key] = colors;
        const { group } = await wb.webview(panelTitle(HAM_FILE));
        const file = path.join(wb.shotsDir, `theme-${t.key}.png`);
        fs.mkdirSync(wb.shotsDir, { recursive: true });
        await wb.page.screenshot({ path: file, clip: group.rect });
        console.log(`      screenshot: ${file}`);
        const text = contrastRatio(colors.color, colors.background);
        assert.ok(text >= 4.5, `${t.key}: body text contrast ${text.toFixed(2)} < 4.5 (${colors.color} on ${colors.background})`);
        if (colors.tokenColor) {
          const tok = contrastRatio(colors.tokenColor, colors.tokenBackground, colors.background);
          assert.ok(tok >= 4.5, `${t.key}: token text contrast ${tok.toFixed(2)} < 4.5 (${colors.tokenColor} on ${colors.tokenBackground})`);
        }
      }
    } finally {
      await wb.setWorkspaceSettings({});
    }
    assert.notEqual(seen.light.color, seen.dark.color, `text colour is the same in light and dark: ${JSON.stringify(seen)}`);
    assert.notEqual(seen.light.background, seen.dark.background, `background is the same in light and dark: ${JSON.stringify(seen)}`);
    assert.notEqual(seen['high-contrast'].background, seen.light.background, `high contrast background equals light: ${JSON.stringify(seen)}`);
  });

  test('error: loupe.defaultModel names a missing model; the error notification names the path, and Predict works again once fixed', async () => {
    const { wb } = ui;
    // The model comes from the setting only while nothing was picked with "Loupe: Select Model"
    // (workspaceState wins): this test runs before the Select Model test (see the header).
    const missing = path.join(ui.workspace, 'no-such-model');
    await wb.closeAllEditors();
    try {
      await wb.setWorkspaceSettings({ 'loupe.defaultModel': missing });
      await wb.openFileInEditor(SPAM_FILE);
      await wb.runCommand('Loupe: Predict');
      const toast = await wb.waitForToast(`an error naming ${missing}`, (t) => t.message.includes(missing));
      assert.equal(toast.severity, 'error', `not an error notification: ${JSON.stringify(toast)}`);
      assert.match(toast.message, /^Loupe: /, 'the message does not say it comes from Loupe');
      assert.match(toast.source, /Loupe/, `notification source: ${toast.source}`);
      assert.ok(toast.buttons.includes('Show Log'), `no "Show Log" button: ${JSON.stringify(toast.buttons)}`);
      assert.equal(await wb.groupShowing(panelTitle(SPAM_FILE)), null, 'a panel opened although the run failed');

      // "Show Log" opens the Loupe output channel, which has the same error.
      await wb.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: 'Show Log' }).first().click();
      await waitFor(`the Loupe log to show the error naming ${missing}`, () => wb.page.locator('.part.panel .monaco-editor .view-lines').first().innerText(), {
        accept: (v) => v.replace(/\s+/g, ' ').includes(missing),
      });
      await wb.runCommand('View: Hide Panel');
    } finally {
      await wb.setWorkspaceSettings({});
    }
    // The extension keeps working: same session, fixed setting, Predict succeeds.
    await wb.clearNotifications();
    await wb.focusGroup(1);
    await wb.runCommand('Loupe: Predict');
    await wb.waitForPrediction(panelTitle(SPAM_FILE), prediction('spam'));
    const errors = (await wb.toasts()).filter((t) => t.severity === 'error');
    assert.deepEqual(errors, [], 'an error notification after the setting was fixed');
    assert.doesNotMatch((await wb.statusBarText(STATUS_ITEM)) ?? '', /stopped|crash/i, 'the engine is reported as stopped');
  });

  test('"Run again" with a broken model reports the error', async () => {
      const { wb } = ui;
      const missing = path.join(ui.workspace, 'no-such-model-for-rerun');
      await ensureSourceAndPanel(SPAM_FILE, 'spam'); // as the previous test left it
      try {
        await wb.setWorkspaceSettings({ 'loupe.defaultModel': missing });
        const { frame } = await wb.webview(panelTitle(SPAM_FILE));
        await frame.locator(':is(vscode-button, button)', { hasText: /^\s*Run again\s*$/ }).first().click();
        const errorShown = async () => {
          if ((await wb.toasts()).some((t) => t.message.includes(missing))) return true;
          const { frame: f } = await wb.webview(panelTitle(SPAM_FILE), { timeout: 2_000 });
          return f.evaluate((m) => document.querySelector('.error')?.textContent?.includes(m) ?? false, missing);
        };
        // Busy: the progress notification ("Loupe: running …") is up, or the engine is starting or working.
        const busy = async () => (await wb.toasts()).some((t) => /Loupe: running/.test(t.message)) || /starting|working/.test((await wb.statusBarText(STATUS_ITEM)) ?? '');
        // A quick run can be over before we look: do not insist on seeing it busy.
        await waitFor('the rerun to start (or report)', async () => (await busy()) || (await errorShown()), { timeout: 5_000 }).catch(() => {});
        await waitFor('the rerun to finish', busy, { accept: (b) => !b, timeout: 30_000 });
        await waitFor(`an error naming ${missing} (a notification or in the panel)`, errorShown, { timeout: 3_000 });
      } finally {
        await wb.setWorkspaceSettings({});
      }
  });

  test('Predict from the explorer with no editor open, then a token click: the source opens beside the panel', async () => {
      const { wb } = ui;
      await wb.closeAllEditors();
      await wb.openExplorerContextMenu(SPAM_FILE, { expect: 'Predict' });
      await wb.clickContextMenuItem('Predict');
      await wb.waitForPrediction(panelTitle(SPAM_FILE), prediction('spam'));
      const { frame } = await wb.webview(panelTitle(SPAM_FILE));
      await frame.locator('button.token', { hasText: /^free$/ }).click();
      const sel = await waitForSelection("the token 'free' selected");
      assert.equal(sel.selected, 4, sel.text);
      const groups = await wb.groups();
      assert.ok(
        groups.some((g) => g.activeTab && tabMatches(g.activeTab, panelTitle(SPAM_FILE))),
        `the panel is hidden behind the source editor: ${JSON.stringify(groups.map((g) => ({ tabs: g.tabs, active: g.activeTab })))}`,
      );
  });

  test('Select Model: the quick pick lists the bundled model, and a picked model wins over loupe.defaultModel', async () => {
    const { wb } = ui;
    const { page } = wb;
    await wb.runCommand('Loupe: Select Model');
    const picker = wb.quickInput();
    await waitFor('the Select Model quick pick', () => picker.locator('.quick-input-title').innerText(), { accept: (t) => t === 'Loupe: Select Model' });
    const row = picker.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^spam-classifier$/ }) });
    await row.first().waitFor({ state: 'visible', timeout: 10_000 });
    const rowLabel = (await row.first().getAttribute('aria-label')) ?? '';
    assert.match(rowLabel, /bundled · current/, `the bundled model should be marked current: ${rowLabel}`);
    assert.ok((await picker.locator('.monaco-list-row', { hasText: 'Browse…' }).count()) === 1, 'no "Browse…" entry');
    await row.first().click();
    await wb.waitForToast('Loupe: using spam-classifier', (t) => /^Loupe: using spam-classifier \(text-classifier\)\.?$/.test(t.message));

    // The pick is kept in workspaceState and wins over the setting: a missing defaultModel no longer matters.
    const missing = path.join(ui.workspace, 'no-such-model-after-pick');
    try {
      await wb.setWorkspaceSettings({ 'loupe.defaultModel': missing });
      await wb.clearNotifications();
      await wb.closeAllEditors(); // so the panel that shows the result is a new one
      await wb.openFileInEditor(HAM_FILE);
      await wb.runCommand('Loupe: Predict');
      await wb.waitForPrediction(panelTitle(HAM_FILE), prediction('ham'));
      const errors = (await wb.toasts()).filter((t) => t.severity === 'error');
      assert.deepEqual(errors, [], 'the picked model should be used, not the missing loupe.defaultModel');
    } finally {
      await wb.setWorkspaceSettings({});
    }
  });
});
