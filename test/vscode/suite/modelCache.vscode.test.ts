// "Loupe: Clear Model Cache" inside VS Code: the engine's rewritten copies of models (attention
// outputs, word embeddings as an input, gradient graphs) are deleted, the engine restarted, and the
// next run writes them again with the same numbers. Runs last (files run in name order): it empties
// the cache the other suites filled.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AttentionResult } from '../../../src/protocol/workerProtocol';
import { SPAM_TEXT } from './extension.vscode.test';
import { EXTENSION_ID } from './helpers';

const SHOW = 'loupe.showAttention';

/** The files under dir, with their sizes. */
function filesIn(dir: string): { count: number; bytes: number } {
  const total = { count: 0, bytes: 0 };
  if (!fs.existsSync(dir)) return total;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = filesIn(p);
      total.count += sub.count;
      total.bytes += sub.bytes;
    } else if (e.isFile()) {
      total.count++;
      total.bytes += fs.statSync(p).size;
    }
  }
  return total;
}

suite('Model cache (loupe.clearCache)', function () {
  let cacheDir: string;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<{ cacheDir(): string }>(EXTENSION_ID);
    assert.ok(ext);
    cacheDir = (await ext.activate()).cacheDir();
  });

  test('is in the command palette and the dashboard menu, under "Loupe"', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string; title: string; category: string }[]; menus: Record<string, { command: string; when?: string }[]> };
    };
    const c = pkg.contributes.commands.find((x) => x.command === 'loupe.clearCache');
    assert.ok(c, 'loupe.clearCache is not contributed');
    assert.strictEqual(`${c.category}: ${c.title}`, 'Loupe: Clear Model Cache');
    assert.ok(pkg.contributes.menus['view/title']?.some((m) => m.command === 'loupe.clearCache' && m.when === 'view == loupe.dashboard'), 'not in the dashboard menu');
  });

  test('clearing deletes the rewritten copies; the next run writes them again and gives the same numbers', async () => {
    const before = await vscode.commands.executeCommand<AttentionResult>(SHOW, { text: SPAM_TEXT, relevance: true });
    assert.ok(before.relevance && before.relevance.unavailable === null, 'no relevance before clearing');
    const held = filesIn(cacheDir);
    assert.ok(held.count > 0, `nothing was cached in ${cacheDir}`);

    const gone = await vscode.commands.executeCommand<{ bytes: number; files: number }>('loupe._clearCacheNow');
    assert.strictEqual(gone.files, held.count, 'the command reports the files it deleted');
    assert.strictEqual(gone.bytes, held.bytes);
    assert.ok(!fs.existsSync(cacheDir), `${cacheDir} is still there`);

    // The engine was restarted; the next request starts it and writes the copies again.
    const after = await vscode.commands.executeCommand<AttentionResult>(SHOW, { text: SPAM_TEXT, relevance: true });
    assert.ok(filesIn(cacheDir).count > 0, 'the copies were not written again');
    assert.deepStrictEqual(after.relevance?.matrix, before.relevance.matrix, 'different relevance after the cache was rebuilt');
    assert.deepStrictEqual(after.attention, before.attention);
  });
});
