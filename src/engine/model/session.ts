// ONNX Runtime sessions, cached per model file, its size and mtime, and the thread setting:
// a changed file on disk gets a new session, and an unchanged one is never loaded twice.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LoupeError } from '../../protocol/errors';
import type { TensorSpec } from '../../protocol/workerProtocol';

export interface SessionEntry {
  session: ort.InferenceSession;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

const sessions = new Map<string, Promise<SessionEntry>>();
const MAX_SESSIONS = 4;

function specs(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return meta.map((m) => ({
    name: m.name,
    type: m.isTensor ? m.type : 'non-tensor',
    shape: m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) : [],
  }));
}

export function getSession(onnxFile: string, stat: fs.Stats, threads: number): Promise<SessionEntry> {
  const key = `${onnxFile}|${stat.size}|${stat.mtimeMs}|${threads}`;
  let entry = sessions.get(key);
  if (entry) {
    // Least recently used goes first: a hit moves to the back of the map's order.
    sessions.delete(key);
    sessions.set(key, entry);
  } else {
    // Drop stale sessions of the same file (it changed on disk) and keep the cache bounded.
    for (const k of sessions.keys()) if (k.startsWith(`${onnxFile}|`)) void release(k);
    while (sessions.size >= MAX_SESSIONS) void release(sessions.keys().next().value as string);
    entry = create(onnxFile, threads);
    sessions.set(key, entry);
    entry.catch(() => sessions.delete(key));
  }
  return entry;
}

async function release(key: string): Promise<void> {
  const entry = sessions.get(key);
  sessions.delete(key);
  try {
    await (await entry)?.session.release();
  } catch {
    // A session that failed to load has nothing to release.
  }
}

async function create(onnxFile: string, threads: number): Promise<SessionEntry> {
  try {
    // A path, not a buffer: ONNX Runtime finds external-data files next to the model only then.
    const session = await ort.InferenceSession.create(onnxFile, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
      // The engine alternates sessions (word-embedding gather, forward, gradient model): without this,
      // one session's idle pool threads keep spinning after its run and take the cores from the next
      // session's threads (exact IG on the bundled classifier went from ~150 ms to ~95 ms with it).
      extra: { session: { force_spinning_stop: '1' } },
    });
    return { session, inputs: specs(session.inputMetadata), outputs: specs(session.outputMetadata) };
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    throw new LoupeError('MODEL_LOAD_FAILED', `ONNX Runtime could not load ${path.basename(onnxFile)}: ${msg}`, { file: onnxFile, detail: msg });
  }
}
