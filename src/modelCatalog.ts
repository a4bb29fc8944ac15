// The models a user can pick from: the demo models bundled in models/, and paths the user
// configured. Shared by the extension and the CLI; it only finds paths, the engine describes them.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from './packageRoot';

export interface CatalogEntry {
  name: string;
  path: string;
  source: 'bundled' | 'configured' | 'workspace';
}

export const DEFAULT_MODEL_NAME = 'spam-classifier';

export function bundledModelsDir(): string {
  return path.join(packageRoot(), 'models');
}

export function bundledModels(): CatalogEntry[] {
  const dir = bundledModelsDir();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => fs.statSync(path.join(dir, n)).isDirectory())
    .filter((n) => fs.readdirSync(path.join(dir, n)).some((f) => f.endsWith('.onnx')))
    .sort()
    .map((n) => ({ name: n, path: path.join(dir, n), source: 'bundled' as const }));
}

export function defaultModelPath(): string {
  return path.join(bundledModelsDir(), DEFAULT_MODEL_NAME);
}

/** Resolves a model argument: a path, or the name of a bundled model. */
export function resolveModelArg(arg: string | undefined, cwd: string): string {
  if (arg === undefined) return defaultModelPath();
  const asPath = path.resolve(cwd, arg);
  if (fs.existsSync(asPath)) return asPath;
  const bundled = bundledModels().find((m) => m.name === arg);
  return bundled ? bundled.path : asPath;
}

export function configuredModels(paths: readonly string[], base: string): CatalogEntry[] {
  return paths.map((p) => {
    const abs = path.resolve(base, p);
    return { name: path.basename(abs), path: abs, source: 'configured' as const };
  });
}
