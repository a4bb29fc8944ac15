// Writes ONNX nodes for the backward pass: unique names, small constants, and the opset-dependent
// spellings of the same operation (axes as an attribute before opset 13, as an input from 13;
// ReduceMean's axes as an input only from 18). Ranks and probe dimensions of forward tensors come
// from one probe run (probe.ts), since exporters rarely declare intermediate shapes.

import { encodeTensor, FLOAT, INT64, NodeSpec, AttrValue } from './encode';

export interface TensorFacts {
  /** Dimensions seen in the probe run (batch 2, sequence 5): ranks are exact, sizes only say which axes are 1. */
  dims(name: string): number[];
  /** The value of a one-element constant (an initializer or a Constant node's output), when known. */
  constant?(name: string): number | null;
}

export class Emitter {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: Buffer[] = [];
  private count = 0;
  private readonly constants = new Map<string, string>();
  /** Ranks and probe dims of backward tensors created here, by name. */
  private readonly known = new Map<string, number[]>();
  /**
   * Gradients left in a smaller shape that broadcasts to their tensor's (a reduction's gradient,
   * by tensor it belongs to): a Sum with a full-size gradient broadcasts them for free, so the
   * Expand is written only when nothing else flows into the tensor (Backward's total).
   */
  readonly broadcastable = new Set<string>();

  constructor(
    readonly opset: number,
    private readonly facts: TensorFacts,
    private readonly prefix = 'loupe_grad',
  ) {}

  fresh(hint: string): string {
    return `${this.prefix}/${hint}_${this.count++}`;
  }

  op(opType: string, inputs: string[], attrs?: Record<string, AttrValue>, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(opType));
    this.nodes.push({ opType, inputs, outputs: outs, name: this.fresh(`n_${opType}`), attrs });
    return outs;
  }

  /** A node whose single output has a fixed name (a graph output). */
  opTo(output: string, opType: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    this.nodes.push({ opType, inputs, outputs: [output], name: this.fresh(`n_${opType}`), attrs });
    return output;
  }

  /**
   * Gives a tensor made here a fixed name (a graph output), in its node and its readers, instead of
   * copying it through an Identity: ONNX Runtime runs every node, fetched or not, and an Identity of
   * an attention gradient copies [batch, heads, seq, seq] floats each run. False if no node here makes it.
   */
  rename(from: string, to: string): boolean {
    const maker = this.nodes.find((n) => n.outputs.includes(from));
    if (!maker) return false;
    for (const n of this.nodes) {
      n.outputs = n.outputs.map((o) => (o === from ? to : o));
      n.inputs = n.inputs.map((i) => (i === from ? to : i));
    }
    return true;
  }

  op1(opType: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    return this.op(opType, inputs, attrs)[0]!;
  }

  /** A one-output node of a non-default domain that the model already imports (a forward node's own). */
  opOf(domain: string, opType: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    const out = this.fresh(opType);
    this.nodes.push({ opType, inputs, outputs: [out], name: this.fresh(`n_${opType}`), attrs, domain: domain || undefined });
    return out;
  }

  /** The probe dims of a forward tensor (or of a backward tensor recorded with `note`). */
  dims(name: string): number[] {
    return this.known.get(name) ?? this.facts.dims(name);
  }

  /** The value of a one-element constant tensor, or null. */
  constantValue(name: string): number | null {
    return this.facts.constant?.(name) ?? null;
  }

  rank(name: string): number {
    return this.dims(name).length;
  }

  /** Records the probe dims of a tensor created here (a gradient has its forward tensor's shape). */
  note(name: string, dims: number[]): string {
    this.known.set(name, dims);
    return name;
  }

  private constant(key: string, make: (name: string) => Buffer): string {
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh('const');
      this.initializers.push(make(name));
      this.constants.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant. */
  ints(values: number[]): string {
    return this.constant(`i64:${values.join(',')}`, (n) => encodeTensor(n, INT64, [values.length], values));
  }

  /** An int64 scalar constant. */
  intScalar(v: number): string {
    return this.constant(`i64s:${v}`, (n) => encodeTensor(n, INT64, [], [v]));
  }

  /** A 1-D float constant. */
  floats(values: number[]): string {
    return this.constant(`f32v:${values.join(',')}`, (n) => encodeTensor(n, FLOAT, [values.length], values));
  }

  /** A float scalar constant. */
  scalar(v: number): string {
    return this.constant(`f32:${v}`, (n) => encodeTensor(n, FLOAT, [], [v]));
  }

  shape(x: string): string {
    return this.op1('Shape', [x]);
  }

  add(a: string, b: string): string {
    return this.op1('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op1('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op1('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op1('Div', [a, b]);
  }
  neg(a: string): string {
    return this.op1('Neg', [a]);
  }

  /** x reshaped to the runtime shape of `like`. */
  reshapeLike(x: string, like: string): string {
    return this.op1('Reshape', [x, this.shape(like)]);
  }

  /** Marks g as a gradient that broadcasts to the shape of the tensor it flows into. */
  broadcasting(g: string): string {
    this.broadcastable.add(g);
    return g;
  }

  /** Zeros of the runtime shape of `like` (float). */
  zerosLike(like: string): string {
    return this.op1('ConstantOfShape', [this.shape(like)]);
  }

  private axesOp(opType: string, x: string, axes: number[], attrs: Record<string, AttrValue>, inputFrom: number): string {
    if (this.opset >= inputFrom) return this.op1(opType, [x, this.ints(axes)], attrs);
    return this.op1(opType, [x], { ...attrs, axes });
  }

  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    if (axes.length === 0) return x;
    return this.axesOp('ReduceSum', x, axes, { keepdims: keepdims ? 1 : 0 }, 13);
  }

  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    return this.axesOp('ReduceMean', x, axes, { keepdims: keepdims ? 1 : 0 }, 18);
  }

  unsqueeze(x: string, axes: number[]): string {
    return this.axesOp('Unsqueeze', x, axes, {}, 13);
  }

  transpose(x: string, perm: number[]): string {
    return this.op1('Transpose', [x], { perm });
  }

  /** Swaps the last two axes of a tensor of rank r. */
  transposeLast2(x: string, r: number): string {
    const perm = Array.from({ length: r }, (_, i) => i);
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    return this.transpose(x, perm);
  }

  /**
   * Undoes broadcasting: sums the gradient `g` (probe dims `gDims`) down to the shape of the input
   * `x`. Leading axes that x lacks are summed away; an axis where x has 1 and g has more is summed
   * with keepdims. A final Reshape to x's runtime shape keeps dynamic shapes exact.
   */
  unbroadcast(g: string, gDims: number[], x: string): string {
    const xDims = this.dims(x);
    const lead = gDims.length - xDims.length;
    const axes: number[] = [];
    for (let i = 0; i < gDims.length; i++) {
      if (i < lead) axes.push(i);
      else if (xDims[i - lead] === 1 && gDims[i] !== 1) axes.push(i);
    }
    if (axes.length === 0 && lead === 0) return g;
    return this.reshapeLike(this.reduceSum(g, axes, true), x);
  }
}

/** Normalizes a possibly negative axis for a tensor of rank r. */
export const normAxis = (axis: number, r: number): number => (axis < 0 ? axis + r : axis);
