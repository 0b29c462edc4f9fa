/**
 * Elementwise primitives: each becomes a node of a lazy expression tree (see `context.ts`),
 * fused into whatever consumes it.
 */
import type { Eqn } from "@wax/tracer";
import type { BinaryOp, Expr, UnaryOp } from "../kernel-ir";
import { outDtype, outShape, type LowerContext, type Val } from "../context";
import { family } from "./family";

const unary =
  (fn: UnaryOp) =>
  (ctx: LowerContext, e: Eqn, ins: Val[]): Val => {
    const shape = outShape(e);
    const dtype = outDtype(e);
    return { kind: "expr", expr: { op: "unary", fn, x: ctx.exprAt(ins[0]!, shape), dtype }, shape, dtype };
  };

const binary =
  (fn: BinaryOp) =>
  (ctx: LowerContext, e: Eqn, ins: Val[]): Val => {
    const shape = outShape(e);
    const dtype = outDtype(e);
    return { kind: "expr", expr: { op: "binary", fn, x: ctx.exprAt(ins[0]!, shape), y: ctx.exprAt(ins[1]!, shape), dtype }, shape, dtype };
  };

/** An expression value of the equation's output shape and dtype. */
const exprVal = (e: Eqn, expr: (shape: number[]) => Expr): Val => {
  const shape = outShape(e);
  return { kind: "expr", expr: expr(shape), shape, dtype: outDtype(e) };
};

/** Lowering rules of the elementwise primitives. */
export const elementwiseRules = family({
  neg: unary("neg"),
  exp: unary("exp"),
  log: unary("log"),
  log1p: unary("log1p"),
  expm1: unary("expm1"),
  sin: unary("sin"),
  cos: unary("cos"),
  tan: unary("tan"),
  tanh: unary("tanh"),
  logistic: unary("logistic"),
  sqrt: unary("sqrt"),
  rsqrt: unary("rsqrt"),
  abs: unary("abs"),
  sign: unary("sign"),
  floor: unary("floor"),
  ceil: unary("ceil"),
  erf: unary("erf"),
  erf_inv: unary("erf_inv"),
  not: unary("not"),
  square: unary("square"),
  round: (ctx, e, ins, p) =>
    exprVal(e, (shape) => ({
      op: "unary",
      fn: p.rounding_method === 1 ? "round_even" : "round_away",
      x: ctx.exprAt(ins[0]!, shape),
      dtype: outDtype(e),
    })),
  integer_pow: (ctx, e, ins, p) => exprVal(e, (shape) => ({ op: "ipow", x: ctx.exprAt(ins[0]!, shape), y: p.y, dtype: outDtype(e) })),
  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  div: binary("div"),
  rem: binary("rem"),
  pow: binary("pow"),
  max: binary("max"),
  min: binary("min"),
  atan2: binary("atan2"),
  eq: binary("eq"),
  ne: binary("ne"),
  lt: binary("lt"),
  le: binary("le"),
  gt: binary("gt"),
  ge: binary("ge"),
  and: binary("and"),
  or: binary("or"),
  xor: binary("xor"),
  shift_left: binary("shl"),
  shift_right_logical: binary("shr_u"),
  shift_right_arithmetic: binary("shr_s"),
  select_n: (ctx, e, ins) =>
    exprVal(e, (shape) => ({
      op: "select",
      pred: ctx.exprAt(ins[0]!, shape),
      cases: ins.slice(1).map((c) => ctx.exprAt(c, shape)),
      dtype: outDtype(e),
    })),
  convert_element_type: (ctx, e, ins) => exprVal(e, (shape) => ({ op: "convert", x: ctx.exprAt(ins[0]!, shape), dtype: outDtype(e) })),
  bitcast_convert_type: (ctx, e, ins) => exprVal(e, (shape) => ({ op: "bitcast", x: ctx.exprAt(ins[0]!, shape), dtype: outDtype(e) })),
  stop_gradient: (_ctx, _e, ins) => ins[0]!,
  threefry2x32: (ctx, e, ins) => {
    const shape = outShape(e);
    const args = ins.map((v) => ctx.exprAt(v, shape)) as [Expr, Expr, Expr, Expr];
    return ([0, 1] as const).map((which): Val => ({
      kind: "expr",
      expr: { op: "threefry", args, which, dtype: "uint32" },
      shape,
      dtype: "uint32",
    }));
  },
});
