/** Array creation: zeros, ones, full, arange, linspace, eye, *Like. */
import { Array, ConcreteArray } from "../array";
import { Aval } from "../aval";
import { allocate, castScalar, checkDType, type DType } from "../dtype";
import { ArgumentError } from "../errors";
import * as lax from "../lax";
import { asArray, numberDtype, type ArrayLike } from "../values";
import { cast } from "./promote";

function checkShape(op: string, shape: readonly number[]): number[] {
  if (!globalThis.Array.isArray(shape as unknown) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ArgumentError(`${op}: invalid shape ${JSON.stringify(shape)} — give a list of non-negative integers`);
  }
  return [...shape];
}

const isInt32 = (v: number) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0);

/**
 * An array of `shape` filled with `value`. Staged as `broadcast_in_dim` of a scalar, so
 * under tracing it costs no constant (as JAX's `jnp.full`). Without `dtype` the fill value's
 * dtype is used, as in JAX: `full([2], 3)` is int32, `full([2], 0.5)` float32 (both weakly
 * typed, so they adopt the dtype of what they are combined with).
 */
export function full(shape: readonly number[], value: ArrayLike, dtype?: DType): Array {
  const s = checkShape("full", shape);
  let v = asArray(value);
  if (v.ndim !== 0) throw new ArgumentError(`full: fill value must be a scalar, got ${v.aval}`);
  // As `jnp.full`: the fill value's dtype, weakly typed for a JS number. JS cannot tell 3 from
  // 3.0, so an integer-valued number in int32's range fills int32 (`full(s, 3.0)` too: write a
  // dtype for floats); anything else fills float32.
  if (dtype) v = cast(v, checkDType("full", dtype));
  else if (typeof value === "number") v = cast(v, isInt32(value) ? "int32" : "float32", true);
  return lax.broadcastInDim(v, s, []);
}

export function zeros(shape: readonly number[], dtype: DType = "float32"): Array {
  return full(shape, 0, dtype);
}
export function ones(shape: readonly number[], dtype: DType = "float32"): Array {
  return full(shape, 1, dtype);
}
export function zerosLike(x: Array, dtype?: DType): Array {
  return full(x.shape, 0, dtype ?? x.dtype);
}
export function onesLike(x: Array, dtype?: DType): Array {
  return full(x.shape, 1, dtype ?? x.dtype);
}
export function fullLike(x: Array, value: ArrayLike, dtype?: DType): Array {
  return full(x.shape, value, dtype ?? x.dtype);
}

function concrete(shape: number[], dtype: DType, f: (i: number) => number): ConcreteArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = castScalar(f(i), dtype);
  return new ConcreteArray(new Aval(shape, dtype), data);
}

/**
 * `arange(stop)`, `arange(start, stop, step?)`: int32 when all arguments are integers,
 * float32 otherwise (as JAX without x64).
 */
export function arange(start: number, stop?: number, step = 1, dtype?: DType): ConcreteArray {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new ArgumentError("arange: step must not be 0");
  const d = dtype ?? ([start, stop, step].every((v) => numberDtype(v) === "int32") ? "int32" : "float32");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return concrete([n], d, (i) => start + i * step);
}

/** `num` evenly spaced values from `start` to `stop` (inclusive when `endpoint`). */
export function linspace(start: number, stop: number, num = 50, opts: { endpoint?: boolean; dtype?: DType } = {}): ConcreteArray {
  if (!Number.isInteger(num) || num < 0) {
    throw new ArgumentError(`linspace: num must be a non-negative integer, got ${num} — pass the number of samples (e.g. 50)`);
  }
  const endpoint = opts.endpoint ?? true;
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  return concrete([num], opts.dtype ?? "float32", (i) => (endpoint && i === num - 1 && num > 1 ? stop : start + i * step));
}

/** Identity-like matrix: ones on diagonal `k`. */
export function eye(n: number, m: number = n, k = 0, dtype: DType = "float32"): ConcreteArray {
  return concrete(checkShape("eye", [n, m]), dtype, (i) => (i % m === Math.floor(i / m) + k ? 1 : 0));
}

/** `x` converted to `dtype`. */
export function astype(x: ArrayLike, dtype: DType): Array {
  const a = asArray(x);
  checkDType("astype", dtype);
  // astype always gives a strong type (as jnp.astype), eager or traced: a weak array of the same
  // dtype goes through convert_element_type(weak_type=false) instead of coming back unchanged.
  if (a.weakType && a.dtype === dtype && !(a instanceof ConcreteArray && a.ndim === 0)) return lax.convertElementType(a, dtype, false);
  return cast(a, dtype);
}

export { asArray as asarray };
