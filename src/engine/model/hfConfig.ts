// The parts of a Hugging Face config.json, tokenizer_config.json, ONNX metadata_props or
// `<model>.loupe.json` sidecar that the engine uses, read defensively: real configs vary by architecture.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import { TASK_KINDS, TaskKind } from '../../protocol/workerProtocol';

export interface ModelConfig {
  modelType: string | null;
  architectures: string[];
  /** Labels in id order, when the config names them. */
  labels: string[] | null;
  maxPositions: number | null;
  vocabSize: number | null;
  numHeads: number | null;
  numKeyValueHeads: number | null;
  headDim: number | null;
  numLayers: number | null;
}

export interface TabularMeta {
  featureNames: string[] | null;
  labels: string[] | null;
  task: TaskKind | null;
}

function readJsonObject(file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LoupeError('CONFIG_INVALID', `${path.basename(file)} is not valid JSON (${(e as Error).message}).`, { file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LoupeError('CONFIG_INVALID', `${path.basename(file)} should hold a JSON object.`, { file });
  }
  return value as Record<string, unknown>;
}

const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);
const firstInt = (o: Record<string, unknown>, keys: string[]): number | null => {
  for (const k of keys) {
    const v = int(o[k]);
    if (v !== null) return v;
  }
  return null;
};

export function labelsFromId2Label(value: unknown): string[] | null {
  if (typeof value !== 'object' || value === null) return null;
  const entries = Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => [Number(k), String(v)] as const)
    .filter(([k]) => Number.isInteger(k) && k >= 0)
    .sort((a, b) => a[0] - b[0]);
  if (entries.length === 0 || entries.some(([k], i) => k !== i)) return null;
  return entries.map(([, v]) => v);
}

export function readModelConfig(file: string | null): ModelConfig {
  const c = file ? readJsonObject(file) : {};
  // Decoder-only configs of encoder-decoder families keep their numbers in a nested text_config.
  const t = typeof c.text_config === 'object' && c.text_config !== null ? { ...(c.text_config as Record<string, unknown>), ...c } : c;
  const numHeads = firstInt(t, ['num_attention_heads', 'n_head', 'num_heads', 'n_heads']);
  const hidden = firstInt(t, ['hidden_size', 'n_embd', 'd_model', 'dim']);
  return {
    modelType: typeof c.model_type === 'string' ? c.model_type : null,
    architectures: Array.isArray(c.architectures) ? c.architectures.filter((a): a is string => typeof a === 'string') : [],
    labels: labelsFromId2Label(c.id2label),
    maxPositions: firstInt(t, ['max_position_embeddings', 'n_positions', 'max_seq_len', 'seq_length', 'n_ctx']),
    vocabSize: firstInt(t, ['vocab_size']),
    numHeads,
    numKeyValueHeads: firstInt(t, ['num_key_value_heads', 'n_kv_heads', 'num_kv_heads']) ?? numHeads,
    headDim: firstInt(t, ['head_dim']) ?? (hidden !== null && numHeads !== null ? hidden / numHeads : null),
    numLayers: firstInt(t, ['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers']),
  };
}

/** model_max_length from tokenizer_config.json; exporters write 1e30 when there is none. */
export function readTokenizerMaxLength(file: string | null): number | null {
  if (!file) return null;
  const v = readJsonObject(file).model_max_length;
  return typeof v === 'number' && v > 0 && v < 1_000_000 ? Math.floor(v) : null;
}

function stringArray(v: unknown): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
}

function parseTask(v: unknown): TaskKind | null {
  return typeof v === 'string' && (TASK_KINDS as readonly string[]).includes(v) ? (v as TaskKind) : null;
}

/** Feature names, labels and task of a tabular model: the sidecar wins over the model's metadata_props. */
export function readTabularMeta(metadata: Record<string, string>, sidecarFile: string | null): TabularMeta {
  const fromJson = (s: string | undefined, file: string): string[] | null => {
    if (s === undefined) return null;
    try {
      return stringArray(JSON.parse(s));
    } catch {
      throw new LoupeError('CONFIG_INVALID', `The metadata of ${path.basename(file)} holds invalid JSON in its Loupe keys.`, { file });
    }
  };
  const meta: TabularMeta = {
    featureNames: fromJson(metadata['loupe.feature_names'], 'model'),
    labels: fromJson(metadata['loupe.labels'], 'model'),
    task: parseTask(metadata['loupe.task']),
  };
  if (sidecarFile) {
    const s = readJsonObject(sidecarFile);
    meta.featureNames = stringArray(s.featureNames) ?? meta.featureNames;
    meta.labels = stringArray(s.labels) ?? meta.labels;
    meta.task = parseTask(s.task) ?? meta.task;
  }
  return meta;
}
