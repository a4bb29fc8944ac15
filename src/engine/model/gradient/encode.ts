// Protobuf encoding of the few ONNX messages the gradient builder appends to a model: nodes with
// their attributes, small constant tensors, and value infos. Appended as a second `graph` field of
// the ModelProto, they merge into the model's graph (repeated fields concatenate).

import { lenField, varint } from '../addOutputs';

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs?: Record<string, AttrValue>;
  domain?: string;
}

const str = (field: number, s: string): Buffer => lenField(field, Buffer.from(s, 'utf8'));

/** An int64 varint (two's complement in ten bytes for negatives). */
function int64(n: number): Buffer {
  if (n >= 0) return varint(n);
  let v = BigInt.asUintN(64, BigInt(n));
  const bytes: number[] = [];
  while (v > 127n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Buffer.from(bytes);
}

const tagged = (field: number, wire: number, payload: Buffer): Buffer => Buffer.concat([varint(field * 8 + wire), payload]);

// AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20.
const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 };

function attribute(name: string, value: AttrValue): Buffer {
  const parts = [str(1, name)];
  if (typeof value === 'number') parts.push(tagged(3, 0, int64(value)), tagged(20, 0, varint(ATTR_TYPE.int)));
  else if (typeof value === 'string') parts.push(str(4, value), tagged(20, 0, varint(ATTR_TYPE.string)));
  else if (Array.isArray(value)) parts.push(lenField(8, Buffer.concat(value.map(int64))), tagged(20, 0, varint(ATTR_TYPE.ints)));
  else if ('float' in value) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value.float);
    parts.push(tagged(2, 5, b), tagged(20, 0, varint(ATTR_TYPE.float)));
  } else {
    const b = Buffer.alloc(4 * value.floats.length);
    value.floats.forEach((f, i) => b.writeFloatLE(f, 4 * i));
    parts.push(lenField(7, b), tagged(20, 0, varint(ATTR_TYPE.floats)));
  }
  return Buffer.concat(parts);
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7. */
export function encodeNode(n: NodeSpec): Buffer {
  const parts: Buffer[] = [];
  for (const i of n.inputs) parts.push(str(1, i));
  for (const o of n.outputs) parts.push(str(2, o));
  parts.push(str(3, n.name), str(4, n.opType));
  for (const [k, v] of Object.entries(n.attrs ?? {})) parts.push(lenField(5, attribute(k, v)));
  if (n.domain) parts.push(str(7, n.domain));
  return Buffer.concat(parts);
}

export const FLOAT = 1;
export const INT64 = 7;

/** TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian). */
export function encodeTensor(name: string, elemType: typeof FLOAT | typeof INT64, dims: number[], values: number[]): Buffer {
  const raw = Buffer.alloc(values.length * (elemType === FLOAT ? 4 : 8));
  values.forEach((v, i) => (elemType === FLOAT ? raw.writeFloatLE(v, 4 * i) : raw.writeBigInt64LE(BigInt(v), 8 * i)));
  return Buffer.concat([...dims.map((d) => tagged(1, 0, int64(d))), tagged(2, 0, varint(elemType)), str(8, name), lenField(9, raw)]);
}

/** ValueInfoProto { name, type { tensor_type { elem_type } } } with no shape: any rank is accepted. */
export function encodeValueInfo(name: string, elemType: number): Buffer {
  const tensorType = tagged(1, 0, varint(elemType));
  return Buffer.concat([str(1, name), lenField(2, lenField(1, tensorType))]);
}

export interface GraphAddition {
  nodes: NodeSpec[];
  initializers: Buffer[];
  inputs: { name: string; elemType: number }[];
  outputs: { name: string; elemType: number }[];
}

/** The bytes to append to a ModelProto: a `graph` field (7) holding only the additions. */
export function encodeGraphAddition(a: GraphAddition): Buffer {
  const parts: Buffer[] = [];
  for (const n of a.nodes) parts.push(lenField(1, encodeNode(n)));
  for (const t of a.initializers) parts.push(lenField(5, t));
  for (const i of a.inputs) parts.push(lenField(11, encodeValueInfo(i.name, i.elemType)));
  for (const o of a.outputs) parts.push(lenField(12, encodeValueInfo(o.name, o.elemType)));
  return lenField(7, Buffer.concat(parts));
}
