// Drives the real VS Code workbench (code-server in headless chromium) the way a user does: command
// palette, explorer context menu, editor tabs, notifications, status bar, and the content of webview
// panels. Used by the UI tests (*.ui.mjs); see real-vscode.md in the shared docs for the recipe.
//
// Every helper waits for a condition (never a fixed sleep) and fails with what it last saw.
import fs from 'node:fs';
import path from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until `accept(value)` is true; returns the value. On timeout throws an error that
 * names what was awaited and the last value seen.
 */
export async function waitFor(what, probe, { timeout = 15_000, interval = 100, accept = (v) => Boolean(v) } = {}) {
  const end = Date.now() + timeout;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await probe();
      lastErr = undefined;
      if (accept(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) {
      const seen = lastErr ? `error: ${lastErr.message.split('\n')[0]}` : `last seen: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (${seen})`);
    }
    await sleep(interval);
  }
}

/** The visible quick pick's rows: label, description, the whole row's text (with its detail), checked (multi-select). */
export async function quickPickRows(page) {
  return page.locator('.quick-input-widget .quick-input-list .monaco-list-row').evaluateAll((rows) =>
    rows.map((r) => ({
      label: r.querySelector('.label-name')?.textContent?.trim() ?? '',
      description: r.querySelector('.label-description')?.textContent?.trim() ?? '',
      text: r.textContent ?? '',
      checked: r.querySelector('input[type=checkbox]')?.checked ?? r.querySelector('.monaco-checkbox')?.classList.contains('checked') ?? null,
    })),
  );
}

/** `[id="..."]`: status bar ids contain dots. */
const byId = (id) => `[id="${id.replace(/"/g, '\\"')}"]`;

export class Workbench {
  /**
   * @param {object} o
   * @param {import('playwright-core').Page} o.page
   * @param {string} o.workspace   the folder the workbench has open (a temp copy of test/vscode/workspace)
   * @param {string} o.shotsDir    where screenshots go
   */
  constructor({ page, workspace, shotsDir }) {
    this.page = page;
    this.workspace = workspace;
    this.shotsDir = shotsDir;
    this.settingsVersion = 0;
  }

  // ------------------------------------------------------------------------------------ basics
  async waitReady() {
    const { page } = this;
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The explorer lists the workspace: the folder is open and the file service answers.
    await this.explorerRow('prompt.txt').waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('.statusbar').waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** Closes whatever transient UI is open (quick input, context menu, hovers). */
  async dismiss() {
    const { page } = this;
    for (let i = 0; i < 3; i++) {
      const open = await page.evaluate(() => {
        const qi = document.querySelector('.quick-input-widget');
        const quickInput = qi && getComputedStyle(qi).display !== 'none';
        return quickInput || document.querySelectorAll('.context-view .monaco-menu').length > 0;
      });
      if (!open) return;
      await page.keyboard.press('Escape');
      await sleep(100);
    }
  }

  async screenshot(name, locator) {
    fs.mkdirSync(this.shotsDir, { recursive: true });
    const file = path.join(this.shotsDir, `${name}.png`);
    if (locator) await locator.screenshot({ path: file, timeout: 10_000 });
    else await this.page.screenshot({ path: file, timeout: 10_000 });
    return file;
  }

  // ------------------------------------------------------------------------------------ command palette
  quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * F1, type the command's title, run it. The palette only lists the commands known when it
   * opens, and an extension's commands can arrive a moment later: close and reopen until it shows
   * (for at most `timeout` ms).
   */
  async runCommand(title, { timeout = 20_000 } = {}) {
    const { page } = this;
    const end = Date.now() + timeout;
    let lastRows = [];
    let attempts = 0;
    while (attempts === 0 || Date.now() < end) {
      attempts++;
      await this.dismiss();
      await page.keyboard.press('F1');
      const input = this.quickInput().locator('.quick-input-box input').first();
      try {
        await input.waitFor({ state: 'visible', timeout: 5_000 });
      } catch {
        continue; // focus was somewhere that swallowed F1; try again
      }
      try {
        // A view that opens late (the Output panel of a previous command) can take focus and close
        // the palette between its appearing and the typing: open it again.
        await input.fill(`>${title}`, { timeout: 3_000 });
      } catch {
        continue;
      }
      const row = this.quickInput().locator('.monaco-list-row').filter({
        has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }),
      });
      try {
        await row.first().waitFor({ state: 'visible', timeout: Math.max(1_000, Math.min(3_000, end - Date.now())) });
      } catch {
        lastRows = await this.quickInput().locator('.monaco-list-row .label-name').allInnerTexts().catch(() => []);
        await page.keyboard.press('Escape');
        continue;
      }
      try {
        await row.first().click({ timeout: 3_000 });
      } catch {
        continue; // the palette closed under us (focus taken); open it again
      }
      // Done when the palette has gone, or was replaced by the command's own quick pick.
      await waitFor(
        `the command palette to run '${title}'`,
        () =>
          page.evaluate((typed) => {
            const qi = document.querySelector('.quick-input-widget');
            if (!qi || getComputedStyle(qi).display === 'none') return true;
            return qi.querySelector('.quick-input-box input')?.value !== typed;
          }, `>${title}`),
        { timeout: 5_000 },
      );
      return;
    }
    throw new Error(`command palette: no entry '${title}' after ${attempts} attempts in ${timeout} ms (last rows: ${JSON.stringify(lastRows)})`);
  }

  // ------------------------------------------------------------------------------------ explorer
  explorerRow(name) {
    return this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);
  }

  /**
   * Right-clicks a file in the explorer; returns the labels of the context menu's items, with the
   * menu left open. An extension's menu items only appear once the workbench has its contributions
   * (shortly after start-up): with `expect`, reopen the menu until that item shows (or time out and
   * return what the last menu had).
   */
  async openExplorerContextMenu(name, { expect, timeout = 20_000 } = {}) {
    const { page } = this;
    const row = this.explorerRow(name);
    const menu = page.locator('.context-view .monaco-menu');
    const end = Date.now() + timeout;
    for (;;) {
      await this.dismiss();
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      await row.click({ button: 'right' });
      await menu.waitFor({ state: 'visible', timeout: 5_000 });
      const items = (await menu.locator('.action-menu-item .action-label').allInnerTexts()).map((s) => s.trim()).filter(Boolean);
      if (!expect || items.includes(expect) || Date.now() > end) return items;
      await page.keyboard.press('Escape');
      await sleep(300);
    }
  }

  /** Hovers and clicks a context menu item (the menu is plain HTML); checks the menu closed. */
  async clickContextMenuItem(label) {
    const { page } = this;
    const menu = page.locator('.context-view .monaco-menu');
    const item = menu.locator('.action-menu-item').filter({
      has: page.locator('.action-label', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }),
    });
    await item.first().waitFor({ state: 'visible', timeout: 5_000 });
    for (let attempt = 0; attempt < 3; attempt++) {
      await item.first().hover();
      await item.first().click();
      try {
        await menu.waitFor({ state: 'detached', timeout: 2_000 });
        return;
      } catch {
        // The menu can swallow a click that lands while it is still animating in: the item is
        // hovered (so focused), Enter runs it.
        if ((await menu.count()) > 0) await page.keyboard.press('Enter');
        if ((await menu.count()) === 0) return;
      }
    }
    throw new Error(`context menu item '${label}' did not run (the menu stayed open)`);
  }

  async openFileFromExplorer(name) {
    await this.dismiss();
    await this.explorerRow(name).click();
    await waitFor(`an active editor tab for ${name}`, async () => (await this.groups()).some((g) => g.active && g.activeTab && tabMatches(g.activeTab, name)));
  }

  /**
   * Opens a file from the explorer, puts the keyboard focus in its editor and the cursor at the
   * start (an editor reopened in a session gets its old selection back, and Predict would run on it).
   */
  async openFileInEditor(name) {
    await this.openFileFromExplorer(name);
    const group = (await this.groups()).find((g) => g.activeTab && tabMatches(g.activeTab, name));
    await this.focusGroup(group.index + 1);
    await this.page.keyboard.press('Control+Home');
    await waitFor(`the cursor at the start of ${name}`, () => this.statusBarText('status.editor.selection'), { accept: (v) => v === 'Ln 1, Col 1' });
  }

  // ------------------------------------------------------------------------------------ editors
  /** The editor groups, left to right: their tabs (aria-labels) and which tab is active. */
  async groups() {
    return this.page.locator('.editor-group-container').evaluateAll((els) =>
      els.map((g, index) => {
        const tabs = [...g.querySelectorAll('.tabs-container .tab')].map((t) => t.getAttribute('aria-label') ?? '');
        const activeTab = g.querySelector('.tabs-container .tab.active')?.getAttribute('aria-label') ?? null;
        const r = g.getBoundingClientRect();
        return { index, tabs, activeTab, active: g.classList.contains('active'), rect: { x: r.x, y: r.y, width: r.width, height: r.height } };
      }),
    );
  }

  /** The group whose ACTIVE tab is `label` (a tab's aria-label is "label" or "label, ..."). */
  async groupShowing(label) {
    return (await this.groups()).find((g) => g.activeTab && tabMatches(g.activeTab, label)) ?? null;
  }

  /** Closes every editor and editor group (and with them every webview panel). */
  async closeAllEditors() {
    await this.runCommand('View: Close All Editor Groups');
    await waitFor('no editor tab open', async () => (await this.groups()).every((g) => g.tabs.length === 0));
  }

  async focusGroup(n) {
    await this.dismiss();
    await this.page.keyboard.press(`Control+${n}`);
    await waitFor(`editor group ${n} focused`, async () => (await this.groups())[n - 1]?.active === true);
  }

  // ------------------------------------------------------------------------------------ webviews
  /**
   * The webview panel whose tab is `title` and is visible: { group, frame } where frame is the
   * playwright Frame of the panel's content (iframe.webview.ready > #active-frame). Webviews are
   * laid over the editor area, not inside the group's DOM: the panel's iframe is the one that
   * covers its group.
   */
  async webview(title, { timeout = 20_000 } = {}) {
    const { page } = this;
    return waitFor(
      `a visible webview panel '${title}'`,
      async () => {
        const group = await this.groupShowing(title);
        if (!group) return null;
        for (const handle of await page.locator('iframe.webview.ready').elementHandles()) {
          const box = await handle.boundingBox();
          if (!box || box.width < 10 || box.height < 10) continue;
          const cx = box.x + box.width / 2;
          const cy = box.y + box.height / 2;
          const r = group.rect;
          if (cx < r.x || cx > r.x + r.width || cy < r.y || cy > r.y + r.height) continue;
          const outer = await handle.contentFrame();
          const inner = await (await outer?.$('#active-frame'))?.contentFrame();
          if (inner && (await inner.$('#app'))) return { group, frame: inner, iframe: handle };
        }
        return null;
      },
      { timeout },
    );
  }

  /**
   * The webview view in the side bar whose page has `selector` (the Loupe dashboard: 'main.dashboard'):
   * { frame, rect } with the side bar's rectangle. Views are laid over the side bar like panels over groups.
   */
  async sidebarWebview(selector, { timeout = 30_000 } = {}) {
    const { page } = this;
    return waitFor(
      `a webview view in the side bar with ${selector}`,
      async () => {
        const bar = await page.locator('.part.sidebar').boundingBox().catch(() => null);
        if (!bar) return null;
        for (const handle of await page.locator('iframe.webview.ready').elementHandles()) {
          const box = await handle.boundingBox();
          if (!box || box.width < 10 || box.height < 10) continue;
          const cx = box.x + box.width / 2;
          const cy = box.y + box.height / 2;
          if (cx < bar.x || cx > bar.x + bar.width || cy < bar.y || cy > bar.y + bar.height) continue;
          const inner = await (await (await handle.contentFrame())?.$('#active-frame'))?.contentFrame();
          if (inner && (await inner.$(selector))) return { frame: inner, rect: bar };
        }
        return null;
      },
      { timeout },
    );
  }

  /** Waits until the panel `title` shows a prediction (its h2) matching `re`; returns the h2. */
  async waitForPrediction(title, re, { timeout = 30_000 } = {}) {
    let h2 = null;
    await waitFor(
      `panel '${title}' to show a prediction matching ${re}`,
      async () => {
        const { frame } = await this.webview(title, { timeout: 2_000 });
        h2 = await frame.evaluate(() => document.querySelector('h2')?.textContent ?? document.querySelector('#app')?.textContent ?? null);
        return h2;
      },
      { timeout, accept: (v) => typeof v === 'string' && re.test(v) },
    );
    return h2;
  }

  // ------------------------------------------------------------------------------------ notifications
  /** The notification toasts on screen: { text, severity, buttons }. */
  async toasts() {
    return this.page.locator('.notifications-toasts .notification-toast').evaluateAll((els) =>
      els.map((t) => {
        const icon = t.querySelector('.notification-list-item-icon');
        const cls = icon?.className ?? '';
        const severity = /codicon-error/.test(cls) ? 'error' : /codicon-warning/.test(cls) ? 'warning' : 'info';
        const message = t.querySelector('.notification-list-item-message')?.textContent ?? '';
        const source = t.querySelector('.notification-list-item-source')?.textContent ?? '';
        const buttons = [...t.querySelectorAll('.notification-list-item-buttons-container .monaco-button')].map((b) => b.textContent?.trim() ?? '');
        return { message, source, severity, buttons };
      }),
    );
  }

  async waitForToast(what, match, { timeout = 20_000 } = {}) {
    const found = await waitFor(`a notification: ${what}`, async () => (await this.toasts()).find(match) ?? null, { timeout, accept: (t) => t !== null });
    return found;
  }

  async clearNotifications() {
    if ((await this.toasts()).length === 0) return;
    await this.runCommand('Notifications: Clear All Notifications');
    await waitFor('no notification toast', async () => (await this.toasts()).length, { accept: (n) => n === 0 });
  }

  // ------------------------------------------------------------------------------------ status bar
  async statusBarText(id) {
    const item = this.page.locator(`.statusbar ${byId(id)}`);
    if ((await item.count()) === 0) return null;
    return (await item.first().innerText()).trim();
  }

  // ------------------------------------------------------------------------------------ settings
  /**
   * Writes the workspace's .vscode/settings.json (replacing it) as a user editing the file would,
   * and waits until the workbench has read it: the file also sets `window.title` to a fresh marker,
   * and the page's title shows it once the configuration was reloaded (so the extension host has it
   * too: both come from the same configuration change event).
   */
  async setWorkspaceSettings(settings) {
    const marker = `loupe-ui-settings-${++this.settingsVersion}`;
    const file = path.join(this.workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify({ ...settings, 'window.title': `\${rootName} (${marker})` }, null, 2)}\n`);
    await this.page.waitForFunction((m) => document.title.includes(m), marker, { timeout: 20_000 });
  }

  /** The workbench's theme type from its classes: vs, vs-dark, hc-black or hc-light. */
  async themeType() {
    const cls = (await this.page.locator('.monaco-workbench').getAttribute('class')) ?? '';
    return cls.split(/\s+/).find((c) => ['vs', 'vs-dark', 'hc-black', 'hc-light'].includes(c)) ?? null;
  }

  // ------------------------------------------------------------------------------------ diagnostics
  /** A text description of what is on screen, for failure reports. */
  async describeScreen() {
    const { page } = this;
    const parts = [];
    const safe = async (label, fn) => {
      try {
        parts.push(`${label}: ${await fn()}`);
      } catch (err) {
        parts.push(`${label}: (${err.message.split('\n')[0]})`);
      }
    };
    await safe('title', () => page.title());
    await safe('theme', () => this.themeType());
    await safe('editor groups', async () => JSON.stringify((await this.groups()).map((g) => ({ tabs: g.tabs, active: g.activeTab, focused: g.active }))));
    await safe('notifications', async () => JSON.stringify(await this.toasts()));
    await safe('quick input', async () =>
      page.evaluate(() => {
        const qi = document.querySelector('.quick-input-widget');
        if (!qi || getComputedStyle(qi).display === 'none') return 'closed';
        const value = qi.querySelector('input')?.value;
        const rows = [...qi.querySelectorAll('.monaco-list-row')].map((r) => r.getAttribute('aria-label'));
        return JSON.stringify({ value, rows });
      }),
    );
    await safe('context menu', async () => JSON.stringify(await page.locator('.context-view .action-menu-item .action-label').allInnerTexts()));
    await safe('status bar', async () => JSON.stringify(await page.locator('.statusbar .statusbar-item').evaluateAll((els) => els.map((e) => `${e.id}=${e.textContent?.trim()}`).filter((s) => !s.endsWith('=')))));
    await safe('focused', () => page.evaluate(() => `${document.activeElement?.tagName}.${document.activeElement?.className}`));
    await safe('webviews', async () => {
      const out = [];
      for (const handle of await page.locator('iframe.webview.ready').elementHandles()) {
        const inner = await (await (await handle.contentFrame())?.$('#active-frame'))?.contentFrame();
        out.push(inner ? ((await inner.evaluate(() => document.body?.innerText ?? '')) || '').replace(/\s+/g, ' ').slice(0, 300) : '(no content frame)');
      }
      return JSON.stringify(out);
    });
    return parts.join('\n');
  }
}

export function tabMatches(ariaLabel, label) {
  return ariaLabel === label || ariaLabel.startsWith(`${label},`);
}

export function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** WCAG contrast ratio of two CSS colours `rgb(...)`/`rgba(...)` (alpha blended over `over`). */
export function contrastRatio(fg, bg, over = bg) {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) throw new Error(`not an rgb() colour: ${c}`);
    const [r, g, b, a = 1] = m[1].split(',').map((x) => Number(x.trim()));
    return { r, g, b, a };
  };
  const blend = (c, base) => ({ r: c.r * c.a + base.r * (1 - c.a), g: c.g * c.a + base.g * (1 - c.a), b: c.b * c.a + base.b * (1 - c.a), a: 1 });
  const lum = ({ r, g, b }) => {
    const ch = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  const base = parse(over);
  const b = blend(parse(bg), base);
  const f = blend(parse(fg), b);
  const [hi, lo] = [lum(f), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
