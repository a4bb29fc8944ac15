// Builds the gradient graph of a model: the nodes, inputs and outputs appended to the model whose
// word embeddings are an input (embeddingGraph.ts), so that one run returns the target f per row
// and ∂f/∂(word embeddings), and optionally ∂f/∂ of other tensors (attention probabilities).
// Two steps: a probe (the forward tensors on the path, made outputs through Cast-to-float, run once
// at batch 2 × 5 tokens) gives every tensor's rank and which of its axes are 1; then the backward
// nodes are written with those facts, shapes staying dynamic at run time.

import { LoupeError } from '../../../protocol/errors';
import type { OnnxGraph } from '../onnxFile';
import { emitBackward } from './backward';
import { FLOAT, GraphAddition, INT64 } from './encode';
import { Emitter } from './emitter';
import { fuseForBackward } from './fuse';
import { GradientPlan, planGradient } from './plan';
export { constantTensors } from './plan';
import { emitTarget, TARGET_INPUTS, TARGET_VALUE } from './target';
import { UnsupportedGradient } from './vjp/types';

export const GRADIENT_GRAPH_VERSION = 13;
export const PROBE_BATCH = 2;
export const PROBE_LENGTH = 5;

/** Raised when the path from the input to the target holds ops Loupe cannot differentiate. */
export class GradientUnsupported extends Error {
  constructor(readonly ops: string[]) {
    super(`no vector-Jacobian product for ${ops.join(', ')}`);
  }
}

export const gradOutput = (tensor: string): string => `loupe_grad/${tensor}`;

export interface GradientSpec {
  graph: OnnxGraph;
  opset: number;
  /** The differentiated input (the word-embedding tensor, an input of the rewritten model). */
  wrt: string;
  /** The model output the target reads (logits). */
  logits: string;
  /** Further tensors whose gradient (and value) is returned, e.g. attention probabilities. */
  taps: string[];
}

/** Plans the graph, or throws GradientUnsupported naming the ops without a vector-Jacobian product. */
export function plan(spec: GradientSpec, file: string): GradientPlan {
  if (spec.opset < 11) throw new GradientUnsupported([`opset ${spec.opset} (Loupe differentiates opset 11 and later)`]);
  const p = planGradient(spec.graph, spec.wrt, spec.logits, spec.opset);
  if (p.unsupported.length > 0) throw new GradientUnsupported(p.unsupported);
  if (!p.needed.has(spec.wrt)) {
    throw new LoupeError('UNSUPPORTED', `The output ${spec.logits} of ${file} does not depend on the word embeddings ${spec.wrt}: there is no gradient to compute.`, { file });
  }
  return p;
}

/** The tensors the probe must measure: every input and output of the planned nodes. */
export function probeTensors(p: GradientPlan, spec: GradientSpec): string[] {
  const set = new Set<string>();
  for (const n of p.nodes) for (const t of [...n.inputs, ...n.outputs]) if (t) set.add(t);
  set.add(spec.logits);
  set.delete(spec.wrt);
  return [...set];
}

export const probeOutput = (i: number): string => `loupe_probe/${i}`;

/** Appended nodes that expose each tensor (cast to float, whatever its type) as an output. */
export function probeAddition(tensors: string[]): GraphAddition {
  return {
    nodes: tensors.map((t, i) => ({ opType: 'Cast', inputs: [t], outputs: [probeOutput(i)], name: `loupe_probe_node/${i}`, attrs: { to: FLOAT } })),
    initializers: [],
    inputs: [],
    outputs: tensors.map((_, i) => ({ name: probeOutput(i), elemType: FLOAT })),
  };
}

export interface GradientGraph {
  addition: GraphAddition;
  /** Output name of each tensor's gradient (the input first, then the taps). */
  grads: Record<string, string>;
}

/**
 * The backward nodes, given the probe's dimensions of every tensor on the path (the differentiated
 * input's included) and the values of one-element constants among them.
 */
export function gradientAddition(spec: GradientSpec, p: GradientPlan, dims: Map<string, number[]>, constants = new Map<string, number>()): GradientGraph {
  const facts = {
    constant: (name: string): number | null => constants.get(name) ?? null,
    dims(name: string): number[] {
      const d = dims.get(name);
      if (!d) throw new UnsupportedGradient('probe', `no shape for ${name}`);
      return d;
    },
  };
  const e = new Emitter(spec.opset, facts);
  const head = emitTarget(e, spec.logits);
  const wanted = [spec.wrt, ...spec.taps];
  const fused = fuseForBackward(p, { rank: (t) => facts.dims(t).length, constant: facts.constant, wanted: new Set(wanted) });
  const found = emitBackward(fused, e, { tensor: spec.logits, grad: head.seed }, wanted, PROBE_LENGTH);
  const grads: Record<string, string> = {};
  const outputs = [{ name: TARGET_VALUE, elemType: FLOAT }];
  const renamed = new Map<string, string>();
  for (const t of wanted) {
    const g = found.get(t);
    if (!g) continue;
    // Each gradient tensor is named as its output once; a second use of the same tensor is copied.
    grads[t] = e.rename(g, gradOutput(t)) ? gradOutput(t) : e.opTo(gradOutput(t), 'Identity', [renamed.get(g) ?? g]);
    renamed.set(g, grads[t]!);
    outputs.push({ name: grads[t]!, elemType: FLOAT });
  }
  for (const t of spec.taps) if (grads[t]) outputs.push({ name: t, elemType: FLOAT });
  return {
    addition: {
      nodes: e.nodes,
      initializers: e.initializers,
      inputs: [
        { name: TARGET_INPUTS.select, elemType: FLOAT },
        { name: TARGET_INPUTS.token, elemType: INT64 },
        { name: TARGET_INPUTS.wLogit, elemType: FLOAT },
        { name: TARGET_INPUTS.wLogprob, elemType: FLOAT },
      ],
      outputs,
    },
    grads,
  };
}
