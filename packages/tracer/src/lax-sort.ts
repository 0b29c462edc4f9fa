/**
 * `lax.sort`, `lax.sortKeyVal` and `lax.topK`: the sorting primitives with JAX's calling
 * conventions (a negative `dimension` counts from the end; `sort` takes one array or a list
 * of operands and returns the same form).
 */
import { Array } from "./array";
import { ArgumentError } from "./errors";
import { normAxis } from "./numpy/axes";
import * as P from "./primitives/all";
import { bind } from "./trace";
import { asArray, type ArrayLike } from "./values";

export interface SortOptions {
  /** The dimension sorted along; negative counts from the end. Default -1 (the last). */
  dimension?: number;
  /** How many leading operands are keys, compared lexicographically. Default 1. */
  numKeys?: number;
  /** Keep equal keys in their input order. Default true (wax's sort is always stable). */
  isStable?: boolean;
}

/**
 * Sorts `operand`, or several operands of one shape together, along `dimension` (JAX's
 * `lax.sort`). The first `numKeys` operands are the keys, compared lexicographically; the
 * other operands follow the keys' permutation. Floats sort as JAX orders them: `-0` equals
 * `+0`, and NaNs (of either sign) come last.
 *
 * @example
 * lax.sort(array([3, 1, 2]))                          // [1, 2, 3]
 * lax.sort([keys, values], { numKeys: 1 })            // [sortedKeys, values in key order]
 */
export function sort(operand: Array, opts?: SortOptions): Array;
export function sort<const T extends readonly Array[]>(operands: T, opts?: SortOptions): { -readonly [K in keyof T]: Array };
export function sort(operands: Array | readonly Array[], opts: SortOptions = {}): Array | Array[] {
  const single = operands instanceof Array;
  const ops = single ? [operands] : operands.map((x: ArrayLike) => asArray(x));
  if (ops.length === 0) throw new ArgumentError("sort: no operands — pass an array or a non-empty list of arrays");
  const outs = bind(P.sort, ops, {
    dimension: normAxis("sort", opts.dimension ?? -1, ops[0]!.ndim),
    is_stable: opts.isStable ?? true,
    num_keys: opts.numKeys ?? 1,
  });
  return single ? outs[0]! : outs;
}

/**
 * Sorts `keys` along `dimension` and permutes `values` the same way (JAX's
 * `lax.sort_key_val`): `[sortedKeys, permutedValues]`.
 */
export function sortKeyVal(keys: ArrayLike, values: ArrayLike, opts: { dimension?: number; isStable?: boolean } = {}): [Array, Array] {
  const [k, v] = sort([asArray(keys), asArray(values)], { ...opts, numKeys: 1 });
  return [k!, v!];
}

/**
 * The `k` largest entries along the last axis and their int32 indices (JAX's `lax.top_k`):
 * `[values, indices]`, largest first, equal values in index order. Floats follow XLA's total
 * order: NaN is largest, `+0` ranks above `-0`.
 *
 * @example
 * lax.topK(array([1, 5, 3, 5]), 2)   // [[5, 5], [1, 3]]
 */
export function topK(x: ArrayLike, k: number): [Array, Array] {
  const [values, indices] = bind(P.topK, [asArray(x)], { k });
  return [values!, indices!];
}
