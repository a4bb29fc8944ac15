// Where Loupe's own files are (dist/, models/): found from this file's location, which differs
// between the bundle (dist/), the compiled tests (out/src/…) and the installed extension.

import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | null = null;

export function packageRoot(): string {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'loupe') return (cached = dir);
    } catch {
      // not here; keep walking up
    }
    if (path.dirname(dir) === dir) throw new Error(`Loupe's package.json was not found above ${__dirname}.`);
  }
}

/** The engine worker's entry file: the bundle when built, else the compiled sources (tests). */
export function workerEntry(): string {
  const root = packageRoot();
  const bundled = path.join(root, 'dist', 'worker.js');
  if (fs.existsSync(bundled)) return bundled;
  return path.join(root, 'out', 'src', 'engine', 'worker', 'main.js');
}
