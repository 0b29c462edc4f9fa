/** `np.linalg.norm` with JAX's definitions (vector and matrix norms without an SVD). */
import type { Array } from "../array";
import { ArgumentError } from "../errors";
import * as lax from "../lax";
import { promoteInexact } from "./promote";
import { abs, divide, notEqual, power, sqrt } from "./math";
import { max, min, sum } from "./reduce";
import { normAxis } from "./axes";
import { astype } from "./creation";
import type { ArrayLike } from "../values";

export type NormOrd = number | "fro" | null;

export interface NormOptions {
  /** Order: for vectors a number (`Infinity`, `-Infinity`, 0, 1, 2, p); for matrices `"fro"`, 1, -1, `Infinity`, `-Infinity`. Default: 2-norm / Frobenius. */
  ord?: NormOrd;
  /** One axis (vector norm), two (matrix norm), or all (`null`, the 2-norm of the flattened array). */
  axis?: number | readonly [number, number] | null;
  keepdims?: boolean;
}

/**
 * Vector or matrix norm (`jnp.linalg.norm(x, ord, axis, keepdims)`). Norms needing singular
 * values (`"nuc"`, matrix 2 and -2) are not available.
 */
export function norm(x: ArrayLike, opts: NormOptions = {}): Array {
  const a = promoteInexact(x)[0]!;
  const { ord = null, axis = null, keepdims = false } = opts;
  const sqSum = (axes: number | readonly number[] | null) => sqrt(sum(lax.square(abs(a)), { axis: axes, keepdims }));
  if (axis === null) {
    if (ord === null || ((ord === 2 || ord === "fro") && a.ndim <= 2 && (ord !== 2 || a.ndim === 1))) return sqSum(null);
    if (a.ndim === 1) return norm(a, { ord, axis: 0, keepdims });
    if (a.ndim === 2) return norm(a, { ord, axis: [0, 1], keepdims });
    throw new ArgumentError(`linalg.norm: improper number of dimensions to norm (${a.ndim}) with ord ${String(ord)} — give axis`);
  }
  if (typeof axis === "number") {
    const ax = normAxis("linalg.norm", axis, a.ndim);
    const o = { axis: ax, keepdims };
    if (ord === null || ord === 2) return sqSum(ax);
    if (ord === "fro") throw new ArgumentError(`linalg.norm: invalid norm order "fro" for vectors — use 2`);
    if (ord === Infinity) return max(abs(a), o);
    if (ord === -Infinity) return min(abs(a), o);
    if (ord === 0) return sum(astype(notEqual(a, 0), a.dtype), o);
    if (ord === 1) return sum(abs(a), o);
    return power(sum(power(abs(a), ord), o), divide(1, ord));
  }
  const [r0, c0] = axis.map((ax) => normAxis("linalg.norm", ax, a.ndim)) as [number, number];
  if (r0 === c0) throw new ArgumentError(`linalg.norm: duplicate axes given (${r0}, ${c0})`);
  if (ord === null || ord === "fro") return sqSum([r0, c0]);
  const reduceThenExtreme = (inner: number, outer: number, take: typeof max) => {
    const s = sum(abs(a), { axis: inner, keepdims: true });
    const r = take(s, { axis: outer, keepdims: true });
    return keepdims
      ? r
      : lax.reshape(
          r,
          a.shape.filter((_, d) => d !== inner && d !== outer),
        );
  };
  if (ord === 1) return reduceThenExtreme(r0, c0, max);
  if (ord === -1) return reduceThenExtreme(r0, c0, min);
  if (ord === Infinity) return reduceThenExtreme(c0, r0, max);
  if (ord === -Infinity) return reduceThenExtreme(c0, r0, min);
  throw new ArgumentError(
    `linalg.norm: matrix norm order ${String(ord)} needs singular values, which wax does not compute — use "fro", 1, -1, Infinity or -Infinity`,
  );
}
