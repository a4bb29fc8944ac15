// Finds the attention probabilities in an ONNX graph: the Softmax over the key axis whose result,
// possibly through Cast, Dropout, Where or Identity, multiplies the values in a MatMul (or an
// Einsum such as 'bhij,bhjd->bhid' that contracts its key axis with the values). One per
// layer, in graph (topological) order. Fused attention operators have no probabilities to read.

import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';
import type { OnnxGraph, OnnxNode } from './onnxFile';

export interface AttentionTap {
  layer: number;
  /** The Softmax node (for messages). */
  softmax: string;
  /** The tensor that multiplies the values: what Loupe reads. */
  tensor: string;
  /** TensorProto element type of that tensor (1 = float, 10 = float16). */
  elemType: number;
}

const FUSED = new Set(['Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention', 'PackedMultiHeadAttention', 'DecoderMaskedMultiHeadAttention']);
const PASS_THROUGH = new Set(['Cast', 'Dropout', 'Where', 'Identity']);
const FLOAT = 1;

function fusedMessage(file: string, op: string): string {
  return (
    `${path.basename(file)} uses the fused ${op} operator, which computes attention internally and exposes no probabilities to read. ` +
    'Export the model without attention fusion: for example optimum-cli export onnx without --optimize (or with -O1), ' +
    'or torch.onnx.export on a model loaded with attn_implementation="eager", and do not run the ONNX Runtime transformer optimizer on it.'
  );
}

/** An Einsum whose first operand is 4-D with its last index (the keys) summed against the second: 'bhij,bhjd->bhid'. */
function contractsKeys(n: OnnxNode): boolean {
  if (n.opType !== 'Einsum') return false;
  const m = /^([A-Za-z]{4}),([A-Za-z]+)->([A-Za-z]*)$/.exec((n.strings?.equation ?? '').replace(/\s+/g, ''));
  if (!m) return false;
  const key = m[1]![3]!;
  return m[2]!.includes(key) && !m[3]!.includes(key);
}

export function findAttention(graph: OnnxGraph, opset: number | null, file: string): AttentionTap[] {
  const fused = graph.nodes.find((n) => FUSED.has(n.opType) && (n.domain === '' || n.domain === 'ai.onnx' || n.domain === 'com.microsoft'));
  if (fused) throw new LoupeError('UNSUPPORTED', fusedMessage(file, `${fused.domain ? `${fused.domain}.` : ''}${fused.opType}`), { file });

  const consumers = new Map<string, OnnxNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);

  const taps: AttentionTap[] = [];
  for (const node of graph.nodes) {
    if (node.opType !== 'Softmax' || (node.domain !== '' && node.domain !== 'ai.onnx')) continue;
    // The default axis is 1 before opset 13 and -1 from it; exporters write 3 (opsets 11, 12) or -1.
    const axis = node.ints.axis ?? ((opset ?? 13) >= 13 ? -1 : 1);
    if (axis !== -1 && axis !== 3) continue;
    let tensor = node.outputs[0]!;
    let found = false;
    for (let step = 0; step < 4 && !found; step++) {
      const next = consumers.get(tensor) ?? [];
      if (next.some((c) => (c.opType === 'MatMul' || contractsKeys(c)) && c.inputs[0] === tensor)) {
        found = true;
        break;
      }
      const pass = next.find((c) => PASS_THROUGH.has(c.opType) && (c.opType !== 'Where' || c.inputs[0] !== tensor));
      if (!pass) break;
      tensor = pass.outputs[0]!;
    }
    if (!found) continue;
    const elemType = graph.elemTypes.get(tensor) ?? graph.elemTypes.get(node.outputs[0]!) ?? FLOAT;
    taps.push({ layer: taps.length, softmax: node.name || node.outputs[0]!, tensor, elemType });
  }

  if (taps.length === 0) {
    const branches = graph.nodes.some((n) => n.hasSubgraph);
    throw new LoupeError(
      'UNSUPPORTED',
      branches
        ? `${path.basename(file)} keeps its layers inside If/Loop branches (a merged decoder), where Loupe cannot read attention. Choose the folder's decoder_model.onnx or model.onnx instead.`
        : `No attention probabilities were found in ${path.basename(file)}: Loupe looks for a Softmax over the key axis whose result multiplies the values (eager attention).`,
      { file },
    );
  }
  return taps;
}
