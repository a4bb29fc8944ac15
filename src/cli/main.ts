// `loupe`: the command-line interface over the same engine worker the extension uses, so that every
// result can be reproduced and tested without an editor. JSON output shapes are documented in README.md.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoupeError, toLoupeError } from '../protocol/errors';
import { ATTRIBUTION_METHODS, BASELINES, SCORINGS, TASK_KINDS, TaskKind, type AttributionTarget, type ExplainParams, type ModelInfo, type ModelRef, type PredictResult } from '../protocol/workerProtocol';
import { bundledModels, configuredModels, resolveModelArg, type CatalogEntry } from '../modelCatalog';
import { workerEntry } from '../packageRoot';
import { WorkerSupervisor } from '../worker/supervisor';
import { intFlag, parseArgs, UsageError } from './args';
import { formatAttention, formatExplanation, formatModel, formatPrediction, formatTabularRow } from './format';
import { importance } from './importance';
import { readNumericCsv } from './numericCsv';

const USAGE = `Usage: loupe <command> [options]

Commands:
  models                      List the bundled and configured models.
  predict                     Run a model on a text (or CSV rows for a tabular model).
  attention                   Attention maps of a transformer: layer × head × query × key.
  explain                     Token attributions: which tokens drove the output, by one or more methods.
  importance                  Permutation feature importance of a model on a CSV/JSONL dataset.

Options:
  --model <dir|file|name>     A Hugging Face export folder, an .onnx file, or a bundled model's name
                              (default: the bundled spam-classifier).
  --onnx-file <file>          Which .onnx file of a folder to use.
  --task <task>               Override the detected task: ${TASK_KINDS.join(', ')}.
  --text <s>                  The text to run.
  --file <path>               Read the text from a file (a CSV of rows for a tabular model).
  --top-k <n>                 Next tokens to list for a causal LM (default 10).
  --generate <n>              Greedily generate n tokens after the prompt (causal LM).
  --max-tokens <n>            Truncate texts to n tokens (the model's maximum applies anyway).
  --threads <n>               ONNX Runtime threads (default: automatic, at most 4).
  --timeout <seconds>         Give up after this long (default 300).
  --layer <l> / --head <h>    attention: only this layer / head (default: all).
  --rollout                   attention: print attention rollout instead of raw weights.
  --relevance                 attention: print the attention-gradient relevance R − I (Chefer et al.) of
                              the predicted class / next token instead (exact gradients).
  --hide-special              attention: hide special tokens and renormalise the rest.
  --method <m>[,<m>…]         explain: occlusion, lime, kernelshap, ig, gradxinput, saliency, smoothgrad,
                              gradshap, attention-gradient, layer-gradxact (default occlusion).
  --layer <N|tensor>          explain (layer-gradxact): block N's output (0-based; default the last
                              block's input), or an ONNX tensor [batch, sequence, hidden] by name.
  --target <t>                explain: class[:index|label], next-token[:id], continuation:<text>,
                              generate:<n> (default: the predicted class or next token).
  --output <o>                explain: logit, probability or logprob of the target.
  --baseline <b>              explain: what an absent token becomes: pad, mask, unk, zero, delete.
  --samples <n> / --steps <n> explain: LIME/KernelSHAP/SmoothGrad/GradientSHAP samples; IG steps.
  --noise <σ>                 explain: SmoothGrad/GradientSHAP noise, relative to the embeddings' RMS.
  --gradients <g>             explain: auto (exact when the graph can be differentiated), exact, or
                              finite-differences, for the gradient methods (default auto).
  --rule <r>                  explain: gausslegendre, riemann_trapezoid, riemann_left/right/middle.
  --window <w>                explain: occlusion window (sliding, stride 1).
  --seed <s>                  explain: seed of the sampling methods (default 0).
  --words                     explain: also merge sub-tokens into words.
  --data <file>               importance: the dataset (.csv, or .jsonl with one object per line).
  --target <column>           importance: the target column (default: the column the model does not use).
  --scoring <s>               importance: ${SCORINGS.join(', ')}.
  --repeats <n>               importance: permutations per feature (default 5).
  --max-samples <n|f>         importance: rows (or fraction) scored per permutation (default all).
  --label-free                importance: mean squared change of the outputs; needs no target.
  --group <name=c1,c2;…>      importance: permute these columns together.
  --impute <i>                importance: missing values: none (error), mean, median, zero, drop-rows.
  --row-budget <n>            importance: sample this many rows from larger files (default 100000).
  --delimiter <c>             importance: the CSV delimiter (default: sniffed).
  --permutations <file.json>  importance: replay given row draw and permutations (parity checks).
  --text-column <c>           importance (text classifier): the text column (default: sniffed).
  --text-rows <n>             importance (text classifier): rows explained, sampled with --seed (default 50).
  --json                      Print JSON (shapes in README.md).
  -h, --help                  Show this help.

Configured models come from LOUPE_MODELS (paths separated by "${path.delimiter}") and from
"loupe.models" in .vscode/settings.json of the current folder.`;

const VALUE_FLAGS = ['model', 'onnx-file', 'task', 'text', 'file', 'top-k', 'generate', 'max-tokens', 'threads', 'timeout', 'layer', 'head', 'method', 'target', 'output', 'baseline', 'samples', 'steps', 'rule', 'window', 'seed', 'noise', 'gradients', 'data', 'scoring', 'repeats', 'max-samples', 'group', 'impute', 'row-budget', 'delimiter', 'permutations', 'text-column', 'text-rows'] as const;
const SWITCHES = ['json', 'help', 'rollout', 'hide-special', 'words', 'label-free', 'relevance'] as const;

function readSettingsModels(cwd: string): string[] {
  const file = path.join(cwd, '.vscode', 'settings.json');
  if (!fs.existsSync(file)) return [];
  // settings.json allows comments and trailing commas.
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, s: string | undefined) => s ?? '')
    .replace(/,(\s*[}\]])/g, '$1');
  try {
    const models = (JSON.parse(text) as Record<string, unknown>)['loupe.models'];
    return Array.isArray(models) ? models.filter((m): m is string => typeof m === 'string') : [];
  } catch {
    throw new LoupeError('CONFIG_INVALID', `${file} is not valid JSON, so its loupe.models could not be read.`, { file });
  }
}

function catalog(cwd: string): CatalogEntry[] {
  const fromEnv = (process.env.LOUPE_MODELS ?? '').split(path.delimiter).filter((p) => p.length > 0);
  return [...bundledModels(), ...configuredModels([...fromEnv, ...readSettingsModels(cwd)], cwd)];
}

async function listModels(engine: WorkerSupervisor, json: boolean, cwd: string): Promise<void> {
  const entries = catalog(cwd);
  const rows: { entry: CatalogEntry; model: ModelInfo | null; error: string | null }[] = [];
  for (const entry of entries) {
    try {
      rows.push({ entry, model: await engine.request('describe', { model: { path: entry.path } }), error: null });
    } catch (e) {
      rows.push({ entry, model: null, error: toLoupeError(e).message });
    }
  }
  if (json) {
    process.stdout.write(JSON.stringify({ models: rows.map((r) => ({ name: r.entry.name, source: r.entry.source, path: r.entry.path, model: r.model, error: r.error })) }, null, 2) + '\n');
    return;
  }
  for (const r of rows) {
    process.stdout.write(`${r.entry.name} (${r.entry.source})\n`);
    process.stdout.write(r.model ? formatModel(r.model, '  ') : `  error: ${r.error}\n`);
    process.stdout.write('\n');
  }
}

type Args = ReturnType<typeof parseArgs>;

function modelRefFrom(args: Args, cwd: string): ModelRef {
  const task = args.flags.get('task');
  if (task !== undefined && !(TASK_KINDS as readonly string[]).includes(task)) throw new UsageError(`--task must be one of ${TASK_KINDS.join(', ')}.`);
  const model: ModelRef = { path: resolveModelArg(args.flags.get('model'), cwd) };
  if (args.flags.has('onnx-file')) model.onnxFile = args.flags.get('onnx-file');
  if (task !== undefined) model.task = task as TaskKind;
  return model;
}

function readTextFile(cwd: string, file: string): string {
  const abs = path.resolve(cwd, file);
  try {
    return fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new LoupeError('FILE_NOT_FOUND', `Cannot read ${abs}: ${(e as Error).message}`, { file: abs });
  }
}

/** The text of --text or --file (exactly one of them). */
function textFrom(args: Args, cwd: string): string {
  const text = args.flags.get('text');
  const file = args.flags.get('file');
  if ((text === undefined) === (file === undefined)) throw new UsageError('Give exactly one of --text or --file.');
  return text ?? readTextFile(cwd, file!);
}

async function attention(engine: WorkerSupervisor, args: Args, cwd: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const layer = intFlag(args, 'layer', 0, 1000);
  const head = intFlag(args, 'head', 0, 1000);
  const result = await engine.request(
    'attention',
    {
      model: modelRefFrom(args, cwd),
      text: textFrom(args, cwd),
      maxTokens: intFlag(args, 'max-tokens', 1, 1_000_000),
      layers: layer !== undefined ? [layer] : undefined,
      heads: head !== undefined ? [head] : undefined,
      hideSpecial: args.switches.has('hide-special'),
      relevance: args.switches.has('relevance') || undefined,
    },
    { signal, timeoutMs },
  );
  if (result.relevance?.unavailable) throw new LoupeError('UNSUPPORTED', result.relevance.unavailable, { file: result.model.onnxFile });
  const n = result.shown.length;
  const tokens = result.shown.map((i) => result.tokens[i]!);
  if (args.switches.has('json')) {
    const rows = (data: Float32Array, offset: number): number[][] => Array.from({ length: n }, (_, q) => Array.from(data.subarray(offset + q * n, offset + (q + 1) * n)));
    const out: Record<string, unknown> = {
      model: result.model,
      run: result.run,
      text: result.text,
      tokens,
      truncation: result.truncation,
      numLayers: result.numLayers,
      numHeads: result.numHeads,
      layers: result.layers,
      heads: result.heads,
      hideSpecial: result.hideSpecial,
      sources: result.sources,
    };
    const rel = result.relevance;
    if (rel) out.relevance = { target: rel.target, rows: rel.rows, matrix: rows(rel.matrix, 0), layerMaps: Array.from({ length: result.numLayers }, (_, l) => rows(rel.layerMaps, l * n * n)) };
    else if (args.switches.has('rollout')) out.rollout = rows(result.rollout, 0);
    else out.attention = result.layers.map((_, li) => result.heads.map((_, hi) => rows(result.attention, (li * result.heads.length + hi) * n * n)));
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  process.stdout.write(formatModel(result.model, '') + '\n');
  process.stdout.write(formatAttention(result, result.relevance ? 'relevance' : args.switches.has('rollout') ? 'rollout' : 'layers'));
}

function oneOf<T extends string>(args: Args, name: string, values: readonly T[]): T | undefined {
  const v = args.flags.get(name);
  if (v !== undefined && !(values as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${values.join(', ')}, not "${v}".`);
  return v as T | undefined;
}

function noiseFlag(args: Args): number | undefined {
  const raw = args.flags.get('noise');
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!(v >= 0 && v <= 10)) throw new UsageError(`--noise must be a number from 0 to 10, not "${raw}".`);
  return v;
}

/** --target and --output as the engine takes them; class names are looked up in the model's labels. */
function targetFrom(args: Args, labels: string[] | null): AttributionTarget | undefined {
  const spec = args.flags.get('target');
  const output = oneOf(args, 'output', ['logit', 'probability', 'logprob'] as const);
  if (spec === undefined) return output === undefined ? undefined : { kind: labels ? 'class' : 'next-token', output };
  const at = spec.indexOf(':');
  const kind = at < 0 ? spec : spec.slice(0, at);
  const arg = at < 0 ? undefined : spec.slice(at + 1);
  switch (kind) {
    case 'class': {
      if (arg === undefined) return { kind, output };
      const index = /^\d+$/.test(arg) ? Number(arg) : (labels ?? []).indexOf(arg);
      if (index < 0) throw new UsageError(`--target class:${arg}: the model's labels are ${(labels ?? []).join(', ') || '(none)'}.`);
      return { kind, index, output };
    }
    case 'next-token':
      if (arg !== undefined && !/^\d+$/.test(arg)) throw new UsageError('--target next-token takes a token id: next-token:123.');
      return { kind, tokenId: arg === undefined ? undefined : Number(arg), output };
    case 'continuation':
      if (!arg) throw new UsageError('--target continuation needs its text: continuation:" the whale".');
      if (output === 'logit') throw new UsageError('A continuation is scored as logprob or probability.');
      return { kind, text: arg, output };
    case 'generate':
      if (!arg || !/^\d+$/.test(arg)) throw new UsageError('--target generate needs a token count: generate:5.');
      return { kind, maxTokens: Number(arg), output };
    default:
      throw new UsageError('--target is one of class[:index|label], next-token[:id], continuation:<text>, generate:<n>.');
  }
}

/** explain --layer: digits are a block index, anything else a tensor name. */
function layerFlag(args: Args, methods: string[]): number | string | undefined {
  const raw = args.flags.get('layer');
  if (raw === undefined) return undefined;
  if (!methods.includes('layer-gradxact')) throw new UsageError('--layer (explain) is the layer of --method layer-gradxact.');
  if (raw.trim() === '') throw new UsageError('--layer needs a block index or a tensor name.');
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

async function explain(engine: WorkerSupervisor, args: Args, cwd: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const model = modelRefFrom(args, cwd);
  const info = await engine.request('describe', { model }, { signal, timeoutMs });
  const methods = (args.flags.get('method') ?? 'occlusion').split(',').map((m) => m.trim());
  for (const m of methods) if (!(ATTRIBUTION_METHODS as readonly string[]).includes(m)) throw new UsageError(`--method: "${m}" is not one of ${ATTRIBUTION_METHODS.join(', ')}.`);
  const params: ExplainParams = {
    model,
    text: textFrom(args, cwd),
    methods: methods as ExplainParams['methods'],
    target: targetFrom(args, info.task === 'text-classifier' ? info.labels : null),
    baseline: oneOf(args, 'baseline', BASELINES),
    samples: intFlag(args, 'samples', 1, 1_000_000),
    noise: noiseFlag(args),
    gradients: oneOf(args, 'gradients', ['auto', 'exact', 'finite-differences'] as const),
    steps: intFlag(args, 'steps', 1, 100_000),
    rule: oneOf(args, 'rule', ['gausslegendre', 'riemann_trapezoid', 'riemann_left', 'riemann_right', 'riemann_middle'] as const),
    window: intFlag(args, 'window', 1, 1000),
    seed: intFlag(args, 'seed', 0, 2 ** 31 - 1),
    maxTokens: intFlag(args, 'max-tokens', 1, 1_000_000),
    words: args.switches.has('words'),
    layer: layerFlag(args, methods),
  };
  const plan = await engine.request('plan', params, { signal, timeoutMs });
  if (!args.switches.has('json')) {
    process.stderr.write(`loupe: ${plan.numTokens} tokens; forward passes planned: ${plan.plans.map((p) => `${p.method} ${p.forwardPasses}`).join(', ')}\n`);
  }
  const result = await engine.request('explain', params, {
    signal,
    timeoutMs,
    onProgress: args.switches.has('json') || !process.stderr.isTTY ? undefined : (done, total) => process.stderr.write(`\r${Math.round((100 * done) / Math.max(1, total))}% `),
  });
  if (args.switches.has('json')) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  process.stdout.write(formatModel(result.model, '') + '\n');
  for (const e of result.explanations) process.stdout.write(formatExplanation(e));
}

async function predict(engine: WorkerSupervisor, args: Args, cwd: string, signal: AbortSignal, timeoutMs: number): Promise<void> {
  const model = modelRefFrom(args, cwd);
  const info = await engine.request('describe', { model }, { signal, timeoutMs });
  const text = args.flags.get('text');
  const file = args.flags.get('file');
  if ((text === undefined) === (file === undefined)) throw new UsageError('Give exactly one of --text or --file.');

  let result: PredictResult;
  const common = { signal, timeoutMs };
  if (info.task === 'tabular-classifier' || info.task === 'tabular-regressor') {
    const rows = file !== undefined ? await readNumericCsv(path.resolve(cwd, file), info.featureNames) : parseRowsText(text!);
    result = await engine.request('predict', { model, rows }, common);
  } else {
    const input = textFrom(args, cwd);
    result = await engine.request(
      'predict',
      {
        model,
        texts: [input],
        topK: intFlag(args, 'top-k', 1, 1000),
        generate: intFlag(args, 'generate', 0, 1024),
        maxTokens: intFlag(args, 'max-tokens', 1, 1_000_000),
      },
      common,
    );
  }
  if (args.switches.has('json')) {
    process.stdout.write(JSON.stringify(toJson(result), null, 2) + '\n');
    return;
  }
  process.stdout.write(formatModel(result.model, '') + '\n');
  result.predictions.forEach((p, i) => process.stdout.write(p.kind === 'tabular' ? formatTabularRow(p, i) : formatPrediction(p)));
}

/** One text: the prediction's fields at the top level, with `ids`; several rows: a `predictions` list. */
function toJson(result: PredictResult): object {
  if (result.predictions.length === 1 && result.predictions[0]!.kind !== 'tabular') {
    const p = result.predictions[0]!;
    return { model: result.model, run: result.run, ...p, ids: p.tokens.map((t) => t.id) };
  }
  return result;
}

function parseRowsText(text: string): number[][] {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    throw new UsageError('For a tabular model, --text takes JSON rows like [[1.2, 3.4, ...]], or use --file data.csv.');
  }
  if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r) && r.every((v) => typeof v === 'number'))) {
    throw new UsageError('For a tabular model, --text takes JSON rows like [[1.2, 3.4, ...]].');
  }
  return rows as number[][];
}

export async function main(argv: string[], cwd = process.cwd()): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, VALUE_FLAGS, SWITCHES);
  } catch (e) {
    process.stderr.write(`loupe: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.switches.has('help') || args.command === null || args.command === 'help') {
    process.stdout.write(USAGE + '\n');
    return args.command === null && !args.switches.has('help') ? 2 : 0;
  }
  const json = args.switches.has('json');
  let engine: WorkerSupervisor | null = null;
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const threads = intFlag(args, 'threads', 0, 256) ?? 0;
    const timeoutMs = (intFlag(args, 'timeout', 1, 86_400) ?? 300) * 1000;
    engine = new WorkerSupervisor({
      workerPath: workerEntry(),
      settings: { threads, maxMemoryMB: 1024, cacheDir: process.env.LOUPE_CACHE ?? path.join(os.homedir(), '.cache', 'loupe') },
      requestTimeoutMs: timeoutMs,
      onLog: (level, message) => {
        if (level !== 'info') process.stderr.write(`[engine] ${message}\n`);
      },
    });
    switch (args.command) {
      case 'models':
        await listModels(engine, json, cwd);
        break;
      case 'predict':
        await predict(engine, args, cwd, abort.signal, timeoutMs);
        break;
      case 'attention':
        await attention(engine, args, cwd, abort.signal, timeoutMs);
        break;
      case 'explain':
        await explain(engine, args, cwd, abort.signal, timeoutMs);
        break;
      case 'importance':
        await importance(engine, args, cwd, modelRefFrom(args, cwd), abort.signal, timeoutMs);
        break;
      default:
        throw new UsageError(`Unknown command "${args.command}".`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`loupe: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    const error = toLoupeError(e);
    if (json) process.stdout.write(JSON.stringify({ error: error.toData() }, null, 2) + '\n');
    process.stderr.write(`loupe: error: ${error.message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await engine?.dispose();
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
