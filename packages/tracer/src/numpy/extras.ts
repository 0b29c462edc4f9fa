/**
 * numpy functions with JAX's definitions: `floorDivide`, `tri`/`tril`/`triu`, `split`,
 * `finfo`/`iinfo`. Masks are built from `iota`, so they trace without constants.
 */
import type { Array } from "../array";
import { isFloat, type DType } from "../dtype";
import { ArgumentError, DTypeError, ShapeError } from "../errors";
import * as lax from "../lax";
import { asArray, type ArrayLike } from "../values";
import { normAxis } from "./axes";
import { broadcastShapes, broadcastTo, cast, promote } from "./promote";
import { zerosLike } from "./creation";
import { where } from "./math";

function broadcastPair(op: string, x: ArrayLike, y: ArrayLike): [Array, Array] {
  const [a, b] = promote(x, y) as [Array, Array];
  const shape = broadcastShapes(op, a, b);
  return [a.ndim === 0 ? a : broadcastTo(a, shape, op), b.ndim === 0 ? b : broadcastTo(b, shape, op)];
}

/**
 * `floor(x / y)` (`jnp.floor_divide`, Python's `//`): integers stay integers, rounding towards
 * negative infinity; floats use JAX's `(x - fmod(x, y)) / y` with the sign fix-up, so
 * `floorDivide(x, y) * y + remainder(x, y) == x`.
 */
export function floorDivide(x: ArrayLike, y: ArrayLike): Array {
  const [a, b] = broadcastPair("floor_divide", x, y);
  const zero = (v: Array) => cast(asArray(0), v.dtype, true);
  const one = (v: Array) => cast(asArray(1), v.dtype, true);
  if (a.dtype === "bool") throw new DTypeError(`floorDivide: boolean operands ${a.aval} — cast to int32 first`);
  if (!isFloat(a.dtype)) {
    // As jnp: a zero divisor is replaced by 1 (XLA's integer division by zero is undefined).
    const safe = lax.selectN(lax.eq(b, zero(b)), b, lax.broadcastInDim(one(b), b.shape, []));
    const q = lax.div(a, safe);
    if (a.dtype === "uint32") return q;
    const fix = lax.and(lax.ne(lax.sign(a), lax.sign(safe)), lax.ne(lax.rem(a, safe), zero(a)));
    return lax.selectN(fix, q, lax.sub(q, one(q)));
  }
  const mod = lax.rem(a, b);
  let div = lax.div(lax.sub(a, mod), b);
  const ind = lax.and(lax.ne(mod, zero(mod)), lax.ne(lax.sign(b), lax.sign(mod)));
  div = lax.selectN(ind, div, lax.sub(div, one(div)));
  return lax.round(div, 0);
}

/** Lower-triangle mask: `col <= row + k`, shape `[n, m]`, bool (`jnp.tri` with dtype bool). */
function triMask(n: number, m: number, k: number): Array {
  const rows = lax.iota("int32", [n, m], 0);
  const cols = lax.iota("int32", [n, m], 1);
  return lax.le(cols, lax.add(rows, cast(asArray(k), "int32", true)));
}

/** `[n, m]` with ones at and below the `k`-th diagonal (`jnp.tri`). */
export function tri(n: number, m: number = n, k = 0, dtype: DType = "float32"): Array {
  return cast(triMask(n, m, k), dtype);
}

function triangle(op: "tril" | "triu", x: ArrayLike, k: number): Array {
  const a = asArray(x);
  if (a.ndim < 2) throw new ShapeError(`${op}: input must be at least 2-D, got ${a.aval} — reshape a vector to a matrix first`);
  if (!Number.isInteger(k)) throw new ArgumentError(`${op}: k must be an integer, got ${k}`);
  const [n, m] = a.shape.slice(-2) as [number, number];
  const mask = lax.broadcastInDim(triMask(n, m, op === "tril" ? k : k - 1), a.shape, [a.ndim - 2, a.ndim - 1]);
  return op === "tril" ? where(mask, a, zerosLike(a)) : where(mask, zerosLike(a), a);
}

/** The lower triangle of the last two axes, at and below diagonal `k` (`jnp.tril`). */
export function tril(x: ArrayLike, k = 0): Array {
  return triangle("tril", x, k);
}

/** The upper triangle of the last two axes, at and above diagonal `k` (`jnp.triu`). */
export function triu(x: ArrayLike, k = 0): Array {
  return triangle("triu", x, k);
}

/**
 * Splits along `axis` (`jnp.split`): into `sections` equal parts (which must divide the axis),
 * or at the given indices (`split(x, [2, 5])` gives `x[:2], x[2:5], x[5:]`).
 */
export function split(x: ArrayLike, indicesOrSections: number | readonly number[], axis = 0): Array[] {
  const a = asArray(x);
  const ax = normAxis("split", axis, a.ndim);
  const n = a.shape[ax]!;
  let cuts: number[];
  if (typeof indicesOrSections === "number") {
    const s = indicesOrSections;
    if (!Number.isInteger(s) || s <= 0) throw new ArgumentError(`split: sections must be a positive integer, got ${s}`);
    if (n % s !== 0)
      throw new ShapeError(
        `split: array split does not result in an equal division — axis ${ax} of ${a.aval} has size ${n}, not a multiple of ${s}; pass split indices instead`,
      );
    cuts = globalThis.Array.from({ length: s - 1 }, (_, i) => ((i + 1) * n) / s);
  } else if (globalThis.Array.isArray(indicesOrSections as unknown) && indicesOrSections.every((i) => Number.isInteger(i))) {
    // numpy clamps indices into [0, n] (negative ones count from the end).
    cuts = indicesOrSections.map((i) => Math.min(Math.max(i < 0 ? i + n : i, 0), n));
  } else {
    throw new ArgumentError(`split: expected a number of sections or a list of indices, got ${JSON.stringify(indicesOrSections)}`);
  }
  const bounds = [0, ...cuts, n];
  return bounds.slice(1).map((end, i) => {
    const start = Math.min(bounds[i]!, end);
    const lo = a.shape.map((_, d) => (d === ax ? start : 0));
    const hi = a.shape.map((d, k) => (k === ax ? Math.max(end, start) : d));
    return lax.slice(a, lo, hi);
  });
}

/** Machine limits of a float dtype (`jnp.finfo`), as JS numbers. */
export interface FInfo {
  dtype: DType;
  bits: number;
  /** The difference between 1 and the next representable number. */
  eps: number;
  max: number;
  min: number;
  /** The smallest positive normal number (also `smallestNormal`). */
  tiny: number;
  smallestNormal: number;
  /** The approximate decimal resolution, `10 ** -precision`. */
  resolution: number;
  precision: number;
}

/** Float limits (`jnp.finfo(jnp.float32).eps` is `finfo("float32").eps`); accepts a dtype or an array. */
export function finfo(dtype: DType | Array): FInfo {
  const d = typeof dtype === "string" ? dtype : dtype.dtype;
  if (d === "float32") {
    return {
      dtype: d,
      bits: 32,
      eps: 2 ** -23,
      max: 3.4028234663852886e38,
      min: -3.4028234663852886e38,
      tiny: 2 ** -126,
      smallestNormal: 2 ** -126,
      resolution: 1e-6,
      precision: 6,
    };
  }
  if (d === "float64") {
    return {
      dtype: d,
      bits: 64,
      eps: 2 ** -52,
      max: Number.MAX_VALUE,
      min: -Number.MAX_VALUE,
      tiny: 2 ** -1022,
      smallestNormal: 2 ** -1022,
      resolution: 1e-15,
      precision: 15,
    };
  }
  throw new DTypeError(`finfo: ${d} is not a floating-point dtype — use iinfo for integers`);
}

/** Integer limits (`jnp.iinfo`). */
export function iinfo(dtype: DType | Array): { dtype: DType; bits: number; min: number; max: number } {
  const d = typeof dtype === "string" ? dtype : dtype.dtype;
  if (d === "int32") return { dtype: d, bits: 32, min: -2147483648, max: 2147483647 };
  if (d === "uint32") return { dtype: d, bits: 32, min: 0, max: 4294967295 };
  throw new DTypeError(`iinfo: ${d} is not an integer dtype — use finfo for floats`);
}
