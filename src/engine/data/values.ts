// Strict numeric parsing of data cells: a number is a decimal or scientific literal, nothing else
// ("12abc", "1,5", "0x10" are not numbers). A few spellings of "no value" count as missing.

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?']);

export function isMissing(cell: string | null): boolean {
  return cell === null || MISSING.has(cell.trim().toLowerCase());
}

/** The number in `cell`, NaN when it is missing, or null when it is not a number. */
export function parseNumber(cell: string | null): number | null {
  if (cell === null) return NaN;
  const t = cell.trim();
  if (NUMBER.test(t)) return Number(t);
  return MISSING.has(t.toLowerCase()) ? NaN : null;
}
