/**
 * Loop scaffolding shared by the kernel emitters: counted loop nests, and elementwise stores
 * of an expression over trailing dims (4 lanes at a time where the expression and the target
 * allow it, with a scalar tail).
 */
import binaryen from "binaryen";
import { dynUniform, type Expr, type Target } from "../lower/kernel-ir";
import type { ExprRef, FnBuilder, GenContext, LoopIndex } from "./builder";
import { byteAddr, genScalar, genVector, vectorizable } from "./expr";

/** Nested counted loops over `shape` (dims before `from` are left to the caller). */
export function loopNest(b: FnBuilder, shape: readonly number[], body: (idx: LoopIndex) => ExprRef, from = 0): ExprRef {
  const m = b.m;
  const locals = shape.map(() => b.local(binaryen.i32));
  const idx: LoopIndex = { dims: locals.map((l) => () => m.local.get(l, binaryen.i32)) };
  let stmt = body(idx);
  for (let d = shape.length - 1; d >= from; d--) {
    if (shape[d] === 0) return m.nop();
    stmt = countedLoop(b, locals[d]!, 0, shape[d]!, 1, stmt);
  }
  return stmt;
}

let labels = 0;

/** `for (l = from; l < to; l += step) body` as a do-while (callers ensure `from < to`). */
export function countedLoop(b: FnBuilder, l: number, from: number, to: number, step: number, body: ExprRef): ExprRef {
  const m = b.m;
  const get = () => m.local.get(l, binaryen.i32);
  const label = `L${labels++}`;
  return m.block(null, [
    m.local.set(l, m.i32.const(from)),
    m.loop(
      label,
      m.block(null, [body, m.local.set(l, m.i32.add(get(), m.i32.const(step))), m.br(label, m.i32.lt_s(get(), m.i32.const(to)))]),
    ),
  ]);
}

/** Row-major strides of `shape` (size-1 dims keep their stride). */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new globalThis.Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Stores one element `value` to `out` at the loop index. */
export function storeScalar(ctx: GenContext, out: Target, idx: LoopIndex, value: ExprRef, isF: boolean): ExprRef {
  const m = ctx.b.m;
  const base = ctx.offsets[out.buf]!;
  const addr = byteAddr(ctx, out.map, idx);
  return isF ? m.f32.store(base, 4, addr, value) : m.i32.store(base, 4, addr, value);
}

/** Whether `expr` can be written to `out` 4 lanes at a time along dim `inner`. */
export function vectorStorable(expr: Expr, out: Target, inner: number): boolean {
  return out.map.strides[inner] === 1 && dynUniform(out.map, inner) && vectorizable(expr, inner);
}

/** Stores lanes `idx[inner] .. +3` of `expr` to `out` as one vector (see `vectorStorable`). */
export function storeVector(ctx: GenContext, expr: Expr, out: Target, idx: LoopIndex, inner: number): ExprRef {
  const m = ctx.b.m;
  let value = genVector(ctx, expr, idx, inner);
  if (expr.dtype === "bool") value = m.v128.and(value, m.i32x4.splat(m.i32.const(1)));
  return m.v128.store(ctx.offsets[out.buf]!, 4, byteAddr(ctx, out.map, idx), value);
}

/**
 * Stores `expr` to `out` at `lanes` consecutive positions of dim `inner` starting at `idx`:
 * one vector store where possible, else a scalar store per lane.
 */
export function storeLanes(ctx: GenContext, expr: Expr, out: Target, idx: LoopIndex, inner: number, lanes: 1 | 4): ExprRef {
  const m = ctx.b.m;
  if (lanes === 4 && vectorStorable(expr, out, inner)) return storeVector(ctx, expr, out, idx, inner);
  if (lanes === 1) return storeScalar(ctx, out, idx, genScalar(ctx, expr, idx), expr.dtype === "float32");
  const l = ctx.b.local(binaryen.i32);
  const at = idx.dims[inner]!;
  const laneIdx: LoopIndex = { dims: idx.dims.map((d, i) => (i === inner ? () => m.i32.add(at(), m.local.get(l, binaryen.i32)) : d)) };
  return countedLoop(ctx.b, l, 0, lanes, 1, storeScalar(ctx, out, laneIdx, genScalar(ctx, expr, laneIdx), expr.dtype === "float32"));
}

/**
 * `out[i] = expr(i)` over the dims `shape[from..]`, the dims before `from` given by `prefix`;
 * the innermost dim 4 lanes at a time when it can be, then a scalar tail.
 */
export function elementwise(ctx: GenContext, shape: readonly number[], prefix: LoopIndex, expr: Expr, out: Target): ExprRef {
  const b = ctx.b;
  const m = b.m;
  const from = prefix.dims.length;
  if (shape.slice(from).some((d) => d === 0)) return m.nop();
  const isF = expr.dtype === "float32";
  if (shape.length === from) return storeScalar(ctx, out, prefix, genScalar(ctx, expr, prefix), isF);
  const inner = shape.length - 1;
  const n = shape[inner]!;
  const rest = shape.slice(from, inner);
  if (n < 4 || !vectorStorable(expr, out, inner)) {
    return loopNest(b, shape.slice(from), (idx) => {
      const full: LoopIndex = { dims: [...prefix.dims, ...idx.dims] };
      return storeScalar(ctx, out, full, genScalar(ctx, expr, full), isF);
    });
  }
  return loopNest(b, rest, (outer) => {
    const j = b.local(binaryen.i32);
    const idx: LoopIndex = { dims: [...prefix.dims, ...outer.dims, () => m.local.get(j, binaryen.i32)] };
    const vecEnd = n - (n % 4);
    const stmts = [countedLoop(b, j, 0, vecEnd, 4, storeVector(ctx, expr, out, idx, inner))];
    if (vecEnd < n) stmts.push(countedLoop(b, j, vecEnd, n, 1, storeScalar(ctx, out, idx, genScalar(ctx, expr, idx), isF)));
    return m.block(null, stmts);
  });
}
