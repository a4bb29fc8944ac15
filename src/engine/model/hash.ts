// The model's identity in every result: SHA-256 of its .onnx file, cached per path, size and mtime
// so that a large model is hashed once per change rather than once per request.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

const cache = new Map<string, { key: string; sha256: string }>();

export async function fileSha256(file: string, stat: fs.Stats): Promise<string> {
  const key = `${stat.size}:${stat.mtimeMs}`;
  const hit = cache.get(file);
  if (hit && hit.key === key) return hit.sha256;
  const hash = crypto.createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve());
  });
  const sha256 = hash.digest('hex');
  cache.set(file, { key, sha256 });
  return sha256;
}
