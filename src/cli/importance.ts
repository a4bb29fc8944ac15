// `loupe importance`: permutation importance of a model's features on a CSV/JSONL dataset (or, for a
// text classifier, global token importance over the dataset's rows), through the engine worker.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../protocol/errors';
import { ATTRIBUTION_METHODS, BASELINES, IMPUTATIONS, SCORINGS, type ImportanceParams, type ImportanceResult, type ModelRef } from '../protocol/workerProtocol';
import type { WorkerSupervisor } from '../worker/supervisor';
import { intFlag, ParsedArgs, UsageError } from './args';
import { formatModel } from './format';

function oneOf<T extends string>(args: ParsedArgs, name: string, values: readonly T[]): T | undefined {
  const v = args.flags.get(name);
  if (v !== undefined && !(values as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${values.join(', ')}, not "${v}".`);
  return v as T | undefined;
}

/** --group "name=col a,col b;other=c,d" → groups of dataset columns permuted together. */
function groupsFrom(spec: string | undefined): ImportanceParams['groups'] {
  if (spec === undefined) return undefined;
  return spec.split(';').map((g) => {
    const eq = g.indexOf('=');
    if (eq <= 0) throw new UsageError('--group takes name=column,column[;name=column,…].');
    return { name: g.slice(0, eq).trim(), columns: g.slice(eq + 1).split(',').map((c) => c.trim()).filter((c) => c.length > 0) };
  });
}

function maxSamplesFrom(args: ParsedArgs): number | undefined {
  const raw = args.flags.get('max-samples');
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!(v > 0) || (v > 1 && !Number.isInteger(v))) throw new UsageError(`--max-samples is a fraction in (0, 1] or a whole number of rows, not "${raw}".`);
  return v;
}

function replayFrom(args: ParsedArgs, cwd: string): ImportanceParams['permutations'] {
  const file = args.flags.get('permutations');
  if (file === undefined) return undefined;
  const abs = path.resolve(cwd, file);
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new LoupeError('BAD_REQUEST', `Cannot read the permutations in ${abs}: ${(e as Error).message}`, { file: abs });
  }
  const d = data as { rows?: unknown; perms?: unknown };
  if (!Array.isArray(d.rows) || !Array.isArray(d.perms)) throw new LoupeError('BAD_REQUEST', `${abs} must hold {"rows": [...], "perms": [[[...]]]}.`, { file: abs });
  return { rows: d.rows as number[], perms: d.perms as number[][][] };
}

export function importanceParamsFrom(args: ParsedArgs, cwd: string, model: ModelRef): ImportanceParams {
  const data = args.flags.get('data');
  if (data === undefined) throw new UsageError('importance needs --data <file.csv|file.jsonl>.');
  const labelFree = args.switches.has('label-free');
  const target = args.flags.get('target');
  const method = oneOf(args, 'method', ATTRIBUTION_METHODS);
  return {
    model,
    data: { path: path.resolve(cwd, data), delimiter: args.flags.get('delimiter') },
    target: target === undefined ? (labelFree ? null : undefined) : target,
    definition: labelFree ? 'label-free' : undefined,
    scoring: oneOf(args, 'scoring', SCORINGS),
    repeats: intFlag(args, 'repeats', 1, 1000),
    seed: intFlag(args, 'seed', 0, 2 ** 31 - 1),
    maxSamples: maxSamplesFrom(args),
    rowBudget: intFlag(args, 'row-budget', 1, 100_000_000),
    groups: groupsFrom(args.flags.get('group')),
    imputation: oneOf(args, 'impute', IMPUTATIONS),
    permutations: replayFrom(args, cwd),
    textColumn: args.flags.get('text-column'),
    method,
    textRows: intFlag(args, 'text-rows', 1, 1_000_000),
    samples: intFlag(args, 'samples', 1, 1_000_000),
    baseline: oneOf(args, 'baseline', BASELINES),
    maxTokens: intFlag(args, 'max-tokens', 1, 1_000_000),
  };
}

export async function importance(engine: WorkerSupervisor, args: ParsedArgs, cwd: string, model: ModelRef, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const params = importanceParamsFrom(args, cwd, model);
  const json = args.switches.has('json');
  const plan = await engine.request('planImportance', params, { signal, timeoutMs });
  if (!json) {
    const work = plan.features > 0 ? `${plan.features} features × ${plan.repeats} repeats on ${plan.rowsScored} rows` : `${plan.rowsScored} rows explained`;
    process.stderr.write(`loupe: ${plan.rowsExact ? '' : '~'}${plan.rows} rows; ${work}: ${plan.forwardRows} model rows\n`);
  }
  const result = await engine.request('importance', params, {
    signal,
    timeoutMs,
    onProgress: json || !process.stderr.isTTY ? undefined : (done, total) => process.stderr.write(`\r${Math.round((100 * done) / Math.max(1, total))}% `),
  });
  if (json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  process.stdout.write(formatModel(result.model, '') + '\n' + formatImportance(result));
}

const fmt = (v: number): string => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));

export function formatImportance(r: ImportanceResult): string {
  const d = r.dataset;
  const lines: string[] = [];
  lines.push(`data:     ${d.path} (${d.format}${d.delimiter ? `, delimiter ${JSON.stringify(d.delimiter)}` : ''})`);
  if (r.text) {
    const p = r.run.parameters as { samples?: number; baseline?: string };
    lines.push(`rows:     ${d.rowsUsed} explained of ${d.rowsInFile}${d.sampled ? ' (uniform sample)' : ''}${d.droppedRows ? `; ${d.droppedRows} without text skipped` : ''}`);
    lines.push(`settings: ${r.text.method}${p.samples ? `, ${p.samples} samples` : ''}${p.baseline ? `, baseline ${p.baseline}` : ''}; seed ${r.run.seed}`);
  } else {
    lines.push(`rows:     ${d.rowsUsed} used of ${d.rowsInFile}${d.sampled ? ' (uniform sample)' : ''}; ${d.rowsScored} scored per permutation${d.droppedRows ? `; ${d.droppedRows} dropped` : ''}`);
    lines.push(`mapping:  ${d.mapping.length} features by ${d.mappingBy}${d.target ? `; target "${d.target}"` : ''}`);
    lines.push(`settings: ${r.definition}${r.scoring ? `, scoring ${r.scoring}` : ''}; repeats ${r.repeats}; seed ${r.run.seed}; imputation ${d.imputation}`);
  }
  if (r.baselineScore !== null) lines.push(`baseline: ${r.scoring} = ${r.baselineScore.toFixed(6)}`);
  for (const w of r.warnings) lines.push(`note:     ${w}`);
  lines.push('');
  if (r.text) return lines.join('\n') + '\n' + formatTextImportance(r) + runLine(r);
  const sorted = [...r.features].sort((a, b) => b.mean - a.mean);
  const width = Math.max(7, ...sorted.map((f) => f.name.length));
  lines.push(`${'feature'.padEnd(width)}  ${'mean'.padStart(10)}  ${'std'.padStart(10)}`);
  for (const f of sorted) lines.push(`${f.name.padEnd(width)}  ${fmt(f.mean).padStart(10)}  ${fmt(f.std).padStart(10)}`);
  lines.push('');
  return lines.join('\n') + '\n' + runLine(r);
}

function runLine(r: ImportanceResult): string {
  return `run:      model sha256 ${r.run.modelSha256.slice(0, 12)}…; engine ${r.run.engineVersion}; onnxruntime ${r.run.onnxruntimeVersion}; node ${r.run.nodeVersion}; ${r.forwardRows} model rows\n`;
}

const TOP_TOKENS = 15;

function tokenTable(tokens: NonNullable<ImportanceResult['text']>['overall'], indent: string): string[] {
  const width = Math.max(5, ...tokens.slice(0, TOP_TOKENS).map((t) => t.token.length));
  const out = [`${indent}${'token'.padEnd(width)}  ${'mean |s|'.padStart(10)}  ${'mean s'.padStart(10)}  ${'rows'.padStart(6)}`];
  for (const t of tokens.slice(0, TOP_TOKENS)) out.push(`${indent}${t.token.padEnd(width)}  ${fmt(t.meanAbs).padStart(10)}  ${fmt(t.meanSigned).padStart(10)}  ${`${(t.frequency * 100).toFixed(0)}%`.padStart(6)}`);
  return out;
}

function formatTextImportance(r: ImportanceResult): string {
  const t = r.text!;
  const lines = [`tokens:   ${t.method} on ${t.rowsExplained} rows of "${t.textColumn}"; ${t.overall.length} distinct tokens`, '', ...tokenTable(t.overall, '')];
  for (const c of t.perClass) lines.push('', `predicted ${c.label} (${c.rows} rows):`, ...tokenTable(c.tokens, '  '));
  lines.push('', 'rows with the highest influence (Σ |score|):');
  for (const row of t.topRows) lines.push(`  row ${row.row} (${row.predicted}, ${fmt(row.influence)}): ${row.text.replace(/\s+/g, ' ').slice(0, 80)}`);
  return lines.join('\n') + '\n\n';
}
