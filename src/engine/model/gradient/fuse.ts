// Decomposed layer norms (opset < 17 exports: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div) are
// differentiated as one LayerNormalization, and the erf GELU (x · ½ · (1 + erf(x/√2)), five nodes
// in every exporter) as one Gelu. Op by op, the backward would read the forward's intermediates
// (the centred x, σ, erf's argument), which stops ONNX Runtime from fusing the forward into its
// LayerNormalization and Gelu kernels, and it would take more full-size nodes than the fused rules
// (about twelve against five for a norm). The forward nodes stay as they are; only the plan the
// backward walks changes. On the bundled classifier the gradient graph, as ONNX Runtime optimizes
// it, went from 423 to 268 nodes with the norms alone.

import type { OnnxNode } from '../onnxFile';
import type { GradientPlan } from './plan';

/** What the fusion needs to know of the tensors: their ranks and the values of one-element constants. */
export interface FuseFacts {
  rank(name: string): number;
  constant(name: string): number | null;
  /** Tensors whose gradient is asked for (the input, the taps): a chain holding one is not fused. */
  wanted: ReadonlySet<string>;
}

function lastAxisOnly(n: OnnxNode, facts: FuseFacts): boolean {
  if ((n.ints.keepdims ?? 1) !== 1) return false;
  const r = facts.rank(n.inputs[0]!);
  const attr = n.intLists?.axes;
  const axes = attr ?? (n.inputs[1] ? [facts.constant(n.inputs[1])] : null);
  return !!axes && axes.length === 1 && (axes[0] === -1 || axes[0] === r - 1);
}

/**
 * The plan with each decomposed layer norm (ending at its Div) replaced by one LayerNormalization
 * node over [x] whose output is the Div's. A chain is fused only when no other planned node reads
 * its intermediate tensors and none of them is wanted, so no gradient path is lost.
 */
function fuseDecomposedLayerNorms(plan: GradientPlan, facts: FuseFacts): GradientPlan {
  const { producer, readers } = index(plan);
  const is = (t: string | undefined, opType: string): OnnxNode | null => {
    const n = t ? producer.get(t) : undefined;
    return n && n.opType === opType && !n.domain ? n : null;
  };
  const replaced = new Map<OnnxNode, OnnxNode | null>();
  for (const div of plan.nodes) {
    if (div.opType !== 'Div' || div.domain) continue;
    const [xc, sd] = div.inputs;
    const sqrt = is(sd, 'Sqrt');
    const addEps = is(sqrt?.inputs[0], 'Add');
    if (!sqrt || !addEps) continue;
    const varIdx = addEps.inputs.findIndex((t) => is(t, 'ReduceMean'));
    const eps = varIdx < 0 ? null : facts.constant(addEps.inputs[1 - varIdx]!);
    const meanSq = varIdx < 0 ? null : is(addEps.inputs[varIdx], 'ReduceMean');
    if (!meanSq || eps === null || !(eps >= 0)) continue;
    const square = is(meanSq.inputs[0], 'Pow') ?? is(meanSq.inputs[0], 'Mul');
    if (!square) continue;
    const squares = square.opType === 'Pow' ? square.inputs[0] === xc && facts.constant(square.inputs[1]!) === 2 : square.inputs[0] === xc && square.inputs[1] === xc;
    const sub = is(xc, 'Sub');
    const mean = is(sub?.inputs[1], 'ReduceMean');
    if (!squares || !sub || !mean) continue;
    const x = sub.inputs[0]!;
    if (mean.inputs[0] !== x || !lastAxisOnly(mean, facts) || !lastAxisOnly(meanSq, facts)) continue;
    const chain = [mean, sub, square, meanSq, addEps, sqrt, div];
    if (!fusible(chain, div, readers, facts) || chain.some((n) => replaced.has(n))) continue;
    for (const n of chain) replaced.set(n, null);
    replaced.set(div, {
      opType: 'LayerNormalization',
      domain: '',
      name: `${div.name} (layer norm, decomposed)`,
      inputs: [x],
      outputs: [div.outputs[0]!],
      ints: { axis: -1 },
      floats: { epsilon: eps },
      hasSubgraph: false,
    });
  }
  return withReplacements(plan, replaced);
}

/** The plan with each replaced node dropped, or swapped for its replacement. */
function withReplacements(plan: GradientPlan, replaced: Map<OnnxNode, OnnxNode | null>): GradientPlan {
  if (replaced.size === 0) return plan;
  const nodes: OnnxNode[] = [];
  for (const n of plan.nodes) {
    const r = replaced.get(n);
    if (r === undefined) nodes.push(n);
    else if (r) nodes.push(r);
  }
  return { ...plan, nodes };
}

/** Whether the chain's tensors other than its output are read only inside it, and none is wanted. */
function fusible(chain: OnnxNode[], last: OnnxNode, readers: Map<string, OnnxNode[]>, facts: FuseFacts): boolean {
  const inside = new Set(chain);
  const intermediates = chain.filter((n) => n !== last).flatMap((n) => n.outputs);
  return intermediates.every((t) => !facts.wanted.has(t) && (readers.get(t) ?? []).every((r) => inside.has(r)));
}

interface Index {
  producer: Map<string, OnnxNode>;
  readers: Map<string, OnnxNode[]>;
}

function index(plan: GradientPlan): Index {
  const producer = new Map<string, OnnxNode>();
  const readers = new Map<string, OnnxNode[]>();
  for (const n of plan.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
  }
  return { producer, readers };
}

const near = (v: number | null, target: number): boolean => v !== null && Math.abs(v - target) <= 1e-4 * Math.abs(target);

/** x · ½ · (1 + erf(x / √2)), the products in any order, ÷√2 or ×1/√2: one Gelu over [x]. */
function fuseErfGelus(plan: GradientPlan, facts: FuseFacts): GradientPlan {
  const { producer, readers } = index(plan);
  const only = (t: string): OnnxNode | null => {
    const r = readers.get(t) ?? [];
    return r.length === 1 && r[0]!.opType === 'Mul' && !r[0]!.domain ? r[0]! : null;
  };
  const other = (n: OnnxNode, t: string): string | null => (n.inputs[0] === t ? n.inputs[1]! : n.inputs[1] === t ? n.inputs[0]! : null);
  const replaced = new Map<OnnxNode, OnnxNode | null>();
  for (const erf of plan.nodes) {
    if (erf.opType !== 'Erf' || erf.domain) continue;
    const scaled = producer.get(erf.inputs[0]!);
    if (!scaled || scaled.domain) continue;
    let x: string | null = null;
    if (scaled.opType === 'Div' && near(facts.constant(scaled.inputs[1]!), Math.SQRT2)) x = scaled.inputs[0]!;
    if (scaled.opType === 'Mul') {
      const c = [0, 1].find((i) => near(facts.constant(scaled.inputs[i]!), Math.SQRT1_2));
      if (c !== undefined) x = scaled.inputs[1 - c]!;
    }
    const [plusOne] = (readers.get(erf.outputs[0]!) ?? []).filter((n) => n.opType === 'Add' && !n.domain);
    const one = plusOne ? other(plusOne, erf.outputs[0]!) : null;
    if (!x || !plusOne || !one || !near(facts.constant(one), 1)) continue;
    // The two products over {x, ½, 1 + erf}: (a) ((1 + erf) · p) · q, or (b) (x · ½) · (1 + erf).
    const m1 = only(plusOne.outputs[0]!);
    if (!m1) continue;
    const p = other(m1, plusOne.outputs[0]!)!;
    let chain: OnnxNode[];
    let last: OnnxNode;
    const isHalf = (t: string): boolean => near(facts.constant(t), 0.5);
    const m2 = only(m1.outputs[0]!);
    const q = m2 ? other(m2, m1.outputs[0]!) : null;
    if (m2 && q && ((p === x && isHalf(q)) || (isHalf(p) && q === x))) {
      chain = [scaled, erf, plusOne, m1, m2];
      last = m2;
    } else {
      const half = producer.get(p);
      const hx = half && half.opType === 'Mul' && !half.domain ? other(half, x) : null;
      if (!half || !hx || !isHalf(hx) || (readers.get(p) ?? []).length !== 1) continue;
      chain = [half, scaled, erf, plusOne, m1];
      last = m1;
    }
    if (!fusible(chain, last, readers, facts) || chain.some((n) => replaced.has(n))) continue;
    for (const n of chain) replaced.set(n, null);
    replaced.set(last, { opType: 'Gelu', domain: '', name: `${last.name} (GELU, decomposed)`, inputs: [x], outputs: [last.outputs[0]!], ints: {}, hasSubgraph: false });
  }
  return withReplacements(plan, replaced);
}

/** The plan the backward walks, with decomposed layer norms and erf GELUs as single nodes. */
export function fuseForBackward(plan: GradientPlan, facts: FuseFacts): GradientPlan {
  return fuseErfGelus(fuseDecomposedLayerNorms(plan, facts), facts);
}
