/**
 * The leaves `filterJit` traces: wax arrays and TypedArrays.
 */
import { Array, Aval, type TypedArray } from "@wax/tracer";
import { typedArrayDtype as typedDtype } from "@wax/runtime";

/** Whether a leaf is traced (an array) rather than static. */
export function isDynamic(x: unknown): boolean {
  return x instanceof Array || typedDtype(x) !== null;
}

/** Shape and dtype of a traced leaf (a TypedArray is one-dimensional). */
export function avalOf(x: unknown): Aval {
  if (x instanceof Array) return x.aval;
  return new Aval([(x as TypedArray).length], typedDtype(x)!);
}
