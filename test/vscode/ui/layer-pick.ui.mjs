// UI test: "Loupe: Explain" with Layer gradient × activation, by keyboard only: the method is
// checked in the methods quick pick, then a second quick pick offers the transformer blocks the
// engine found (the default, the last block's input, first; each with its output tensor) and "A
// tensor by name…"; the panel then says which block's output it attributed.
//
// Screenshots: <shotsDir>/layer-pick-quickpick.png, layer-pick-panel.png.
import assert from 'node:assert/strict';
import { ui } from './context.mjs';
import { quickPickRows, waitFor } from './workbench.mjs';

const FILE = 'prompt.txt';
const PANEL = `Explanation: ${FILE}`;
const LABEL = 'Layer gradient × activation';

suite('Explain with a layer', function () {
  this.timeout(180_000);

  setup(async () => {
    await ui.wb.dismiss();
    await ui.wb.clearNotifications();
  });

  test('the methods quick pick, then the layer quick pick (blocks, default first, or a tensor by name), by keyboard; the panel names the layer', async () => {
    const { wb } = ui;
    const { page } = wb;
    await wb.closeAllEditors();
    await wb.openExplorerContextMenu(FILE, { expect: 'Explain' });
    await wb.clickContextMenuItem('Explain');

    await waitFor('the methods quick pick', () => quickPickRows(page), { timeout: 30_000, accept: (rows) => rows.some((r) => r.label === LABEL && /forward passes/.test(r.description)) });
    // Filter to the method, move to its row, check it with Space; the preselected methods stay checked.
    await page.keyboard.type('layer gradient');
    await waitFor('the filtered methods', () => quickPickRows(page), { accept: (rows) => rows.length === 1 && rows[0].label === LABEL });
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space');
    await waitFor(`${LABEL} checked`, () => quickPickRows(page), { accept: (rows) => rows.length === 1 && rows[0].checked === true });
    await page.keyboard.press('Enter');

    const layers = await waitFor('the layer quick pick', () => quickPickRows(page), { accept: (rows) => rows.some((r) => r.label === 'Block 0') });
    assert.deepEqual(
      layers.map((r) => r.label),
      ['Block 0', 'Block 1', 'A tensor by name…'],
    );
    assert.match(layers[0].description, /default/);
    assert.match(layers[0].text, /\/layers\.0\/ln2\/Add_1_output_0/, 'the block\'s output tensor is its detail');
    assert.match(layers[1].description, /final hidden state/);
    await wb.screenshot('layer-pick-quickpick');
    await page.keyboard.press('Enter'); // the default: block 0

    const classes = await waitFor('the class quick pick', () => quickPickRows(page), { accept: (rows) => rows.some((r) => r.label === 'Predicted class') });
    assert.ok(classes.length > 0);
    await page.keyboard.press('Enter');

    const drawn = await waitFor(
      'the explanation panel with the layer',
      async () => {
        const { frame } = await wb.webview(PANEL, { timeout: 2_000 });
        return frame.evaluate(() => ({
          heads: [...document.querySelectorAll('table.explain-table thead th')].map((th) => th.textContent?.trim() ?? ''),
          muted: [...document.querySelectorAll('p.muted')].map((p) => p.textContent ?? ''),
        }));
      },
      { timeout: 60_000, accept: (v) => v.heads.includes('Layer gradient × activation') },
    );
    assert.ok(
      drawn.muted.some((t) => t.includes("Layer gradient × activation at block 0's output, /layers.0/ln2/Add_1_output_0")),
      JSON.stringify(drawn.muted),
    );
    await wb.screenshot('layer-pick-panel');
  });
});
