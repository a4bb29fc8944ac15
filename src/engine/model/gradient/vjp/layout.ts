// Vector-Jacobian products of the linear ops that repeat, pad, mask or accumulate values: Tile,
// Pad, Trilu and CumSum. Each gradient is the adjoint op on the gradient, shapes staying dynamic.

import { selection } from './shape';
import { g0, UnsupportedGradient, Vjp } from './types';

// y = tile(x, repeats): view g as [r₀, d₀, r₁, d₁, …] (repeat count before each axis of x) and sum the repeat axes.
const Tile: Vjp = (c) => {
  const e = c.e;
  const [x, repeats] = c.node.inputs as [string, string];
  const r = e.rank(x);
  const pairs = e.op1('Concat', [e.unsqueeze(repeats, [1]), e.unsqueeze(e.shape(x), [1])], { axis: 1 });
  const split = e.op1('Reshape', [g0(c), e.op1('Reshape', [pairs, e.ints([-1])])]);
  return [e.reshapeLike(e.reduceSum(split, Array.from({ length: r }, (_, i) => 2 * i), false), x)];
};

// Constant padding: the gradient is g with the padding removed, i.e. padded by −pads (which also
// restores zeros where negative pads cropped x). Edge, reflect and wrap copy elements of x several
// times: their sources are found by padding a tensor of flat indices, and the gradient added back.
const Pad: Vjp = (c) => {
  const e = c.e;
  const [, pads, , axes] = c.node.inputs as [string, string, string | undefined, string | undefined];
  const mode = c.node.strings?.mode ?? 'constant';
  if (!pads) throw new UnsupportedGradient('Pad', 'pads given as an attribute (opset < 11)');
  if (mode === 'constant') return [e.op1('Pad', axes ? [g0(c), e.neg(pads), '', axes] : [g0(c), e.neg(pads)])];
  if (c.opset < 16) throw new UnsupportedGradient('Pad', `mode ${mode} before opset 16 (ScatterElements cannot add repeated sources)`);
  // The indices are int64, so the float constant_value (unused outside constant mode) is left out.
  return [selection(c, (ix) => e.op1('Pad', axes ? [ix, pads, '', axes] : [ix, pads], { mode }), true)];
};

// Trilu keeps a triangle: the gradient keeps the same one.
const Trilu: Vjp = (c) => {
  const attrs = c.node.ints.upper !== undefined ? { upper: c.node.ints.upper } : undefined;
  return [c.e.op1('Trilu', [g0(c), ...c.node.inputs.slice(1)], attrs)];
};

// y = cumsum(x) along an axis: dx is the cumulative sum of g in the other direction.
const CumSum: Vjp = (c) => {
  const reverse = c.node.ints.reverse ?? 0;
  return [c.e.op1('CumSum', [g0(c), c.node.inputs[1]!], { exclusive: c.node.ints.exclusive ?? 0, reverse: 1 - reverse })];
};

export const LAYOUT: Record<string, Vjp> = { Tile, Pad, Trilu, CumSum };
