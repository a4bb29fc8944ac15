// UI test: feature importance AS A USER GETS IT, through the real workbench: right-click the bundled
// sample CSV in the explorer > "Feature Importance…", answer the quick picks (model, target column,
// definition and scoring, the column mapping), and read the panel: the bars the chart laid out (the
// canvas exposes their top-to-bottom order) and the table rows must follow the engine's ranking,
// which this test gets independently from the CLI (`loupe importance --json`) on the same file with
// the same settings. The table sorts from the keyboard; the chart re-reads its colours when the
// theme changes; the Export HTML button writes a report with the chart as drawn through the save dialog.
// Screenshots: <shotsDir>/importance.png and importance-high-contrast.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ui } from './context.mjs';
import { waitFor } from './workbench.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATASET = 'sample.csv';
const TITLE = `Feature Importance: ${DATASET}`;

/** The engine's ranking from the CLI: features by decreasing mean, ties by name (the view's rule). */
function cliRanking(file) {
  const out = execFileSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'importance', '--model', path.join(repoRoot, 'models', 'breast-cancer'), '--data', file, '--target', 'diagnosis', '--repeats', '5', '--seed', '0', '--json'], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const r = JSON.parse(out);
  const key = (m) => (Number.isFinite(m) ? m : -Infinity);
  return [...r.features].sort((a, b) => key(b.mean) - key(a.mean) || a.name.localeCompare(b.name)).map((f) => f.name);
}

/** Waits for a quick pick whose title contains `title`, then picks the row whose label matches `label`. */
async function pick(title, label) {
  const { wb } = ui;
  const picker = wb.quickInput();
  await waitFor(`a quick pick titled …${title}…`, () => picker.locator('.quick-input-title').innerText(), { accept: (t) => typeof t === 'string' && t.includes(title), timeout: 30_000 });
  const row = picker.locator('.monaco-list-row').filter({ has: wb.page.locator('.label-name', { hasText: label }) });
  await row.first().waitFor({ state: 'visible', timeout: 10_000 });
  const aria = (await row.first().getAttribute('aria-label')) ?? '';
  await row.first().click();
  return aria;
}

async function panelState(frame) {
  return frame.evaluate(() => ({
    bars: JSON.parse(document.querySelector('.importance-chart canvas')?.dataset.bars ?? 'null'),
    table: [...document.querySelectorAll('table.importance-table tbody th')].map((th) => th.textContent ?? ''),
    summaryRows: document.querySelectorAll('table.importance-summary tbody tr').length,
    chartImage: document.querySelector('.importance-chart canvas')?.toDataURL() ?? '',
  }));
}

/** The sample's panel on screen, drawn (else: run the command from the palette on the open sample.csv). */
async function ensurePanel() {
  const { wb } = ui;
  const drawn = async () => {
    const { frame } = await wb.webview(TITLE, { timeout: 2_000 });
    return (await panelState(frame)).bars?.length === 30;
  };
  if (await drawn().catch(() => false)) return;
  await wb.closeAllEditors();
  await wb.openFileFromExplorer(DATASET);
  await wb.runCommand('Loupe: Feature Importance…');
  await pick('(1/3): model', /^breast-cancer$/);
  await pick('(2/3): target column', /^diagnosis$/);
  await pick('(3/3): definition and scoring', /^Score drop · Accuracy$/);
  // The mapping is asked only the first time for this dataset.
  await waitFor(
    'the mapping question or the drawn panel',
    async () => {
      const title = (await wb.quickInput().isVisible()) ? await wb.quickInput().locator('.quick-input-title').innerText() : '';
      if (title.includes('confirm the columns')) await pick('confirm the columns the model reads', /Use this mapping/);
      return drawn().catch(() => false);
    },
    { timeout: 90_000 },
  );
}

suite('Feature importance through the workbench UI', function () {
  suiteSetup(async function () {
    this.timeout(60_000);
    const dest = path.join(ui.workspace, DATASET);
    if (!fs.existsSync(dest)) fs.copyFileSync(path.join(repoRoot, 'models', 'breast-cancer', DATASET), dest);
    // A file created behind the workbench's back shows once the explorer is refreshed.
    if (!(await ui.wb.explorerRow(DATASET).isVisible())) await ui.wb.runCommand('Refresh Explorer');
    await ui.wb.explorerRow(DATASET).waitFor({ state: 'visible', timeout: 30_000 });
  });

  setup(async () => {
    await ui.wb.dismiss();
    await ui.wb.clearNotifications();
  });

  // The UI test files share one workbench: leave it as the next one expects to find it.
  suiteTeardown(async function () {
    this.timeout(60_000);
    await ui.wb.dismiss();
    await ui.wb.closeAllEditors();
    await ui.wb.clearNotifications();
  });

  test('explorer: right-click sample.csv > "Feature Importance…"; the chart and the table follow the engine\'s ranking (screenshot)', async function () {
    this.timeout(180_000);
    const { wb } = ui;
    await wb.closeAllEditors();
    const items = await wb.openExplorerContextMenu(DATASET, { expect: 'Feature Importance…' });
    assert.ok(items.includes('Feature Importance…'), `no "Feature Importance…" in the explorer context menu of ${DATASET}: ${JSON.stringify(items)}`);
    await wb.clickContextMenuItem('Feature Importance…');

    await pick('(1/3): model', /^breast-cancer$/);
    const target = await pick('(2/3): target column', /^diagnosis$/);
    assert.match(target, /suggested/, `the target the engine suggests should be marked: ${target}`);
    await pick('(3/3): definition and scoring', /^Score drop · Accuracy$/);
    await pick('confirm the columns the model reads', /Use this mapping/);

    const expected = cliRanking(path.join(ui.workspace, DATASET));
    assert.equal(expected.length, 30);
    let state;
    await waitFor(
      `panel '${TITLE}' to draw its chart`,
      async () => {
        const { frame } = await wb.webview(TITLE, { timeout: 3_000 });
        state = await panelState(frame);
        return state;
      },
      { timeout: 90_000, accept: (s) => Array.isArray(s?.bars) && s.bars.length > 0 && s.table.length > 0 },
    );
    assert.deepEqual(state.bars, expected, 'the bars, top to bottom, in the engine\'s ranking');
    assert.deepEqual(state.table, expected, 'the table rows in the engine\'s ranking');
    assert.equal(state.summaryRows, 31, 'the dataset summary lists every column');

    // The panel sits beside the dataset.
    const groups = await wb.groups();
    const panel = groups.find((g) => g.activeTab?.startsWith(TITLE));
    const data = groups.find((g) => g.tabs.some((t) => t.startsWith(DATASET)));
    assert.ok(panel && data && panel.index > data.index, `the panel should be beside the dataset: ${JSON.stringify(groups.map((g) => g.tabs))}`);
    fs.mkdirSync(wb.shotsDir, { recursive: true });
    const file = path.join(wb.shotsDir, 'importance.png');
    await wb.page.screenshot({ path: file, clip: panel.rect });
    console.log(`      screenshot: ${file}`);

    // Keyboard: focus the "Feature" header's sort button and press Enter; again for the reverse.
    const { frame } = await wb.webview(TITLE);
    const sortButton = frame.locator('table.importance-table thead button', { hasText: /^Feature$/ });
    await sortButton.focus();
    await wb.page.keyboard.press('Enter');
    const byName = [...expected].sort((a, b) => a.localeCompare(b));
    await waitFor('the table sorted by name', async () => (await panelState(frame)).table, { accept: (t) => JSON.stringify(t) === JSON.stringify(byName) });
    await wb.page.keyboard.press('Enter');
    await waitFor('the table sorted by name, descending', async () => (await panelState(frame)).table, { accept: (t) => JSON.stringify(t) === JSON.stringify([...byName].reverse()) });
    assert.equal((await frame.locator('table.importance-table thead th[aria-sort="descending"]').innerText()).trim(), 'Feature', 'aria-sort marks the sorted column');
    assert.deepEqual((await panelState(frame)).bars, expected, 'sorting the table leaves the chart in rank order');

    // Keyboard on the chart: ↓ moves to the first bar and says which it is.
    const canvas = frame.locator('.importance-chart canvas');
    await canvas.focus();
    await wb.page.keyboard.press('ArrowDown');
    await waitFor('the chart to announce the first bar', () => canvas.getAttribute('aria-valuetext'), { accept: (v) => (v ?? '').startsWith(`1 of 30: ${expected[0]},`) });
    await wb.page.keyboard.press('End');
    await waitFor('the chart to announce the last bar', () => canvas.getAttribute('aria-valuetext'), { accept: (v) => (v ?? '').startsWith(`30 of 30: ${expected[29]},`) });

    // Explain one row from the keyboard: type its number, Enter.
    const rowInput = frame.locator('#importance-row-input');
    await rowInput.fill('5');
    await rowInput.press('Enter');
    const row = await waitFor(
      'the row explanation to draw',
      () => frame.evaluate(() => ({ title: document.querySelector('.importance-row-result h3')?.textContent ?? '', bars: JSON.parse(document.querySelector('.importance-row-result canvas')?.dataset.bars ?? '[]') })),
      { timeout: 90_000, accept: (r) => r.bars.length === 30 },
    );
    assert.match(row.title, /^Row 5: P\((malignant|benign)\) = /);
    assert.deepEqual([...row.bars].sort(), [...expected].sort(), 'one bar per feature');
    await frame.locator('.importance-row h2').scrollIntoViewIfNeeded();
    const rowShot = path.join(wb.shotsDir, 'importance-row.png');
    await wb.page.screenshot({ path: rowShot, clip: (await wb.groupShowing(TITLE)).rect });
    console.log(`      screenshot: ${rowShot}`);
  });

  test('the answers are remembered per dataset: from the palette on the open sample.csv, the last choices come first and the mapping is not asked again', async function () {
    this.timeout(120_000);
    const { wb } = ui;
    await wb.closeAllEditors();
    await wb.openFileFromExplorer(DATASET);
    await wb.runCommand('Loupe: Feature Importance…');
    const model = await pick('(1/3): model', /^breast-cancer$/);
    assert.match(model, /last used on sample\.csv/, `the model used last on this dataset should be marked: ${model}`);
    const first = async () => (await wb.quickInput().locator('.monaco-list-row').first().getAttribute('aria-label')) ?? '';
    await waitFor('the target pick', () => wb.quickInput().locator('.quick-input-title').innerText(), { accept: (t) => t.includes('(2/3)') });
    assert.match(await first(), /^diagnosis/, 'the last target comes first');
    await pick('(2/3): target column', /^diagnosis$/);
    await waitFor('the definition pick', () => wb.quickInput().locator('.quick-input-title').innerText(), { accept: (t) => t.includes('(3/3)') });
    assert.match(await first(), /Accuracy.*last used/, 'the last definition comes first');
    await pick('(3/3): definition and scoring', /^Score drop · Accuracy$/);
    // No mapping question: the panel computes straight away.
    await waitFor(
      `panel '${TITLE}' to draw its chart`,
      async () => {
        const { frame } = await wb.webview(TITLE, { timeout: 3_000 });
        return (await panelState(frame)).bars;
      },
      { timeout: 90_000, accept: (b) => Array.isArray(b) && b.length === 30 },
    );
    const title = await wb.quickInput().locator('.quick-input-title').innerText().catch(() => '');
    assert.ok(!(await wb.quickInput().isVisible()) || !title.includes('confirm the columns'), `the mapping was asked again: ${title}`);
  });

  test('themes: the chart re-reads its colours when the theme changes (screenshot)', async function () {
    this.timeout(120_000);
    const { wb } = ui;
    await ensurePanel();
    const { frame } = await wb.webview(TITLE, { timeout: 10_000 });
    const before = (await panelState(frame)).chartImage;
    try {
      await wb.setWorkspaceSettings({ 'workbench.colorTheme': 'Default High Contrast' });
      await waitFor('the workbench to switch to high contrast', () => wb.themeType(), { accept: (v) => v === 'hc-black' });
      await waitFor(
        'the chart to redraw in the high-contrast colours',
        async () => {
          const { frame: f } = await wb.webview(TITLE, { timeout: 3_000 });
          return f.evaluate(() => ({ body: document.body.className, image: document.querySelector('.importance-chart canvas')?.toDataURL() ?? '' }));
        },
        { accept: (s) => s.body.includes('vscode-high-contrast') && s.image !== '' && s.image !== before, timeout: 20_000 },
      );
      const group = await wb.groupShowing(TITLE);
      fs.mkdirSync(wb.shotsDir, { recursive: true });
      const file = path.join(wb.shotsDir, 'importance-high-contrast.png');
      await wb.page.screenshot({ path: file, clip: group.rect });
      console.log(`      screenshot: ${file}`);
    } finally {
      await wb.setWorkspaceSettings({});
    }
  });
  test('the panel\'s Export HTML button: the save dialog opens beside the dataset, and the report holds the chart as drawn and the ranking', async function () {
    this.timeout(180_000);
    const { wb } = ui;
    await ensurePanel();
    const target = path.join(ui.workspace, 'sample.importance.html');
    fs.rmSync(target, { force: true });
    const { frame } = await wb.webview(TITLE, { timeout: 10_000 });
    const shown = (await panelState(frame)).bars;
    await frame.locator(':is(vscode-button, button)', { hasText: /^\s*Export HTML\s*$/ }).first().click();
    // The save dialog (VS Code's own, in a quick input here) opens at the default place beside the dataset.
    const input = wb.quickInput().locator('.quick-input-box input').first();
    await waitFor('the save dialog at sample.importance.html', () => input.inputValue().catch(() => ''), { accept: (v) => v.endsWith('sample.importance.html'), timeout: 30_000 });
    await wb.page.keyboard.press('Enter');
    await waitFor('the HTML export to be written', () => fs.existsSync(target), { timeout: 60_000 });
    const page = fs.readFileSync(target, 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    const img = /src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/.exec(page);
    assert.ok(img, 'the report embeds the chart as drawn');
    assert.deepEqual([...Buffer.from(img[1], 'base64').subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'the embedded chart is a PNG');
    const at = shown.slice(0, 3).map((n) => page.indexOf(`<td>${n}</td>`));
    assert.ok(at.every((i) => i > 0) && at[0] < at[1] && at[1] < at[2], `the report's ranking follows the chart: ${at.join(', ')}`);
    assert.ok(!fs.readdirSync(ui.workspace).some((n) => n.endsWith('.tmp')), 'no temporary file left behind');
    fs.rmSync(target, { force: true });
  });

  test('a reload of the window restores the panel and computes it again with the same settings (no question asked)', async function () {
    this.timeout(180_000);
    const { wb } = ui;
    await ensurePanel();
    const expected = cliRanking(path.join(ui.workspace, DATASET));
    // As a user reloads: the command (the workbench saves its state, the webview's included, first).
    const reloaded = wb.page.waitForEvent('load', { timeout: 60_000 });
    await wb.runCommand('Developer: Reload Window');
    await reloaded;
    await wb.waitReady();
    let bars;
    await waitFor(
      'the restored panel to draw its chart',
      async () => {
        const { frame } = await wb.webview(TITLE, { timeout: 3_000 });
        bars = (await panelState(frame)).bars;
        return bars;
      },
      { timeout: 120_000, accept: (b) => Array.isArray(b) && b.length === 30 },
    );
    assert.deepEqual(bars, expected, 'the restored chart in the engine\'s ranking');
    assert.equal(await wb.quickInput().isVisible(), false, 'a question was asked on restore');
  });

  test('a long run shows progress with Cancel; Cancel stops it and the panel says so', async function () {
    this.timeout(180_000);
    const { wb } = ui;
    // 150,000 rows (the sample's 60, repeated): above the row budget, minutes of work on a busy machine.
    const big = 'big-sample.csv';
    const lines = fs.readFileSync(path.join(repoRoot, 'models', 'breast-cancer', DATASET), 'utf8').trim().split(/\r?\n/);
    const rows = lines.slice(1);
    const out = fs.openSync(path.join(ui.workspace, big), 'w');
    try {
      fs.writeSync(out, `${lines[0]}\n`);
      for (let i = 0; i < 2500; i++) fs.writeSync(out, `${rows.join('\n')}\n`);
    } finally {
      fs.closeSync(out);
    }
    try {
      await wb.closeAllEditors();
      if (!(await wb.explorerRow(big).isVisible())) await wb.runCommand('Refresh Explorer');
      await wb.openExplorerContextMenu(big, { expect: 'Feature Importance…' });
      await wb.clickContextMenuItem('Feature Importance…');
      await pick('(1/3): model', /^breast-cancer$/);
      await pick('(2/3): target column', /^diagnosis$/);
      await pick('(3/3): definition and scoring', /^Score drop · Accuracy$/);
      await pick('confirm the columns the model reads', /Use this mapping/);
      const toast = await wb.waitForToast('the importance progress', (t) => /feature importance of big-sample\.csv/.test(t.message) && t.buttons.includes('Cancel'), { timeout: 60_000 });
      assert.ok(toast.buttons.includes('Cancel'));
      await wb.page.locator('.notifications-toasts .notification-toast', { hasText: 'feature importance of big-sample.csv' }).locator('.monaco-button', { hasText: 'Cancel' }).first().click();
      await waitFor(
        'the panel to say the run was cancelled',
        async () => {
          const { frame } = await wb.webview(`Feature Importance: ${big}`, { timeout: 3_000 });
          return frame.evaluate(() => document.querySelector('#app')?.textContent ?? '');
        },
        { timeout: 30_000, accept: (t) => /Cancelled/.test(t) },
      );
      await waitFor('the engine to be ready again', () => wb.statusBarText('loupe-dev.loupe.loupe.engine'), { accept: (s) => /Loupe: ready/.test(s ?? ''), timeout: 30_000 });
    } finally {
      await wb.closeAllEditors().catch(() => undefined);
      fs.rmSync(path.join(ui.workspace, big), { force: true });
    }
  });
});
