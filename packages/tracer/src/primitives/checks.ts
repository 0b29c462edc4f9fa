/** Shared validation helpers for shape rules; every message names the primitive. */
import { Aval } from "../aval";
import { isFloat, isInteger, type DType } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { paramStr } from "../jaxpr";
import type { ParamValue } from "../primitive";

export function numParam(op: string, params: Readonly<Record<string, ParamValue>>, key: string): number {
  const v = params[key];
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new ShapeError(`${op}: parameter ${key} must be an integer, got ${v === undefined ? "undefined" : paramStr(v)}`);
  }
  return v;
}

export function intsParam(op: string, params: Readonly<Record<string, ParamValue>>, key: string): number[] {
  const v = params[key];
  if (!globalThis.Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isInteger(x))) {
    throw new ShapeError(`${op}: parameter ${key} must be a list of integers, got ${v === undefined ? "undefined" : paramStr(v)}`);
  }
  return v as number[];
}

export function avalsStr(avals: readonly Aval[]): string {
  return avals.map(String).join(", ");
}

/** Checks an axis list against a rank: in range, no duplicates. */
export function checkAxes(op: string, aval: Aval, axes: readonly number[]): void {
  const seen = new Set<number>();
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= aval.ndim) {
      throw new ShapeError(`${op}: axis ${a} is out of range for ${aval} (rank ${aval.ndim}) — axes must be in [0, ${aval.ndim})`);
    }
    if (seen.has(a)) throw new ShapeError(`${op}: axis ${a} appears twice in axes (${axes.join(", ")}) of ${aval}`);
    seen.add(a);
  }
}

export type DTypeClass = "any" | "numeric" | "float" | "int" | "intOrBool";

export function checkDTypeClass(op: string, aval: Aval, cls: DTypeClass, which = "operand"): void {
  const d: DType = aval.dtype;
  const ok =
    cls === "any" ||
    (cls === "numeric" && d !== "bool") ||
    (cls === "float" && isFloat(d)) ||
    (cls === "int" && isInteger(d)) ||
    (cls === "intOrBool" && (isInteger(d) || d === "bool"));
  if (!ok) {
    const want = {
      any: "any dtype",
      numeric: "a numeric dtype (not bool)",
      float: "a floating dtype (float32 or float64)",
      int: "an integer dtype (int32 or uint32)",
      intOrBool: "an integer or bool dtype",
    }[cls];
    const hint = cls === "float" ? " — convert it first, e.g. x.astype('float32')" : ` — convert it first with astype`;
    throw new DTypeError(`${op}: ${which} ${aval} has dtype ${d} but ${op} needs ${want}${hint}`);
  }
}

/**
 * Shape rule of n-ary elementwise primitives (lax semantics): operands share one dtype and
 * one shape, except that rank-0 operands broadcast. Returns the output shape.
 */
export function elementwiseShape(op: string, avals: readonly Aval[]): number[] {
  let shape: readonly number[] | null = null;
  let shapeAval: Aval | null = null;
  for (const a of avals) {
    if (a.dtype !== avals[0]!.dtype) {
      throw new DTypeError(
        `${op}: operand dtypes differ (${avalsStr(avals)}) — convert one with astype (the numpy-level ops promote automatically)`,
      );
    }
    if (a.ndim === 0) continue;
    if (shape === null) {
      shape = a.shape;
      shapeAval = a;
    } else if (shape.length !== a.ndim || shape.some((d, i) => d !== a.shape[i])) {
      throw new ShapeError(
        `${op}: cannot broadcast ${shapeAval} with ${a} — lax-level ops need equal shapes; use the numpy-level op, which broadcasts`,
      );
    }
  }
  return shape ? [...shape] : [];
}

export function allWeak(avals: readonly Aval[]): boolean {
  return avals.every((a) => a.weakType);
}

export function shapeStr(shape: readonly number[]): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}
