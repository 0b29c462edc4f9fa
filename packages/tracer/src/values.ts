/** Conversions from JS values to arrays: JS numbers become weak-typed scalars, as in JAX. */
import { Array, ConcreteArray, scalar } from "./array";
import { Aval } from "./aval";
import { allocate, castScalar, checkDType, type DType, type TypedArray } from "./dtype";
import { ArgumentError } from "./errors";

/** Anything that converts to an array: an Array, a JS number/boolean, or nested JS arrays. */
export type ArrayLike = Array | number | boolean | TypedArray | readonly ArrayLike[];

/**
 * The dtype a JS number becomes: integers in int32 range → weak int32, others weak float32,
 * mirroring JAX's Python int/float scalars.
 */
export function numberDtype(x: number): DType {
  return Number.isInteger(x) && x >= -2147483648 && x <= 2147483647 && !Object.is(x, -0) ? "int32" : "float32";
}

/** Converts to an Array; JS scalars become weak-typed. Arrays pass through. */
export function asArray(x: ArrayLike): Array {
  if (x instanceof Array) return x;
  if (typeof x === "number") return scalar(x, numberDtype(x), true);
  if (typeof x === "boolean") return scalar(x, "bool", false);
  return array(x);
}

function inferShape(x: unknown, op: string): number[] {
  const shape: number[] = [];
  let cur: unknown = x;
  while (globalThis.Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  if (ArrayBuffer.isView(cur)) shape.push((cur as TypedArray).length);
  return op ? shape : shape;
}

function typedDtype(x: TypedArray): DType {
  if (x instanceof Float32Array) return "float32";
  if (x instanceof Float64Array) return "float64";
  if (x instanceof Int32Array) return "int32";
  if (x instanceof Uint32Array) return "uint32";
  return "bool";
}

/**
 * Creates a concrete array from nested JS arrays, a TypedArray or a scalar.
 * JS numbers default to float32 (bools to bool, TypedArrays keep their dtype); pass
 * `dtype` to choose. `shape` reshapes flat data.
 */
export function array(data: ArrayLike, opts: { dtype?: DType; shape?: readonly number[] } = {}): ConcreteArray {
  if (typeof opts !== "object" || opts === null) {
    throw new ArgumentError(
      `array: the second argument is an options object, got ${JSON.stringify(opts)} — write array(x, { dtype: "int32" })`,
    );
  }
  if (data instanceof Array) {
    const c = data.concreteValue();
    if (c === null)
      throw new ArgumentError("array: cannot copy a traced array into a concrete one — use astype/reshape on the tracer instead");
    return array(c.data, { dtype: opts.dtype ?? c.dtype, shape: opts.shape ?? c.shape });
  }
  const dtype0 =
    opts.dtype !== undefined
      ? checkDType("array", opts.dtype)
      : ArrayBuffer.isView(data)
        ? typedDtype(data as TypedArray)
        : firstLeaf(data) === "boolean"
          ? "bool"
          : "float32";
  if (ArrayBuffer.isView(data)) {
    // A flat TypedArray: one bulk copy (with rounding/wrapping done by the target array type).
    const src = data as TypedArray;
    const buf = allocate(dtype0, src.length);
    if (dtype0 === "bool" || dtype0 === "int32" || dtype0 === "uint32")
      for (let i = 0; i < src.length; i++) buf[i] = castScalar(src[i]!, dtype0);
    else buf.set(src as never);
    const finalShape = opts.shape ?? [src.length];
    return new ConcreteArray(new Aval([...finalShape], dtype0), buf);
  }
  const shape = inferShape(data, "array");
  const flat: number[] = [];
  const rec = (x: unknown, depth: number): void => {
    if (globalThis.Array.isArray(x)) {
      if (depth >= shape.length) {
        throw new ArgumentError(
          `array: ragged nested array (a list at depth ${depth} where the first row has scalars) — all rows must have one shape`,
        );
      }
      if (x.length !== shape[depth]) {
        throw new ArgumentError(
          `array: ragged nested array (length ${x.length} at depth ${depth}, expected ${shape[depth]}) — all rows must have one length`,
        );
      }
      for (const y of x) rec(y, depth + 1);
    } else if (ArrayBuffer.isView(x)) {
      for (const v of x as TypedArray) flat.push(v);
    } else if (typeof x === "number" || typeof x === "boolean") {
      if (depth !== shape.length)
        throw new ArgumentError(
          `array: ragged nested array (a scalar at depth ${depth}, expected a list nested ${shape.length} deep) — all rows must have one shape`,
        );
      flat.push(Number(x));
    } else {
      throw new ArgumentError(`array: cannot convert a ${typeof x} to an array element — use numbers or booleans`);
    }
  };
  rec(data, 0);
  const buf = allocate(dtype0, flat.length);
  for (let i = 0; i < flat.length; i++) buf[i] = castScalar(flat[i]!, dtype0);
  const finalShape = opts.shape ?? shape;
  return new ConcreteArray(new Aval([...finalShape], dtype0), buf);
}

function firstLeaf(x: unknown): string {
  let cur = x;
  while (globalThis.Array.isArray(cur)) cur = cur[0];
  return typeof cur;
}
