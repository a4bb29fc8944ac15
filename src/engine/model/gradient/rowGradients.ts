// One-row gradients. A classifier reads its hidden states at one position (BERT's [CLS]:
// Gather(h, 0, axis 1)), so until the gradient passes an attention, only that row of each
// [batch, sequence, hidden] tensor has one. Position-wise ops (elementwise, a MatMul by a weight,
// a norm over the hidden axis) are then differentiated on that row alone, on one-row slices of
// their inputs, instead of on zeros everywhere else: the last block's feed-forward and norms cost
// 1/sequence of their full-size backward. The row is widened to the full tensor (Pad) where an op
// mixes positions (the heads' reshape before attention) or where a full-size gradient joins it.

import type { OnnxNode } from '../onnxFile';
import { normAxis, type Emitter } from './emitter';

const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Neg', 'Pow', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Erf', 'Tanh', 'Sigmoid', 'Relu', 'Gelu', 'Cast', 'Identity', 'Dropout']);

/** The row a gradient tensor holds, by gradient tensor name: it has length 1 on axis 1, zeros elsewhere implied. */
export class RowGradients {
  private readonly rows = new Map<string, number>();
  private readonly slices = new Map<string, string>();
  private readonly pending = new Map<string, { x: string; row: number }>();

  constructor(
    private readonly e: Emitter,
    /** The probe's sequence length: a rank-3 tensor whose axis 1 has it is [batch, sequence, hidden]. */
    private readonly seqLength: number,
  ) {}

  rowOf(grad: string): number | undefined {
    return this.rows.get(grad);
  }

  mark(grad: string, row: number): string {
    this.rows.set(grad, row);
    return grad;
  }

  private spansSequence(t: string): boolean {
    const d = this.e.dims(t);
    return d.length === 3 && d[1] === this.seqLength;
  }

  /** For Gather(h [batch, sequence, hidden], constant scalar index, axis 1): the gradient as that one row, or null. */
  fromGather(node: OnnxNode, g: string): string | null {
    if (node.opType !== 'Gather' || node.domain || (node.ints.axis ?? 0) !== 1) return null;
    const [data, index] = node.inputs as [string, string];
    const row = this.e.constantValue(index);
    if (row === null || !Number.isInteger(row) || row < 0 || !this.spansSequence(data) || this.e.rank(node.outputs[0]!) !== 2) return null;
    const d = this.e.dims(data);
    return this.mark(this.e.note(this.e.unsqueeze(g, [1]), [d[0]!, 1, d[2]!]), row);
  }

  /** The full-size gradient of `like` from a one-row gradient. */
  widen(grad: string, like: string): string {
    const row = this.rows.get(grad);
    if (row === undefined) return grad;
    const e = this.e;
    const length = e.op1('Gather', [e.shape(like), e.ints([1])]);
    const after = e.sub(length, e.ints([row + 1]));
    const pads = e.op1('Concat', [e.ints([0, row, 0, 0]), after, e.ints([0])], { axis: 0 });
    return e.note(e.op1('Pad', [grad, pads]), e.dims(like));
  }

  /**
   * A stand-in for `node` whose tensors are one-row slices, when the node is position-wise and its
   * output's gradient is one row; null otherwise. `sliced` lists the inputs that were sliced.
   */
  rowNode(node: OnnxNode, gy: (string | null)[]): { node: OnnxNode; sliced: Set<number>; row: number } | null {
    const row = gy[0] ? this.rows.get(gy[0]) : undefined;
    if (row === undefined || gy.slice(1).some((g) => g) || node.domain) return null;
    const op = node.opType;
    const out = node.outputs[0]!;
    if (!this.spansSequence(out)) return null;
    const positionWise =
      ELEMENTWISE.has(op) ||
      (op === 'LayerNormalization' && normAxis(node.ints.axis ?? -1, 3) === 2) || // over the hidden axis only
      (op === 'MatMul' && this.e.rank(node.inputs[1]!) === 2 && !this.spansSequence(node.inputs[1]!));
    if (!positionWise) return null;
    const sliced = new Set<number>();
    const inputs: string[] = [];
    for (const [i, x] of node.inputs.entries()) {
      if (x && this.spansSequence(x)) {
        inputs.push(this.slice(x, row));
        sliced.add(i);
        continue;
      }
      // Otherwise it must be the same for every position: absent, a weight, a bias, a scalar, or 1
      // along the sequence axis ([batch, 1, hidden], or [1, hidden] aligned with it).
      const d = x ? this.e.dims(x) : [];
      const sameForAll = !x || d.length <= 1 || (op === 'MatMul' && i === 1) || (d.length === 3 && d[1] === 1) || (d.length === 2 && d[0] === 1);
      if (!sameForAll) return null;
      inputs.push(x);
    }
    const outputs = node.outputs.map((o, i) => (i === 0 ? this.slice(o, row) : o));
    return { node: { ...node, inputs, outputs }, sliced, row };
  }

  /** Marks the gradients of the sliced inputs of a row node as rows. */
  markInputs(gx: (string | null)[], sliced: Set<number>, row: number): void {
    gx.forEach((g, i) => {
      if (g && sliced.has(i)) this.mark(g, row);
    });
  }

  /**
   * Row `row` of x, [batch, 1, hidden]: a name that stands for the slice, whose Slice node is written
   * only if a vector-Jacobian product reads it (materialize). Slicing a tensor inside a fused chain
   * (a decomposed norm's x̂) would stop ONNX Runtime fusing it; one node per tensor and row.
   */
  private slice(x: string, row: number): string {
    const key = `${row}|${x}`;
    let s = this.slices.get(key);
    if (!s) {
      const d = this.e.dims(x);
      s = this.e.note(this.e.fresh('row'), [d[0]!, 1, ...d.slice(2)]);
      this.slices.set(key, s);
      this.pending.set(s, { x, row });
    }
    return s;
  }

  /** Writes the Slice nodes that the nodes emitted from index `from` on read, before them. */
  materialize(from: number): void {
    const e = this.e;
    const used = new Set<string>();
    for (const n of e.nodes.slice(from)) for (const i of n.inputs) if (this.pending.has(i)) used.add(i);
    const slices = [...used].map((s) => {
      const { x, row } = this.pending.get(s)!;
      this.pending.delete(s);
      return { opType: 'Slice', inputs: [x, e.ints([row]), e.ints([row + 1]), e.ints([1])], outputs: [s], name: e.fresh('n_Slice') };
    });
    e.nodes.splice(from, 0, ...slices);
  }
}
