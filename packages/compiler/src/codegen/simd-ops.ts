/** f32x4 / i32x4 lowering of the elementwise ops (vector mode; bools are lane masks). */
import binaryen from "binaryen";
import { dynUniform, type Expr, type KDType } from "../lower/kernel-ir";
import { CompileError } from "../errors";
import type { ExprRef, GenContext } from "./builder";

type M = binaryen.Module;

/** An f32x4 of four `v`. */
export function f32splat(m: M, v: number): ExprRef {
  return m.f32x4.splat(m.f32.const(v));
}
/** An i32x4 of four `v`. */
export function i32splat(m: M, v: number): ExprRef {
  return m.i32x4.splat(m.i32.const(v | 0));
}
/** An i32x4 constant of `lanes`. */
export function i32const4(m: M, lanes: [number, number, number, number]): ExprRef {
  const bytes = new Uint8Array(16);
  const dv = new DataView(bytes.buffer);
  lanes.forEach((v, i) => dv.setInt32(i * 4, v | 0, true));
  return m.v128.const(bytes as unknown as number[]);
}

/** Vector implementations of transcendentals, registered by `simd-math.ts`. */
export type VectorUnaryFn = (ctx: GenContext, v: ExprRef) => ExprRef;
const vectorMath = new Map<string, VectorUnaryFn>();
/** Registers the vector implementation of a transcendental. */
export function registerVectorUnary(name: string, f: VectorUnaryFn): void {
  vectorMath.set(name, f);
}

const SIMPLE_F32 = new Set(["neg", "abs", "sqrt", "rsqrt", "floor", "ceil", "round_even", "round_away", "square", "sign"]);

/** A vector version of `fn` usable for one lane in scalar mode too (transcendentals). */
export function vectorUnary(fn: string): VectorUnaryFn | undefined {
  if (fn === "sign" || fn === "round_away") return (ctx, v) => unaryVector(ctx, fn, v, "float32");
  return vectorMath.get(fn);
}

/** Whether unary `fn` on `dtype` has a vector lowering. */
export function vectorUnaryOk(fn: string, dtype: KDType): boolean {
  if (dtype !== "float32") return ["neg", "not", "square", "abs"].includes(fn) && !(fn === "abs" && dtype === "uint32");
  return SIMPLE_F32.has(fn) || vectorMath.has(fn);
}

/** Whether binary `fn` on `dtype` (right operand `y`) has a vector lowering along `innerDim`. */
export function vectorBinaryOk(fn: string, dtype: KDType, y: Expr, innerDim: number): boolean {
  if (dtype === "float32") return ["add", "sub", "mul", "div", "max", "min", "eq", "ne", "lt", "le", "gt", "ge"].includes(fn);
  if (["shl", "shr_u", "shr_s"].includes(fn)) return y.op === "const" && y.value >= 0 && y.value < 32 && isUniform(y, innerDim);
  return ["add", "sub", "mul", "and", "or", "xor", "eq", "ne", "lt", "le", "gt", "ge", "max", "min"].includes(fn);
}

/** Unary `fn` on a vector of 4 lanes. */
export function unaryVector(ctx: GenContext, fn: string, x: ExprRef, dtype: KDType): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  if (dtype !== "float32") {
    switch (fn) {
      case "neg":
        return m.i32x4.neg(x);
      case "not":
        return m.v128.not(x); // bool masks and ints alike
      case "abs":
        return m.i32x4.abs(x);
      case "square": {
        const [s, g] = b.let(binaryen.v128, x);
        return m.block(null, [s, m.i32x4.mul(g(), g())], binaryen.v128);
      }
    }
    throw new CompileError(`${fn}: no integer vector lowering`);
  }
  switch (fn) {
    case "neg":
      return m.f32x4.neg(x);
    case "abs":
      return m.f32x4.abs(x);
    case "sqrt":
      return m.f32x4.sqrt(x);
    case "rsqrt":
      return m.f32x4.div(f32splat(m, 1), m.f32x4.sqrt(x));
    case "floor":
      return m.f32x4.floor(x);
    case "ceil":
      return m.f32x4.ceil(x);
    case "round_even":
      return m.f32x4.nearest(x);
    case "square": {
      const [s, g] = b.let(binaryen.v128, x);
      return m.block(null, [s, m.f32x4.mul(g(), g())], binaryen.v128);
    }
    case "sign": {
      // x > 0 → 1, x < 0 → -1, else x (keeps ±0 and NaN)
      const [s, g] = b.let(binaryen.v128, x);
      const pos = m.v128.bitselect(f32splat(m, 1), g(), m.f32x4.gt(g(), f32splat(m, 0)));
      return m.block(null, [s, m.v128.bitselect(f32splat(m, -1), pos, m.f32x4.lt(g(), f32splat(m, 0)))], binaryen.v128);
    }
    case "round_away": {
      // t = trunc(x); t + copysign(1, x) where |x - t| >= 0.5 (exact: x - t is exact in f32)
      const [s, g] = b.let(binaryen.v128, x);
      const [st, t] = b.let(binaryen.v128, m.f32x4.trunc(g()));
      const frac = m.f32x4.abs(m.f32x4.sub(g(), t()));
      const signOne = m.v128.or(m.v128.and(g(), i32splat(m, -0x80000000)), f32splat(m, 1));
      // where |x - t| >= 0.5 step away from zero; elsewhere keep t itself (so -0.3 → -0)
      const away = m.f32x4.add(t(), signOne);
      return m.block(null, [s, st, m.v128.bitselect(away, t(), m.f32x4.ge(frac, f32splat(m, 0.5)))], binaryen.v128);
    }
  }
  const f = vectorMath.get(fn);
  if (f) return f(ctx, x);
  throw new CompileError(`${fn}: no vector lowering`);
}

/** Binary `fn` on vectors of 4 lanes (a uniform right operand may be used as a scalar). */
export function binaryVector(
  ctx: GenContext,
  fn: string,
  x: ExprRef,
  uniformY: Expr | null,
  rec: (e: Expr) => ExprRef,
  dtype: KDType,
  yExpr: Expr,
): ExprRef {
  const m = ctx.b.m;
  if (dtype === "float32") {
    const y = rec(yExpr);
    switch (fn) {
      case "add":
        return m.f32x4.add(x, y);
      case "sub":
        return m.f32x4.sub(x, y);
      case "mul":
        return m.f32x4.mul(x, y);
      case "div":
        return m.f32x4.div(x, y);
      case "max":
        return m.f32x4.max(x, y);
      case "min":
        return m.f32x4.min(x, y);
      case "eq":
        return m.f32x4.eq(x, y);
      case "ne":
        return m.f32x4.ne(x, y);
      case "lt":
        return m.f32x4.lt(x, y);
      case "le":
        return m.f32x4.le(x, y);
      case "gt":
        return m.f32x4.gt(x, y);
      case "ge":
        return m.f32x4.ge(x, y);
    }
    throw new CompileError(`${fn}: no float vector lowering`);
  }
  // Bools are lane masks (false 0, true -1): compare them unsigned so false < true.
  const u = dtype === "uint32" || dtype === "bool";
  if (fn === "shl" || fn === "shr_u" || fn === "shr_s") {
    const amount = m.i32.const((uniformY as Expr & { op: "const" }).value);
    return fn === "shl" ? m.i32x4.shl(x, amount) : fn === "shr_u" ? m.i32x4.shr_u(x, amount) : m.i32x4.shr_s(x, amount);
  }
  const y = rec(yExpr);
  switch (fn) {
    case "add":
      return m.i32x4.add(x, y);
    case "sub":
      return m.i32x4.sub(x, y);
    case "mul":
      return m.i32x4.mul(x, y);
    case "and":
      return m.v128.and(x, y);
    case "or":
      return m.v128.or(x, y);
    case "xor":
      return m.v128.xor(x, y);
    case "eq":
      return m.i32x4.eq(x, y);
    case "ne":
      return m.i32x4.ne(x, y);
    case "lt":
      return u ? m.i32x4.lt_u(x, y) : m.i32x4.lt_s(x, y);
    case "le":
      return u ? m.i32x4.le_u(x, y) : m.i32x4.le_s(x, y);
    case "gt":
      return u ? m.i32x4.gt_u(x, y) : m.i32x4.gt_s(x, y);
    case "ge":
      return u ? m.i32x4.ge_u(x, y) : m.i32x4.ge_s(x, y);
    case "max":
      return u ? m.i32x4.max_u(x, y) : m.i32x4.max_s(x, y);
    case "min":
      return u ? m.i32x4.min_u(x, y) : m.i32x4.min_s(x, y);
  }
  throw new CompileError(`${fn}: no integer vector lowering`);
}

/** Vector conversions; bools are masks (0/-1) in vector mode. */
export function convertVector(m: M, x: ExprRef, from: KDType, to: KDType): ExprRef {
  if (from === to) return x;
  if (to === "bool") return from === "float32" ? m.f32x4.ne(x, f32splat(m, 0)) : m.i32x4.ne(x, i32splat(m, 0));
  const ints = from === "bool" ? m.v128.and(x, i32splat(m, 1)) : x;
  if (to === "float32") return from === "uint32" ? m.f32x4.convert_i32x4_u(ints) : m.f32x4.convert_i32x4_s(ints);
  if (from === "float32") return to === "uint32" ? m.i32x4.trunc_sat_f32x4_u(x) : m.i32x4.trunc_sat_f32x4_s(x);
  return ints;
}

/** An expression whose value does not vary along the innermost dim. */
export function isUniform(e: Expr, innerDim: number): boolean {
  switch (e.op) {
    case "const":
      return true;
    case "load":
    case "index":
      return e.map.strides[innerDim] === 0 && dynUniform(e.map, innerDim);
    case "unary":
    case "convert":
    case "bitcast":
    case "ipow":
      return isUniform(e.x, innerDim);
    case "binary":
      return isUniform(e.x, innerDim) && isUniform(e.y, innerDim);
    case "select":
      return isUniform(e.pred, innerDim) && e.cases.every((c) => isUniform(c, innerDim));
    case "threefry":
      return e.args.every((a) => isUniform(a, innerDim));
  }
}
