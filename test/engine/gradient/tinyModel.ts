// Tiny ONNX models written in the test, one op under test between an input X and a scalar head,
// and the harness that checks the gradient graph of X against central finite differences.
//   Y = op(X, …)    logits = ReduceSum(Reshape(Y ⊙ R, [1, −1]), axis 1, keepdims) : [1, 1]
// R is a random weight, so every element of Y's gradient is checked (not only their sum).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { varint, lenField } from '../../../src/engine/model/addOutputs';
import { constantTensors, gradientAddition, gradOutput, plan, probeAddition, probeOutput, probeTensors, GradientSpec } from '../../../src/engine/model/gradient/build';
import { encodeGraphAddition, encodeTensor, FLOAT, INT64, NodeSpec } from '../../../src/engine/model/gradient/encode';
import { TARGET_INPUTS, TARGET_VALUE } from '../../../src/engine/model/gradient/target';
import { parseOnnx } from '../../../src/engine/model/onnxFile';

/** A deterministic pseudo-random generator (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Init {
  name: string;
  type?: 'float' | 'int64';
  dims: number[];
  values: number[];
}

export interface OpCase {
  name: string;
  opset: number;
  /** Opsets of further domains the nodes use (com.microsoft: 1). */
  domains?: Record<string, number>;
  /** Shape of X and how its values are drawn (default uniform in [−1, 1]). */
  x: number[];
  positive?: boolean;
  /** |x| ≥ 0.2, so that finite differences do not straddle a kink at 0. */
  awayFromZero?: boolean;
  nodes: Omit<NodeSpec, 'name'>[];
  /** Initializers besides R (random floats when `values` is empty). */
  inits?: Init[];
  /** Shape of Y (the last node's first output). */
  y: number[];
}

const size = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

export function modelBytes(c: OpCase, seed: number): Buffer {
  const rand = random(seed);
  const inits = [...(c.inits ?? []), { name: 'R', dims: c.y, values: [] as number[] }].map((i) => {
    const values = i.values.length > 0 ? i.values : Array.from({ length: size(i.dims) }, () => 2 * rand() - 1);
    return encodeTensor(i.name, i.type === 'int64' ? INT64 : FLOAT, i.dims, values);
  });
  inits.push(encodeTensor('head_shape', INT64, [2], [1, -1]), encodeTensor('head_axes', INT64, [1], [1]));
  const head: NodeSpec[] = [
    { opType: 'Mul', inputs: ['Y', 'R'], outputs: ['YR'], name: 'head_mul' },
    { opType: 'Reshape', inputs: ['YR', 'head_shape'], outputs: ['YR2'], name: 'head_reshape' },
    c.opset >= 13
      ? { opType: 'ReduceSum', inputs: ['YR2', 'head_axes'], outputs: ['logits'], name: 'head_sum', attrs: { keepdims: 1 } }
      : { opType: 'ReduceSum', inputs: ['YR2'], outputs: ['logits'], name: 'head_sum', attrs: { keepdims: 1, axes: [1] } },
  ];
  const graph = encodeGraphAddition({
    nodes: [...c.nodes.map((n, i) => ({ ...n, name: `op_${i}` })), ...head],
    initializers: inits,
    inputs: [{ name: 'X', elemType: FLOAT }],
    outputs: [{ name: 'logits', elemType: FLOAT }],
  });
  // ModelProto: ir_version 1, opset_import 8 (OperatorSetIdProto: domain 1, version 2), graph 7.
  const opset = lenField(8, Buffer.concat([varint(2 * 8 + 0), varint(c.opset)]));
  const domains = Object.entries(c.domains ?? {}).map(([d, v]) => lenField(8, Buffer.concat([lenField(1, Buffer.from(d, 'utf8')), varint(2 * 8 + 0), varint(v)])));
  const ir = c.opset >= 21 ? 10 : 8;
  return Buffer.concat([varint(1 * 8 + 0), varint(ir), opset, ...domains, graph]);
}

async function runOnce(file: string, feeds: Record<string, ort.Tensor>, fetch: string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
  const s = await ort.InferenceSession.create(file);
  try {
    return await s.run(feeds, fetch);
  } finally {
    await s.release();
  }
}

export interface GradCheck {
  exact: Float32Array;
  numeric: Float64Array;
  value: number;
  forward: number;
  /** The op types of the backward nodes written. */
  ops: string[];
  /** The backward nodes written. */
  nodes: NodeSpec[];
}

/** The gradient graph's ∂f/∂X and f, and central finite differences of the plain model's f. */
export async function gradCheck(c: OpCase, dir: string, seed = 1, h = 1e-2): Promise<GradCheck> {
  const bytes = modelBytes(c, seed);
  const file = path.join(dir, `${c.name.replace(/\W+/g, '_')}.onnx`);
  fs.writeFileSync(file, bytes);
  const facts = parseOnnx(bytes, file);
  const spec: GradientSpec = { graph: facts.graph, opset: c.opset, wrt: 'X', logits: 'logits', taps: [] };
  const p = plan(spec, file);
  const rand = random(seed + 1000);
  const x = Float32Array.from({ length: size(c.x) }, () => {
    if (c.positive) return 0.5 + rand();
    const u = 2 * rand() - 1;
    return c.awayFromZero ? Math.sign(u) * (0.2 + Math.abs(u)) : u;
  });
  const xFeed = (v: Float32Array): Record<string, ort.Tensor> => ({ X: new ort.Tensor('float32', v, c.x) });

  const tensors = probeTensors(p, spec);
  const probeFile = file.replace(/\.onnx$/, '.probe.onnx');
  fs.writeFileSync(probeFile, Buffer.concat([bytes, encodeGraphAddition(probeAddition(tensors))]));
  const probed = await runOnce(probeFile, xFeed(x), tensors.map((_, i) => probeOutput(i)));
  const dims = new Map(tensors.map((t, i) => [t, probed[probeOutput(i)]!.dims.map(Number)]));
  dims.set('X', c.x);
  const fixed = constantTensors(facts.graph);
  const constants = new Map<string, number>();
  tensors.forEach((t, i) => {
    const data = probed[probeOutput(i)]!.data as Float32Array;
    if (fixed.has(t) && data.length === 1) constants.set(t, data[0]!);
  });
  const built = gradientAddition(spec, p, dims, constants);
  const gradFile = file.replace(/\.onnx$/, '.grad.onnx');
  fs.writeFileSync(gradFile, Buffer.concat([bytes, encodeGraphAddition(built.addition)]));
  const out = await runOnce(
    gradFile,
    {
      ...xFeed(x),
      [TARGET_INPUTS.select]: new ort.Tensor('float32', Float32Array.from([1]), [1, 1, 1]),
      [TARGET_INPUTS.token]: new ort.Tensor('int64', BigInt64Array.from([0n]), [1, 1, 1]),
      [TARGET_INPUTS.wLogit]: new ort.Tensor('float32', Float32Array.from([1]), [1, 1]),
      [TARGET_INPUTS.wLogprob]: new ort.Tensor('float32', Float32Array.from([0]), [1, 1]),
    },
    [TARGET_VALUE, gradOutput('X')],
  );

  const plain = await ort.InferenceSession.create(file);
  const f = async (v: Float32Array): Promise<number> => ((await plain.run(xFeed(v), ['logits'])).logits!.data as Float32Array)[0]!;
  const numeric = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const step = h * Math.max(1, Math.abs(x[i]!));
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[i] = x[i]! + step;
    minus[i] = x[i]! - step;
    numeric[i] = ((await f(plus)) - (await f(minus))) / (Math.fround(x[i]! + step) - Math.fround(x[i]! - step));
  }
  const forward = await f(x);
  await plain.release();
  return { exact: out[gradOutput('X')]!.data as Float32Array, numeric, value: (out[TARGET_VALUE]!.data as Float32Array)[0]!, forward, ops: built.addition.nodes.map((n) => n.opType), nodes: built.addition.nodes };
}

/**
 * Asserts that the gradient graph's f equals the plain forward and ∂f/∂X equals central finite
 * differences of step h (relative L2 < 2e-3); returns the check, with the backward's op types.
 */
export async function assertGradientMatches(c: OpCase, dir: string, h = 1e-2): Promise<GradCheck> {
  const r = await gradCheck(c, dir, 1, h);
  assert.ok(Math.abs(r.value - r.forward) <= 1e-5 * Math.max(1, Math.abs(r.forward)), `f ${r.value} vs forward ${r.forward}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < r.exact.length; i++) {
    num += (r.exact[i]! - r.numeric[i]!) ** 2;
    den += r.numeric[i]! ** 2;
  }
  const rel = Math.sqrt(num / Math.max(den, 1e-30));
  assert.equal(r.exact.length, r.numeric.length);
  assert.ok(den > 0, 'the gradient is not identically zero');
  assert.ok(rel < 2e-3, `relative L2 ${rel.toExponential(2)}: exact [${Array.from(r.exact.slice(0, 6)).map((v) => v.toFixed(4))}] vs numeric [${Array.from(r.numeric.slice(0, 6)).map((v) => v.toFixed(4))}]`);
  return r;
}
