// Permutation importance of a tabular model on a dataset: resolves the column mapping, target,
// definition and scoring; loads (and if needed samples) the rows; runs the permutations.

import * as path from 'node:path';
import { LoupeError } from '../../../protocol/errors';
import type { DatasetUsage, FeatureMapping, ImportanceParams, ModelInfo, Scoring } from '../../../protocol/workerProtocol';
import { checkMapping, modelFeatures, suggest } from '../../data/mapping';
import { openRecords } from '../../data/records';
import { DEFAULT_ROW_BUDGET, loadTable, Table, tableUsage } from '../../data/table';
import { parseNumber } from '../../data/values';
import type { Work } from '../../inference/predict';
import type { LoadedModel } from '../../model/loadModel';
import { FeatureGroup, forwardRowsFor, permutationImportance, PermutationOutcome, rowsForMaxSamples } from './permutation';
import { checkScoring } from './scoring';
import { TabularRunner } from './tabularRunner';

export const DEFAULT_REPEATS = 5;

export interface ResolvedRun {
  mapping: FeatureMapping[];
  mappingBy: 'name' | 'order' | 'explicit';
  target: string | null;
  definition: 'sklearn' | 'label-free';
  scoring: Scoring | null;
  repeats: number;
  seed: number;
  rowBudget: number;
  groups: FeatureGroup[];
}

export interface TabularImportance extends PermutationOutcome {
  resolved: ResolvedRun;
  dataset: DatasetUsage;
  forwardRows: number;
  warnings: string[];
}

/** The mapping, target, definition, scoring and groups of a run, checked against the file's header. */
export async function resolveRun(model: ModelInfo, params: ImportanceParams): Promise<ResolvedRun & { header: string[] }> {
  const file = params.data.path;
  const src = await openRecords(params.data);
  const header = src.header;
  src.close();
  const columns = header.map((name, index) => ({ name, index, type: 'numeric' as const, missing: 0, nonNumeric: 0, firstNonNumeric: null, distinct: null, examples: [], min: null, max: null, mean: null }));
  const suggestion = suggest(file, columns, model);
  let mapping: FeatureMapping[];
  let mappingBy: ResolvedRun['mappingBy'];
  if (params.mapping) {
    mapping = checkMapping(file, header, model, params.mapping);
    mappingBy = 'explicit';
  } else {
    if (suggestion.problems.length > 0 && suggestion.mapping.length !== modelFeatures(model).names.length) {
      throw new LoupeError('BAD_REQUEST', suggestion.problems.join(' '), { file });
    }
    mapping = suggestion.mapping;
    mappingBy = suggestion.by;
  }
  const target = params.target === undefined ? suggestion.target : params.target;
  if (target !== null && !header.includes(target)) throw new LoupeError('BAD_REQUEST', `${path.basename(file)} has no column "${target}" (the target).`, { file });
  if (target !== null && mapping.some((m) => m.column === target)) throw new LoupeError('BAD_REQUEST', `"${target}" is both the target and a feature column.`, { file });
  const definition = params.definition ?? (target !== null ? 'sklearn' : 'label-free');
  if (definition === 'sklearn' && target === null) throw new LoupeError('BAD_REQUEST', `sklearn's permutation importance needs a target column; ${path.basename(file)} has none chosen. Choose one, or use the label-free definition.`, { file });
  const classifier = model.task === 'tabular-classifier';
  const scoring = definition === 'sklearn' ? (params.scoring ?? (classifier ? 'accuracy' : 'r2')) : null;
  const repeats = params.repeats ?? DEFAULT_REPEATS;
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 1000) throw new LoupeError('BAD_REQUEST', `repeats must be from 1 to 1000, not ${repeats}.`);
  const rowBudget = params.rowBudget ?? DEFAULT_ROW_BUDGET;
  if (!Number.isInteger(rowBudget) || rowBudget < 1) throw new LoupeError('BAD_REQUEST', `rowBudget must be a positive whole number, not ${rowBudget}.`);
  return { header, mapping, mappingBy, target, definition, scoring, repeats, seed: params.seed ?? 0, rowBudget, groups: featureGroups(mapping, params.groups ?? [], file, modelFeatures(model).named) };
}

/** One group per model feature, except the user's groups, each standing where its first member stood. */
function featureGroups(mapping: FeatureMapping[], given: { name: string; columns: string[] }[], file: string, named: boolean): FeatureGroup[] {
  const groupOf = new Map<string, number>();
  given.forEach((g, gi) => {
    if (g.columns.length === 0) throw new LoupeError('BAD_REQUEST', `Group "${g.name}" has no columns.`, { file });
    for (const c of g.columns) {
      if (!mapping.some((m) => m.column === c)) throw new LoupeError('BAD_REQUEST', `Group "${g.name}" names "${c}", which is not a feature column.`, { file });
      if (groupOf.has(c)) throw new LoupeError('BAD_REQUEST', `Column "${c}" is in two groups.`, { file });
      groupOf.set(c, gi);
    }
  });
  const groups: FeatureGroup[] = [];
  const placed = new Set<number>();
  mapping.forEach((m, k) => {
    const gi = groupOf.get(m.column);
    // An unnamed model's features are known by their columns.
    if (gi === undefined) groups.push({ name: named ? m.feature : m.column, columns: [m.column], indices: [k] });
    else if (!placed.has(gi)) {
      placed.add(gi);
      const g = given[gi]!;
      groups.push({ name: g.name, columns: g.columns, indices: mapping.flatMap((mm, kk) => (g.columns.includes(mm.column) ? [kk] : [])) });
    }
  });
  return groups;
}

/** Targets as class indices (labels by name or index) or as numbers, naming the row of a bad one. */
export function targetValues(table: Table, model: ModelInfo, target: string): Float64Array {
  const base = path.basename(table.file);
  const labels = model.labels;
  const classifier = model.task === 'tabular-classifier';
  return Float64Array.from(table.target!, (v, i) => {
    if (classifier) {
      const byName = labels?.indexOf(v) ?? -1;
      if (byName >= 0) return byName;
      if (/^\d+$/.test(v) && (!labels || Number(v) < labels.length)) return Number(v);
      const known = labels ? `one of the model's labels (${labels.join(', ')}) nor a class index` : 'a class index';
      throw new LoupeError('BAD_REQUEST', `${base}, row ${table.rows[i]}, column "${target}": "${v}" is neither ${known}.`, { file: table.file });
    }
    const x = parseNumber(v);
    if (x === null || Number.isNaN(x)) throw new LoupeError('BAD_REQUEST', `${base}, row ${table.rows[i]}, column "${target}": "${v}" is not a number.`, { file: table.file });
    return x;
  });
}

export async function tabularImportance(model: LoadedModel, params: ImportanceParams, work: Work): Promise<TabularImportance> {
  const resolved = await resolveRun(model.info, params);
  const imputation = params.imputation ?? 'none';
  const table = await loadTable(
    { ref: params.data, features: resolved.mapping.map((m) => m.column), target: resolved.definition === 'sklearn' ? resolved.target : null, text: null, rowBudget: resolved.rowBudget, seed: resolved.seed, imputation },
    work.token,
    work.progress,
  );
  const runner = new TabularRunner(model, table.width);
  const classifier = model.info.task === 'tabular-classifier';
  if (resolved.scoring) checkScoring(resolved.scoring, classifier, runner.meaning, runner.output.zipmapHint);
  const y = resolved.definition === 'sklearn' ? targetValues(table, model.info, resolved.target!) : null;
  const outcome = await permutationImportance(
    runner,
    {
      X: table.X,
      n: table.n,
      width: table.width,
      groups: resolved.groups,
      definition: resolved.definition,
      scoring: resolved.scoring,
      y,
      repeats: resolved.repeats,
      seed: resolved.seed,
      maxSamples: params.maxSamples,
      replay: params.permutations,
    },
    work,
  );
  const warnings: string[] = [];
  if (table.sampled) warnings.push(`${path.basename(table.file)} has ${table.rowsInFile} rows; a uniform sample of ${table.n} (seed ${resolved.seed}) was used.`);
  for (const imp of table.imputed) warnings.push(`${imp.count} missing value${imp.count === 1 ? '' : 's'} of "${imp.column}" ${imp.count === 1 ? 'was' : 'were'} imputed with ${imputation} ${imp.value}.`);
  if (table.droppedRows > 0) warnings.push(`${table.droppedRows} rows with missing values were dropped.`);
  if (runner.output.kind === 'labels' && runner.output.zipmapHint) warnings.push('The model gives only labels here (its probabilities are a ZipMap output), so scores use predicted classes.');
  const dataset: DatasetUsage = {
    ...tableUsage(table, imputation),
    rowsScored: outcome.rowsScored,
    mapping: resolved.mapping,
    mappingBy: resolved.mappingBy,
    target: resolved.definition === 'sklearn' ? resolved.target : null,
    labels: classifier ? (model.info.labels ?? Array.from({ length: runner.outWidth }, (_, i) => String(i))) : null,
  };
  return { ...outcome, resolved, dataset, forwardRows: runner.forwardRows, warnings };
}

/** Rows and forward passes a run will take (rows counted or estimated as describeDataset does). */
export function planTabular(rows: number, groups: number, repeats: number, maxSamples: number | undefined, rowBudget: number): { rowsScored: number; forwardRows: number } {
  const used = Math.min(rows, rowBudget);
  const rowsScored = rowsForMaxSamples(used, maxSamples);
  return { rowsScored, forwardRows: forwardRowsFor(used, rowsScored, groups, repeats) };
}
