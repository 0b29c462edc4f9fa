/**
 * Expression codegen: an `Expr` tree → a Binaryen expression, in scalar mode (f32 / i32
 * values, bools as 0/1) or vector mode (f32x4 / i32x4 in a v128, bools as lane masks 0/-1).
 * Rare ops without an instruction call host math imports (scalar mode only).
 */
import binaryen from "binaryen";
import { dynUniform, type Affine, type Expr, type KDType } from "../lower/kernel-ir";
import { CompileError } from "../errors";
import type { ExprRef, GenContext, LoopIndex } from "./builder";
import * as V from "./simd-ops";

export type { GenContext, LoopIndex } from "./builder";

const isFloat = (d: KDType) => d === "float32";

/** Element index (not bytes) of an affine map at the loop index. */
export function affineIndex(ctx: GenContext, map: Affine, idx: LoopIndex): ExprRef {
  const m = ctx.b.m;
  let e: ExprRef = m.i32.const(map.offset);
  map.strides.forEach((s, d) => {
    if (s === 0) return;
    const i = idx.dims[d]!();
    e = m.i32.add(e, s === 1 ? i : m.i32.mul(i, m.i32.const(s)));
  });
  for (const t of map.dyn) {
    const off = ctx.offsets[t.buf]! + t.elem * 4;
    // A gather/scatter index is read at the loop position (`istrides`), others at one element.
    let pos: ExprRef = m.i32.const(0);
    t.istrides?.forEach((s, d) => {
      if (s !== 0) pos = m.i32.add(pos, m.i32.mul(idx.dims[d]!(), m.i32.const(s * 4)));
    });
    // A reversed view has negative index strides: the position may be below the element the
    // index starts at, so the base goes into the address (an unsigned memarg offset cannot
    // absorb a negative position without wrapping).
    const negative = t.istrides?.some((s) => s < 0) ?? false;
    const raw = negative ? m.i32.load(0, 4, m.i32.add(m.i32.const(off), pos)) : m.i32.load(off, 4, pos);
    // clamp(raw, 0, max); a uint32 index above 2^31 is large, not negative
    const [set, get] = ctx.b.let(binaryen.i32, raw);
    const over = t.unsigned ? m.i32.gt_u(get(), m.i32.const(t.max)) : m.i32.gt_s(get(), m.i32.const(t.max));
    const under = t.unsigned ? m.i32.const(0) : m.i32.lt_s(get(), m.i32.const(0));
    const clamped = m.block(null, [set, m.select(under, m.i32.const(0), m.select(over, m.i32.const(t.max), get()))], binaryen.i32);
    e = m.i32.add(e, t.stride === 1 ? clamped : m.i32.mul(clamped, m.i32.const(t.stride)));
  }
  return e;
}

/** Byte address (without the buffer base, which goes in the memarg offset). */
export function byteAddr(ctx: GenContext, map: Affine, idx: LoopIndex): ExprRef {
  return ctx.b.m.i32.shl(affineIndex(ctx, map, idx), ctx.b.m.i32.const(2));
}

function hostCall(ctx: GenContext, name: string, args: ExprRef[]): ExprRef {
  const m = ctx.b.m;
  ctx.imports.set(name, args.length);
  return m.f32.demote(
    m.call(
      `host_${name}`,
      args.map((a) => m.f64.promote(a)),
      binaryen.f64,
    ),
  );
}

// ---- scalar mode --------------------------------------------------------------------------

/** The value of `e` at the loop index `idx`, one element (f32 or i32; bools 0/1). */
export function genScalar(ctx: GenContext, e: Expr, idx: LoopIndex): ExprRef {
  const m = ctx.b.m;
  const rec = (x: Expr) => genScalar(ctx, x, idx);
  switch (e.op) {
    case "const":
      if (isFloat(e.dtype)) return m.f32.const(e.value);
      return m.i32.const(e.dtype === "bool" ? (e.value ? 1 : 0) : e.value | 0);
    case "load": {
      const base = ctx.offsets[e.buf]!;
      const addr = byteAddr(ctx, e.map, idx);
      return isFloat(e.dtype) ? m.f32.load(base, 4, addr) : m.i32.load(base, 4, addr);
    }
    case "index": {
      const i = affineIndex(ctx, e.map, idx);
      return isFloat(e.dtype) ? m.f32.convert_s.i32(i) : i;
    }
    case "convert":
      return convertScalar(ctx, rec(e.x), e.x.dtype, e.dtype);
    case "bitcast":
      if (isFloat(e.dtype) && !isFloat(e.x.dtype)) return m.f32.reinterpret(rec(e.x));
      if (!isFloat(e.dtype) && isFloat(e.x.dtype)) return m.i32.reinterpret(rec(e.x));
      return rec(e.x);
    case "select": {
      const [setP, p] = ctx.b.let(binaryen.i32, rec(e.pred));
      const type = isFloat(e.dtype) ? binaryen.f32 : binaryen.i32;
      let r = rec(e.cases[e.cases.length - 1]!);
      for (let k = e.cases.length - 2; k >= 0; k--) {
        r = m.select(m.i32.le_s(p(), m.i32.const(k)), rec(e.cases[k]!), r);
      }
      return m.block(null, [setP, r], type);
    }
    case "ipow":
      return ipow(ctx, e.x, e.y, e.dtype, (x) => rec(x), isFloat(e.dtype) ? binaryen.f32 : binaryen.i32, false);
    case "unary":
      return unaryScalar(ctx, e.fn, rec(e.x), e.dtype);
    case "binary":
      return binaryScalar(ctx, e.fn, rec(e.x), rec(e.y), e.x.dtype);
    case "threefry":
      return threefry(ctx, e.args.map((a) => rec(a)) as [ExprRef, ExprRef, ExprRef, ExprRef], e.which, false);
  }
}

function convertScalar(ctx: GenContext, x: ExprRef, from: KDType, to: KDType): ExprRef {
  const m = ctx.b.m;
  if (from === to) return x;
  if (to === "bool") return isFloat(from) ? m.f32.ne(x, m.f32.const(0)) : m.i32.ne(x, m.i32.const(0));
  if (to === "float32") return from === "uint32" ? m.f32.convert_u.i32(x) : m.f32.convert_s.i32(x);
  // Saturating truncation (NaN → 0), as the interpreter's convert.
  if (isFloat(from)) return to === "uint32" ? m.i32.trunc_u_sat.f32(x) : m.i32.trunc_s_sat.f32(x);
  return x; // int ↔ int ↔ bool(0/1): same bits
}

function ipow(ctx: GenContext, xe: Expr, y: number, dtype: KDType, gen: (x: Expr) => ExprRef, type: number, vector: boolean): ExprRef {
  const m = ctx.b.m;
  const mul = (a: ExprRef, b: ExprRef) =>
    vector ? (isFloat(dtype) ? m.f32x4.mul(a, b) : m.i32x4.mul(a, b)) : isFloat(dtype) ? m.f32.mul(a, b) : m.i32.mul(a, b);
  const one = () => (vector ? (isFloat(dtype) ? V.f32splat(m, 1) : V.i32splat(m, 1)) : isFloat(dtype) ? m.f32.const(1) : m.i32.const(1));
  if (y === 0) return one();
  const [setX, x] = ctx.b.let(type, gen(xe));
  // exponentiation by squaring, as lax.integer_pow
  let n = Math.abs(y);
  let acc: ExprRef | null = null;
  let base: () => ExprRef = x;
  const sets: ExprRef[] = [setX];
  while (n > 0) {
    if (n & 1) acc = acc === null ? base() : mul(acc, base());
    n >>= 1;
    if (n > 0) {
      const [s, g] = ctx.b.let(type, mul(base(), base()));
      sets.push(s);
      base = g;
    }
  }
  let r = acc!;
  if (y < 0) r = vector ? m.f32x4.div(V.f32splat(m, 1), r) : m.f32.div(m.f32.const(1), r);
  return m.block(null, [...sets, r], type);
}

function unaryScalar(ctx: GenContext, fn: string, x: ExprRef, dtype: KDType): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  if (!isFloat(dtype)) {
    switch (fn) {
      case "neg":
        return m.i32.sub(m.i32.const(0), x);
      case "abs": {
        if (dtype === "uint32") return x;
        const [s, g] = b.let(binaryen.i32, x);
        return m.block(null, [s, m.select(m.i32.lt_s(g(), m.i32.const(0)), m.i32.sub(m.i32.const(0), g()), g())], binaryen.i32);
      }
      case "sign": {
        const [s, g] = b.let(binaryen.i32, x);
        const pos = dtype === "uint32" ? m.i32.ne(g(), m.i32.const(0)) : m.i32.gt_s(g(), m.i32.const(0));
        const neg = dtype === "uint32" ? m.i32.const(0) : m.i32.lt_s(g(), m.i32.const(0));
        return m.block(null, [s, m.i32.sub(pos, neg)], binaryen.i32);
      }
      case "not":
        return dtype === "bool" ? m.i32.xor(x, m.i32.const(1)) : m.i32.xor(x, m.i32.const(-1));
      case "square": {
        const [s, g] = b.let(binaryen.i32, x);
        return m.block(null, [s, m.i32.mul(g(), g())], binaryen.i32);
      }
    }
    throw new CompileError(`${fn}: no integer lowering`);
  }
  // Transcendentals go through the vector implementation on lane 0.
  const viaVector = (f: (v: ExprRef) => ExprRef) => m.f32x4.extract_lane(f(m.f32x4.splat(x)), 0);
  switch (fn) {
    case "neg":
      return m.f32.neg(x);
    case "abs":
      return m.f32.abs(x);
    case "sqrt":
      return m.f32.sqrt(x);
    case "rsqrt":
      return m.f32.div(m.f32.const(1), m.f32.sqrt(x));
    case "floor":
      return m.f32.floor(x);
    case "ceil":
      return m.f32.ceil(x);
    case "round_even":
      return m.f32.nearest(x);
    case "square": {
      const [s, g] = b.let(binaryen.f32, x);
      return m.block(null, [s, m.f32.mul(g(), g())], binaryen.f32);
    }
    case "sign":
    case "round_away":
    case "exp":
    case "log":
    case "tanh":
    case "logistic":
    case "sin":
    case "cos":
    case "erf":
    case "log1p":
    case "expm1": {
      const vf = V.vectorUnary(fn);
      if (vf) return viaVector((v) => vf(ctx, v));
      return hostCall(ctx, fn, [x]);
    }
    case "tan":
      return hostCall(ctx, fn, [x]);
    case "erf_inv":
      return hostCall(ctx, "erfinv", [x]);
  }
  throw new CompileError(`${fn}: no float lowering`);
}

function binaryScalar(ctx: GenContext, fn: string, x: ExprRef, y: ExprRef, dtype: KDType): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  if (isFloat(dtype)) {
    switch (fn) {
      case "add":
        return m.f32.add(x, y);
      case "sub":
        return m.f32.sub(x, y);
      case "mul":
        return m.f32.mul(x, y);
      case "div":
        return m.f32.div(x, y);
      case "max":
        return m.f32.max(x, y);
      case "min":
        return m.f32.min(x, y);
      case "eq":
        return m.f32.eq(x, y);
      case "ne":
        return m.f32.ne(x, y);
      case "lt":
        return m.f32.lt(x, y);
      case "le":
        return m.f32.le(x, y);
      case "gt":
        return m.f32.gt(x, y);
      case "ge":
        return m.f32.ge(x, y);
      case "pow":
        return hostCall(ctx, "pow", [x, y]);
      case "atan2":
        return hostCall(ctx, "atan2", [x, y]);
      case "rem":
        return hostCall(ctx, "fmod", [x, y]);
    }
    throw new CompileError(`${fn}: no float lowering`);
  }
  const u = dtype === "uint32";
  switch (fn) {
    case "add":
      return m.i32.add(x, y);
    case "sub":
      return m.i32.sub(x, y);
    case "mul":
      return m.i32.mul(x, y);
    case "and":
      return m.i32.and(x, y);
    case "or":
      return m.i32.or(x, y);
    case "xor":
      return m.i32.xor(x, y);
    case "eq":
      return m.i32.eq(x, y);
    case "ne":
      return m.i32.ne(x, y);
    case "lt":
      return u ? m.i32.lt_u(x, y) : m.i32.lt_s(x, y);
    case "le":
      return u ? m.i32.le_u(x, y) : m.i32.le_s(x, y);
    case "gt":
      return u ? m.i32.gt_u(x, y) : m.i32.gt_s(x, y);
    case "ge":
      return u ? m.i32.ge_u(x, y) : m.i32.ge_s(x, y);
  }
  const [sx, gx] = b.let(binaryen.i32, x);
  const [sy, gy] = b.let(binaryen.i32, y);
  const blk = (r: ExprRef) => m.block(null, [sx, sy, r], binaryen.i32);
  const inRange = () => m.i32.lt_u(gy(), m.i32.const(32));
  switch (fn) {
    case "max":
      return blk(m.select(u ? m.i32.gt_u(gx(), gy()) : m.i32.gt_s(gx(), gy()), gx(), gy()));
    case "min":
      return blk(m.select(u ? m.i32.lt_u(gx(), gy()) : m.i32.lt_s(gx(), gy()), gx(), gy()));
    // XLA: x / 0 = -1 and x % 0 = x; INT_MIN / -1 wraps (wasm would trap on both).
    case "div": {
      const safe = u
        ? m.i32.div_u(gx(), gy())
        : m.i32.div_s(
            gx(),
            m.select(m.i32.and(m.i32.eq(gx(), m.i32.const(-2147483648)), m.i32.eq(gy(), m.i32.const(-1))), m.i32.const(1), gy()),
          );
      const wrapped = u ? safe : m.select(m.i32.eq(gy(), m.i32.const(-1)), m.i32.sub(m.i32.const(0), gx()), safe);
      return blk(m.if(m.i32.eqz(gy()), m.i32.const(-1), wrapped));
    }
    case "rem": {
      const r = u ? m.i32.rem_u(gx(), gy()) : m.i32.rem_s(gx(), gy());
      return blk(m.if(m.i32.eqz(gy()), gx(), r));
    }
    case "shl":
      return blk(m.select(inRange(), m.i32.shl(gx(), gy()), m.i32.const(0)));
    case "shr_u":
      return blk(m.select(inRange(), m.i32.shr_u(gx(), gy()), m.i32.const(0)));
    case "shr_s":
      return blk(m.select(inRange(), m.i32.shr_s(gx(), gy()), m.i32.shr_s(gx(), m.i32.const(31))));
  }
  throw new CompileError(`${fn}: no integer lowering`);
}

/** Threefry-2x32 (20 rounds) on i32 or i32x4 values. */
export function threefry(ctx: GenContext, [k0, k1, x0, x1]: [ExprRef, ExprRef, ExprRef, ExprRef], which: 0 | 1, vector: boolean): ExprRef {
  const m = ctx.b.m;
  const T = vector ? binaryen.v128 : binaryen.i32;
  const add = (a: ExprRef, c: ExprRef) => (vector ? m.i32x4.add(a, c) : m.i32.add(a, c));
  const xor = (a: ExprRef, c: ExprRef) => (vector ? m.v128.xor(a, c) : m.i32.xor(a, c));
  // The value is read twice in the vector rotation, so it is passed as a getter (Binaryen trees).
  const rotl = (a: () => ExprRef, r: number) =>
    vector ? m.v128.or(m.i32x4.shl(a(), m.i32.const(r)), m.i32x4.shr_u(a(), m.i32.const(32 - r))) : m.i32.rotl(a(), m.i32.const(r));
  const c = (v: number) => (vector ? V.i32splat(m, v) : m.i32.const(v));
  const sets: ExprRef[] = [];
  const bind = (v: ExprRef) => {
    const [s, g] = ctx.b.let(T, v);
    sets.push(s);
    return g;
  };
  const ks0 = bind(k0);
  const ks1 = bind(k1);
  const ks2 = bind(xor(xor(ks0(), ks1()), c(0x1bd11bda)));
  const ks = [ks0, ks1, ks2];
  let a = bind(add(x0, ks0()));
  let bb = bind(add(x1, ks1()));
  const ROT = [
    [13, 15, 26, 6],
    [17, 29, 16, 24],
  ];
  for (let i = 0; i < 5; i++) {
    for (const r of ROT[i % 2]!) {
      const na = bind(add(a(), bb()));
      const nb = bind(xor(rotl(bb, r), na()));
      a = na;
      bb = nb;
    }
    const na = bind(add(a(), ks[(i + 1) % 3]!()));
    const nb = bind(add(add(bb(), ks[(i + 2) % 3]!()), c(i + 1)));
    a = na;
    bb = nb;
  }
  return m.block(null, [...sets, which === 0 ? a() : bb()], T);
}

// ---- vector mode --------------------------------------------------------------------------

/** Whether `e` can be evaluated 4 lanes at a time along the innermost loop dimension. */
export function vectorizable(e: Expr, innerDim: number): boolean {
  const innerOk = (map: Affine) => map.strides[innerDim] === 0 || map.strides[innerDim] === 1;
  switch (e.op) {
    case "const":
      return true;
    case "load":
      return innerOk(e.map) && dynUniform(e.map, innerDim);
    case "index":
      return true;
    case "convert":
      return vectorizable(e.x, innerDim);
    case "bitcast":
      return vectorizable(e.x, innerDim);
    case "select":
      return (
        (e.pred.dtype === "bool" || e.cases.length <= 2) &&
        vectorizable(e.pred, innerDim) &&
        e.cases.every((c) => vectorizable(c, innerDim))
      );
    case "ipow":
      return vectorizable(e.x, innerDim);
    case "unary":
      return V.vectorUnaryOk(e.fn, e.dtype) && vectorizable(e.x, innerDim);
    case "binary":
      return V.vectorBinaryOk(e.fn, e.x.dtype, e.y, innerDim) && vectorizable(e.x, innerDim) && vectorizable(e.y, innerDim);
    case "threefry":
      return e.args.every((a) => vectorizable(a, innerDim));
  }
}

/** Vector value of `e` for lanes j..j+3 of the innermost dim (bools as masks). */
export function genVector(ctx: GenContext, e: Expr, idx: LoopIndex, innerDim: number): ExprRef {
  const m = ctx.b.m;
  const rec = (x: Expr) => genVector(ctx, x, idx, innerDim);
  switch (e.op) {
    case "const":
      if (isFloat(e.dtype)) return V.f32splat(m, e.value);
      return V.i32splat(m, e.dtype === "bool" ? (e.value ? -1 : 0) : e.value | 0);
    case "load": {
      const base = ctx.offsets[e.buf]!;
      const addr = byteAddr(ctx, e.map, idx);
      let v: ExprRef;
      if (e.map.strides[innerDim] === 0) v = m.v128.load32_splat(base, 4, addr);
      else v = m.v128.load(base, 4, addr);
      return e.dtype === "bool" ? m.i32x4.neg(v) : v;
    }
    case "index": {
      const s = e.map.strides[innerDim]!;
      const i = m.i32x4.splat(affineIndex(ctx, e.map, idx));
      const lanes = m.i32x4.add(i, V.i32const4(m, [0, s, 2 * s, 3 * s]));
      return isFloat(e.dtype) ? m.f32x4.convert_i32x4_s(lanes) : lanes;
    }
    case "convert":
      return V.convertVector(m, rec(e.x), e.x.dtype, e.dtype);
    case "bitcast":
      return rec(e.x);
    case "select": {
      // bool pred is a mask; an int32 pred with 2 cases selects case 1 where pred != 0.
      let mask = rec(e.pred);
      // int32 predicate: case 1 where pred >= 1 (out-of-range clamps, as the interpreter does)
      if (e.pred.dtype !== "bool") mask = m.i32x4.gt_s(mask, V.i32splat(m, 0));
      if (e.cases.length === 1) return rec(e.cases[0]!);
      return m.v128.bitselect(rec(e.cases[1]!), rec(e.cases[0]!), mask);
    }
    case "ipow":
      return ipow(ctx, e.x, e.y, e.dtype, rec, binaryen.v128, true);
    case "unary":
      return V.unaryVector(ctx, e.fn, rec(e.x), e.dtype);
    case "binary":
      return V.binaryVector(ctx, e.fn, rec(e.x), e.y.op === "const" || V.isUniform(e.y, innerDim) ? e.y : null, rec, e.x.dtype, e.y);
    case "threefry":
      return threefry(ctx, e.args.map((a) => rec(a)) as [ExprRef, ExprRef, ExprRef, ExprRef], e.which, true);
  }
}
