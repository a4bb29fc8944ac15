// The metadata files written beside rewritten copies in the cache (what a gradient or embedding copy
// returns, its builder's version). They are Loupe's own: one that is missing, damaged or of another
// shape is read as absent, and the copy is written again, instead of failing every later run.

import * as fs from 'node:fs';

/** The metadata in `file` when it parses and `accept` takes it; null otherwise. */
export function readCacheMeta<T>(file: string, accept: (v: Record<string, unknown>) => T | null): T | null {
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? accept(v as Record<string, unknown>) : null;
}
