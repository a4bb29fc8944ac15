// UI test: "Loupe: Explain" used as a user would, from the explorer's context menu on a prompt file,
// through its two quick picks (methods, each with its planned forward passes; then the class), to
// the explanation panel (shaded tokens, the methods table) and the inline highlights in the editor
// (theme-coloured backgrounds, a hover with every method's score).
//
// Screenshots: <shotsDir>/explain-context-quickpick.png, explain-context-panel.png,
// explain-context-hover.png.
import assert from 'node:assert/strict';
import { ui } from './context.mjs';
import { quickPickRows, waitFor } from './workbench.mjs';

const FILE = 'prompt.txt';
const PANEL = `Explanation: ${FILE}`;

suite('Explain from the explorer', function () {
  this.timeout(180_000);

  setup(async () => {
    await ui.wb.dismiss();
    await ui.wb.clearNotifications();
  });

  test('right-click prompt.txt > "Explain": quick picks, panel with shaded tokens and methods, inline highlights with a hover', async () => {
    const { wb } = ui;
    const { page } = wb;
    await wb.closeAllEditors();
    const items = await wb.openExplorerContextMenu(FILE, { expect: 'Explain' });
    assert.ok(items.includes('Explain'), `no "Explain" in the explorer context menu of ${FILE}: ${JSON.stringify(items)}`);
    await wb.clickContextMenuItem('Explain');

    // 1. The methods, each with the forward passes it will take; occlusion and KernelSHAP preselected.
    // The list renders its rows over a few frames: wait for all of them, not the first five drawn.
    const METHODS = ['Occlusion', 'LIME', 'KernelSHAP', 'Integrated Gradients', 'Gradient × Input', 'Saliency', 'SmoothGrad', 'GradientSHAP', 'Attention × gradient', 'Layer gradient × activation'];
    const planned = /^\d+ forward passes(, exact gradients|, finite differences)?$/;
    const methods = await waitFor('the methods quick pick', () => quickPickRows(page), { timeout: 30_000, accept: (rows) => rows.length >= METHODS.length && rows.every((r) => planned.test(r.description)) });
    assert.deepEqual(
      methods.map((r) => r.label),
      METHODS,
    );
    // The perturbation methods say their passes; the gradient methods also how they get their gradients.
    for (const r of methods.slice(0, 3)) assert.match(r.description, /^\d+ forward passes$/, `${r.label}: ${r.description}`);
    for (const r of methods.slice(3)) assert.match(r.description, /^\d+ forward passes, exact gradients$/, `${r.label}: ${r.description}`);
    const passes = Object.fromEntries(methods.map((r) => [r.label, Number(r.description.split(' ')[0])]));
    // Leave-one-out is one pass per word token plus f(x): far fewer than 500-sample LIME.
    assert.ok(passes.Occlusion < passes.LIME, JSON.stringify(passes));
    assert.match(await page.locator('.quick-input-widget .quick-input-title').innerText(), /explain prompt\.txt \(\d+ tokens\)/);
    await wb.screenshot('explain-context-quickpick');
    await page.keyboard.press('Enter'); // accept the preselected methods

    // 2. The class: the predicted one (default), or one of the model's labels (once the methods' rows are gone).
    const classes = await waitFor('the class quick pick', () => quickPickRows(page), { accept: (rows) => rows.some((r) => r.label === 'Predicted class') && !rows.some((r) => /forward passes/.test(r.description)) });
    assert.deepEqual(classes.map((r) => r.label), ['Predicted class', 'ham', 'spam']);
    await page.keyboard.press('Enter');

    // 3. The panel: shaded tokens and the methods table.
    const drawn = await waitFor(
      'the explanation panel to show shaded tokens and the methods table',
      async () => {
        const { frame } = await wb.webview(PANEL, { timeout: 2_000 });
        return frame.evaluate(() => {
          const tokens = [...document.querySelectorAll('.explain-token')];
          const shaded = tokens.filter((t) => {
            const bg = getComputedStyle(t).backgroundColor;
            return bg !== '' && bg !== 'transparent' && !/rgba\(0, 0, 0, 0\)/.test(bg);
          });
          const heads = [...document.querySelectorAll('table.explain-table thead th')].map((th) => th.textContent?.trim() ?? '');
          return { tokens: tokens.map((t) => t.textContent ?? ''), shaded: shaded.length, heads };
        });
      },
      { timeout: 60_000, accept: (v) => v.shaded > 0 && v.heads.includes('Occlusion') && v.heads.includes('KernelSHAP') },
    );
    for (const w of ['Congratulations', 'free', 'prize']) assert.ok(drawn.tokens.includes(w), `tokens shown: ${JSON.stringify(drawn.tokens)}`);
    assert.ok(drawn.shaded >= 5, `only ${drawn.shaded} tokens shaded`);

    // 4. The editor beside it: the prompt's tokens decorated with the contributed theme colours.
    const group = await wb.groupShowing(FILE);
    assert.ok(group, `${FILE} is not showing in an editor group`);
    const editor = page.locator('.editor-group-container').nth(group.index).locator('.monaco-editor').first();
    // Background decorations are drawn as overlay boxes behind the text (.view-overlays .cdr).
    const decorated = await waitFor(
      'inline attribution decorations in the editor',
      () =>
        editor.locator('.view-overlays .cdr').evaluateAll((boxes) =>
          boxes.map((b) => getComputedStyle(b).backgroundColor).filter((bg) => bg && bg !== 'transparent' && bg !== 'rgba(0, 0, 0, 0)'),
        ),
      { timeout: 20_000, accept: (v) => v.length >= 5 },
    );
    // The contributed colours: blue for tokens that raised the output, red for those that lowered it.
    const hues = new Set(
      decorated.map((bg) => {
        const [r, , b] = /rgba?\(([^)]+)\)/.exec(bg)[1].split(',').map(Number);
        return b > r ? 'positive' : 'negative';
      }),
    );
    assert.ok(hues.has('positive'), `no positively shaded token: ${JSON.stringify(decorated)}`);
    await wb.screenshot('explain-context-panel');

    // 5. The hover on a decorated token: every method's score.
    const at = await editor.locator('.view-lines').evaluate((lines) => {
      const walker = document.createTreeWalker(lines, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.textContent.indexOf('prize');
        if (i < 0) continue;
        const range = document.createRange();
        range.setStart(n, i);
        range.setEnd(n, i + 5);
        const r = range.getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      }
      return null;
    });
    assert.ok(at, `no "prize" in the editor's text`);
    await page.mouse.move(at.x, at.y);
    const hover = await waitFor('the attribution hover', () => page.locator('.monaco-hover:visible .hover-contents').allInnerTexts(), {
      accept: (texts) => texts.some((t) => /Loupe/.test(t) && /occlusion/.test(t) && /kernelshap/.test(t)),
    });
    const text = hover.find((t) => /Loupe/.test(t));
    assert.match(text, /token .?prize.?/);
    assert.match(text, /explaining spam \(logit\)/);
    assert.match(text, /occlusion[^\n]*\n?[^\n]*-?\d\.\d+/);
    await wb.screenshot('explain-context-hover');
  });
});
