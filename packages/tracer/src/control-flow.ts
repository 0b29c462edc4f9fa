/**
 * Structured control flow, as JAX's `lax.cond`, `lax.switch`, `lax.while_loop`,
 * `lax.fori_loop`, `lax.scan` and `lax.map`: the functions are traced once into sub-jaxprs at
 * the operands' avals and bound as the higher-order primitives of `primitives/control-flow.ts`,
 * so nothing unrolls and every transform sees one equation. Outside any trace they still
 * bind, and the interpreter runs them.
 *
 * Operands, carries, `xs` and outputs are pytrees. Their arrays and JS numbers (weak-typed
 * scalars, as JAX's Python scalars) are traced; other leaves (booleans, strings, functions)
 * are static, as under `filterJit`, and must come back unchanged (see
 * `control-flow-tracing.ts`). Values the functions close over — concrete arrays or tracers of
 * enclosing transforms — become explicit leading operands (JAX's `num_consts`), shared by all
 * branches of a `cond`.
 */
import { Array, ConcreteArray, scalar } from "./array";
import { isInteger, promoteTypes } from "./dtype";
import { ArgumentError, DTypeError, PytreeError, ShapeError } from "./errors";
import {
  carryNames,
  checkBranchOutputs,
  checkCarry,
  hoistConsts,
  join,
  longStr,
  numTraced,
  paramName,
  promoteWeakInit,
  split,
  tracedPaths,
  traceTree,
  type CarryNames,
  type Split,
} from "./control-flow-tracing";
import { ClosedJaxpr, Jaxpr, Var } from "./jaxpr";
import * as P from "./primitives/all";
import { sliceAval } from "./primitives/control-flow";
import { keystr } from "./pytree";
import { bind, bind1 } from "./trace";
import { asArray, type ArrayLike } from "./values";

/**
 * The type of a pytree as a control-flow function receives it (and as the primitive returns
 * it): JS numbers and arrays of any kind become `Array`, inside JS arrays and tuples too.
 * Other objects keep their type (a Module stays a Module; its array fields are typed as
 * declared).
 */
export type Traced<T> = T extends Array | number ? Array : T extends readonly unknown[] ? { -readonly [K in keyof T]: Traced<T[K]> } : T;

/**
 * What a function may return where a `T` came in: an `Array` (or a JS number) wherever `T`
 * has an array or a number, at any depth; functions and Modules as they are.
 */
export type Returned<T> = T extends Array | number
  ? Array | number
  : T extends readonly unknown[]
    ? { readonly [K in keyof T]: Returned<T[K]> }
    : T extends (...args: never[]) => unknown
      ? T
      : T extends object
        ? { readonly [K in keyof T]: Returned<T[K]> }
        : T;

/** An argument that must convert to an array (`pred`, `index`, loop bounds). */
function arrayArg(op: string, what: string, x: unknown): Array {
  if (x instanceof Array || typeof x === "number" || typeof x === "boolean") return asArray(x);
  throw new ArgumentError(
    `${op}: ${what} must be an array, a number or a boolean, got ${x === null ? "null" : typeof x} — pass a scalar array`,
  );
}

function checkFunctions(op: string, what: string, fns: readonly unknown[]): void {
  if (!fns.every((f) => typeof f === "function"))
    throw new ArgumentError(`${op}: ${what} must be functions — pass callables, e.g. (x) => x.add(1)`);
}

// ---- cond / switch ------------------------------------------------------------------------

type AnyFn = (...args: never[]) => unknown;
const avalsOf = (xs: readonly Array[]) => xs.map((x) => x.aval);

/**
 * Traces every branch on `operands`, checks their outputs agree with the first's, and binds
 * `cond` (with the branches in reverse for `lax.cond`, whose index 0 is `falseFun`). Consts
 * are hoisted in tracing order, so `trueFun`'s come first, as in JAX. As JAX does, an output
 * that every branch passes through from the same operand is not an output of the `cond`:
 * the operand is returned directly.
 */
function branchCall(
  op: string,
  index: Array,
  fns: readonly AnyFn[],
  names: readonly string[],
  reversed: boolean,
  operands: readonly unknown[],
): unknown {
  const ops = split(operands);
  const traced = fns.map((fn) =>
    traceTree(op, (...xs) => (fn as (...a: unknown[]) => unknown)(...(join(ops, xs) as unknown[])), avalsOf(ops.arrays)),
  );
  traced.forEach((t, i) => {
    if (i > 0) checkBranchOutputs(op, names[0]!, traced[0]!, names[i]!, t);
  });
  const { jaxprs, consts } = hoistConsts(traced.map((t) => t.jaxpr));
  const forwarded = (j: ClosedJaxpr) => j.jaxpr.outvars.map((o) => (o instanceof Var ? j.jaxpr.invars.indexOf(o) - consts.length : -1));
  const fwds = jaxprs.map(forwarded);
  const inFwd = fwds[0]!.map((k, i) => (k >= 0 && fwds.every((f) => f[i] === k) ? k : -1));
  const pruned = jaxprs.map(
    (j) =>
      new ClosedJaxpr(
        new Jaxpr(
          [],
          j.jaxpr.invars,
          j.jaxpr.eqns,
          j.jaxpr.outvars.filter((_, i) => inFwd[i]! < 0),
        ),
        [],
      ),
  );
  const outs = bind(P.cond, [index, ...consts, ...ops.arrays], { branches: reversed ? pruned.reverse() : pruned });
  let next = 0;
  return join(
    traced[0]!.out,
    inFwd.map((k) => (k < 0 ? outs[next++]! : ops.arrays[k]!)),
  );
}

/**
 * Runs `trueFun(...operands)` if `pred` is true, else `falseFun(...operands)` (JAX's
 * `lax.cond`). Both branches are traced; only one runs. Under `vmap` with a batched `pred`
 * both run and a select picks each lane's result, as JAX does.
 *
 * @param pred a scalar: bool, or a number (nonzero is true).
 * @param operands pytrees passed to the branch taken; both branches must return the same
 *   structure, shapes and dtypes.
 * @example
 * const y = lax.cond(x.sum().gt(0), (x) => x.mul(2), (x) => x.neg(), x);
 */
export function cond<const Ops extends readonly unknown[], R>(
  pred: ArrayLike,
  trueFun: (...ops: Traced<NoInfer<Ops>>) => R,
  falseFun: (...ops: Traced<NoInfer<Ops>>) => R,
  ...operands: Ops
): Traced<R> {
  checkFunctions("cond", "trueFun and falseFun", [trueFun, falseFun]);
  const p = arrayArg("cond", "the predicate", pred);
  if (p.ndim !== 0) {
    throw new ShapeError(
      `cond: the predicate must be a scalar, got ${p.aval} — reduce it to one value (e.g. np.all or np.any), or use np.where to choose elementwise`,
    );
  }
  // JAX: a number is compared with zero; the bool becomes the int32 branch index.
  const b = p.dtype === "bool" ? p : bind1(P.ne, [p, scalar(0, p.dtype, true)]);
  const index = bind1(P.convertElementType, [b], { new_dtype: "int32", weak_type: false });
  return branchCall("cond", index, [trueFun, falseFun] as AnyFn[], ["trueFun", "falseFun"], true, operands) as Traced<R>;
}

/**
 * Runs `branches[index](...operands)`, with `index` clamped to `[0, branches.length - 1]`
 * (JAX's `lax.switch`). Every branch is traced and must return the same types.
 *
 * @param index an integer scalar (floats are refused: convert them explicitly).
 * @example
 * const y = lax.switch(k, [(x) => x, (x) => x.mul(2), (x) => x.neg()], x);
 */
export function switch_<const Ops extends readonly unknown[], R>(
  index: ArrayLike,
  branches: readonly ((...ops: Traced<NoInfer<Ops>>) => R)[],
  ...operands: Ops
): Traced<R> {
  if (!globalThis.Array.isArray(branches))
    throw new ArgumentError("switch: branches must be a list of functions — pass e.g. [(x) => x, (x) => x.neg()]");
  checkFunctions("switch", "branches", branches);
  const i = arrayArg("switch", "the branch index", index);
  if (i.ndim !== 0) throw new ShapeError(`switch: the branch index must be a scalar, got ${i.aval} — pass one integer`);
  if (!isInteger(i.dtype)) {
    throw new DTypeError(
      `switch: the branch index must be an integer, got ${i.aval} — convert it explicitly (e.g. index.astype("int32")), or use lax.cond for a bool`,
    );
  }
  if (branches.length === 0) throw new ArgumentError("switch: no branches — pass at least one function");
  const ops = split(operands);
  // JAX calls a lone branch directly.
  if (branches.length === 1) return (branches[0]! as (...ops: unknown[]) => R)(...(join(ops, ops.arrays) as unknown[])) as Traced<R>;
  let idx = i.dtype === "int32" && !i.weakType ? i : bind1(P.convertElementType, [i], { new_dtype: "int32", weak_type: false });
  // JAX clamps with `clamp(0, index, n - 1)`; wax has no clamp primitive, so max then min.
  idx = bind1(P.min, [bind1(P.max, [idx, scalar(0, "int32")]), scalar(branches.length - 1, "int32")]);
  return branchCall(
    "switch",
    idx,
    branches as readonly AnyFn[],
    branches.map((_, k) => `branch ${k}`),
    false,
    operands,
  ) as Traced<R>;
}

// ---- while --------------------------------------------------------------------------------

/** The loop of `whileLoop`, with the names used by carry errors (shared with `foriLoop`). */
function whileImpl(
  op: string,
  names: CarryNames,
  condFun: (c: unknown) => unknown,
  bodyFun: (c: unknown) => unknown,
  initVal: unknown,
): unknown {
  const init = split(initVal);
  const build = () => {
    const avals = avalsOf(init.arrays);
    const c = traceTree(
      op,
      (...xs) => {
        const r = condFun(join(init, xs));
        return typeof r === "boolean" ? asArray(r) : r;
      },
      avals,
    );
    const b = traceTree(op, (...xs) => bodyFun(join(init, xs)), avals);
    return [c, b] as const;
  };
  let [c, b] = build();
  const promoted = promoteWeakInit(init.arrays, b.jaxpr.outAvals);
  if (promoted) {
    init.arrays = promoted;
    [c, b] = build();
  }
  const pred = c.jaxpr.outAvals;
  if (c.out.tree.kind !== "leaf" || pred.length !== 1 || pred[0]!.ndim !== 0 || pred[0]!.dtype !== "bool") {
    const got =
      c.out.tree.kind !== "leaf" ? `pytree ${c.out.tree}` : pred.length !== 1 ? `a ${typeof c.out.statics[0]}` : longStr(pred[0]!);
    const Cls = pred.length === 1 && pred[0]!.ndim !== 0 ? ShapeError : DTypeError;
    throw new Cls(`${op}: condFun must return a boolean scalar, but got ${got} — return one bool (e.g. i.lt(n), or x.gt(0).all())`);
  }
  checkCarry(op, names, init, avalsOf(init.arrays), b.out, b.jaxpr.outAvals);
  const cj = hoistConsts([c.jaxpr]);
  const bj = hoistConsts([b.jaxpr]);
  const outs = bind(P.whileP, [...cj.consts, ...bj.consts, ...init.arrays], {
    cond_jaxpr: cj.jaxprs[0]!,
    body_jaxpr: bj.jaxprs[0]!,
    cond_nconsts: cj.consts.length,
    body_nconsts: bj.consts.length,
  });
  return join(b.out, outs);
}

/**
 * `val = initVal; while (condFun(val)) val = bodyFun(val); return val` as one `while`
 * primitive (JAX's `lax.while_loop`). The carry keeps its structure, shapes and dtypes
 * (a weak-typed init such as a JS number is first promoted to the body's output type, as
 * JAX does). Forward-mode differentiable; reverse mode is refused as in JAX — use `scan`
 * or `foriLoop` with static bounds.
 *
 * @example
 * const [i, x] = lax.whileLoop(([i, x]) => x.lt(100), ([i, x]) => [i.add(1), x.mul(2)], [0, np.array(1)]);
 */
export function whileLoop<const C>(
  condFun: (val: Traced<NoInfer<C>>) => ArrayLike,
  bodyFun: (val: Traced<NoInfer<C>>) => Returned<NoInfer<C>>,
  initVal: C,
): Traced<C> {
  checkFunctions("whileLoop", "condFun and bodyFun", [condFun, bodyFun]);
  const names = carryNames("bodyFun", paramName(bodyFun, 0));
  return whileImpl("whileLoop", names, condFun as (c: unknown) => unknown, bodyFun as (c: unknown) => unknown, initVal) as Traced<C>;
}

/** A loop bound known while tracing: a JS number or a concrete (non-traced) scalar. */
function staticBound(x: ArrayLike): number | null {
  if (typeof x === "number") return x;
  if (x instanceof ConcreteArray && x.ndim === 0) return x.data[0]!;
  return null;
}

/**
 * `for (i = lower; i < upper; i++) val = bodyFun(i, val)` (JAX's `lax.fori_loop`). With
 * static bounds (JS numbers or concrete arrays) it is a `scan` over nothing with the counter
 * in the carry, so it is reverse-differentiable; with traced bounds it is a `while`.
 *
 * @param opts.unroll as `scan`'s; only with static bounds.
 * @example
 * const x = lax.foriLoop(0, 10, (i, x) => x.add(i), np.array(0));
 */
export function foriLoop<const C>(
  lower: ArrayLike,
  upper: ArrayLike,
  bodyFun: (i: Array, val: Traced<NoInfer<C>>) => Returned<NoInfer<C>>,
  initVal: C,
  opts: { unroll?: number | boolean } = {},
): Traced<C> {
  checkFunctions("foriLoop", "bodyFun", [bodyFun]);
  const bounds = { lower: arrayArg("foriLoop", "lower", lower), upper: arrayArg("foriLoop", "upper", upper) };
  for (const [what, b] of Object.entries(bounds)) {
    if (b.ndim !== 0) throw new ShapeError(`foriLoop: ${what} must be a scalar, got ${b.aval} — pass one integer`);
    if (!isInteger(b.dtype)) {
      const value = b instanceof ConcreteArray ? ` (${b.data[0]})` : "";
      throw new DTypeError(
        `foriLoop: ${what} must be an integer, got ${b.aval}${value} — pass integer bounds (convert a float with astype("int32"))`,
      );
    }
  }
  const body = bodyFun as (i: Array, v: unknown) => unknown;
  // Errors name the user's carry (`val`), not the internal `[i, val]` / `[i, upper, val]`.
  const names = carryNames("bodyFun", paramName(bodyFun, 1), (p) => p.slice(1));
  const sLo = staticBound(lower);
  const sHi = staticBound(upper);
  if (sLo !== null && sHi !== null) {
    // JAX: a `scan` of `max(upper - lower, 0)` steps carrying `(i, val)`, `i` a weak int.
    const step = ([i, x]: [Array, unknown]) => [[bind1(P.add, [i, asArray(1)]), body(i, x)], null];
    const [carry] = scanImpl("foriLoop", names, step as (c: never, x: never) => unknown, [sLo, initVal], null, {
      length: Math.max(sHi - sLo, 0),
      unroll: opts.unroll ?? 1,
    }) as [[Array, unknown], null];
    return carry[1] as Traced<C>;
  }
  if (opts.unroll !== undefined && opts.unroll !== false && opts.unroll !== 1) {
    throw new ArgumentError(
      "foriLoop: unroll needs statically known loop bounds (JS numbers or concrete arrays) — drop unroll or make the bounds static",
    );
  }
  let { lower: l, upper: h } = bounds;
  if (l.dtype !== h.dtype) {
    const { dtype } = promoteTypes(l.dtype, l.weakType, h.dtype, h.weakType);
    l = bind1(P.convertElementType, [l], { new_dtype: dtype, weak_type: false });
    h = bind1(P.convertElementType, [h], { new_dtype: dtype, weak_type: false });
  }
  const out = whileImpl(
    "foriLoop",
    names,
    (c) => bind1(P.lt, [(c as Array[])[0]!, (c as Array[])[1]!]),
    (c) => {
      const [i, u, x] = c as [Array, Array, unknown];
      return [bind1(P.add, [i, scalar(1, i.dtype, true)]), u, body(i, x)];
    },
    [l, h, initVal],
  ) as [Array, Array, unknown];
  return out[2] as Traced<C>;
}

// ---- scan ---------------------------------------------------------------------------------

/** Options of `scan`. */
export interface ScanOptions {
  /** Number of iterations; required when `xs` has no arrays, else it must match their leading size. */
  length?: number;
  /** Iterate from the end (`ys` stay aligned with `xs`). */
  reverse?: boolean;
  /** Iterations per loop trip for the compiler (`true`: all of them). Does not change results. */
  unroll?: number | boolean;
}

/** The scan's trip count from `xs` and `opts.length`, with JAX's checks. */
function scanLength(op: string, xs: Split, opts: ScanOptions): number {
  const paths = tracedPaths(xs).map((p) => `xs${keystr(p)}`);
  xs.arrays.forEach((x, i) => {
    if (x.ndim === 0) throw new ShapeError(`${op}: ${paths[i]} is a scalar ${x.aval} — every xs array needs a leading axis to scan over`);
  });
  const sizes = xs.arrays.map((x) => x.shape[0]!);
  const list = () => sizes.map((s, i) => `${paths[i]}: ${s}`).join(", ");
  if (opts.length !== undefined) {
    if (!Number.isInteger(opts.length) || opts.length < 0)
      throw new ArgumentError(`${op}: length must be a non-negative integer, got ${opts.length}`);
    if (sizes.some((s) => s !== opts.length)) {
      throw new ShapeError(
        `${op}: length is ${opts.length} but the xs have leading axis sizes ${list()} — make them agree, or drop length`,
      );
    }
    return opts.length;
  }
  if (sizes.length === 0) throw new ArgumentError(`${op}: no xs to scan over and no length — pass {length} when xs is null`);
  if (sizes.some((s) => s !== sizes[0])) {
    throw new ShapeError(`${op}: the xs have different leading axis sizes: ${list()} — every xs array must have the same leading size`);
  }
  return sizes[0]!;
}

function scanImpl(
  op: string,
  names: CarryNames,
  f: (c: never, x: never) => unknown,
  init: unknown,
  xs: unknown,
  opts: ScanOptions,
): [unknown, unknown] {
  const reverse = opts.reverse ?? false;
  if (typeof reverse !== "boolean") throw new ArgumentError(`${op}: reverse must be a boolean, got ${String(reverse)}`);
  const xsSplit = split(xs);
  const length = scanLength(op, xsSplit, opts);
  const u = opts.unroll ?? 1;
  const unroll = u === true ? Math.max(length, 1) : u === false ? 1 : u;
  if (!Number.isInteger(unroll) || unroll < 1)
    throw new ArgumentError(`${op}: unroll must be a boolean or a positive integer, got ${String(u)}`);

  const xAvals = xsSplit.arrays.map((x) => sliceAval(x.aval));
  const carry = split(init);
  const build = () => {
    const nk = carry.arrays.length;
    const t = traceTree(op, (...ins) => f(join(carry, ins.slice(0, nk)) as never, join(xsSplit, ins.slice(nk)) as never), [
      ...avalsOf(carry.arrays),
      ...xAvals,
    ]);
    const { tree, statics } = t.out;
    if (tree.kind !== "array" || tree.children.length !== 2) {
      throw new PytreeError(`${op}: the body must return a pair [carry, y], got ${tree} — return [newCarry, y] (y may be null)`);
    }
    const n0 = tree.children[0]!.numLeaves;
    const carryOut = { tree: tree.children[0]!, statics: statics.slice(0, n0) };
    const yOut = { tree: tree.children[1]!, statics: statics.slice(n0) };
    return { jaxpr: t.jaxpr, carryOut, yOut, carryAvals: t.jaxpr.outAvals.slice(0, numTraced(carryOut)) };
  };
  let t = build();
  const promoted = promoteWeakInit(carry.arrays, t.carryAvals);
  if (promoted) {
    carry.arrays = promoted;
    t = build();
  }
  checkCarry(op, names, carry, avalsOf(carry.arrays), t.carryOut, t.carryAvals);
  const { jaxprs, consts } = hoistConsts([t.jaxpr]);
  const operands = [...consts, ...carry.arrays, ...xsSplit.arrays];
  const nk = carry.arrays.length;
  const outs = bind(P.scan, operands, {
    jaxpr: jaxprs[0]!,
    length,
    reverse,
    unroll,
    num_consts: consts.length,
    num_carry: nk,
    linear: operands.map(() => false),
    _split_transpose: false,
  });
  return [join(t.carryOut, outs.slice(0, nk)), join(t.yOut, outs.slice(nk))];
}

/**
 * Loops `f` over the leading axis of `xs`, threading a carry (JAX's `lax.scan`):
 * `[carry, ys[i]] = f(carry, xs[i])` for each `i`, returning the final carry and the `y`s
 * stacked. One `scan` primitive: nothing unrolls, reverse mode stacks residuals per
 * iteration.
 *
 * @param init the initial carry (a pytree); `f` must return a carry of the same structure,
 *   shapes and dtypes (a weak-typed init such as a JS number is promoted first, as JAX).
 * @param xs a pytree of arrays sharing a leading size, or null/undefined with `{length}`.
 * @example
 * const [total, partials] = lax.scan((c, x) => [c.add(x), c.add(x)], 0, np.arange(5));
 */
export function scan<const C, const X, Y>(
  f: (carry: Traced<NoInfer<C>>, x: Traced<NoInfer<X>>) => readonly [Returned<NoInfer<C>>, Y],
  init: C,
  xs: X,
  opts: ScanOptions = {},
): [Traced<C>, Traced<Y>] {
  checkFunctions("scan", "f", [f]);
  const names = carryNames("body function", paramName(f, 0));
  return scanImpl("scan", names, f as (c: never, x: never) => unknown, init, xs, opts) as [Traced<C>, Traced<Y>];
}

/**
 * Maps `f` over the leading axis of `xs` with a `scan` (JAX's `lax.map`): sequential, for
 * when `vmap`'s memory is too much.
 *
 * @example
 * const ys = lax.map((x) => x.sum(), np.ones([4, 3]));   // f32[4]
 */
export function map<const X, Y>(f: (x: Traced<NoInfer<X>>) => Y, xs: X): Traced<Y> {
  checkFunctions("map", "f", [f]);
  const names = carryNames("map function", null);
  return scanImpl("map", names, ((_c: unknown, x: Traced<X>) => [[], f(x)]) as (c: never, x: never) => unknown, [], xs, {})[1] as Traced<Y>;
}
