// Shared helpers for the node:test suites: where fixtures live, and a way to call the engine
// in-process (the worker's own handlers, without IPC) for fast engine tests.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelToken } from '../src/engine/cancellation';
import { DEFAULT_SETTINGS, EngineState, handlers } from '../src/engine/worker/handlers';
import { packageRoot } from '../src/packageRoot';
import { LoupeError } from '../src/protocol/errors';
import type { MethodName, ParamsOf, ResultOf } from '../src/protocol/workerProtocol';

export const ROOT = packageRoot();
/** ../shared/fixtures, beside the project (read-only), or where LOUPE_SHARED_FIXTURES says. */
export const SHARED_FIXTURES = path.resolve(process.env.LOUPE_SHARED_FIXTURES ?? path.join(ROOT, '..', 'shared', 'fixtures'));
// One clear reason instead of a file-not-found in every test that reads a reference.
if (!fs.existsSync(SHARED_FIXTURES)) {
  throw new Error(`The reference fixtures are not at ${SHARED_FIXTURES}: check the project out beside shared/ (as CI does), or set LOUPE_SHARED_FIXTURES to the fixtures folder.`);
}
export const TEST_FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const MODELS = path.join(ROOT, 'models');

const state: EngineState = { settings: { ...DEFAULT_SETTINGS, threads: 2 } };

export async function engine<M extends MethodName>(method: M, params: ParamsOf<M>, token = new CancelToken()): Promise<ResultOf<M>> {
  const handler = handlers[method] as (p: ParamsOf<M>, s: EngineState, t: CancelToken, pr: () => void) => Promise<ResultOf<M>>;
  return handler(params, state, token, () => undefined);
}

/** Runs `fn`, expecting a LoupeError; returns it for further checks. */
export async function engineError(fn: () => Promise<unknown>): Promise<LoupeError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof LoupeError) return e;
    throw new Error(`expected a LoupeError, got ${String(e)}`);
  }
  throw new Error('expected an error, but the call succeeded');
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `loupe-${prefix}-`));
}

/** Copies a model folder into a temp dir, so a test can break it without touching the original. */
export function copyModel(src: string, prefix: string): string {
  const dir = tempDir(prefix);
  for (const f of fs.readdirSync(src)) {
    const from = path.join(src, f);
    if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(dir, f));
  }
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  return dir;
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Runs the `loupe` CLI as a user does (node bin/loupe.js …) from the package root. */
export async function runLoupe(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin', 'loupe.js'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
