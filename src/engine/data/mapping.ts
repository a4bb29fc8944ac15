// How a model's features map to a dataset's columns: by name when the model names its features
// (model.loupe.json or ONNX metadata), otherwise by order. Also which column is likely the target
// and which the text. The user confirms the suggestion; an explicit mapping is checked here too.

import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import type { DatasetColumn, FeatureMapping, ModelInfo, Scoring } from '../../protocol/workerProtocol';

export interface Suggestion {
  by: 'name' | 'order';
  mapping: FeatureMapping[];
  unmatched: string[];
  problems: string[];
  targetCandidates: string[];
  target: string | null;
  textColumns: string[];
  textColumn: string | null;
  definition: 'sklearn' | 'label-free';
  scoring: Scoring | null;
  modelFeatures: string[];
}

const TARGET_NAME = /^(target|label|labels|class|y|outcome|diagnosis|species|category)$/i;
const TEXT_NAME = /^(text|prompt|sentence|review|content|message|body|input|question)$/i;

/** The model's features: its names, or "feature 1…n" when it has none (mapped by order). */
export function modelFeatures(info: ModelInfo): { names: string[]; named: boolean } {
  if (info.featureNames && info.featureNames.length > 0) return { names: info.featureNames, named: true };
  const width = info.inputs[0]?.shape[1];
  const n = typeof width === 'number' ? width : 0;
  return { names: Array.from({ length: n }, (_, i) => `feature ${i + 1}`), named: false };
}

export function isTextTask(info: ModelInfo): boolean {
  return info.task === 'text-classifier' || info.task === 'causal-lm';
}

export function suggest(file: string, columns: DatasetColumn[], info: ModelInfo): Suggestion {
  const base = path.basename(file);
  const header = columns.map((c) => c.name);
  const problems: string[] = [];
  const classifier = info.task === 'tabular-classifier' || info.task === 'text-classifier';
  const byTargetLikelihood = (names: string[]): string[] =>
    [...names].sort((a, b) => rank(a) - rank(b) || header.indexOf(b) - header.indexOf(a));
  const rank = (n: string): number => (TARGET_NAME.test(n) ? 0 : 1);

  if (isTextTask(info)) {
    const text = columns.filter((c) => c.type === 'text').map((c) => c.name);
    const textColumns = [...text].sort((a, b) => (TEXT_NAME.test(a) ? 0 : 1) - (TEXT_NAME.test(b) ? 0 : 1));
    if (textColumns.length === 0) problems.push(`${base} has no text column for ${info.task === 'causal-lm' ? 'the language model' : 'the text classifier'}.`);
    const textColumn = textColumns[0] ?? null;
    const targetCandidates = byTargetLikelihood(header.filter((h) => h !== textColumn));
    return {
      by: 'name',
      mapping: [],
      unmatched: [],
      problems,
      targetCandidates,
      target: null,
      textColumns,
      textColumn,
      definition: 'label-free',
      scoring: null,
      modelFeatures: [],
    };
  }

  const { names, named } = modelFeatures(info);
  let mapping: FeatureMapping[] = [];
  const unmatched: string[] = [];
  let by: 'name' | 'order' = named ? 'name' : 'order';
  if (named) {
    for (const f of names) {
      if (header.includes(f)) mapping.push({ feature: f, column: f });
      else unmatched.push(f);
    }
    // Names that match nothing at all usually mean an unnamed export: fall back to order.
    if (mapping.length === 0 && header.length >= names.length) {
      by = 'order';
      unmatched.length = 0;
    } else if (unmatched.length > 0) {
      problems.push(`${base} has no column for ${unmatched.length} of the model's ${names.length} features: ${unmatched.slice(0, 5).map((u) => `"${u}"`).join(', ')}${unmatched.length > 5 ? ', …' : ''}.`);
    }
  }
  if (by === 'order') {
    // The last column is taken as the target when there is exactly one column more than features, or it looks like one.
    const last = header[header.length - 1];
    const extra = header.length - names.length;
    const featureCols = extra >= 1 ? header.filter((h, i) => !(i === header.length - 1 && (extra === 1 || TARGET_NAME.test(h)))).slice(0, names.length) : header.slice(0, names.length);
    if (featureCols.length < names.length || names.length === 0) {
      problems.push(`${base} has ${header.length} columns; the model takes ${names.length} features (plus an optional target column).`);
    } else if (extra > 1 && !(last && TARGET_NAME.test(last))) {
      problems.push(`${base} has ${header.length} columns; the model takes ${names.length} features: the first ${names.length} columns are used in order.`);
    }
    mapping = featureCols.map((c, i) => ({ feature: names[i]!, column: c }));
  }
  const used = new Set(mapping.map((m) => m.column));
  const targetCandidates = byTargetLikelihood(header.filter((h) => !used.has(h)));
  const target = targetCandidates[0] ?? null;
  return {
    by,
    mapping,
    unmatched,
    problems,
    targetCandidates,
    target,
    textColumns: [],
    textColumn: null,
    definition: target !== null ? 'sklearn' : 'label-free',
    scoring: target !== null ? (classifier ? 'accuracy' : 'r2') : null,
    modelFeatures: names,
  };
}

/** Checks an explicit mapping: every model feature once, every column in the file. */
export function checkMapping(file: string, header: string[], info: ModelInfo, mapping: FeatureMapping[]): FeatureMapping[] {
  const base = path.basename(file);
  const { names } = modelFeatures(info);
  if (mapping.length !== names.length) {
    throw new LoupeError('BAD_REQUEST', `The mapping gives ${mapping.length} columns; the model takes ${names.length} features.`, { file });
  }
  const byFeature = new Map(mapping.map((m) => [m.feature, m.column]));
  return names.map((f, i) => {
    const column = byFeature.get(f) ?? (byFeature.size === names.length ? undefined : mapping[i]!.column);
    if (column === undefined) throw new LoupeError('BAD_REQUEST', `The mapping gives no column for the model's feature "${f}".`, { file });
    if (!header.includes(column)) throw new LoupeError('BAD_REQUEST', `${base} has no column "${column}" (mapped to feature "${f}").`, { file });
    return { feature: f, column };
  });
}
