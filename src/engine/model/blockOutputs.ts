// Finds the output of each transformer block in an ONNX graph, for layer attributions.
//
// The rule, generic over exporters and pre-/post-norm layouts: on the differentiable graph from the
// word embeddings to the output, a tensor is on the residual stream when every path from the
// embeddings to the output passes through it (it dominates the output). Inside a block the residual
// connection bypasses the sublayers, so only the stream between sublayers dominates. Then:
//   - block N < last: the last dominator before block N+1's attention probabilities, i.e. the
//     hidden state that feeds block N+1 (BERT's post-norm LayerNorm output, GPT-2's / Llama's
//     residual Add);
//   - the last block: the model's final hidden state, the one the head reads (Hugging Face's
//     hidden_states[-1]). Blocks repeat, so first the dominator that stands, after the last
//     attention, where the previous block's output stands after its attention (the k-th dominator
//     after it; its op must match the previous block's, else Loupe asks for a tensor rather than
//     guess); then through any final norm (dominators made by shape-keeping ops) up to the head
//     (a Gather of [CLS], a MatMul to the vocabulary, …). Pre-norm models (GPT-2, Llama) need the
//     final norm: their last residual sum feeds only a scale-invariant norm, where Σ h·∂f/∂h ≈ 0.
// A one-block model has no previous block to mirror: its output must be named.

import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import { differentiableInputs, planGradient } from './gradient/plan';
import type { OnnxGraph } from './onnxFile';

export interface StreamFacts {
  /** Tensors that depend on `wrt` and lead to the target, in topological order (`wrt` first). */
  order: string[];
  position: Map<string, number>;
  /** Tensors every path from `wrt` to the target passes through, in order. */
  dominators: string[];
  /** The op that produces each tensor of `order` ('' for `wrt`). */
  producer: Map<string, string>;
}

/**
 * The tensors between `wrt` and `target` and which of them dominate the target. With every tensor on
 * a path from `wrt` to the target and a topological order, a tensor dominates exactly when no edge
 * jumps over its position (a path avoiding it would need such an edge).
 */
export function residualStream(graph: OnnxGraph, wrt: string, target: string, opset: number): StreamFacts {
  const plan = planGradient(graph, wrt, target, opset);
  const order = [wrt];
  const producer = new Map<string, string>([[wrt, '']]);
  for (const n of plan.nodes) {
    for (const o of n.outputs) {
      if (o && plan.needed.has(o) && !producer.has(o)) {
        order.push(o);
        producer.set(o, n.opType);
      }
    }
  }
  const position = new Map(order.map((t, i) => [t, i]));
  // covered[i] > 0: some edge jumps over position i.
  const delta = new Int32Array(order.length + 1);
  for (const n of plan.nodes) {
    const outs = n.outputs.filter((o) => position.has(o)).map((o) => position.get(o)!);
    for (const i of differentiableInputs(n)) {
      const from = position.get(n.inputs[i] ?? '');
      if (from === undefined) continue;
      for (const to of outs) {
        if (to - from < 2) continue;
        delta[from + 1]++;
        delta[to]--;
      }
    }
  }
  const dominators: string[] = [];
  let covered = 0;
  for (let i = 0; i < order.length; i++) {
    covered += delta[i]!;
    if (covered === 0) dominators.push(order[i]!);
  }
  return { order, position, dominators, producer };
}

/** Each block's output tensor, in order, given the attention probabilities of each block (attentionGraph.ts). */
export function blockOutputs(stream: StreamFacts, attention: string[], file: string): string[] {
  const base = path.basename(file);
  const at = attention.map((t) => {
    const p = stream.position.get(t);
    if (p === undefined) throw new LoupeError('UNSUPPORTED', `The attention tensor ${t} of ${base} is not on the path from the word embeddings to the output, so its block cannot be located.`, { file });
    return p;
  });
  const pos = (t: string): number => stream.position.get(t)!;
  const between = (lo: number, hi: number): string[] => stream.dominators.filter((d) => pos(d) > lo && pos(d) < hi);
  const outputs: string[] = [];
  for (let n = 0; n + 1 < at.length; n++) {
    const inside = between(at[n]!, at[n + 1]!);
    if (inside.length === 0) throw new LoupeError('UNSUPPORTED', `${base}: no hidden state carries every path from block ${n}'s attention to block ${n + 1}'s, so block ${n}'s output cannot be located. Name the tensor instead.`, { file });
    outputs.push(inside[inside.length - 1]!);
  }
  const last = at.length - 1;
  if (last < 1) {
    throw new LoupeError('UNSUPPORTED', `${base} has ${at.length === 1 ? 'one transformer block' : 'no attention'}: Loupe finds a block's output by comparing it with the block before, so name the tensor instead.`, { file });
  }
  const prev = outputs[last - 1]!;
  const k = between(at[last - 1]!, pos(prev) + 1).length;
  const after = between(at[last]!, Infinity);
  const found = after[k - 1];
  if (!found || stream.producer.get(found) !== stream.producer.get(prev)) {
    throw new LoupeError(
      'UNSUPPORTED',
      `${base}: the last block's output cannot be located (it does not repeat the previous block's layout, whose output is ${prev}). Name the tensor instead.`,
      { file },
    );
  }
  // Through the final norm, if any, up to the head.
  let final = found;
  for (const d of after.slice(k)) {
    if (!SHAPE_KEEPING.has(stream.producer.get(d) ?? '')) break;
    final = d;
  }
  outputs.push(final);
  return outputs;
}

/** Ops that keep a [batch, sequence, hidden] tensor's shape: a norm, decomposed or not, and casts. */
const SHAPE_KEEPING = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Sqrt',
  'Reciprocal',
  'Neg',
  'Cast',
  'Identity',
  'Dropout',
  'LayerNormalization',
  'SimplifiedLayerNormalization',
  'RMSNormalization',
]);
