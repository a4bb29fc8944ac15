// Reverse-mode accumulation: visits the planned nodes in reverse topological order, sums the
// gradients each tensor received from its consumers, and emits each node's vector-Jacobian product.

import type { Emitter } from './emitter';
import { differentiableInputs, GradientPlan } from './plan';
import { opKey, VJPS } from './vjp';
import { UnsupportedGradient } from './vjp/types';

/** Emits the backward pass from `seed` (the gradient of the target's tensor) and returns the gradient tensor of each of `wrt` (null: none flows). */
export function emitBackward(plan: GradientPlan, e: Emitter, seed: { tensor: string; grad: string }, wrt: string[]): Map<string, string | null> {
  const received = new Map<string, string[]>([[seed.tensor, [seed.grad]]]);
  const total = (t: string): string | null => {
    const list = received.get(t);
    if (!list || list.length === 0) return null;
    if (list.length === 1 && !e.broadcastable.has(list[0]!)) return list[0]!;
    // Sum broadcasts a reduction's smaller gradient; only when all are smaller is it expanded.
    let sum = list.length > 1 ? e.op1('Sum', list) : list[0]!;
    if (list.every((g) => e.broadcastable.has(g))) sum = e.op1('Expand', [sum, e.shape(t)]);
    received.set(t, [sum]);
    return sum;
  };
  for (let k = plan.nodes.length - 1; k >= 0; k--) {
    const node = plan.nodes[k]!;
    const gy = node.outputs.map((o) => (plan.needed.has(o) ? total(o) : null));
    if (gy.every((g) => g === null)) continue;
    const vjp = VJPS[opKey(node.opType, node.domain)];
    if (!vjp) throw new UnsupportedGradient(node.opType, 'no vector-Jacobian product');
    const slots = new Set(differentiableInputs(node));
    const needs = (i: number): boolean => slots.has(i) && plan.needed.has(node.inputs[i] ?? '');
    const gx = vjp({ node, e, opset: e.opset, gy, needs });
    gx.forEach((g, i) => {
      if (!g || !needs(i)) return;
      const input = node.inputs[i]!;
      (received.get(input) ?? received.set(input, []).get(input)!).push(g);
    });
  }
  return new Map(wrt.map((t) => [t, total(t)]));
}
