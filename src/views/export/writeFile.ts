// Writing an export: the place is picked in a save dialog, and a file that already exists is
// replaced only after the user said so; the bytes go into a temporary file beside the target, then a
// rename over it, so that no reader ever sees a half-written file. Every panel's export uses this.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

/**
 * Writes `chunks` to `target` atomically: into a temporary file beside it, then a rename. With
 * `replace: false` an existing target is left alone and an error says so.
 */
export async function writeAtomic(target: vscode.Uri, chunks: Iterable<string | Uint8Array>, options: { replace?: boolean } = {}): Promise<void> {
  const replace = options.replace ?? true;
  const suffix = `.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`;
  if (target.scheme === 'file') {
    const dest = target.fsPath;
    if (!replace && fs.existsSync(dest)) throw new Error(`${dest} already exists; it was not replaced`);
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}${suffix}`);
    const fh = await fs.promises.open(tmp, 'wx');
    try {
      let pending: Buffer[] = [];
      let size = 0;
      const flush = async (): Promise<void> => {
        if (size === 0) return;
        await fh.write(Buffer.concat(pending, size));
        pending = [];
        size = 0;
      };
      for (const c of chunks) {
        const b = typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        pending.push(b);
        size += b.length;
        if (size >= 1 << 20) await flush();
      }
      await flush();
      await fh.sync();
      await fh.close();
      // A link, not a rename, when replacing is not allowed: it fails if the target appeared meanwhile.
      if (replace) await fs.promises.rename(tmp, dest);
      else {
        await fs.promises.link(tmp, dest);
        await fs.promises.rm(tmp, { force: true });
      }
    } catch (e) {
      await fh.close().catch(() => undefined);
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    return;
  }
  // Another file system (remote, virtual): the same through VS Code's file system API.
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));
  const tmp = target.with({ path: `${path.posix.dirname(target.path)}/.${path.posix.basename(target.path)}${suffix}` });
  await vscode.workspace.fs.writeFile(tmp, Buffer.concat(parts));
  try {
    await vscode.workspace.fs.rename(tmp, target, { overwrite: replace });
  } catch (e) {
    await Promise.resolve(vscode.workspace.fs.delete(tmp)).catch(() => undefined);
    throw e;
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether `bytes` start with the PNG signature (what a view sends as its drawing is checked). */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

export interface ExportFormat {
  /** 'html', 'json', 'csv', 'png' */
  ext: string;
  /** The save dialog's filter name ("HTML report"). */
  filter: string;
}

/**
 * Asks where to save (a save dialog opening at `defaultUri`), and, when the file exists, whether to
 * replace it (the dialog of some platforms does not ask). Undefined when the user backed out.
 */
export async function askExportTarget(defaultUri: vscode.Uri, format: ExportFormat, title: string): Promise<vscode.Uri | undefined> {
  const target = await vscode.window.showSaveDialog({ defaultUri, filters: { [format.filter]: [format.ext] }, title, saveLabel: 'Export' });
  if (!target) return undefined;
  if (await exists(target)) {
    const name = path.posix.basename(target.path);
    const choice = await vscode.window.showWarningMessage(`${name} already exists. Replace it?`, { modal: true }, 'Replace');
    if (choice !== 'Replace') return undefined;
  }
  return target;
}

/** The default file beside the source: `<stem>.<kind>.<ext>` (or in the workspace for an untitled source). */
export function exportUriBeside(source: vscode.Uri, kind: string, ext: string, homeDir: string): vscode.Uri {
  const stem = path.posix.basename(source.path).replace(/\.[^.]*$/, '') || 'prompt';
  const name = `${stem}.${kind}.${ext}`;
  if (source.scheme === 'untitled') {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return folder ? vscode.Uri.joinPath(folder, name) : vscode.Uri.file(path.join(homeDir, name));
  }
  return vscode.Uri.joinPath(source, '..', name);
}
