// Makes the word embeddings an input of the model, for gradient methods without autograd.
//
// The word-embedding lookup is the Gather on the embedding matrix whose indices come from input_ids
// (directly, or through Reshape/Cast/Unsqueeze/…). Loupe writes a copy of the model in which that
// Gather's output tensor E is a graph INPUT: every consumer of E (the sum with the position
// embeddings, a LayerNorm, …) then reads what the engine feeds. The Gather itself stays, with its
// output renamed and exposed as a graph OUTPUT, so one run of the copy also returns the real
// embeddings of any ids (no need to decode the weights, whatever their storage: raw, external data,
// quantized-and-dequantized).
//
// Protobuf cannot delete or rename by appending (a second producer of E would be an invalid graph),
// so the copy is written by streaming the file: every byte is copied verbatim except the one NodeProto
// that changes (re-encoded field by field, its other fields copied as they are) and the graph's
// length prefix; the new input and output are appended to the graph message. Weights are never
// decoded or re-encoded, and the copy is written through a small buffer, whatever the model's size.
// Position and token-type embeddings are added after this Gather in BERT, GPT-2, LLaMA-style and
// other exports, so feeding E is exactly Captum's LayerIntegratedGradients on the word embeddings.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../../../protocol/errors';
import type { OnnxGraph, OnnxNode } from '../../model/onnxFile';
import { ByteSource, FileSource, WireReader } from '../../model/onnxFile';
import { lenField, linkExternalData, varint } from '../../model/addOutputs';
import { readCacheMeta } from '../../model/cacheMeta';

export interface WordEmbedding {
  /** The Gather node (its name, or its output when unnamed). */
  node: string;
  /** The Gather's output tensor: the word embeddings. Becomes an input of the rewritten model. */
  tensor: string;
  /** The embedding matrix (usually an initializer). */
  weight: string;
  /** Where the rewritten model returns the Gather's own result. */
  gathered: string;
}

const PASS_THROUGH = new Set(['Reshape', 'Cast', 'Identity', 'Unsqueeze', 'Squeeze', 'Flatten']);
const FUSED_EMBEDDING = new Set(['EmbedLayerNormalization']);
export const GATHERED_SUFFIX = '__loupe_gathered';

/** Finds the word-embedding Gather fed by input_ids, or says why there is none. */
export function findWordEmbedding(graph: OnnxGraph, file: string): WordEmbedding {
  const base = path.basename(file);
  if (!graph.inputs.includes('input_ids')) {
    throw new LoupeError('UNSUPPORTED', `${base} has no input_ids input: gradient attributions need a text model.`, { file });
  }
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);

  let frontier = ['input_ids'];
  const candidates: OnnxNode[] = [];
  for (let depth = 0; depth < 5 && frontier.length > 0 && candidates.length === 0; depth++) {
    const next: string[] = [];
    for (const tensor of frontier) {
      for (const c of consumers.get(tensor) ?? []) {
        if (FUSED_EMBEDDING.has(c.opType)) {
          throw new LoupeError(
            'UNSUPPORTED',
            `${base} computes its embeddings in the fused ${c.domain ? `${c.domain}.` : ''}${c.opType} operator, which hides the word embeddings that gradient attributions need. ` +
              'Export without the ONNX Runtime transformer optimizer (optimum-cli export onnx without -O2/-O3), or use occlusion, LIME or KernelSHAP.',
            { file },
          );
        }
        if (c.opType === 'Gather' && (c.domain === '' || c.domain === 'ai.onnx') && c.inputs[1] === tensor && c.inputs[0] !== tensor) candidates.push(c);
        else if (PASS_THROUGH.has(c.opType) && c.inputs[0] === tensor) next.push(c.outputs[0]!);
      }
    }
    frontier = next;
  }
  // Prefer a lookup in a stored matrix (an initializer) over, say, a Gather on a shape.
  const gather = candidates.find((c) => graph.initializers.has(c.inputs[0]!)) ?? candidates[0];
  if (!gather) {
    const branches = graph.nodes.some((n) => n.hasSubgraph);
    throw new LoupeError(
      'UNSUPPORTED',
      branches
        ? `${base} keeps its layers inside If/Loop branches (a merged decoder), where Loupe cannot reach the word embeddings. Choose the folder's decoder_model.onnx or model.onnx instead, or use a perturbation method.`
        : `No word-embedding lookup (a Gather on the embedding matrix fed by input_ids) was found in ${base}; gradient attributions need one. Occlusion, LIME and KernelSHAP work on any model.`,
      { file },
    );
  }
  const tensor = gather.outputs[0]!;
  return { node: gather.name || tensor, tensor, weight: gather.inputs[0]!, gathered: `${tensor}${GATHERED_SUFFIX}` };
}

// ---- protobuf writing ----------------------------------------------------------------------------------

/** ValueInfoProto { name, type { tensor_type { elem_type } } } with no shape: any rank is accepted. */
function valueInfo(name: string, elemType: number): Buffer {
  const tensorType = Buffer.concat([varint(1 * 8 + 0), varint(elemType)]);
  return Buffer.concat([lenField(1, Buffer.from(name, 'utf8')), lenField(2, lenField(1, tensorType))]);
}


type Piece = { copy: [number, number] } | { bytes: Buffer };

const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 };
const NODE = { output: 2, opType: 4 };
const TENSOR = { dims: 1, dataType: 2, name: 8 };

export interface EmbeddingRewrite {
  /** The pieces of the new file, in order. */
  pieces: Piece[];
  /** TensorProto element type of the embedding matrix (1 = float), when it is an initializer. */
  weightType: number | null;
  /** Its dimensions ([vocab, hidden]), when it is an initializer. */
  weightDims: number[] | null;
}

/**
 * Plans the rewritten file: the pieces to copy or write. The graph field holding the Gather is
 * re-framed (new length), the node re-encoded with its output renamed, the input and output appended.
 */
export function planRewrite(src: FileSource | ByteSource, file: string, emb: WordEmbedding): EmbeddingRewrite {
  const r = new WireReader(src, 0, src.length, file);
  const pieces: Piece[] = [];
  let copyFrom = 0;
  let done = false;
  let weightType: number | null = null;
  let weightDims: number[] | null = null;
  while (!r.done) {
    const fieldStart = r.pos;
    const [field, wire] = r.tag();
    if (field !== MODEL_GRAPH || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const g = r.sub();
    const payloadStart = g.start;
    const payloadEnd = g.end;
    let nodeRange: [number, number] | null = null;
    let newNode: Buffer | null = null;
    while (!g.done) {
      const start = g.pos;
      const [f, w] = g.tag();
      if (f === GRAPH.node && w === 2 && !done) {
        const n = g.sub();
        const fields: [number, number, number, number][] = []; // [field, wire, start, end]
        let isGather = false;
        let producesE = false;
        while (!n.done) {
          const s = n.pos;
          const [nf, nw] = n.tag();
          if (nf === NODE.opType && nw === 2) isGather = n.string() === 'Gather';
          else if (nf === NODE.output && nw === 2) producesE = n.string() === emb.tensor || producesE;
          else n.skip(nw);
          fields.push([nf, nw, s, n.pos]);
        }
        if (isGather && producesE) {
          nodeRange = [start, g.pos];
          const parts = fields.map(([nf, nw, s, e]) => {
            if (nf === NODE.output && nw === 2) {
              const rr = new WireReader(src, s, e, file);
              rr.tag();
              if (rr.string() === emb.tensor) return lenField(NODE.output, Buffer.from(emb.gathered, 'utf8'));
            }
            return readBytes(src, s, e);
          });
          newNode = lenField(GRAPH.node, Buffer.concat(parts));
        }
      } else if (f === GRAPH.initializer && w === 2 && weightType === null) {
        const t = g.sub();
        let name = '';
        let dtype: number | null = null;
        const dims: number[] = [];
        while (!t.done) {
          const [tf, tw] = t.tag();
          if (tf === TENSOR.name && tw === 2) name = t.string();
          else if (tf === TENSOR.dataType && tw === 0) dtype = t.varint();
          else if (tf === TENSOR.dims && tw === 0) dims.push(t.varint());
          else if (tf === TENSOR.dims && tw === 2) {
            const packed = t.sub();
            while (!packed.done) dims.push(packed.varint());
          } else t.skip(tw);
        }
        if (name === emb.weight) {
          weightType = dtype;
          weightDims = dims;
        }
      } else g.skip(w);
    }
    if (nodeRange && newNode) {
      const extra = Buffer.concat([lenField(GRAPH.input, valueInfo(emb.tensor, 1)), lenField(GRAPH.output, valueInfo(emb.gathered, 1))]);
      const newLength = payloadEnd - payloadStart - (nodeRange[1] - nodeRange[0]) + newNode.length + extra.length;
      pieces.push({ copy: [copyFrom, fieldStart] });
      pieces.push({ bytes: Buffer.concat([varint(MODEL_GRAPH * 8 + 2), varint(newLength)]) });
      pieces.push({ copy: [payloadStart, nodeRange[0]] });
      pieces.push({ bytes: newNode });
      pieces.push({ copy: [nodeRange[1], payloadEnd] });
      pieces.push({ bytes: extra });
      copyFrom = payloadEnd;
      done = true;
    }
  }
  if (!done) throw new LoupeError('INTERNAL', `The word-embedding node ${emb.node} was not found in ${path.basename(file)}.`, { file });
  pieces.push({ copy: [copyFrom, src.length] });
  // The new input and output are declared float: refuse other embedding types plainly.
  if (weightType !== null && weightType !== 1) {
    throw new LoupeError(
      'UNSUPPORTED',
      `The word embeddings of ${path.basename(file)} are stored as ${weightType === 10 ? 'float16' : `ONNX type ${weightType}`}; gradient attributions by finite differences need float32 embeddings. Use a float32 export, or occlusion, LIME or KernelSHAP.`,
      { file },
    );
  }
  return { pieces, weightType, weightDims };
}

function readBytes(src: ByteSource, start: number, end: number): Buffer {
  if (src instanceof FileSource) return src.bytes(start, end);
  const b = Buffer.alloc(end - start);
  for (let i = start; i < end; i++) b[i - start] = src.byteAt(i);
  return b;
}

export interface EmbeddingModel {
  path: string;
  embedding: WordEmbedding;
  /** [vocab, hidden] of the embedding matrix, when it is an initializer. */
  weightDims: number[] | null;
}

/** An embedding copy's metadata: the embedding matrix's [vocab, hidden], or null when it is not an initializer. */
function embeddingMeta(v: Record<string, unknown>): Pick<EmbeddingModel, 'weightDims'> | null {
  const d = v.weightDims;
  if (d === null) return { weightDims: null };
  return Array.isArray(d) && d.every((x) => Number.isInteger(x)) ? { weightDims: d as number[] } : null;
}

/**
 * Writes (once, into `cacheDir`, keyed by the model's hash) the copy of the model whose word
 * embeddings are an input. External-data files are hard-linked beside the copy.
 */
export function embeddingModel(source: string, sourceSha256: string, emb: WordEmbedding, externalFiles: Iterable<string>, cacheDir: string): EmbeddingModel {
  const variant = crypto.createHash('sha256').update(`embedding-input-v1|${emb.tensor}|${emb.gathered}`).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir, 'rewritten', `${sourceSha256.slice(0, 32)}-${variant}`);
  const target = path.join(dir, path.basename(source));
  const dimsFile = `${target}.loupe-embedding.json`;
  const cached = fs.existsSync(target) ? readCacheMeta(dimsFile, embeddingMeta) : null;
  if (cached) return { path: target, embedding: emb, weightDims: cached.weightDims };
  let fd: number;
  try {
    fd = fs.openSync(source, 'r');
  } catch (e) {
    throw new LoupeError('FILE_NOT_FOUND', `Cannot read ${source}: ${(e as Error).message}`, { file: source });
  }
  let plan: EmbeddingRewrite;
  const src = new FileSource(fd, fs.fstatSync(fd).size);
  try {
    plan = planRewrite(src, source, emb);
    fs.mkdirSync(dir, { recursive: true });
    linkExternalData(source, externalFiles, dir);
    const tmp = `${target}.${process.pid}.tmp`;
    const out = fs.openSync(tmp, 'w');
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (const piece of plan.pieces) {
        if ('bytes' in piece) {
          fs.writeSync(out, piece.bytes);
          continue;
        }
        for (let pos = piece.copy[0]; pos < piece.copy[1]; ) {
          const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, piece.copy[1] - pos), pos);
          if (n <= 0) throw new Error(`unexpected end of ${source}`);
          fs.writeSync(out, chunk, 0, n);
          pos += n;
        }
      }
    } finally {
      fs.closeSync(out);
    }
    fs.writeFileSync(`${dimsFile}.${process.pid}.tmp`, JSON.stringify({ weightDims: plan.weightDims }));
    fs.renameSync(`${dimsFile}.${process.pid}.tmp`, dimsFile);
    fs.renameSync(tmp, target);
  } catch (e) {
    if (e instanceof LoupeError) throw e;
    throw new LoupeError('INTERNAL', `Could not write the rewritten model to ${dir}: ${(e as Error).message}. Check that the folder is writable.`, { file: dir });
  } finally {
    fs.closeSync(fd);
  }
  return { path: target, embedding: emb, weightDims: plan.weightDims };
}
