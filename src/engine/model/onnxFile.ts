// Reads what Loupe needs from an .onnx file (opsets, producer, metadata_props, external-data use)
// straight from the protobuf wire format, skipping the weights without decoding them.
// It also tells a file that is not ONNX, or is cut short, from one ONNX Runtime merely rejects.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoupeError } from '../../protocol/errors';

export interface OnnxFileFacts {
  irVersion: number;
  producer: string | null;
  /** Opset of the default ("ai.onnx") domain. */
  opset: number | null;
  domains: Record<string, number>;
  metadata: Record<string, string>;
  usesExternalData: boolean;
  /** Op types in the main graph (domain-qualified for non-default domains). */
  opTypes: string[];
  graph: OnnxGraph;
}

export interface OnnxNode {
  opType: string;
  /** '' for the default domain. */
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (axis, perm length, …), enough for pattern matching. */
  ints: Record<string, number>;
  /** Whether the node carries subgraphs (If, Loop, Scan). */
  hasSubgraph: boolean;
  /** Float, integer-list and string attributes (epsilon, perm, axes, approximate, …), for graph rewriting. */
  floats?: Record<string, number>;
  intLists?: Record<string, number[]>;
  strings?: Record<string, string>;
}

export interface OnnxGraph {
  /** In the file's order, which ONNX requires to be topological. */
  nodes: OnnxNode[];
  inputs: string[];
  outputs: string[];
  initializers: Set<string>;
  /** Element types (TensorProto.DataType) declared in inputs, outputs and value_info. */
  elemTypes: Map<string, number>;
  /** Files named by external-data initializers, relative to the model. */
  externalFiles: Set<string>;
}

/** Random access to the bytes of a model: a buffer, or a file read through a moving window. */
export interface ByteSource {
  readonly length: number;
  byteAt(pos: number): number;
  text(start: number, end: number): string;
}

class BufferSource implements ByteSource {
  constructor(private readonly buf: Buffer) {}
  get length(): number {
    return this.buf.length;
  }
  byteAt(pos: number): number {
    return this.buf[pos]!;
  }
  text(start: number, end: number): string {
    return this.buf.toString('utf8', start, end);
  }
}

/**
 * Reads a file through a window, so that parsing a model of hundreds of MB holds a few MB: the
 * parser visits node and value-info messages in order and jumps over the weights.
 */
export class FileSource implements ByteSource {
  private readonly window = Buffer.alloc(1 << 20);
  private windowStart = 0;
  private windowEnd = 0;
  constructor(private readonly fd: number, readonly length: number) {}
  private fill(pos: number): void {
    this.windowStart = pos;
    this.windowEnd = pos + fs.readSync(this.fd, this.window, 0, this.window.length, pos);
  }
  byteAt(pos: number): number {
    if (pos < this.windowStart || pos >= this.windowEnd) this.fill(pos);
    return this.window[pos - this.windowStart]!;
  }
  text(start: number, end: number): string {
    return this.bytes(start, end).toString('utf8');
  }
  /** A copy of the bytes [start, end). */
  bytes(start: number, end: number): Buffer {
    if (end - start > this.window.length) {
      const b = Buffer.alloc(end - start);
      fs.readSync(this.fd, b, 0, b.length, start);
      return b;
    }
    if (start < this.windowStart || end > this.windowEnd) this.fill(start);
    return Buffer.from(this.window.subarray(start - this.windowStart, end - this.windowStart));
  }
}

export class WireReader {
  pos: number;
  constructor(readonly buf: ByteSource, readonly start: number, readonly end: number, readonly file: string) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  private truncated(): never {
    throw new LoupeError('MODEL_INVALID', `${path.basename(this.file)} is truncated or corrupt: the ONNX data ends in the middle of a field.`, {
      file: this.file,
    });
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) this.truncated();
      const byte = this.buf.byteAt(this.pos++);
      if (shift < 49) result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 70) this.truncated();
    }
  }
  /** Returns [field, wireType], or throws when the tag is not valid protobuf. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t & 7;
    if (field === 0 || wire === 6 || wire === 7) this.truncated();
    return [field, wire];
  }
  bytes(): [number, number] {
    const len = this.varint();
    const s = this.pos;
    if (s + len > this.end) this.truncated();
    this.pos = s + len;
    return [s, s + len];
  }
  /** int64 as protobuf writes it (two's complement in 10 bytes for negatives), for small values. */
  signedVarint(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) this.truncated();
      const byte = this.buf.byteAt(this.pos++);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 70n) this.truncated();
    }
    return Number(BigInt.asIntN(64, result));
  }
  /** A fixed32 float (wire type 5). */
  float32(): number {
    if (this.pos + 4 > this.end) this.truncated();
    const b = Buffer.from([this.buf.byteAt(this.pos), this.buf.byteAt(this.pos + 1), this.buf.byteAt(this.pos + 2), this.buf.byteAt(this.pos + 3)]);
    this.pos += 4;
    return b.readFloatLE(0);
  }
  sub(): WireReader {
    const [s, e] = this.bytes();
    return new WireReader(this.buf, s, e, this.file);
  }
  string(): string {
    const [s, e] = this.bytes();
    return this.buf.text(s, e);
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        this.truncated(); // groups (3, 4) do not occur in ONNX
    }
    if (this.pos > this.end) this.truncated();
  }
}

// Field numbers from onnx.proto.
const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8, metadataProps: 14 };
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 };
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 };
const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, g: 6, ints: 8, graphs: 11 };
const TENSOR = { name: 8, externalData: 13, dataLocation: 14 };
const VALUE_INFO = { name: 1, type: 2 };

function readNode(n: WireReader): OnnxNode {
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], ints: {}, hasSubgraph: false, floats: {}, intLists: {}, strings: {} };
  while (!n.done) {
    const [f, w] = n.tag();
    if (f === NODE.opType && w === 2) node.opType = n.string();
    else if (f === NODE.domain && w === 2) node.domain = n.string();
    else if (f === NODE.name && w === 2) node.name = n.string();
    else if (f === NODE.input && w === 2) node.inputs.push(n.string());
    else if (f === NODE.output && w === 2) node.outputs.push(n.string());
    else if (f === NODE.attribute && w === 2) {
      const a = n.sub();
      let name = '';
      let i: number | null = null;
      let f: number | null = null;
      let s: string | null = null;
      const list: number[] = [];
      while (!a.done) {
        const [af, aw] = a.tag();
        if (af === ATTRIBUTE.name && aw === 2) name = a.string();
        else if (af === ATTRIBUTE.i && aw === 0) i = a.signedVarint();
        else if (af === ATTRIBUTE.f && aw === 5) f = a.float32();
        else if (af === ATTRIBUTE.s && aw === 2) s = a.string();
        else if (af === ATTRIBUTE.ints && aw === 0) list.push(a.signedVarint());
        else if (af === ATTRIBUTE.ints && aw === 2) {
          const packed = a.sub();
          while (!packed.done) list.push(packed.signedVarint());
        } else {
          if ((af === ATTRIBUTE.g || af === ATTRIBUTE.graphs) && aw === 2) node.hasSubgraph = true;
          a.skip(aw);
        }
      }
      if (i !== null) node.ints[name] = i;
      if (f !== null) node.floats![name] = f;
      if (s !== null) node.strings![name] = s;
      if (list.length > 0) node.intLists![name] = list;
    } else n.skip(w);
  }
  return node;
}

/** Name and element type of a ValueInfoProto (type → tensor_type → elem_type). */
function readValueInfo(v: WireReader): [string, number | null] {
  let name = '';
  let elem: number | null = null;
  while (!v.done) {
    const [f, w] = v.tag();
    if (f === VALUE_INFO.name && w === 2) name = v.string();
    else if (f === VALUE_INFO.type && w === 2) {
      const t = v.sub();
      while (!t.done) {
        const [tf, tw] = t.tag();
        if (tf === 1 && tw === 2) {
          const tt = t.sub();
          while (!tt.done) {
            const [ef, ew] = tt.tag();
            if (ef === 1 && ew === 0) elem = tt.varint();
            else tt.skip(ew);
          }
        } else t.skip(tw);
      }
    } else v.skip(w);
  }
  return [name, elem];
}

export function readOnnxFacts(file: string): OnnxFileFacts {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new LoupeError('FILE_NOT_FOUND', `Cannot read ${file}: ${(e as Error).message}`, { file });
  }
  try {
    return parseOnnx(new FileSource(fd, fs.fstatSync(fd).size), file);
  } finally {
    fs.closeSync(fd);
  }
}

export function parseOnnx(source: Buffer | ByteSource, file: string): OnnxFileFacts {
  const buf = Buffer.isBuffer(source) ? new BufferSource(source) : source;
  const notOnnx = (): never => {
    throw new LoupeError('NOT_ONNX', `${path.basename(file)} is not an ONNX model (it does not start like an ONNX protobuf).`, { file });
  };
  // Every ModelProto written by an exporter starts with ir_version (field 1, varint): byte 0x08.
  if (buf.length < 2 || buf.byteAt(0) !== 0x08) notOnnx();

  const graph: OnnxGraph = { nodes: [], inputs: [], outputs: [], initializers: new Set(), elemTypes: new Map(), externalFiles: new Set() };
  const facts: OnnxFileFacts = { irVersion: 0, producer: null, opset: null, domains: {}, metadata: {}, usesExternalData: false, opTypes: [], graph };
  const ops = new Set<string>();
  let sawGraph = false;
  const r = new WireReader(buf, 0, buf.length, file);
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === MODEL.irVersion && wire === 0) facts.irVersion = r.varint();
    else if (field === MODEL.producerName && wire === 2) facts.producer = r.string();
    else if (field === MODEL.opsetImport && wire === 2) {
      const o = r.sub();
      let domain = '';
      let version = 0;
      while (!o.done) {
        const [f, w] = o.tag();
        if (f === 1 && w === 2) domain = o.string();
        else if (f === 2 && w === 0) version = o.varint();
        else o.skip(w);
      }
      facts.domains[domain || 'ai.onnx'] = version;
    } else if (field === MODEL.metadataProps && wire === 2) {
      const m = r.sub();
      let key = '';
      let value = '';
      while (!m.done) {
        const [f, w] = m.tag();
        if (f === 1 && w === 2) key = m.string();
        else if (f === 2 && w === 2) value = m.string();
        else m.skip(w);
      }
      facts.metadata[key] = value;
    } else if (field === MODEL.graph && wire === 2) {
      sawGraph = true;
      const g = r.sub();
      while (!g.done) {
        const [f, w] = g.tag();
        if (f === GRAPH.node && w === 2) {
          const node = readNode(g.sub());
          graph.nodes.push(node);
          ops.add(node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType);
        } else if ((f === GRAPH.input || f === GRAPH.output || f === GRAPH.valueInfo) && w === 2) {
          const [name, elem] = readValueInfo(g.sub());
          if (f === GRAPH.input) graph.inputs.push(name);
          if (f === GRAPH.output) graph.outputs.push(name);
          if (elem !== null) graph.elemTypes.set(name, elem);
        } else if (f === GRAPH.initializer && w === 2) {
          const t = g.sub();
          while (!t.done) {
            const [tf, tw] = t.tag();
            if (tf === TENSOR.name && tw === 2) graph.initializers.add(t.string());
            else if (tf === TENSOR.dataLocation && tw === 0) {
              if (t.varint() === 1) facts.usesExternalData = true;
            } else if (tf === TENSOR.externalData && tw === 2) {
              const e = t.sub();
              let key = '';
              let value = '';
              while (!e.done) {
                const [ef, ew] = e.tag();
                if (ef === 1 && ew === 2) key = e.string();
                else if (ef === 2 && ew === 2) value = e.string();
                else e.skip(ew);
              }
              if (key === 'location') graph.externalFiles.add(value);
            } else t.skip(tw);
          }
        } else g.skip(w);
      }
    } else r.skip(wire);
  }
  if (!sawGraph) notOnnx();
  facts.opset = facts.domains['ai.onnx'] ?? null;
  facts.opTypes = [...ops].sort();
  return facts;
}
