/** `np.sort` and `np.argsort` (JAX's `jnp.sort` / `jnp.argsort`), built on the `sort` primitive. */
import type { Array } from "../array";
import { isFloat } from "../dtype";
import * as lax from "../lax";
import { sort as laxSort } from "../lax-sort";
import { asArray, type ArrayLike } from "../values";
import { normAxis } from "./axes";

export interface SortingOptions {
  /** The axis sorted along; `null` sorts the flattened array. Default -1. */
  axis?: number | null;
  /** Keep equal elements in their input order. Default true (wax always sorts stably). */
  stable?: boolean;
  /** Largest first. Default false. */
  descending?: boolean;
}

function prepare(op: string, x: ArrayLike, axis: number | null | undefined): [Array, number] {
  const a = asArray(x);
  if (axis === null) return [lax.reshape(a, [a.size]), 0];
  return [a, normAxis(op, axis ?? -1, a.ndim)];
}

/**
 * Keys whose ascending order is `a`'s descending order in JAX's sort order: NaNs first, then
 * the values from largest to smallest (floats: NaN-ness, then the negation; integers and
 * bools: the bitwise/logical complement, which reverses their order exactly).
 */
function descendingKeys(a: Array): Array[] {
  if (isFloat(a.dtype)) return [lax.eq(a, a), lax.neg(a)];
  return [lax.not(a)];
}

/**
 * A sorted copy of `x` along `axis` (JAX's `jnp.sort`). NaNs sort last (first when
 * `descending`), `-0` and `+0` are equal.
 *
 * @example
 * np.sort(array([3, NaN, -1]))                      // [-1, 3, NaN]
 * np.sort(x, { axis: 0, descending: true })
 */
export function sort(x: ArrayLike, opts: SortingOptions = {}): Array {
  const [a, axis] = prepare("sort", x, opts.axis);
  const isStable = opts.stable ?? true;
  if (!opts.descending) return laxSort(a, { dimension: axis, isStable });
  // JAX reverses an ascending sort, so equal elements come out in reverse input order: the
  // reversed position is the last key.
  const n = a.shape[axis]!;
  const reversed = lax.sub(asArray(n - 1), lax.iota("int32", a.shape, axis));
  const keys = [...descendingKeys(a), reversed];
  return laxSort([...keys, a], { dimension: axis, numKeys: keys.length, isStable })[keys.length]!;
}

/**
 * The int32 indices that sort `x` along `axis` (JAX's `jnp.argsort`: an iota sorted along
 * with the keys). Equal elements keep their input order, also when `descending`.
 *
 * @example
 * np.argsort(array([3, 1, 2]))                      // [1, 2, 0]
 * np.argsort(array([1, 3, 3]), { descending: true }) // [1, 2, 0]
 */
export function argsort(x: ArrayLike, opts: SortingOptions = {}): Array {
  const [a, axis] = prepare("argsort", x, opts.axis);
  const isStable = opts.stable ?? true;
  const keys = opts.descending ? descendingKeys(a) : [a];
  const iota = lax.iota("int32", a.shape, axis);
  return laxSort([...keys, iota], { dimension: axis, numKeys: keys.length, isStable })[keys.length]!;
}
