// Vector-Jacobian products of elementwise ops. Binary ops broadcast, so each input's gradient is
// summed back to that input's shape (Emitter.unbroadcast).

import type { Emitter } from '../emitter';
import { g0, UnsupportedGradient, Vjp, VjpContext } from './types';

export const FLOAT = 1;

/** For y = f(x): dx = g ⊙ f'(…), given the local derivative as nodes. */
export function unary(local: (c: VjpContext, x: string, y: string) => string): Vjp {
  return (c) => [c.e.mul(g0(c), local(c, c.node.inputs[0]!, c.node.outputs[0]!))];
}

/**
 * For a broadcasting binary op: each input's gradient, unbroadcast to its shape. A negated gradient
 * of b is negated after the reduction, on the smaller tensor.
 */
function binary(grads: (c: VjpContext, g: string, a: string, b: string, y: string) => [() => string, () => string], negateB = false): Vjp {
  return (c) => {
    const [a, b] = c.node.inputs as [string, string];
    const y = c.node.outputs[0]!;
    const g = g0(c);
    const gDims = c.e.dims(y);
    const [da, db] = grads(c, g, a, b, y);
    const gb = c.needs(1) ? c.e.unbroadcast(db(), gDims, b) : null;
    return [c.needs(0) ? c.e.unbroadcast(da(), gDims, a) : null, gb && negateB ? c.e.neg(gb) : gb];
  };
}

const passThrough: Vjp = (c) => [g0(c)];

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const LN_TWO_OVER_SQRT_PI = Math.log(2 / Math.sqrt(Math.PI));
const INV_SQRT_2 = Math.SQRT1_2;
const LN_INV_SQRT_2PI = -0.5 * Math.log(2 * Math.PI);

export const ELEMENTWISE: Record<string, Vjp> = {
  Add: binary((_c, g) => [() => g, () => g]),
  Sub: binary((_c, g) => [() => g, () => g], true),
  Mul: binary((c, g, a, b) => [() => c.e.mul(g, b), () => c.e.mul(g, a)]),
  // y = a / b: dy/da = 1/b, dy/db = −y/b.
  Div: binary((c, g, _a, b, y) => [() => c.e.div(g, b), () => c.e.div(c.e.mul(g, y), b)], true),
  Neg: (c) => [c.e.neg(g0(c))],
  Identity: passThrough,
  Dropout: passThrough, // inference: the identity
  Cast: (c) => {
    if (c.node.ints.to !== FLOAT) throw new UnsupportedGradient('Cast', `a cast to ONNX type ${c.node.ints.to} on the gradient path`);
    return [g0(c)];
  },
  // CastLike(x, like): the gradient is cast back to x's type (a float x: the identity).
  CastLike: (c) => [c.e.op1('CastLike', [g0(c), c.node.inputs[0]!])],
  Pow: (c) => {
    if (c.needs(1)) throw new UnsupportedGradient('Pow', 'an exponent that depends on the input');
    const [x, p] = c.node.inputs as [string, string];
    const e = c.e;
    // A constant exponent of 1 or 2 (the decomposed LayerNorm's square) needs no Pow.
    const known = e.constantValue(p);
    const gy = e.dims(c.node.outputs[0]!);
    if (known === 1) return [e.unbroadcast(g0(c), gy, x)];
    let local: string;
    if (known === 2) local = e.mul(x, e.scalar(2));
    else {
      const pf = e.op1('Cast', [p], { to: FLOAT });
      local = e.mul(pf, e.op1('Pow', [x, e.sub(pf, e.scalar(1))]));
    }
    return [e.unbroadcast(e.mul(g0(c), local), gy, x)];
  },
  Sqrt: unary((c, _x, y) => c.e.div(c.e.scalar(0.5), y)),
  Reciprocal: unary((c, _x, y) => c.e.neg(c.e.mul(y, y))),
  Exp: unary((_c, _x, y) => y),
  Log: unary((c, x) => c.e.op1('Reciprocal', [x])),
  Tanh: unary((c, _x, y) => c.e.sub(c.e.scalar(1), c.e.mul(y, y))),
  Sigmoid: unary((c, _x, y) => c.e.mul(y, c.e.sub(c.e.scalar(1), y))),
  // 2/√π · exp(−x²), the constant folded into the exponent: exp(ln(2/√π) − x²).
  Erf: unary((c, x) => c.e.op1('Exp', [c.e.sub(c.e.scalar(LN_TWO_OVER_SQRT_PI), c.e.mul(x, x))])),
  Relu: unary((c, x) => c.e.op1('Cast', [c.e.op1('Greater', [x, c.e.scalar(0)])], { to: FLOAT })),
  Abs: unary((c, x) => c.e.op1('Sign', [x])),
  Sin: unary((c, x) => c.e.op1('Cos', [x])),
  Cos: unary((c, x) => c.e.neg(c.e.op1('Sin', [x]))),
  Gelu: unary((c, x) => ((c.node.strings?.approximate ?? 'none') === 'tanh' ? geluTanhSlope(c.e, x) : geluErfSlope(c.e, x))),
  Where: (c) => {
    const [cond, a, b] = c.node.inputs as [string, string, string];
    const e = c.e;
    const g = g0(c);
    const gDims = e.dims(c.node.outputs[0]!);
    const zero = e.scalar(0);
    return [
      null,
      c.needs(1) ? e.unbroadcast(e.op1('Where', [cond, g, zero]), gDims, a) : null,
      c.needs(2) ? e.unbroadcast(e.op1('Where', [cond, zero, g]), gDims, b) : null,
    ];
  },
  // Max/Min: the gradient goes to the inputs equal to the result (to each of them on a tie).
  Max: extremum,
  Min: extremum,
  // Variadic Sum and Mean (broadcasting): each input receives the gradient (divided by n for the mean).
  Sum: variadic(false),
  Mean: variadic(true),
  // Clip (opset 11+: min and max as optional inputs): the gradient passes where x is inside the bounds.
  Clip: (c) => {
    const e = c.e;
    const [x, lo, hi] = c.node.inputs as [string, string | undefined, string | undefined];
    if (c.opset < 11) throw new UnsupportedGradient('Clip', 'opset < 11 (bounds as attributes)');
    let inside: string | null = null;
    if (lo) inside = e.op1('GreaterOrEqual', [x, lo]);
    if (hi) {
      const below = e.op1('LessOrEqual', [x, hi]);
      inside = inside ? e.op1('And', [inside, below]) : below;
    }
    return [inside ? e.op1('Where', [inside, g0(c), e.scalar(0)]) : g0(c)];
  },
};

/** d/dx of the tanh-approximated GELU ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³). */
export function geluTanhSlope(e: Emitter, x: string): string {
  const x2 = e.mul(x, x);
  const u = e.mul(e.scalar(SQRT_2_OVER_PI), e.add(x, e.mul(e.scalar(0.044715), e.mul(x2, x))));
  const t = e.op1('Tanh', [u]);
  const du = e.mul(e.scalar(SQRT_2_OVER_PI), e.add(e.scalar(1), e.mul(e.scalar(3 * 0.044715), x2)));
  const half = e.scalar(0.5);
  return e.add(e.mul(half, e.add(e.scalar(1), t)), e.mul(e.mul(half, x), e.mul(e.sub(e.scalar(1), e.mul(t, t)), du)));
}

/** d/dx of the exact GELU x Φ(x): Φ(x) + x φ(x). */
export function geluErfSlope(e: Emitter, x: string): string {
  // Φ(x) + x φ(x) = ½ + ½ erf(u) + x exp(ln(1/√(2π)) − u²), u = x/√2: nine full-size nodes, the
  // constants folded where they cost no node (two Adds: a Sum broadcasting a scalar costs three).
  const u = e.mul(x, e.scalar(INV_SQRT_2));
  const xpdf = e.mul(x, e.op1('Exp', [e.sub(e.scalar(LN_INV_SQRT_2PI), e.mul(u, u))]));
  return e.add(e.mul(e.op1('Erf', [u]), e.scalar(0.5)), e.add(xpdf, e.scalar(0.5)));
}

function variadic(mean: boolean): Vjp {
  return (c) => {
    const e = c.e;
    const y = c.node.outputs[0]!;
    const g = mean ? e.div(g0(c), e.scalar(c.node.inputs.length)) : g0(c);
    return c.node.inputs.map((x, i) => (c.needs(i) ? e.unbroadcast(g, e.dims(y), x) : null));
  };
}

function extremum(c: VjpContext): (string | null)[] {
  const e = c.e;
  const y = c.node.outputs[0]!;
  const g = g0(c);
  return c.node.inputs.map((x, i) =>
    c.needs(i) ? e.unbroadcast(e.mul(g, e.op1('Cast', [e.op1('Equal', [x, y])], { to: FLOAT })), e.dims(y), x) : null,
  );
}
