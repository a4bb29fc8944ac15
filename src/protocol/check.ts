// Runtime checks for values that cross a process boundary. Each checker both validates and
// narrows, so a protocol declares a message once and gets its TypeScript type from the same source.

export class CheckError extends Error {
  constructor(readonly where: string, readonly expected: string) {
    super(`${where || 'message'}: expected ${expected}`);
    this.name = 'CheckError';
  }
}

export type Checker<T> = (value: unknown, where: string) => T;
export type Checked<C> = C extends Checker<infer T> ? T : never;

export const str: Checker<string> = (v, w) => {
  if (typeof v !== 'string') throw new CheckError(w, 'a string');
  return v;
};

export const num: Checker<number> = (v, w) => {
  // NaN and ±Infinity are legitimate model outputs (a log-probability of -Infinity), so only the type is checked.
  if (typeof v !== 'number') throw new CheckError(w, 'a number');
  return v;
};

export const int: Checker<number> = (v, w) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new CheckError(w, 'an integer');
  return v;
};

export const bool: Checker<boolean> = (v, w) => {
  if (typeof v !== 'boolean') throw new CheckError(w, 'a boolean');
  return v;
};

export function literal<const L extends readonly (string | number | boolean)[]>(...values: L): Checker<L[number]> {
  return (v, w) => {
    if (!values.includes(v as L[number])) throw new CheckError(w, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
    return v as L[number];
  };
}

export function arr<T>(item: Checker<T>): Checker<T[]> {
  return (v, w) => {
    if (!Array.isArray(v)) throw new CheckError(w, 'an array');
    for (let i = 0; i < v.length; i++) item(v[i], `${w}[${i}]`);
    return v as T[];
  };
}

/** A numeric array, as a plain array or a Float32Array/Float64Array (structured-clone IPC keeps typed arrays). */
export const numbers: Checker<number[]> = (v, w) => {
  if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v);
  if (!Array.isArray(v)) throw new CheckError(w, 'an array of numbers');
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') throw new CheckError(`${w}[${i}]`, 'a number');
  return v as number[];
};

/** A float32 tensor's data: kept as a Float32Array (large attention maps must not become JS arrays). */
export const float32s: Checker<Float32Array> = (v, w) => {
  if (v instanceof Float32Array) return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Float32Array.from(v as number[]);
  throw new CheckError(w, 'a Float32Array');
};

export function optional<T>(inner: Checker<T>): Checker<T | undefined> {
  return (v, w) => (v === undefined ? undefined : inner(v, w));
}

export function nullable<T>(inner: Checker<T>): Checker<T | null> {
  return (v, w) => (v === null ? null : inner(v, w));
}

export function union<A, B>(a: Checker<A>, b: Checker<B>): Checker<A | B> {
  return (v, w) => {
    try {
      return a(v, w);
    } catch {
      return b(v, w);
    }
  };
}

type Shape = Record<string, Checker<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Checked<S[K]> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Checked<S[K]> } & { [K in OptionalKeys<S>]?: Checked<S[K]> };

export function obj<S extends Shape>(shape: S): Checker<ObjectOf<S>> {
  return (v, w) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CheckError(w, 'an object');
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(shape)) shape[key]!(record[key], w ? `${w}.${key}` : key);
    return v as ObjectOf<S>;
  };
}

/** A string-keyed record whose values all pass `value`. */
export function record<T>(value: Checker<T>): Checker<Record<string, T>> {
  return (v, w) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CheckError(w, 'an object');
    for (const [k, x] of Object.entries(v)) value(x, `${w}.${k}`);
    return v as Record<string, T>;
  };
}

export const unknownValue: Checker<unknown> = (v) => v;
