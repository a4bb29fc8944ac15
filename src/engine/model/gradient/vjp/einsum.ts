// Vector-Jacobian product of Einsum with one or two operands, e.g. 'bhid,bhjd->bhij' (attention
// scores), 'bhij,bhjd->bhid', 'bij,bjk->bik', 'i,j->ij'. The gradient of an operand is the einsum
// of the output gradient with the other operand, written to that operand's subscripts:
// dA = einsum('out,B->A'). An index only A has (summed out within A alone) cannot be produced by
// that einsum: it is computed without it, then broadcast back along it (Unsqueeze + Expand).
// Ellipses and an index repeated within one operand (a diagonal) are reported as unsupported.

import { g0, UnsupportedGradient, Vjp } from './types';

interface Equation {
  operands: string[];
  output: string;
}

/** Parses an equation, spaces removed; the implicit output is the indices used once, sorted. */
export function parseEquation(raw: string): Equation {
  const eq = raw.replace(/\s+/g, '');
  const unsupported = (why: string): UnsupportedGradient => new UnsupportedGradient('Einsum', `equation '${raw}': ${why}`);
  if (eq.includes('.')) throw unsupported('an ellipsis');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const operands = lhs.split(',');
  if (operands.some((o) => !/^[A-Za-z]*$/.test(o))) throw unsupported('subscripts that are not letters');
  for (const o of operands) if (new Set(o).size !== o.length) throw unsupported(`an index repeated within '${o}' (a diagonal)`);
  let output = rhs;
  if (output === undefined) {
    const counts = new Map<string, number>();
    for (const ch of operands.join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    output = [...counts].filter(([, n]) => n === 1).map(([ch]) => ch).sort().join('');
  }
  if (!/^[A-Za-z]*$/.test(output) || new Set(output).size !== output.length) throw unsupported('an output with repeated or non-letter subscripts');
  return { operands, output };
}

const Einsum: Vjp = (c) => {
  const raw = c.node.strings?.equation ?? '';
  const { operands, output } = parseEquation(raw);
  if (operands.length > 2) throw new UnsupportedGradient('Einsum', `equation '${raw}': more than two operands`);
  const e = c.e;
  const g = g0(c);
  return operands.map((subs, i) => {
    if (!c.needs(i)) return null;
    const others = operands.filter((_, j) => j !== i);
    const available = new Set([...output, ...others.join('')]);
    const kept = [...subs].filter((ch) => available.has(ch)).join('');
    const inputs = [g, ...c.node.inputs.filter((_, j) => j !== i)];
    const partial = e.op1('Einsum', inputs, { equation: `${[output, ...others].join(',')}->${kept}` });
    if (kept.length === subs.length) return partial;
    // Indices summed within this operand alone: dA is constant along them.
    const missing = [...subs].map((ch, k) => (available.has(ch) ? -1 : k)).filter((k) => k >= 0);
    const x = c.node.inputs[i]!;
    return e.op1('Expand', [e.unsqueeze(partial, missing), e.shape(x)]);
  });
};

export const EINSUM: Record<string, Vjp> = { Einsum };
