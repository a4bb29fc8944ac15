// Loads a model for inference: finds its files, checks the .onnx, opens a session, reads the
// config and tokenizer, and decides the task. The result describes the model for every result.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import type { ModelInfo, ModelRef } from '../../protocol/workerProtocol';
import { TextTokenizer } from '../tokenize/textTokenizer';
import { fileSha256 } from './hash';
import { ModelConfig, readModelConfig, readTabularMeta, readTokenizerMaxLength, TabularMeta } from './hfConfig';
import { locateModel, type ModelFiles } from './locate';
import { OnnxFileFacts, readOnnxFacts } from './onnxFile';
import { getSession, SessionEntry } from './session';
import { detectTask, isTextModel } from './task';

export interface LoadedModel {
  info: ModelInfo;
  facts: OnnxFileFacts;
  entry: SessionEntry;
  config: ModelConfig;
  tabular: TabularMeta;
  tokenizer: TextTokenizer | null;
  /** The most tokens the model takes; texts are truncated to it. */
  maxLength: number;
}

/** Without any hint from the model, texts are cut at this many tokens. */
export const DEFAULT_MAX_LENGTH = 512;

const tokenizers = new Map<string, { key: string; tokenizer: TextTokenizer }>();

function loadTokenizer(file: string, configFile: string | null): TextTokenizer {
  const stat = fs.statSync(file);
  const key = `${stat.size}:${stat.mtimeMs}:${configFile ? fs.statSync(configFile).mtimeMs : 0}`;
  const hit = tokenizers.get(file);
  if (hit && hit.key === key) return hit.tokenizer;
  const tokenizer = new TextTokenizer(file, configFile);
  tokenizers.set(file, { key, tokenizer });
  return tokenizer;
}

const loaded = new Map<string, Promise<LoadedModel>>();
const MAX_LOADED = 4;

/** Identity of a model's files on disk: any change to one of them (size or mtime) loads it afresh. */
function filesKey(files: ModelFiles, ref: ModelRef, threads: number): string {
  const parts = [files.onnxFile, files.configFile, files.tokenizerFile, files.tokenizerConfigFile, files.sidecarFile].map((f) => {
    if (!f) return '-';
    try {
      const st = fs.statSync(f);
      return `${f}:${st.size}:${st.mtimeMs}`;
    } catch {
      return `${f}:gone`;
    }
  });
  return [...parts, ref.task ?? '', threads].join('|');
}

/**
 * Loads a model, or returns the one loaded before if none of its files changed. Its session is
 * looked up again each time: the session cache may have released it for other models meanwhile.
 */
export async function loadModel(ref: ModelRef, threads: number): Promise<LoadedModel> {
  const files = locateModel(ref);
  const key = filesKey(files, ref, threads);
  let hit = loaded.get(key);
  if (!hit) {
    while (loaded.size >= MAX_LOADED) loaded.delete(loaded.keys().next().value as string);
    hit = load(files, ref, threads);
    loaded.set(key, hit);
    hit.catch(() => loaded.delete(key));
  }
  const model = await hit;
  const entry = await getSession(model.info.onnxFile, fs.statSync(model.info.onnxFile), threads);
  return entry === model.entry ? model : { ...model, entry };
}

async function load(files: ModelFiles, ref: ModelRef, threads: number): Promise<LoadedModel> {
  const stat = fs.statSync(files.onnxFile);
  if (stat.size === 0) throw new LoupeError('MODEL_INVALID', `${path.basename(files.onnxFile)} is empty.`, { file: files.onnxFile });
  const facts = readOnnxFacts(files.onnxFile);
  const entry = await getSession(files.onnxFile, stat, threads);
  const config = readModelConfig(files.configFile);
  const tabular = readTabularMeta(facts.metadata, files.sidecarFile);

  const text = isTextModel(entry.inputs);
  let tokenizer: TextTokenizer | null = null;
  if (text) {
    if (!files.tokenizerFile) {
      throw new LoupeError(
        'TOKENIZER_MISSING',
        `${path.dirname(files.onnxFile)} has no tokenizer.json. Save the tokenizer next to the model (tokenizer.save_pretrained(folder)).`,
        { file: path.join(path.dirname(files.onnxFile), 'tokenizer.json') },
      );
    }
    tokenizer = loadTokenizer(files.tokenizerFile, files.tokenizerConfigFile);
  }
  const decision = detectTask(ref.task, entry.inputs, entry.outputs, config, tabular);
  if (text !== (decision.task === 'text-classifier' || decision.task === 'causal-lm')) {
    throw new LoupeError('BAD_REQUEST', `${path.basename(files.onnxFile)} cannot be run as a ${decision.task}: its inputs are ${entry.inputs.map((i) => i.name).join(', ')}.`, {
      file: files.onnxFile,
    });
  }
  const limits = [config.maxPositions, readTokenizerMaxLength(files.tokenizerConfigFile)].filter((x): x is number => x !== null);
  const maxLength = limits.length > 0 ? Math.min(...limits) : DEFAULT_MAX_LENGTH;

  const outWidth = (): number | null => {
    const out = entry.outputs.find((o) => o.name === 'logits') ?? entry.outputs.find((o) => o.type.startsWith('float'));
    const last = out?.shape[out.shape.length - 1];
    return typeof last === 'number' ? last : null;
  };
  let labels: string[] | null = null;
  if (decision.task === 'text-classifier') {
    const width = outWidth();
    labels = config.labels ?? (width !== null ? Array.from({ length: width }, (_, i) => `LABEL_${i}`) : null);
  } else if (decision.task === 'tabular-classifier') {
    const width = outWidth();
    labels = tabular.labels ?? (width !== null ? Array.from({ length: width }, (_, i) => `class_${i}`) : null);
  }

  const info: ModelInfo = {
    path: files.root,
    format: files.format,
    onnxFile: files.onnxFile,
    onnxCandidates: files.onnxCandidates,
    task: decision.task,
    taskSource: decision.source,
    inputs: entry.inputs,
    outputs: entry.outputs,
    labels,
    featureNames: text ? null : tabular.featureNames,
    opset: facts.opset,
    producer: facts.producer,
    sizeBytes: stat.size,
    sha256: await fileSha256(files.onnxFile, stat),
    maxLength: text ? maxLength : null,
    modelType: config.modelType,
    architectures: config.architectures,
    vocabSize: config.vocabSize ?? tokenizer?.vocabSize ?? null,
    externalData: facts.usesExternalData,
  };
  return { info, facts, entry, config, tabular, tokenizer, maxLength };
}
