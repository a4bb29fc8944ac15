// Starts, watches and talks to the engine worker. Used by the extension host and by the CLI, so it
// never imports vscode. It starts the worker on first use, times out and cancels requests, turns a
// crash into a clear error (with the tail of the worker's stderr) and starts a fresh worker for the
// next request.

import { ChildProcess, fork } from 'node:child_process';
import { LoupeError } from '../protocol/errors';
import {
  checkResult,
  checkWorkerToHost,
  EngineSettings,
  HostToWorker,
  MethodName,
  ParamsOf,
  ResultOf,
  Versions,
} from '../protocol/workerProtocol';

export type EngineState = 'stopped' | 'starting' | 'ready' | 'busy' | 'crashed';

export interface SupervisorOptions {
  /** The worker's entry file (dist/worker.js). */
  workerPath: string;
  settings: EngineSettings;
  /** Per-request timeout unless a request gives its own. */
  requestTimeoutMs?: number;
  /** How long a cancelled or timed-out request may take to stop before the worker is killed. */
  cancelGraceMs?: number;
  startTimeoutMs?: number;
  execArgv?: string[];
  onLog?: (level: 'info' | 'warn' | 'error', message: string) => void;
  onState?: (state: EngineState) => void;
}

export interface RequestOptions {
  timeoutMs?: number;
  onProgress?: (done: number, total: number, message?: string) => void;
  signal?: AbortSignal;
}

interface Pending {
  method: MethodName;
  resolve: (value: unknown) => void;
  reject: (error: LoupeError) => void;
  onProgress?: RequestOptions['onProgress'];
  cleanup: () => void;
}

const STDERR_TAIL = 4000;

/** The telling part of a dead worker's stderr: its error line(s), not the stack or Node's banner. */
export function summarizeStderr(tail: string): string {
  const lines = tail.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !/^at |^Node\.js v/.test(l));
  const errors = lines.filter((l) => /(Error|error|Exception|FATAL|Abort|terminate)/.test(l));
  return (errors.length > 0 ? errors.slice(-2) : lines.slice(-3)).join(' | ').slice(0, 600);
}
const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES_IN_WINDOW = 5;

export class WorkerSupervisor {
  private child: ChildProcess | null = null;
  private starting: Promise<ChildProcess> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private crashes: number[] = [];
  private disposed = false;
  private stopping = false;
  /** Requests abandoned here whose cancellation the worker has not yet confirmed. */
  private readonly cancelling = new Set<number>();
  private state: EngineState = 'stopped';
  versions: Versions | null = null;

  constructor(private readonly options: SupervisorOptions) {}

  get started(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get engineState(): EngineState {
    return this.state;
  }

  /** New settings apply to the running worker now, and to any later one at its start. */
  async configure(settings: EngineSettings): Promise<void> {
    this.options.settings = settings;
    if (this.child) await this.request('configure', settings);
  }

  async request<M extends MethodName>(method: M, params: ParamsOf<M>, opts: RequestOptions = {}): Promise<ResultOf<M>> {
    if (this.disposed) throw new LoupeError('INTERNAL', 'The Loupe engine has been shut down.');
    if (opts.signal?.aborted) throw new LoupeError('CANCELLED', 'Cancelled.');
    const child = await this.ensureStarted();
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? this.options.requestTimeoutMs ?? 120_000;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => this.abandon(id, new LoupeError('CANCELLED', 'Cancelled.'));
      const pending: Pending = {
        method,
        resolve: resolve as (value: unknown) => void,
        reject,
        onProgress: opts.onProgress,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        },
      };
      this.pending.set(id, pending);
      this.setState('busy');
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          const seconds = Math.round(timeoutMs / 100) / 10;
          this.abandon(id, new LoupeError('TIMEOUT', `The engine did not finish "${method}" within ${seconds} s, so it was stopped. Raise the timeout or use a smaller input.`));
        }, timeoutMs);
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.post(child, { type: 'request', id, method, params } as HostToWorker);
    });
  }

  /** Stops the worker; the next request starts a fresh one. */
  async restart(): Promise<void> {
    await this.stop();
    this.crashes = [];
    this.setState('stopped');
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
  }

  // ---- internals ----------------------------------------------------------------------------------

  private setState(state: EngineState): void {
    if (state === 'ready' && this.pending.size > 0) state = 'busy';
    if (this.state !== state) {
      this.state = state;
      this.options.onState?.(state);
    }
  }

  private post(child: ChildProcess, message: HostToWorker): void {
    if (child.connected) child.send(message);
  }

  /** Rejects a request now, asks the worker to cancel it, and kills the worker if it does not stop in time. */
  private abandon(id: number, error: LoupeError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.finish(id);
    p.reject(error);
    const child = this.child;
    if (!child) return;
    this.post(child, { type: 'cancel', id });
    const grace = setTimeout(() => {
      if (this.child === child && this.cancelling.has(id)) {
        this.log('warn', `The engine did not stop request ${id} within the grace period; restarting it.`);
        child.kill('SIGKILL');
      }
    }, this.options.cancelGraceMs ?? 3000);
    grace.unref();
    this.cancelling.add(id);
  }
  private finish(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.cleanup();
    this.pending.delete(id);
    if (this.pending.size === 0 && this.child) this.setState('ready');
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.onLog?.(level, message);
  }

  private ensureStarted(): Promise<ChildProcess> {
    if (this.child && this.child.connected) return Promise.resolve(this.child);
    if (this.starting) return this.starting;
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    if (this.crashes.length >= MAX_CRASHES_IN_WINDOW) {
      return Promise.reject(
        new LoupeError('WORKER_CRASHED', `The Loupe engine crashed ${this.crashes.length} times in a minute, so it was not restarted. See the Loupe log, then restart the engine.`, {
          detail: this.stderrTail,
        }),
      );
    }
    this.starting = this.start().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private start(): Promise<ChildProcess> {
    this.setState('starting');
    this.stderrTail = '';
    const child = fork(this.options.workerPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      execArgv: this.options.execArgv ?? [],
      // Inside VS Code, process.execPath is Electron: this makes it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.log('info', d.trimEnd()));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-STDERR_TAIL);
      this.log('warn', d.trimEnd());
    });

    return new Promise<ChildProcess>((resolve, reject) => {
      let ready = false;
      const startTimer = setTimeout(() => {
        if (!ready) {
          child.kill('SIGKILL');
          reject(new LoupeError('WORKER_CRASHED', `The Loupe engine did not start within ${(this.options.startTimeoutMs ?? 30_000) / 1000} s.`, { detail: this.stderrTail }));
        }
      }, this.options.startTimeoutMs ?? 30_000);

      child.on('message', (raw: unknown) => {
        let message;
        try {
          message = checkWorkerToHost(raw);
        } catch (e) {
          this.log('error', `The engine sent a malformed message: ${(e as Error).message}`);
          const id = (raw as { id?: unknown })?.id;
          if (typeof id === 'number') this.fail(id, new LoupeError('INTERNAL', `The engine sent a malformed answer: ${(e as Error).message}`));
          return;
        }
        switch (message.type) {
          case 'ready':
            ready = true;
            clearTimeout(startTimer);
            this.versions = message.versions;
            this.child = child;
            this.post(child, { type: 'request', id: 0, method: 'configure', params: this.options.settings });
            this.setState('ready');
            resolve(child);
            return;
          case 'log':
            this.log(message.level, message.message);
            return;
          case 'progress':
            this.pending.get(message.id)?.onProgress?.(message.done, message.total, message.message);
            return;
          case 'response': {
            this.cancelling.delete(message.id);
            if (message.id === 0) {
              if (!message.ok) this.log('error', `Engine settings were refused: ${message.error.message}`);
              return;
            }
            const p = this.pending.get(message.id);
            if (!p) return; // abandoned (cancelled or timed out) earlier
            if (!message.ok) {
              this.fail(message.id, LoupeError.fromData(message.error));
              return;
            }
            let result: unknown;
            try {
              result = checkResult(p.method, message.result);
            } catch (e) {
              this.fail(message.id, new LoupeError('INTERNAL', `The engine's answer to "${p.method}" is malformed: ${(e as Error).message}`));
              return;
            }
            this.finish(message.id);
            p.resolve(result);
            return;
          }
        }
      });

      child.on('error', (e) => this.log('error', `Engine process error: ${e.message}`));
      child.on('exit', (code, signal) => {
        clearTimeout(startTimer);
        const wasCurrent = this.child === child || !ready;
        if (this.child === child) this.child = null;
        this.cancelling.clear();
        if (!wasCurrent) return;
        const expected = this.disposed || this.stopping;
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        const tail = this.stderrTail.trim();
        const error = new LoupeError(
          'WORKER_CRASHED',
          `The Loupe engine stopped unexpectedly (${how}).${tail ? ` Its last output: ${summarizeStderr(tail)}` : ''} It restarts on the next request.`,
          { detail: tail },
        );
        if (!ready) reject(error);
        if (!expected) {
          this.crashes.push(Date.now());
          this.log('error', error.message);
          this.setState('crashed');
        } else this.setState('stopped');
        for (const id of [...this.pending.keys()]) this.fail(id, expected ? new LoupeError('CANCELLED', 'The engine was stopped.') : error);
      });
    });
  }
  private fail(id: number, error: LoupeError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.finish(id);
    p.reject(error);
  }

  private async stop(): Promise<void> {
    const child = this.child ?? (this.starting ? await this.starting.catch(() => null) : null);
    if (!child) return;
    this.stopping = true;
    try {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(killTimer);
          resolve();
        });
        this.post(child, { type: 'shutdown' });
        if (!child.connected) child.kill('SIGKILL');
      });
    } finally {
      this.stopping = false;
      this.child = null;
    }
  }
}

