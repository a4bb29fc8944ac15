// Loupe's settings, read and validated in one place. A wrong value is reported once, clearly, and
// the default is used instead.

import * as vscode from 'vscode';
import type { EngineSettings } from './protocol/workerProtocol';

export interface LoupeSettings {
  models: string[];
  defaultModel: string | null;
  engine: EngineSettings & { requestTimeoutSeconds: number };
  maxTokens: number | null;
}

function intSetting(c: vscode.WorkspaceConfiguration, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const v = c.get<unknown>(key, fallback);
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  problems.push(`loupe.${key} must be a whole number from ${min} to ${max}; using ${fallback}.`);
  return fallback;
}

export function readSettings(problems: string[] = []): LoupeSettings {
  const c = vscode.workspace.getConfiguration('loupe');
  const models = c.get<unknown>('models', []);
  const defaultModel = c.get<unknown>('defaultModel', '');
  if (!Array.isArray(models) || !models.every((m) => typeof m === 'string')) problems.push('loupe.models must be a list of paths.');
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
  };
}
