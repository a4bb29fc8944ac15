// Which part of the graph to differentiate: the tensors that depend on the differentiated input
// through differentiable edges ("active"), intersected with those the target depends on. Ops on
// that path that Loupe cannot differentiate are listed by name.

import type { OnnxGraph, OnnxNode } from '../onnxFile';
import { DIFFERENTIABLE_INPUTS, NO_GRADIENT, opKey, VJPS } from './vjp';

const FLOAT_TYPES = new Set([1]);

export interface GradientPlan {
  /** Nodes to differentiate, in forward (topological) order. */
  nodes: OnnxNode[];
  /** Tensors that depend on the input and lead to the target: they get a gradient. */
  needed: Set<string>;
  /** Op types on the path with no vector-Jacobian product, sorted. */
  unsupported: string[];
}

export function differentiableInputs(n: OnnxNode): number[] {
  return DIFFERENTIABLE_INPUTS[n.opType] ?? n.inputs.map((_, i) => i);
}

const GATHERS = new Set(['Gather', 'GatherElements', 'GatherND']);

/** Tensors fixed whatever the input: initializers and Constant outputs. */
export function constantTensors(graph: OnnxGraph): Set<string> {
  const out = new Set(graph.initializers);
  for (const n of graph.nodes) if (n.opType === 'Constant' && !n.domain) out.add(n.outputs[0]!);
  return out;
}

export function planGradient(graph: OnnxGraph, wrt: string, target: string, opset: number): GradientPlan {
  const fixed = constantTensors(graph);
  const active = new Set<string>([wrt]);
  for (const n of graph.nodes) {
    if (NO_GRADIENT.has(n.opType) && !n.domain) continue;
    if (n.opType === 'Cast' && !n.domain && !FLOAT_TYPES.has(n.ints.to ?? -1)) continue;
    if (differentiableInputs(n).some((i) => active.has(n.inputs[i] ?? ''))) for (const o of n.outputs) if (o) active.add(o);
  }
  const needed = new Set<string>();
  if (active.has(target)) needed.add(target);
  const nodes: OnnxNode[] = [];
  const unsupported = new Set<string>();
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    const ins = differentiableInputs(n).filter((i) => active.has(n.inputs[i] ?? ''));
    if (ins.length === 0) continue;
    nodes.push(n);
    const key = opKey(n.opType, n.domain);
    if (!VJPS[key] || n.hasSubgraph) unsupported.add(key);
    // Before opset 16 the gradient of a gather cannot add repeated indices: only a constant Gather index passes.
    else if (opset < 16 && GATHERS.has(n.opType) && !(n.opType === 'Gather' && fixed.has(n.inputs[1] ?? ''))) unsupported.add(`${key} (opset ${opset}, indices computed at run time)`);
    for (const i of ins) needed.add(n.inputs[i]!);
  }
  nodes.reverse();
  return { nodes, needed, unsupported: [...unsupported].sort() };
}
