// Vector-Jacobian products of the RMS and fused normalizations: ONNX RMSNormalization (opset 23,
// the dynamo exporter's Llama RMSNorm), onnxruntime's SimplifiedLayerNormalization (RMSNorm, in the
// default domain) and the com.microsoft SkipLayerNormalization / SkipSimplifiedLayerNormalization
// that its transformer optimizer fuses from residual Add + (RMS)LayerNorm.

import { normBackward, tailAxes } from './softmaxNorm';
import { g0, UnsupportedGradient, Vjp, VjpContext } from './types';

const MS = 'com.microsoft';

/** Only the normalized output (and, for the skip ops, the residual sum) may carry a gradient. */
function onlyOutputs(c: VjpContext, allowed: number[]): void {
  if (c.gy.some((g, i) => g && !allowed.includes(i))) {
    throw new UnsupportedGradient(c.node.opType, 'a gradient through its mean or inverse-deviation outputs');
  }
}

// y = x / rms(x) ⊙ scale over the axes from `axis` on.
const rms: Vjp = (c) => {
  onlyOutputs(c, [0]);
  const [x, scale] = c.node.inputs as [string, string];
  const axes = tailAxes(c.node.ints.axis ?? -1, c.e.rank(x));
  const eps = c.node.floats?.epsilon ?? 1e-5;
  const r = normBackward(c.e, { x, scale, g: g0(c), gDims: c.e.dims(c.node.outputs[0]!), axes, eps, centred: false }, { x: c.needs(0), scale: c.needs(1), bias: false });
  return [r.dx, r.dscale];
};

/**
 * s = input + skip (+ bias), y = norm(s) over the last axis ⊙ gamma (+ beta); output 3 is s itself
 * (the next residual). The inputs are [input, skip, gamma, beta?, bias?] for the LayerNorm form and
 * [input, skip, gamma, bias?] for the RMS form.
 */
function skipNorm(centred: boolean): Vjp {
  const betaAt = centred ? 3 : -1;
  const biasAt = centred ? 4 : 3;
  return (c) => {
    onlyOutputs(c, [0, 3]);
    const e = c.e;
    const [input, skip, gamma] = c.node.inputs as [string, string, string];
    const beta = betaAt > 0 ? c.node.inputs[betaAt] || undefined : undefined;
    const bias = c.node.inputs[biasAt] || undefined;
    const gDims = e.dims(c.node.outputs[0] ?? c.node.outputs[3]!);
    const sumOut = c.node.outputs[3];
    const s = sumOut || (bias ? e.add(e.add(input, skip), bias) : e.add(input, skip));
    const eps = c.node.floats?.epsilon ?? 1e-12;
    const axes = [gDims.length - 1];
    const gy = c.gy[0] ?? null;
    const needsS = [0, 1, biasAt].some((i) => c.needs(i));
    const r = gy
      ? normBackward(e, { x: s, scale: gamma, bias: beta, g: gy, gDims, axes, eps, centred }, { x: needsS, scale: c.needs(2), bias: betaAt > 0 && c.needs(betaAt) })
      : { dx: null, dscale: null, dbias: null };
    const parts = [r.dx, c.gy[3] ?? null].filter((t): t is string => t !== null);
    const ds = parts.length === 2 ? e.add(parts[0]!, parts[1]!) : (parts[0] ?? null);
    const to = (i: number): string | null => (ds && c.needs(i) ? e.unbroadcast(ds, gDims, c.node.inputs[i]!) : null);
    const out: (string | null)[] = [to(0), to(1), r.dscale];
    if (betaAt > 0) out[betaAt] = r.dbias;
    if (bias) out[biasAt] = to(biasAt);
    return out;
  };
}

export const NORMALIZATION: Record<string, Vjp> = {
  RMSNormalization: rms,
  SimplifiedLayerNormalization: rms,
  [`${MS}.SkipLayerNormalization`]: skipNorm(true),
  [`${MS}.SkipSimplifiedLayerNormalization`]: skipNorm(false),
};
