// Loupe's settings, read and validated in one place. A wrong value is reported once, clearly, and
// the default is used instead.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BASELINES, type EngineSettings, type ExplainParams } from './protocol/workerProtocol';

/** The attribution methods' defaults (loupe.explain.*); null leaves the engine's own default. */
export interface MethodDefaults {
  samples: number | null;
  steps: number | null;
  baseline: (typeof BASELINES)[number] | null;
  seed: number | null;
}

export interface LoupeSettings {
  models: string[];
  defaultModel: string | null;
  engine: EngineSettings & { requestTimeoutSeconds: number };
  maxTokens: number | null;
  explain: MethodDefaults;
}

function intSetting(c: vscode.WorkspaceConfiguration, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const v = c.get<unknown>(key, fallback);
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  problems.push(`loupe.${key} must be a whole number from ${min} to ${max}; using ${fallback}.`);
  return fallback;
}

function workspaceBase(): string {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
}

/** Paths that name no file or folder: reported, since a typo there shows up only at the first run. */
function checkModelPaths(models: unknown, defaultModel: unknown, problems: string[]): void {
  const base = workspaceBase();
  if (Array.isArray(models)) {
    for (const m of models) {
      if (typeof m !== 'string' || m.trim() === '') continue;
      const abs = path.resolve(base, m);
      if (!fs.existsSync(abs)) problems.push(`loupe.models: ${m} does not exist (looked for ${abs}).`);
    }
  }
  // A missing loupe.defaultModel is reported by the run that needs it (an error naming the path).
  if (defaultModel !== undefined && typeof defaultModel !== 'string') problems.push('loupe.defaultModel must be a path or the name of a bundled model.');
}

function methodDefaults(c: vscode.WorkspaceConfiguration, problems: string[]): MethodDefaults {
  const samples = intSetting(c, 'explain.samples', 0, 0, 100_000, problems);
  const steps = intSetting(c, 'explain.steps', 0, 0, 1000, problems);
  const seed = intSetting(c, 'explain.seed', 0, 0, 2_147_483_647, problems);
  const baseline = c.get<unknown>('explain.baseline', '');
  let b: MethodDefaults['baseline'] = null;
  if ((BASELINES as readonly unknown[]).includes(baseline)) b = baseline as MethodDefaults['baseline'];
  else if (baseline !== '' && baseline !== undefined) problems.push(`loupe.explain.baseline must be one of ${BASELINES.join(', ')} (or empty for each method's default), not ${JSON.stringify(baseline)}; using each method's default.`);
  if (samples === 1) problems.push('loupe.explain.samples must be 0 (the method default) or at least 2; using the default.');
  return { samples: samples >= 2 ? samples : null, steps: steps > 0 ? steps : null, baseline: b, seed };
}

/** An explanation's (or plan's) parameters with the settings' defaults filled in where the request left them open. */
export function withMethodDefaults(params: ExplainParams, d: MethodDefaults = readSettings().explain): ExplainParams {
  return {
    ...params,
    ...(params.samples === undefined && d.samples !== null ? { samples: d.samples } : {}),
    ...(params.steps === undefined && d.steps !== null ? { steps: d.steps } : {}),
    ...(params.baseline === undefined && d.baseline !== null ? { baseline: d.baseline } : {}),
    ...(params.seed === undefined && d.seed !== null ? { seed: d.seed } : {}),
  };
}

export function readSettings(problems: string[] = []): LoupeSettings {
  const c = vscode.workspace.getConfiguration('loupe');
  const models = c.get<unknown>('models', []);
  const defaultModel = c.get<unknown>('defaultModel', '');
  if (!Array.isArray(models) || !models.every((m) => typeof m === 'string')) problems.push('loupe.models must be a list of paths.');
  checkModelPaths(models, defaultModel, problems);
  const maxTokens = intSetting(c, 'maxTokens', 0, 0, 1_000_000, problems);
  return {
    models: Array.isArray(models) ? models.filter((m): m is string => typeof m === 'string') : [],
    defaultModel: typeof defaultModel === 'string' && defaultModel.trim() !== '' ? defaultModel : null,
    engine: {
      threads: intSetting(c, 'engine.threads', 0, 0, 256, problems),
      maxMemoryMB: intSetting(c, 'engine.maxMemoryMB', 1024, 64, 65_536, problems),
      requestTimeoutSeconds: intSetting(c, 'engine.requestTimeoutSeconds', 300, 5, 86_400, problems),
    },
    maxTokens: maxTokens > 0 ? maxTokens : null,
    explain: methodDefaults(c, problems),
  };
}
