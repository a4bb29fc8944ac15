// What every method works on: the text's ids, which positions may be perturbed (the features), the
// fixed continuation after them, how the output is read, and f(x). Builds the perturbed id rows.

import { LoupeError } from '../../../protocol/errors';
import type { TokenSpan } from '../../../protocol/workerProtocol';
import type { Readout, Row } from './runner';

export interface Problem {
  /** The input's ids (special tokens included). */
  ids: number[];
  tokens: TokenSpan[];
  /** Positions that are perturbed and scored, in order: the non-special tokens. */
  features: number[];
  /** Ids after the input that are never perturbed (an LM continuation). */
  continuation: number[];
  readout: Readout;
  /** f(x). */
  fx: number;
  /** Seed of this step's random choices. */
  seed: number;
  /** The id a row with every token deleted is run as (a BOS/EOS token), or null when there is none. */
  emptyRow: number | null;
}

/**
 * The row with feature k absent wherever `present(k)` is false: replaced by `replacement`, or
 * deleted when it is null. The continuation follows the (possibly shorter) text.
 */
export function maskedRow(p: Problem, present: (k: number) => boolean, replacement: number | null): Row {
  const absent = new Set<number>();
  p.features.forEach((pos, k) => {
    if (!present(k)) absent.add(pos);
  });
  const ids: number[] = [];
  p.ids.forEach((id, pos) => {
    if (!absent.has(pos)) ids.push(id);
    else if (replacement !== null) ids.push(replacement);
  });
  if (ids.length === 0) {
    // Every token deleted: a model cannot run on nothing; it runs on the start-of-text token, as a
    // language model does when it generates without a prompt.
    if (p.emptyRow === null) {
      throw new LoupeError('BAD_REQUEST', 'Deleting every token leaves nothing to run, and the tokenizer has no BOS/EOS token to stand for an empty text: choose a replacement baseline (pad, mask or unk).');
    }
    ids.push(p.emptyRow);
  }
  const prefixLen = ids.length;
  return { ids: ids.concat(p.continuation), prefixLen };
}

/** Row of the mask given as bytes (1 = present). */
export function rowOfMask(p: Problem, mask: ArrayLike<number>, replacement: number | null): Row {
  return maskedRow(p, (k) => mask[k] === 1, replacement);
}

/** A per-token score array from per-feature values. */
export function scatter(p: Problem, values: ArrayLike<number>): { scores: number[]; attributed: boolean[] } {
  const scores = new Array<number>(p.ids.length).fill(0);
  const attributed = new Array<boolean>(p.ids.length).fill(false);
  p.features.forEach((pos, k) => {
    scores[pos] = values[k]!;
    attributed[pos] = true;
  });
  return { scores, attributed };
}

export const maskKey = (mask: Uint8Array): string => Buffer.from(mask).toString('base64');

/** Distinct masks in first-seen order, and for each mask its index among them. */
export function distinct(masks: Uint8Array[]): { unique: Uint8Array[]; index: number[] } {
  const seen = new Map<string, number>();
  const unique: Uint8Array[] = [];
  const index = masks.map((m) => {
    const key = maskKey(m);
    let at = seen.get(key);
    if (at === undefined) {
      at = unique.length;
      seen.set(key, at);
      unique.push(m);
    }
    return at;
  });
  return { unique, index };
}
