// Uniform sampling of a stream of unknown length (Vitter's Algorithm R) with a seeded generator:
// item t (0-based) takes slot t while there is room, then slot j = rng.int(t + 1) if j < capacity.

import { Rng } from '../methods/attribution/rng';

export class Reservoir {
  private seen = 0;
  private readonly rng: Rng;

  constructor(readonly capacity: number, seed: number) {
    this.rng = new Rng(seed);
  }

  /** The slot the next item goes to, or -1 when it is not kept. */
  offer(): number {
    const t = this.seen++;
    if (t < this.capacity) return t;
    const j = this.rng.int(t + 1);
    return j < this.capacity ? j : -1;
  }

  get offered(): number {
    return this.seen;
  }

  get size(): number {
    return Math.min(this.seen, this.capacity);
  }
}
