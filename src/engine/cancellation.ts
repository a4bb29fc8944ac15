// Cooperative cancellation for long engine work: checked between batches, so a cancel takes effect
// within one forward pass.

import { LoupeError } from '../protocol/errors';

export class CancelToken {
  private reason: string | null = null;

  cancel(reason = 'Cancelled.'): void {
    this.reason ??= reason;
  }

  get cancelled(): boolean {
    return this.reason !== null;
  }

  throwIfCancelled(): void {
    if (this.reason !== null) throw new LoupeError('CANCELLED', this.reason);
  }
}

export type ProgressFn = (done: number, total: number, message?: string) => void;
