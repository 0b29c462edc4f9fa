/** Reductions with numpy's `axis`/`keepdims`: sum, mean, var, std, max, min, prod, argmax, ... */
import type { Array } from "../array";
import { isFloat, type DType } from "../dtype";
import { ArgumentError, ShapeError } from "../errors";
import * as lax from "../lax";
import { asArray, type ArrayLike } from "../values";
import { normAxes, normAxis, reduceArgs, type AxisArg } from "./axes";
import { cast } from "./promote";
import { expandDims, reshape } from "./shape";
import { divide, subtract } from "./math";

export interface ReduceOptions {
  /** Axis or axes to reduce (negative allowed); all when omitted or null. */
  axis?: number | readonly number[] | null;
  /** Keep reduced axes as size 1. */
  keepdims?: boolean;
  /** Result dtype (sum/prod/mean). */
  dtype?: DType;
}

/** A reduction's axis argument: an axis, a list of axes, `null` (all), or the options object. */
export type ReduceArg = AxisArg | ReduceOptions;
type KwOptions = Omit<ReduceOptions, "axis">;
const reduceKeys = { keepdims: "boolean", dtype: "string" } as const;
const varKeys = { ...reduceKeys, ddof: "number" } as const;
const argKeys = { keepdims: "boolean" } as const;

function opts_(op: string, arg: unknown, opts: unknown): ReduceOptions {
  return reduceArgs<ReduceOptions>(op, arg, opts, reduceKeys);
}

function keep(r: Array, axes: number[], keepdims: boolean | undefined): Array {
  return keepdims && axes.length > 0 ? expandDims(r, axes) : r;
}

/** bool and small ints sum as int32, as in JAX. */
function sumInput(x: Array, dtype?: DType): Array {
  if (dtype) return cast(x, dtype);
  return x.dtype === "bool" ? cast(x, "int32") : x;
}

export function sum(x: ArrayLike, axis?: ReduceArg, options?: KwOptions): Array {
  const opts = opts_("sum", axis, options);
  const a = sumInput(asArray(x), opts.dtype);
  const axes = normAxes("sum", opts.axis, a.ndim);
  return keep(axes.length ? lax.reduceSum(a, axes) : a, axes, opts.keepdims);
}

export function prod(x: ArrayLike, axis?: ReduceArg, options?: KwOptions): Array {
  const opts = opts_("prod", axis, options);
  const a = sumInput(asArray(x), opts.dtype);
  const axes = normAxes("prod", opts.axis, a.ndim);
  return keep(axes.length ? lax.reduceProd(a, axes) : a, axes, opts.keepdims);
}

/** max/min: like JAX, a zero-size reduced axis has no identity to return. */
function extremum(op: "max" | "min", reduce: (a: Array, axes: number[]) => Array, x: ArrayLike, opts: ReduceOptions): Array {
  const a = asArray(x);
  const axes = normAxes(op, opts.axis, a.ndim);
  for (const ax of axes) {
    if (a.shape[ax] === 0)
      throw new ShapeError(
        `${op}: zero-size axis ${ax} of ${a.aval} has no ${op === "max" ? "maximum" : "minimum"} — pass a non-empty array`,
      );
  }
  return keep(axes.length ? reduce(a, axes) : a, axes, opts.keepdims);
}

export function max(x: ArrayLike, axis?: ReduceArg, options?: KwOptions): Array {
  return extremum("max", lax.reduceMax, x, opts_("max", axis, options));
}

export function min(x: ArrayLike, axis?: ReduceArg, options?: KwOptions): Array {
  return extremum("min", lax.reduceMin, x, opts_("min", axis, options));
}

export const amax = max;
export const amin = min;

function count(a: Array, axes: number[]): number {
  return axes.reduce((n, ax) => n * a.shape[ax]!, 1);
}

export function mean(x: ArrayLike, axis?: ReduceArg, options?: KwOptions): Array {
  const opts = opts_("mean", axis, options);
  let a = asArray(x);
  if (!isFloat(a.dtype)) a = cast(a, opts.dtype ?? "float32");
  const axes = normAxes("mean", opts.axis, a.ndim);
  return divide(sum(a, { axis: axes, keepdims: opts.keepdims, dtype: opts.dtype }), count(a, axes));
}

/** Variance: mean of squared deviations, divided by `N - ddof`. */
export function variance(x: ArrayLike, axis?: AxisArg | VarOptions, options?: Omit<VarOptions, "axis">): Array {
  const opts = reduceArgs<VarOptions>("var", axis, options, varKeys);
  let a = asArray(x);
  if (!isFloat(a.dtype)) a = cast(a, "float32");
  const axes = normAxes("var", opts.axis, a.ndim);
  const centered = subtract(a, mean(a, { axis: axes, keepdims: true }));
  const sq = lax.square(centered);
  return divide(sum(sq, { axis: axes, keepdims: opts.keepdims }), count(a, axes) - (opts.ddof ?? 0));
}
export { variance as var };

/** Options of `var`/`std`: numpy's `ddof` (delta degrees of freedom) besides the reduction's. */
export interface VarOptions extends ReduceOptions {
  ddof?: number;
}

export function std(x: ArrayLike, axis?: AxisArg | VarOptions, options?: Omit<VarOptions, "axis">): Array {
  return lax.sqrt(variance(x, reduceArgs<VarOptions>("std", axis, options, varKeys)));
}

/** Options of `argmax`/`argmin`: one axis (the flattened array when omitted). */
export interface ArgReduceOptions {
  axis?: number | null;
  keepdims?: boolean;
}

function argReduce(
  name: "argmax" | "argmin",
  x: ArrayLike,
  axis: number | null | undefined | ArgReduceOptions,
  options: Omit<ArgReduceOptions, "axis"> | undefined,
): Array {
  const opts = reduceArgs<ArgReduceOptions>(name, axis, options, argKeys);
  if (typeof opts.axis === "object" && opts.axis !== null)
    throw new ArgumentError(`${name}: axis must be one integer or null, got [${String(opts.axis)}] — ${name} reduces a single axis`);
  let a = asArray(x);
  let ax: number;
  if (opts.axis === null || opts.axis === undefined) {
    a = reshape(a, [-1]);
    ax = 0;
  } else ax = normAxis(name, opts.axis, a.ndim);
  const r = name === "argmax" ? lax.argmax(a, ax) : lax.argmin(a, ax);
  if (!opts.keepdims) return r;
  // keepdims with no axis keeps every dimension as size 1 (numpy/JAX).
  return opts.axis != null
    ? expandDims(r, ax)
    : reshape(
        r,
        asArray(x).shape.map(() => 1),
      );
}

/** Index of the maximum along `axis` (of the flattened array when omitted). */
export function argmax(x: ArrayLike, axis?: number | null | ArgReduceOptions, options?: Omit<ArgReduceOptions, "axis">): Array {
  return argReduce("argmax", x, axis, options);
}
export function argmin(x: ArrayLike, axis?: number | null | ArgReduceOptions, options?: Omit<ArgReduceOptions, "axis">): Array {
  return argReduce("argmin", x, axis, options);
}

/** Cumulative sum along `axis` (of the flattened array when omitted). */
export function cumsum(
  x: ArrayLike,
  axis?: number | null | { axis?: number | null; reverse?: boolean },
  options?: { reverse?: boolean },
): Array {
  const opts = reduceArgs<{ axis?: number | null; reverse?: boolean }>("cumsum", axis, options, { reverse: "boolean" });
  if (typeof opts.axis === "object" && opts.axis !== null)
    throw new ArgumentError(`cumsum: axis must be one integer or null, got [${String(opts.axis)}] — cumsum runs along a single axis`);
  let a = sumInput(asArray(x));
  if (opts.axis === null || opts.axis === undefined) a = reshape(a, [-1]);
  const ax = opts.axis == null ? 0 : normAxis("cumsum", opts.axis, a.ndim);
  return lax.cumsum(a, ax, opts.reverse ?? false);
}

/** `any`/`all` reduce with the identities False/True, so zero-size axes give False/True (JAX's reduce_or/reduce_and). */
function logical(op: "any" | "all", x: ArrayLike, axis: ReduceArg | undefined, options: KwOptions | undefined): Array {
  const opts = opts_(op, axis, options);
  const a = asArray(x);
  const b = a.dtype === "bool" ? a : lax.ne(a, cast(asArray(0), a.dtype));
  const axes = normAxes(op, opts.axis, b.ndim);
  return keep(axes.length ? (op === "any" ? lax.reduceMax : lax.reduceMin)(b, axes) : b, axes, opts.keepdims);
}
export function any(x: ArrayLike, axis?: ReduceArg, options?: KwOptions): Array {
  return logical("any", x, axis, options);
}
export function all(x: ArrayLike, axis?: ReduceArg, options?: KwOptions): Array {
  return logical("all", x, axis, options);
}
