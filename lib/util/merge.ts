// A deep merge of partial objects: how settings are completed (defaults under what was given) and
// how a recipe's overrides land on it, instead of copying nested records field by field.

/** Any part of T, nested records too (arrays are replaced whole, not merged). */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A fresh copy: plain objects and arrays copied at every level (the result shares nothing with its inputs). */
function copy<T>(x: T): T {
  if (Array.isArray(x)) return x.map(copy) as T;
  if (isRecord(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, copy(v)])) as T;
  return x;
}

/**
 * `base` with each patch laid over it in turn: records merged key by key, anything else (numbers,
 * strings, arrays, null) replaced; an undefined value in a patch leaves the base's. A new object.
 */
export function deepMerge<T>(base: T, ...patches: Array<DeepPartial<T> | undefined>): T {
  let out = copy(base);
  for (const patch of patches) out = mergeTwo(out, patch) as T;
  return out;
}

function mergeTwo(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (!isRecord(base) || !isRecord(patch)) return copy(patch);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) out[k] = mergeTwo(base[k], v);
  return out;
}
