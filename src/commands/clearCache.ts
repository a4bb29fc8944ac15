// "Loupe: Clear Model Cache": deletes the copies of models the engine rewrote into its cache (with
// attention outputs, with the word embeddings as an input, with a gradient graph). Each is about as
// large as its model, and they are written again when next needed. The engine is restarted first:
// it may hold a copy open or be writing one. The user's models are never in the cache.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import type { EngineClient } from '../engineClient';
import { formatByteSize } from '../protocol/byteSize';

interface CacheContents {
  bytes: number;
  files: number;
}

/** What the cache holds (a missing folder holds nothing). */
function cacheContents(dir: string): CacheContents {
  const total: CacheContents = { bytes: 0, files: 0 };
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        total.bytes += fs.statSync(p).size;
        total.files++;
      }
    }
  };
  walk(dir);
  return total;
}

/** Restarts the engine and deletes the cache folder; returns what it held. */
async function clear(client: EngineClient, dir: string): Promise<CacheContents> {
  const before = cacheContents(dir);
  await client.restart();
  // Asynchronous: a cache of several GB takes a while to delete, and the extension host stays responsive.
  await fs.promises.rm(dir, { recursive: true, force: true });
  client.log.info(`Model cache cleared: ${formatByteSize(before.bytes)} in ${before.files} ${before.files === 1 ? 'file' : 'files'} deleted from ${dir}.`);
  return before;
}

export function registerClearCache(client: EngineClient, dir: string): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.clearCache, async () => {
      const held = cacheContents(dir);
      if (held.files === 0) {
        void vscode.window.showInformationMessage(`Loupe: the model cache is empty (${dir}).`);
        return;
      }
      const choice = await vscode.window.showWarningMessage(
        `Delete Loupe's model cache (${formatByteSize(held.bytes)})?`,
        {
          modal: true,
          detail: `${held.files} ${held.files === 1 ? 'file' : 'files'} in ${dir}: copies of models rewritten to return their attention or gradients. Your model files are not touched, and the copies are written again when needed. The engine is restarted, which stops a Loupe run in progress.`,
        },
        'Delete',
      );
      if (choice !== 'Delete') return;
      try {
        const gone = await clear(client, dir);
        void vscode.window.showInformationMessage(`Loupe: deleted the model cache (${formatByteSize(gone.bytes)}).`);
      } catch (e) {
        void vscode.window.showErrorMessage(`Loupe: could not delete the model cache at ${dir}: ${(e as Error).message}`);
      }
    }),
    // For the integration tests: the same without the confirmation; returns what was deleted.
    vscode.commands.registerCommand(Commands.clearCacheNow, () => clear(client, dir)),
  );
}
