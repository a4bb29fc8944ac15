// Attention aggregations on small matrices computed by hand.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { keepTokens, meanOverHeads, rollout } from '../../src/engine/methods/attentionMath';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

describe('attention aggregations', () => {
  test('mean over heads', () => {
    // Two heads of 2 × 2.
    const maps = Float32Array.from([1, 0, 0.5, 0.5, 0, 1, 0.25, 0.75]);
    close(meanOverHeads(maps, 2, 2), [0.5, 0.5, 0.375, 0.625]);
  });

  test('rollout of one layer is 0.5·A + 0.5·I, rows renormalised', () => {
    const a = Float32Array.from([0.2, 0.8, 0.6, 0.4]);
    // 0.5·A + 0.5·I = [[0.6, 0.4], [0.3, 0.7]]: rows already sum to 1.
    close(rollout([a], 2), [0.6, 0.4, 0.3, 0.7]);
  });

  test('rollout multiplies the layers from the first up', () => {
    const a1 = Float32Array.from([0.2, 0.8, 0.6, 0.4]); // Â1 = [[0.6, 0.4], [0.3, 0.7]]
    const a2 = Float32Array.from([1, 0, 0, 1]); // Â2 = I
    const a3 = Float32Array.from([0, 1, 1, 0]); // Â3 = [[0.5, 0.5], [0.5, 0.5]]
    // R = Â3 · Â2 · Â1 = [[0.45, 0.55], [0.45, 0.55]]
    close(rollout([a1, a2, a3], 2), [0.45, 0.55, 0.45, 0.55]);
    // Order matters: Â1 · Â3 = [[0.5, 0.5], [0.5, 0.5]].
    close(rollout([a3, a1], 2), [0.5, 0.5, 0.5, 0.5]);
  });

  test('rollout rows sum to 1', () => {
    const a = Float32Array.from([0.7, 0.2, 0.1, 0.3, 0.3, 0.4, 0, 0, 1]);
    const r = rollout([a, a, a], 3);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(r[i * 3]! + r[i * 3 + 1]! + r[i * 3 + 2]! - 1) < 1e-6);
  });

  test('hiding tokens keeps the rest and renormalises rows', () => {
    // 3 × 3, hide token 0 ([CLS]).
    const a = Float32Array.from([0.5, 0.25, 0.25, 0.5, 0.3, 0.2, 0.6, 0.1, 0.3]);
    close(keepTokens(a, 1, 3, [1, 2], true), [0.6, 0.4, 0.25, 0.75]);
    close(keepTokens(a, 1, 3, [1, 2], false), [0.3, 0.2, 0.1, 0.3]);
  });
});
