// Makes intermediate tensors fetchable by adding them as graph outputs, without re-encoding the
// model: protobuf merges a message appended to its own encoding, so appending a `graph` field that
// holds only new `output` entries adds them to the existing graph. The user's file is copied, never
// modified, into a cache folder keyed by its hash; external-data files are hard-linked beside the copy.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';

export interface ExtraOutput {
  name: string;
  elemType: number;
  /** Symbolic dimension names (dim_param), one per axis. */
  dims: string[];
}

export function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 127) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** One length-delimited field. */
export function lenField(number: number, payload: Buffer): Buffer {
  return Buffer.concat([varint(number * 8 + 2), varint(payload.length), payload]);
}
const stringField = (number: number, s: string): Buffer => lenField(number, Buffer.from(s, 'utf8'));

/** ValueInfoProto { name, type: TypeProto { tensor_type { elem_type, shape { dim { dim_param } … } } } } */
function valueInfo(o: ExtraOutput): Buffer {
  const shape = Buffer.concat(o.dims.map((d) => lenField(1, stringField(2, d))));
  const tensorType = Buffer.concat([varint(1 * 8 + 0), varint(o.elemType), lenField(2, shape)]);
  return Buffer.concat([stringField(1, o.name), lenField(2, lenField(1, tensorType))]);
}

/** The bytes to append to a ModelProto so that it gains these graph outputs. */
export function encodeExtraOutputs(outputs: ExtraOutput[]): Buffer {
  const graph = Buffer.concat(outputs.map((o) => lenField(12, valueInfo(o))));
  return lenField(7, graph);
}

/**
 * Puts the model's external-data files beside a rewritten copy in `dir`. A hard link, not a symlink:
 * ONNX Runtime resolves symlinks and refuses data outside the model's folder. Across file systems a
 * link is impossible, and the data is copied.
 */
export function linkExternalData(source: string, externalFiles: Iterable<string>, dir: string): void {
  for (const rel of externalFiles) {
    const from = path.resolve(path.dirname(source), rel);
    const to = path.join(dir, rel);
    if (fs.existsSync(to)) continue;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    try {
      fs.linkSync(from, to);
    } catch {
      fs.copyFileSync(from, to);
    }
  }
}

/**
 * Returns the path of a copy of `source` with the extra outputs, writing it once into `cacheDir`
 * under the source's hash. External-data files are hard-linked (or copied) next to the copy, since
 * ONNX Runtime resolves them relative to the model's path.
 */
export function modelWithOutputs(source: string, sourceSha256: string, outputs: ExtraOutput[], externalFiles: Iterable<string>, cacheDir: string): string {
  const variant = crypto.createHash('sha256').update(JSON.stringify(outputs)).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir, 'rewritten', `${sourceSha256.slice(0, 32)}-${variant}`);
  const target = path.join(dir, path.basename(source));
  if (fs.existsSync(target)) return target;
  try {
    fs.mkdirSync(dir, { recursive: true });
    linkExternalData(source, externalFiles, dir);
    // Write under a temporary name and rename, so a half-written model is never picked up.
    const tmp = `${target}.${process.pid}.tmp`;
    fs.copyFileSync(source, tmp);
    fs.appendFileSync(tmp, encodeExtraOutputs(outputs));
    fs.renameSync(tmp, target);
  } catch (e) {
    throw new LoupeError('INTERNAL', `Could not write the rewritten model to ${dir}: ${(e as Error).message}. Check that the folder is writable.`, { file: dir });
  }
  return target;
}
