// The versions recorded with every result, so that a number can be traced to the code that made it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { packageRoot } from '../packageRoot';

// Set by the esbuild bundle (the tokenizer library is bundled and its package.json is not shipped).
declare const LOUPE_TOKENIZERS_VERSION: string | undefined;
declare const LOUPE_ENGINE_VERSION: string | undefined;

function installedVersion(name: string): string | null {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const v = (JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: unknown }).version;
      return typeof v === 'string' ? v : null;
    } catch {
      if (path.dirname(dir) === dir) return null;
    }
  }
}

export const ENGINE_VERSION: string =
  typeof LOUPE_ENGINE_VERSION === 'string'
    ? LOUPE_ENGINE_VERSION
    : (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
export const TOKENIZERS_VERSION: string | null =
  typeof LOUPE_TOKENIZERS_VERSION === 'string' ? LOUPE_TOKENIZERS_VERSION : installedVersion('@huggingface/tokenizers');
export const ONNXRUNTIME_VERSION: string = ort.env.versions.node ?? ort.env.versions.common;
