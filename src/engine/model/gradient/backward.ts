// Reverse-mode accumulation: visits the planned nodes in reverse topological order, sums the
// gradients each tensor received from its consumers, and emits each node's vector-Jacobian product.

import type { Emitter } from './emitter';
import { differentiableInputs, GradientPlan } from './plan';
import { RowGradients } from './rowGradients';
import { opKey, VJPS } from './vjp';
import { UnsupportedGradient } from './vjp/types';

/**
 * Emits the backward pass from `seed` (the gradient of the target's tensor) and returns the gradient
 * tensor of each of `wrt` (null: none flows). `seqLength` is the probe's sequence length, by which
 * [batch, sequence, hidden] tensors are told (rowGradients.ts).
 */
export function emitBackward(plan: GradientPlan, e: Emitter, seed: { tensor: string; grad: string }, wrt: string[], seqLength: number): Map<string, string | null> {
  const received = new Map<string, string[]>([[seed.tensor, [seed.grad]]]);
  const rows = new RowGradients(e, seqLength);
  const total = (t: string): string | null => {
    const received0 = received.get(t);
    if (!received0 || received0.length === 0) return null;
    // Gradients of the same one row stay a row; mixed with full-size ones, they are widened.
    const at = rows.rowOf(received0[0]!);
    if (at && received0.every((g) => rows.rowOf(g)?.row === at.row && rows.rowOf(g)?.axis === at.axis)) {
      if (received0.length > 1) received.set(t, [rows.mark(e.op1('Sum', received0), at)]);
      return received.get(t)![0]!;
    }
    const list = received0.map((g) => rows.widen(g, t));
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
    const fromGather = gy[0] && needs(0) ? rows.fromGather(node, gy[0]) : null;
    let gx: (string | null)[];
    if (fromGather) gx = [fromGather];
    else {
      const rowNode = rows.rowNode(node, gy);
      const dense = rowNode ? gy : gy.map((g, i) => (g ? rows.widen(g, node.outputs[i]!) : g));
      const from = e.nodes.length;
      gx = vjp({ node: rowNode?.node ?? node, e, opset: e.opset, gy: dense, needs });
      if (rowNode) {
        rows.materialize(from);
        rows.markInputs(gx, rowNode.sliced, rowNode.row);
      }
    }
    gx.forEach((g, i) => {
      if (!g || !needs(i)) return;
      const input = node.inputs[i]!;
      (received.get(input) ?? received.set(input, []).get(input)!).push(g);
    });
  }
  return new Map(
    wrt.map((t) => {
      const g = total(t);
      return [t, g && rows.widen(g, t)];
    }),
  );
}
