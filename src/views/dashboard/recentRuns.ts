// The recent runs the dashboard lists, kept per workspace (workspaceState): each result a panel
// showed, newest first, at most MAX. A run is reopened by running it again with what it recorded
// (same model, methods and seed, so the same numbers).

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { arr } from '../../protocol/check';
import { recentRun, type RecentRun } from '../../protocol/dashboardViewProtocol';

const KEY = 'loupe.recentRuns';
const MAX = 20;

export class RecentRuns {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly state: vscode.Memento) {}

  list(): RecentRun[] {
    try {
      return arr(recentRun)(this.state.get<unknown>(KEY, []), KEY);
    } catch {
      return []; // an older or damaged record: start afresh rather than fail
    }
  }

  find(id: string): RecentRun | undefined {
    return this.list().find((r) => r.id === id);
  }

  async add(run: Omit<RecentRun, 'id' | 'at'>): Promise<void> {
    const entry: RecentRun = { ...run, id: crypto.randomBytes(6).toString('hex'), at: new Date().toISOString() };
    // The same source, kind and model replaces its older entry.
    const same = (r: RecentRun): boolean => r.source === run.source && r.kind === run.kind && r.model === run.model && r.methods.join() === run.methods.join();
    const next = [entry, ...this.list().filter((r) => !same(r))].slice(0, MAX);
    await this.state.update(KEY, next);
    this.changed.fire();
  }

  async clear(): Promise<void> {
    await this.state.update(KEY, []);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
