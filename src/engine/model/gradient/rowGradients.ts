// One-row gradients. A classifier reads its hidden states at one position (BERT's [CLS]:
// Gather(h, 0, axis 1)), so until the gradient passes an op that mixes positions, only that row of
// each tensor has one. Row-wise ops are then differentiated on one-row slices of their tensors
// instead of on zeros everywhere else:
// - the last block's feed-forward and norms ([batch, sequence, hidden], the row on axis 1);
// - its attention, through the heads' reshape and transpose ([batch, heads, sequence, ·], the row
//   on axis 2): only the read query's row of the probabilities, of the softmax's backward and of the
//   scores has a gradient; the keys' and values' gradients come out full size from the row.
// The row is widened to the full tensor (Pad) where an op mixes positions or where a full-size
// gradient joins it.

import type { OnnxNode } from '../onnxFile';
import { normAxis, type Emitter } from './emitter';

const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Neg', 'Pow', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Erf', 'Tanh', 'Sigmoid', 'Relu', 'Gelu', 'Cast', 'Identity', 'Dropout', 'Where']);

/** Which row a gradient tensor holds, and on which axis: it has length 1 there, zeros elsewhere implied. */
export interface RowAt {
  row: number;
  axis: number;
}

export class RowGradients {
  private readonly rows = new Map<string, RowAt>();
  private readonly slices = new Map<string, string>();
  private readonly pending = new Map<string, { x: string; at: RowAt }>();

  constructor(
    private readonly e: Emitter,
    /** The probe's sequence length: an axis of this length is a sequence axis. */
    private readonly seqLength: number,
  ) {}

  rowOf(grad: string): RowAt | undefined {
    return this.rows.get(grad);
  }

  mark(grad: string, at: RowAt): string {
    this.rows.set(grad, at);
    return grad;
  }

  /** Whether t's axis `axis` is a sequence axis. */
  private spans(t: string, axis: number): boolean {
    const d = this.e.dims(t);
    return axis >= 0 && axis < d.length && d[axis] === this.seqLength;
  }

  /** For Gather(h [batch, sequence, hidden], constant scalar index, axis 1): the gradient as that one row, or null. */
  fromGather(node: OnnxNode, g: string): string | null {
    if (node.opType !== 'Gather' || node.domain || (node.ints.axis ?? 0) !== 1) return null;
    const [data, index] = node.inputs as [string, string];
    const row = this.e.constantValue(index);
    if (row === null || !Number.isInteger(row) || row < 0 || this.e.rank(data) !== 3 || !this.spans(data, 1) || this.e.rank(node.outputs[0]!) !== 2) return null;
    const d = this.e.dims(data);
    return this.mark(this.e.note(this.e.unsqueeze(g, [1]), [d[0]!, 1, d[2]!]), { row, axis: 1 });
  }

  /** The full-size gradient of `like` from a one-row gradient. */
  widen(grad: string, like: string): string {
    const at = this.rows.get(grad);
    if (!at) return grad;
    const e = this.e;
    const r = e.rank(like);
    const length = e.op1('Gather', [e.shape(like), e.ints([at.axis])]);
    const after = e.sub(length, e.ints([at.row + 1]));
    const zeros = (n: number): number[] => new Array<number>(n).fill(0);
    const begins = zeros(r);
    begins[at.axis] = at.row;
    // pads = [begin of each axis…, end of each axis…]; the end of the row's axis is computed.
    const parts = [e.ints([...begins, ...zeros(at.axis)]), after];
    if (r - at.axis - 1 > 0) parts.push(e.ints(zeros(r - at.axis - 1)));
    const pads = e.op1('Concat', parts, { axis: 0 });
    return e.note(e.op1('Pad', [grad, pads]), e.dims(like));
  }

  /**
   * A stand-in for `node` whose tensors are one-row slices, when the node is row-wise along the row
   * of its output's gradient; null otherwise. `sliced` maps the sliced inputs to their row's axis.
   */
  rowNode(node: OnnxNode, gy: (string | null)[]): { node: OnnxNode; sliced: Map<number, number>; row: number } | null {
    const at = gy[0] ? this.rows.get(gy[0]) : undefined;
    if (!at || gy.slice(1).some((g) => g) || node.domain) return null;
    const out = node.outputs[0]!;
    if (!this.spans(out, at.axis)) return null;
    const axes = this.inputAxes(node, at.axis);
    if (!axes) return null;
    const sliced = new Map<number, number>();
    const inputs = node.inputs.map((x, i) => {
      const a = axes[i];
      if (!x || a === null || a === undefined) return x;
      sliced.set(i, a);
      return this.slice(x, { row: at.row, axis: a });
    });
    const outputs = node.outputs.map((o, i) => (i === 0 ? this.slice(o, at) : o));
    return { node: { ...node, inputs, outputs }, sliced, row: at.row };
  }

  /**
   * For an op whose output row is on `axis`: the axis of each input to slice (null: the input is the
   * same for every row and is used whole), or null when the op mixes rows.
   */
  private inputAxes(node: OnnxNode, axis: number): (number | null)[] | null {
    const e = this.e;
    const op = node.opType;
    const n = e.rank(node.outputs[0]!);
    // Broadcasting aligns trailing axes: an input is sliced on the axis aligned with the row's,
    // or used whole where it has none or length 1 there.
    const aligned = (x: string): number | null | undefined => {
      if (!x) return null;
      const a = axis - (n - e.rank(x));
      if (a < 0 || e.dims(x)[a] === 1) return null;
      return this.spans(x, a) ? a : undefined;
    };
    const all = (): (number | null)[] | null => {
      const axes = node.inputs.map(aligned);
      return axes.some((a) => a === undefined) ? null : (axes as (number | null)[]);
    };
    if (ELEMENTWISE.has(op)) return all();
    if (op === 'LayerNormalization') return normAxis(node.ints.axis ?? -1, n) > axis ? all() : null;
    if (op === 'Softmax' || op === 'LogSoftmax') {
      // Opset 13 normalizes one axis, earlier opsets every axis from it on: either way all after the row's.
      const from = normAxis(node.ints.axis ?? (e.opset >= 13 ? -1 : 1), n);
      return from > axis ? all() : null;
    }
    if (op === 'MatMul') {
      if (n < 2 || axis >= n - 1 || node.inputs.some((x) => e.rank(x) < 2)) return null;
      // A row of the product's M axis is that row of the left operand times the whole right one.
      if (axis === n - 2) {
        const a = aligned(node.inputs[0]!);
        return a === undefined || a === null ? null : [a, null];
      }
      return all(); // a batch axis: both operands' rows
    }
    if (op === 'Transpose') {
      const perm = node.intLists?.perm ?? Array.from({ length: n }, (_, i) => n - 1 - i);
      return [perm[axis]!];
    }
    if (op === 'Reshape') {
      // Only a reshape that keeps every axis up to the row's (splitting or merging the heads).
      const din = e.dims(node.inputs[0]!);
      const dout = e.dims(node.outputs[0]!);
      for (let i = 0; i <= axis; i++) if (din[i] !== dout[i]) return null;
      return [axis, null];
    }
    return null;
  }

  /** Marks the gradients of the sliced inputs of a row node as rows. */
  markInputs(gx: (string | null)[], sliced: Map<number, number>, row: number): void {
    gx.forEach((g, i) => {
      const axis = sliced.get(i);
      if (g && axis !== undefined) this.mark(g, { row, axis });
    });
  }

  /**
   * Row `at` of x (length 1 on its axis): a name that stands for the slice, whose Slice node is written
   * only if a vector-Jacobian product reads it (materialize). Slicing a tensor inside a fused chain
   * (a decomposed norm's x̂) would stop ONNX Runtime fusing it; one node per tensor and row.
   */
  private slice(x: string, at: RowAt): string {
    const key = `${at.row}|${at.axis}|${x}`;
    let s = this.slices.get(key);
    if (!s) {
      const d = [...this.e.dims(x)];
      d[at.axis] = 1;
      s = this.e.note(this.e.fresh('row'), d);
      this.slices.set(key, s);
      this.pending.set(s, { x, at });
    }
    return s;
  }

  /** Writes the Slice nodes that the nodes emitted from index `from` on read, before them. */
  materialize(from: number): void {
    const e = this.e;
    const used = new Set<string>();
    for (const n of e.nodes.slice(from)) for (const i of n.inputs) if (this.pending.has(i)) used.add(i);
    const slices = [...used].map((s) => {
      const { x, at } = this.pending.get(s)!;
      this.pending.delete(s);
      return { opType: 'Slice', inputs: [x, e.ints([at.row]), e.ints([at.row + 1]), e.ints([at.axis])], outputs: [s], name: e.fresh('n_Slice') };
    });
    e.nodes.splice(from, 0, ...slices);
  }
}
