/**
 * Op methods on `Array` (`x.add(y)`, `x.matmul(w)`, `x.sum({axis: 0})`, `x.T`, ...), all
 * thin calls into the numpy-like namespace, so they work on concrete arrays and tracers.
 */
import { Array } from "./array";
import type { DType } from "./dtype";
import * as np from "./numpy/index";
import type { Index, IndexUpdateRef } from "./numpy/indexing";
import type { ArgReduceOptions, ReduceArg, ReduceOptions, VarOptions } from "./numpy/reduce";
import type { AxisArg } from "./numpy/axes";
import { ArgumentError } from "./errors";

type KwOptions = Omit<ReduceOptions, "axis">;

function shapeArgsEmpty(args: unknown[]): boolean {
  return args.length === 0 || (args.length === 1 && (args[0] === undefined || args[0] === null));
}

/** numpy's `x.reshape(3, 2)` / `x.reshape([3, 2])` (and the same for `transpose`). */
function varargs(op: string, args: unknown[]): number[] {
  const list = args.length === 1 && globalThis.Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (!list.every((d) => Number.isInteger(d))) {
    throw new ArgumentError(
      `${op}: expected integers or one list of integers, got (${args.map((a) => JSON.stringify(a) ?? String(a)).join(", ")}) — e.g. x.${op}(3, 2) or x.${op}([3, 2])`,
    );
  }
  return list as number[];
}
import type { ArrayLike } from "./values";

declare module "./array" {
  interface Array {
    add(y: ArrayLike): Array;
    sub(y: ArrayLike): Array;
    mul(y: ArrayLike): Array;
    div(y: ArrayLike): Array;
    pow(y: ArrayLike): Array;
    mod(y: ArrayLike): Array;
    neg(): Array;
    abs(): Array;
    exp(): Array;
    log(): Array;
    sqrt(): Array;
    square(): Array;
    tanh(): Array;
    sin(): Array;
    cos(): Array;
    maximum(y: ArrayLike): Array;
    minimum(y: ArrayLike): Array;
    eq(y: ArrayLike): Array;
    ne(y: ArrayLike): Array;
    lt(y: ArrayLike): Array;
    le(y: ArrayLike): Array;
    gt(y: ArrayLike): Array;
    ge(y: ArrayLike): Array;
    matmul(y: ArrayLike): Array;
    dot(y: ArrayLike): Array;
    /** `x.sum()`, `x.sum(-1)`, `x.sum([0, 1])`, `x.sum(0, {keepdims: true})`, `x.sum({axis, keepdims, dtype})`. */
    sum(axis?: ReduceArg, opts?: Omit<ReduceOptions, "axis">): Array;
    mean(axis?: ReduceArg, opts?: Omit<ReduceOptions, "axis">): Array;
    var(axis?: AxisArg | VarOptions, opts?: Omit<VarOptions, "axis">): Array;
    std(axis?: AxisArg | VarOptions, opts?: Omit<VarOptions, "axis">): Array;
    max(axis?: ReduceArg, opts?: Omit<ReduceOptions, "axis">): Array;
    min(axis?: ReduceArg, opts?: Omit<ReduceOptions, "axis">): Array;
    prod(axis?: ReduceArg, opts?: Omit<ReduceOptions, "axis">): Array;
    argmax(axis?: number | null | ArgReduceOptions, opts?: Omit<ArgReduceOptions, "axis">): Array;
    argmin(axis?: number | null | ArgReduceOptions, opts?: Omit<ArgReduceOptions, "axis">): Array;
    /** `x.reshape([3, 2])` or numpy's varargs `x.reshape(3, 2)`; one dimension may be -1. */
    reshape(shape: readonly number[]): Array;
    reshape(...shape: number[]): Array;
    /** `x.transpose()` (reversed), `x.transpose([1, 0])` or numpy's varargs `x.transpose(1, 0)`. */
    transpose(axes?: readonly number[]): Array;
    transpose(...axes: number[]): Array;
    /** Reversed axes (`x.T` as in numpy). */
    readonly T: Array;
    squeeze(axis?: number | readonly number[]): Array;
    expandDims(axis: number | readonly number[]): Array;
    ravel(): Array;
    astype(dtype: DType): Array;
    /**
     * numpy indexing: `x.get(0, ":", "1:3")` is `x[0, :, 1:3]`; negative steps (`"::-1"`),
     * `null` (new axis), `"..."`, and integer index arrays (`x.get(rows, cols)`, broadcast
     * together; clamped out of bounds) are supported.
     */
    get(...idx: Index[]): Array;
    /** JAX's `x.at[idx]`: `x.at(i).set(v)`, `.add(v)`, `.mul(v)`, `.min(v)`, `.max(v)`, `.get()` return updated copies. */
    at(...idx: Index[]): IndexUpdateRef;
    /**
     * Iterates over the first axis, as numpy does: `const [k1, k2] = random.split(key)`.
     * Rank-0 arrays are not iterable (destructuring one is a TypeError).
     */
    [Symbol.iterator](): Iterator<Array>;
  }
}

type Methods = Omit<Array, keyof object>;
const proto = Array.prototype as unknown as Record<string, unknown>;
const methods: Partial<Record<keyof Methods, (this: Array, ...args: never[]) => unknown>> = {
  add(y: ArrayLike) {
    return np.add(this, y);
  },
  sub(y: ArrayLike) {
    return np.subtract(this, y);
  },
  mul(y: ArrayLike) {
    return np.multiply(this, y);
  },
  div(y: ArrayLike) {
    return np.divide(this, y);
  },
  pow(y: ArrayLike) {
    return np.pow(this, y);
  },
  mod(y: ArrayLike) {
    return np.remainder(this, y);
  },
  neg() {
    return np.negative(this);
  },
  abs() {
    return np.abs(this);
  },
  exp() {
    return np.exp(this);
  },
  log() {
    return np.log(this);
  },
  sqrt() {
    return np.sqrt(this);
  },
  square() {
    return np.square(this);
  },
  tanh() {
    return np.tanh(this);
  },
  sin() {
    return np.sin(this);
  },
  cos() {
    return np.cos(this);
  },
  maximum(y: ArrayLike) {
    return np.maximum(this, y);
  },
  minimum(y: ArrayLike) {
    return np.minimum(this, y);
  },
  eq(y: ArrayLike) {
    return np.equal(this, y);
  },
  ne(y: ArrayLike) {
    return np.notEqual(this, y);
  },
  lt(y: ArrayLike) {
    return np.less(this, y);
  },
  le(y: ArrayLike) {
    return np.lessEqual(this, y);
  },
  gt(y: ArrayLike) {
    return np.greater(this, y);
  },
  ge(y: ArrayLike) {
    return np.greaterEqual(this, y);
  },
  matmul(y: ArrayLike) {
    return np.matmul(this, y);
  },
  dot(y: ArrayLike) {
    return np.dot(this, y);
  },
  sum(axis?: ReduceArg, opts?: KwOptions) {
    return np.sum(this, axis, opts);
  },
  mean(axis?: ReduceArg, opts?: KwOptions) {
    return np.mean(this, axis, opts);
  },
  var(axis?: AxisArg | VarOptions, opts?: Omit<VarOptions, "axis">) {
    return np.variance(this, axis, opts);
  },
  std(axis?: AxisArg | VarOptions, opts?: Omit<VarOptions, "axis">) {
    return np.std(this, axis, opts);
  },
  max(axis?: ReduceArg, opts?: KwOptions) {
    return np.max(this, axis, opts);
  },
  min(axis?: ReduceArg, opts?: KwOptions) {
    return np.min(this, axis, opts);
  },
  prod(axis?: ReduceArg, opts?: KwOptions) {
    return np.prod(this, axis, opts);
  },
  argmax(axis?: number | null | ArgReduceOptions, opts?: Omit<ArgReduceOptions, "axis">) {
    return np.argmax(this, axis, opts);
  },
  argmin(axis?: number | null | ArgReduceOptions, opts?: Omit<ArgReduceOptions, "axis">) {
    return np.argmin(this, axis, opts);
  },
  reshape(...shape: unknown[]) {
    return np.reshape(this, varargs("reshape", shape));
  },
  transpose(...axes: unknown[]) {
    return shapeArgsEmpty(axes) ? np.transpose(this) : np.transpose(this, varargs("transpose", axes));
  },
  squeeze(axis?: number | readonly number[]) {
    return np.squeeze(this, axis);
  },
  expandDims(axis: number | readonly number[]) {
    return np.expandDims(this, axis);
  },
  ravel() {
    return np.ravel(this);
  },
  astype(dtype: DType) {
    return np.astype(this, dtype);
  },
  get(...idx: Index[]) {
    return np.index(this, ...idx);
  },
  at(...idx: Index[]) {
    return np.at(this, ...idx);
  },
};
for (const [k, f] of Object.entries(methods)) proto[k] = f;
// Rank-0 arrays are not iterable (as numpy's 0-d arrays): the getter gives no iterator for
// them, so destructuring one is a TypeError and equality testers compare them by value.
function* rows(this: Array): Generator<Array> {
  for (let i = 0; i < this.shape[0]!; i++) yield np.index(this, i);
}
Object.defineProperty(Array.prototype, Symbol.iterator, {
  get(this: Array) {
    return this.ndim === 0 ? undefined : rows;
  },
});
Object.defineProperty(Array.prototype, "T", {
  get(this: Array) {
    return np.transpose(this);
  },
});
