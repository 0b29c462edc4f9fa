/**
 * `lax.clamp(min, x, max)`: `min(max(x, min), max)` with JAX's JVP, whose tangent is zero at
 * the bounds (where differentiating the `max`/`min` formula would split it 0.5 / 0.5): the
 * operand's tangent flows where `min < x < max`, the lower bound's where `x < min < max`, the
 * upper bound's where `max < x`.
 */
import type { Array } from "./array";
import { customJvp } from "./custom-jvp";
import * as np from "./numpy/index";
import type { ArrayLike } from "./values";

let clampFn: ((...xs: ArrayLike[]) => Array) | null = null;

function raw(lo: Array, x: Array, hi: Array): Array {
  return np.minimum(np.maximum(x, lo), hi);
}

/**
 * Clamps `x` to `[min, max]` (`min` and `max` scalars or arrays of `x`'s shape), as JAX's
 * `lax.clamp`, with its gradient convention (0 at the bounds).
 *
 * @example
 * lax.clamp(0, x, 6)   // relu6
 */
export function clamp(min: ArrayLike, x: ArrayLike, max: ArrayLike): Array {
  // Registered on first use: the custom-JVP registry must not be touched while `lax` loads.
  clampFn ??= customJvp(
    (lo, v, hi) => raw(lo!, v!, hi!),
    ([lo, v, hi], [tlo, tv, thi]) => {
      const zero = np.zerosLike(raw(lo!, v!, hi!));
      const out = raw(lo!, v!, hi!);
      const fromLo = np.where(np.logicalAnd(np.greater(lo!, v!), np.less(lo!, hi!)), tlo!, zero);
      const fromX = np.where(np.logicalAnd(np.greater(v!, lo!), np.less(v!, hi!)), tv!, zero);
      const fromHi = np.where(np.less(hi!, v!), thi!, zero);
      return [[out], [np.add(np.add(fromLo, fromX), fromHi)]];
    },
    "clamp",
  );
  return clampFn(min, x, max);
}
