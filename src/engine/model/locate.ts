// Finds the files of a model: a Hugging Face / optimum export folder, or a single .onnx file
// (optionally with a `<model>.loupe.json` sidecar).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import type { ModelRef } from '../../protocol/workerProtocol';

export interface ModelFiles {
  /** The path the user gave, resolved. */
  root: string;
  format: 'hf-folder' | 'onnx-file';
  onnxFile: string;
  /** Every .onnx file in the folder (and its onnx/ subfolder), relative to the folder. */
  onnxCandidates: string[];
  configFile: string | null;
  tokenizerFile: string | null;
  tokenizerConfigFile: string | null;
  sidecarFile: string | null;
}

/** Preferred names, best first: what optimum writes for a plain (non-merged, non-quantized) export. */
const PREFERRED = ['model.onnx', 'onnx/model.onnx', 'decoder_model_merged.onnx', 'onnx/decoder_model_merged.onnx', 'decoder_model.onnx', 'onnx/decoder_model.onnx'];

function listOnnx(dir: string): string[] {
  const found: string[] = [];
  for (const sub of ['', 'onnx']) {
    const d = path.join(dir, sub);
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (n.endsWith('.onnx') && fs.statSync(path.join(d, n)).isFile()) found.push(sub ? `${sub}/${n}` : n);
  }
  return found.sort();
}

export function defaultOnnxChoice(candidates: string[]): string | undefined {
  return PREFERRED.find((p) => candidates.includes(p)) ?? candidates.find((c) => !/quantized|_q4|_int8|_fp16/i.test(c)) ?? candidates[0];
}

const existing = (f: string): string | null => (fs.existsSync(f) ? f : null);

export function locateModel(ref: ModelRef): ModelFiles {
  const root = path.resolve(ref.path);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new LoupeError('FILE_NOT_FOUND', `Model not found: ${root} does not exist.`, { file: root });
  }
  if (stat.isFile()) {
    // A file inside an export folder (model.onnx, or onnx/model.onnx) uses that folder's tokenizer and config.
    const here = path.dirname(root);
    const folder = [here, path.dirname(here)].find((d) => fs.existsSync(path.join(d, 'tokenizer.json')) || fs.existsSync(path.join(d, 'config.json')));
    const sidecar = existing(root.replace(/\.onnx$/i, '') + '.loupe.json');
    return {
      root,
      format: folder ? 'hf-folder' : 'onnx-file',
      onnxFile: root,
      onnxCandidates: [path.basename(root)],
      configFile: folder ? existing(path.join(folder, 'config.json')) : null,
      tokenizerFile: folder ? existing(path.join(folder, 'tokenizer.json')) : null,
      tokenizerConfigFile: folder ? existing(path.join(folder, 'tokenizer_config.json')) : null,
      sidecarFile: sidecar,
    };
  }
  if (!stat.isDirectory()) throw new LoupeError('FILE_NOT_FOUND', `Model path ${root} is neither a file nor a folder.`, { file: root });

  const candidates = listOnnx(root);
  if (candidates.length === 0) {
    throw new LoupeError('FILE_NOT_FOUND', `No .onnx file in ${root}. Export the model to ONNX first (for example with optimum-cli export onnx).`, {
      file: root,
    });
  }
  let chosen: string;
  if (ref.onnxFile !== undefined) {
    const abs = path.resolve(root, ref.onnxFile);
    if (!fs.existsSync(abs)) {
      throw new LoupeError('FILE_NOT_FOUND', `${ref.onnxFile} is not in ${root}; it has ${candidates.join(', ')}.`, { file: abs });
    }
    chosen = abs;
  } else {
    chosen = path.join(root, defaultOnnxChoice(candidates)!);
  }
  const tokenizerFile = existing(path.join(root, 'tokenizer.json'));
  return {
    root,
    format: tokenizerFile || fs.existsSync(path.join(root, 'config.json')) ? 'hf-folder' : 'onnx-file',
    onnxFile: chosen,
    onnxCandidates: candidates,
    configFile: existing(path.join(root, 'config.json')),
    tokenizerFile,
    tokenizerConfigFile: existing(path.join(root, 'tokenizer_config.json')),
    sidecarFile: existing(chosen.replace(/\.onnx$/i, '') + '.loupe.json'),
  };
}
