/**
 * Reductions. Three loop shapes, picked per kernel:
 * - the reduced axes include the contiguous innermost one, long enough (≥ 16): four
 *   independent f32x4 / i32x4 accumulators over that axis (16 elements per step), combined
 *   across lanes at the end, then a scalar tail;
 * - the innermost axis is kept (reducing outer axes, e.g. a bias gradient over the batch):
 *   vectors of 4 adjacent outputs accumulate side by side (4 such vectors per step where the
 *   axis allows), each reading contiguous input rows;
 * - otherwise one scalar accumulator per output element, float sums and products in f64.
 * The vector shapes accumulate float32 sums in float32 and in another order than the
 * interpreter (which accumulates in float64): their difference is bounded by (n + 2)·2⁻²⁴·Σ|terms|
 * for n reduced elements. Max, min and integer reductions are exact in any order; float
 * products stay scalar in f64 (an f32 partial product may overflow where f64's does not).
 * An epilogue (fused elementwise consumer) is evaluated right after each output is stored.
 */
import binaryen from "binaryen";
import type { Affine, KDType, LeafKernel } from "../lower/kernel-ir";
import type { ExprRef, GenContext, LoopIndex } from "./builder";
import { byteAddr, genScalar, genVector, vectorizable } from "./expr";
import { contiguousStrides, countedLoop, loopNest, storeLanes } from "./loops";

type ReduceKernel = LeafKernel & { kind: "reduce" };
type Fn = ReduceKernel["fn"];

/** Lanes per vector × vectors per step in the unrolled loops. */
const UNROLL = 4;
/** Shortest reduced innermost axis worth the vector loop. */
const MIN_INNER = 16;

function initValue(fn: Fn, dtype: KDType): number {
  if (fn === "sum") return 0;
  if (fn === "prod") return 1;
  const lowest = fn === "max" || fn === "argmax";
  if (dtype === "float32") return lowest ? -Infinity : Infinity;
  if (dtype === "bool") return lowest ? 0 : 1;
  if (dtype === "uint32") return lowest ? 0 : -1;
  return lowest ? -2147483648 : 2147483647;
}

/** The reduction's combining step on two vectors. */
function vectorStep(m: binaryen.Module, fn: Fn, dtype: KDType, a: ExprRef, x: ExprRef): ExprRef {
  if (dtype === "float32") {
    if (fn === "sum") return m.f32x4.add(a, x);
    if (fn === "prod") return m.f32x4.mul(a, x);
    return fn === "max" ? m.f32x4.max(a, x) : m.f32x4.min(a, x);
  }
  const u = dtype === "uint32";
  if (fn === "sum") return m.i32x4.add(a, x);
  if (fn === "prod") return m.i32x4.mul(a, x);
  if (fn === "max") return u ? m.i32x4.max_u(a, x) : m.i32x4.max_s(a, x);
  return u ? m.i32x4.min_u(a, x) : m.i32x4.min_s(a, x);
}

/** The combining step on two scalars of the input type (f32 or i32). */
function scalarStep(ctx: GenContext, fn: Fn, dtype: KDType, a: ExprRef, x: ExprRef): ExprRef {
  const m = ctx.b.m;
  if (dtype === "float32") {
    if (fn === "sum") return m.f32.add(a, x);
    if (fn === "prod") return m.f32.mul(a, x);
    return fn === "max" ? m.f32.max(a, x) : m.f32.min(a, x);
  }
  if (fn === "sum") return m.i32.add(a, x);
  if (fn === "prod") return m.i32.mul(a, x);
  const u = dtype === "uint32";
  const [sa, ga] = ctx.b.let(binaryen.i32, a);
  const [sx, gx] = ctx.b.let(binaryen.i32, x);
  const gt = u ? m.i32.gt_u(ga(), gx()) : m.i32.gt_s(ga(), gx());
  const lt = u ? m.i32.lt_u(ga(), gx()) : m.i32.lt_s(ga(), gx());
  return m.block(null, [sa, sx, m.select(fn === "max" ? gt : lt, ga(), gx())], binaryen.i32);
}

/** The loops of a reduction kernel (see the module comment for the three shapes). */
export function genReduce(ctx: GenContext, k: ReduceKernel): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  const rank = k.shape.length;
  const inner = rank - 1;
  const keep = k.shape.map((_, i) => i).filter((i) => !k.axes.includes(i));
  const outShape = keep.map((i) => k.shape[i]!);
  const outMap: Affine = { strides: contiguousStrides(outShape), offset: 0, dyn: [] };
  const outBase = ctx.offsets[k.out]!;
  const dtype = k.expr.dtype;
  const isF = dtype === "float32";
  // Float products stay scalar in f64: an f32 partial product can overflow to ±inf (then
  // inf·0 = NaN) where the interpreter's f64 one does not. Integer products wrap either way.
  const vectorFn =
    (k.fn === "sum" || k.fn === "max" || k.fn === "min" || (k.fn === "prod" && !isF)) &&
    dtype !== "bool" &&
    rank > 0 &&
    vectorizable(k.expr, inner);
  const type = isF ? binaryen.f32 : binaryen.i32;
  const init = initValue(k.fn, dtype);
  const splatInit = () => (isF ? m.f32x4.splat(m.f32.const(init)) : m.i32x4.splat(m.i32.const(init)));
  const scalarInit = () => (isF ? m.f32.const(init) : m.i32.const(init));
  const epilogue = (outIdx: LoopIndex, lanes: 1 | 4): ExprRef[] =>
    k.epilogue ? [storeLanes(ctx, k.epilogue.expr, k.epilogue.out, outIdx, outShape.length - 1, lanes)] : [];
  /** The input index from output (kept) and reduced indices. */
  const inputIndex = (outIdx: LoopIndex, redIdx: LoopIndex, redAxes: readonly number[]): LoopIndex => ({
    dims: k.shape.map((_, d) => {
      const ki = keep.indexOf(d);
      return ki >= 0 ? outIdx.dims[ki]! : redIdx.dims[redAxes.indexOf(d)]!;
    }),
  });

  // The innermost axis is reduced: vector accumulators along it.
  if (vectorFn && k.axes.includes(inner) && k.shape[inner]! >= MIN_INNER) {
    const n = k.shape[inner]!;
    const outerAxes = k.axes.filter((a) => a !== inner);
    return loopNest(b, outShape, (outIdx) => {
      const acc = globalThis.Array.from({ length: UNROLL }, () => b.local(binaryen.v128));
      const tail = b.local(type);
      const j = b.local(binaryen.i32);
      const jGet = () => m.local.get(j, binaryen.i32);
      const body = loopNest(
        b,
        outerAxes.map((a) => k.shape[a]!),
        (redIdx) => {
          const at = (lane: number): LoopIndex => {
            const base = inputIndex(outIdx, redIdx, outerAxes);
            base.dims[inner] = lane === 0 ? jGet : () => m.i32.add(jGet(), m.i32.const(lane));
            return base;
          };
          const stmts: ExprRef[] = [];
          const step16 = n - (n % (4 * UNROLL));
          stmts.push(
            countedLoop(
              b,
              j,
              0,
              step16,
              4 * UNROLL,
              m.block(
                null,
                acc.map((a, u) =>
                  m.local.set(a, vectorStep(m, k.fn, dtype, m.local.get(a, binaryen.v128), genVector(ctx, k.expr, at(4 * u), inner))),
                ),
              ),
            ),
          ); // step16 ≥ 16: n ≥ MIN_INNER
          const step4 = n - (n % 4);
          if (step4 > step16)
            stmts.push(
              countedLoop(
                b,
                j,
                step16,
                step4,
                4,
                m.local.set(acc[0]!, vectorStep(m, k.fn, dtype, m.local.get(acc[0]!, binaryen.v128), genVector(ctx, k.expr, at(0), inner))),
              ),
            );
          if (n > step4)
            stmts.push(
              countedLoop(
                b,
                j,
                step4,
                n,
                1,
                m.local.set(tail, scalarStep(ctx, k.fn, dtype, m.local.get(tail, type), genScalar(ctx, k.expr, at(0)))),
              ),
            );
          return m.block(null, stmts);
        },
      );
      // Combine: accumulators pairwise, then the 4 lanes pairwise, then the scalar tail.
      const v = (i: number) => m.local.get(acc[i]!, binaryen.v128);
      const [setAll, all] = b.let(
        binaryen.v128,
        vectorStep(m, k.fn, dtype, vectorStep(m, k.fn, dtype, v(0), v(1)), vectorStep(m, k.fn, dtype, v(2), v(3))),
      );
      const lane = (i: number) => (isF ? m.f32x4.extract_lane(all(), i) : m.i32x4.extract_lane(all(), i));
      const s = (x: ExprRef, y: ExprRef) => scalarStep(ctx, k.fn, dtype, x, y);
      const result = s(s(s(lane(0), lane(1)), s(lane(2), lane(3))), m.local.get(tail, type));
      const store = isF
        ? m.f32.store(outBase, 4, byteAddr(ctx, outMap, outIdx), result)
        : m.i32.store(outBase, 4, byteAddr(ctx, outMap, outIdx), result);
      return m.block(null, [
        ...acc.map((a) => m.local.set(a, splatInit())),
        m.local.set(tail, scalarInit()),
        body,
        setAll,
        store,
        ...epilogue(outIdx, 1),
      ]);
    });
  }

  // The innermost axis is kept: vectors of adjacent outputs accumulate side by side.
  if (vectorFn && !k.axes.includes(inner) && k.shape[inner]! >= 4 && k.axes.length > 0) {
    const n = k.shape[inner]!;
    const outInner = outShape.length - 1;
    const redShape = k.axes.map((a) => k.shape[a]!);
    return loopNest(b, outShape.slice(0, outInner), (outer) => {
      const j = b.local(binaryen.i32);
      const jGet = () => m.local.get(j, binaryen.i32);
      const outIdx = (lane: number): LoopIndex => ({
        dims: [...outer.dims, lane === 0 ? jGet : () => m.i32.add(jGet(), m.i32.const(lane))],
      });
      /** `vectors` adjacent output vectors starting at column j. */
      const group = (vectors: number): ExprRef => {
        const acc = globalThis.Array.from({ length: vectors }, () => b.local(binaryen.v128));
        const loop = loopNest(b, redShape, (redIdx) =>
          m.block(
            null,
            acc.map((a, u) =>
              m.local.set(
                a,
                vectorStep(
                  m,
                  k.fn,
                  dtype,
                  m.local.get(a, binaryen.v128),
                  genVector(ctx, k.expr, inputIndex(outIdx(4 * u), redIdx, k.axes), inner),
                ),
              ),
            ),
          ),
        );
        const stores = acc.flatMap((a, u) => [
          m.v128.store(outBase, 4, byteAddr(ctx, outMap, outIdx(4 * u)), m.local.get(a, binaryen.v128)),
          ...epilogue(outIdx(4 * u), 4),
        ]);
        return m.block(null, [...acc.map((a) => m.local.set(a, splatInit())), loop, ...stores]);
      };
      const stmts: ExprRef[] = [];
      const step16 = n - (n % (4 * UNROLL));
      if (step16 > 0) stmts.push(countedLoop(b, j, 0, step16, 4 * UNROLL, group(UNROLL)));
      const step4 = n - (n % 4);
      if (step4 > step16) stmts.push(countedLoop(b, j, step16, step4, 4, group(1)));
      if (n > step4)
        stmts.push(countedLoop(b, j, step4, n, 1, m.block(null, [scalarReduce(ctx, k, outIdx(0)), ...epilogue(outIdx(0), 1)])));
      return m.block(null, stmts);
    });
  }

  return loopNest(b, outShape, (outIdx) => m.block(null, [scalarReduce(ctx, k, outIdx), ...epilogue(outIdx, 1)]));
}

/** One output element by a scalar loop over the reduced axes (float sums and products in f64, as the interpreter). */
function scalarReduce(ctx: GenContext, k: ReduceKernel, outIdx: LoopIndex): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  const keep = k.shape.map((_, i) => i).filter((i) => !k.axes.includes(i));
  const outShape = keep.map((i) => k.shape[i]!);
  const inF = k.expr.dtype === "float32";
  const outBase = ctx.offsets[k.out]!;
  const outMap: Affine = { strides: contiguousStrides(outShape), offset: 0, dyn: [] };
  const isArg = k.fn === "argmax" || k.fn === "argmin";
  const accType = inF ? (isArg || k.fn === "max" || k.fn === "min" ? binaryen.f32 : binaryen.f64) : binaryen.i32;
  const unsigned = k.expr.dtype === "uint32";
  const acc = b.local(accType);
  const best = isArg ? b.local(binaryen.i32) : -1;
  const counter = isArg ? b.local(binaryen.i32) : -1;
  const accGet = () => m.local.get(acc, accType);
  const initV = initValue(k.fn, k.expr.dtype);
  const init = accType === binaryen.f64 ? m.f64.const(initV) : accType === binaryen.f32 ? m.f32.const(initV) : m.i32.const(initV);
  const redShape = k.axes.map((a) => k.shape[a]!);
  const inner = loopNest(b, redShape, (redIdx) => {
    const dims = k.shape.map((_, d) => {
      const ki = keep.indexOf(d);
      return ki >= 0 ? outIdx.dims[ki]! : redIdx.dims[k.axes.indexOf(d)]!;
    });
    const v = genScalar(ctx, k.expr, { dims });
    if (isArg) {
      const [sv, gv] = b.let(inF ? binaryen.f32 : binaryen.i32, v);
      const better = inF
        ? k.fn === "argmax"
          ? m.f32.gt(gv(), accGet())
          : m.f32.lt(gv(), accGet())
        : k.fn === "argmax"
          ? unsigned
            ? m.i32.gt_u(gv(), accGet())
            : m.i32.gt_s(gv(), accGet())
          : unsigned
            ? m.i32.lt_u(gv(), accGet())
            : m.i32.lt_s(gv(), accGet());
      // first element, or (best is not NaN and (v is NaN or v better)) — JAX: first NaN wins
      const cGet = () => m.local.get(counter, binaryen.i32);
      const take = inF
        ? m.i32.or(m.i32.eqz(cGet()), m.i32.and(m.f32.eq(accGet(), accGet()), m.i32.or(m.f32.ne(gv(), gv()), better)))
        : m.i32.or(m.i32.eqz(cGet()), better);
      return m.block(null, [
        sv,
        m.if(take, m.block(null, [m.local.set(acc, gv()), m.local.set(best, cGet())])),
        m.local.set(counter, m.i32.add(cGet(), m.i32.const(1))),
      ]);
    }
    if (accType === binaryen.f64)
      return m.local.set(acc, k.fn === "sum" ? m.f64.add(accGet(), m.f64.promote(v)) : m.f64.mul(accGet(), m.f64.promote(v)));
    return m.local.set(acc, scalarStep(ctx, k.fn, k.expr.dtype, accGet(), v));
  });
  const result = isArg ? m.local.get(best, binaryen.i32) : accType === binaryen.f64 ? m.f32.demote(accGet()) : accGet();
  const store =
    k.dtype === "float32"
      ? m.f32.store(outBase, 4, byteAddr(ctx, outMap, outIdx), result)
      : m.i32.store(outBase, 4, byteAddr(ctx, outMap, outIdx), result);
  const pre: ExprRef[] = [m.local.set(acc, init)];
  if (isArg) pre.push(m.local.set(best, m.i32.const(0)), m.local.set(counter, m.i32.const(0)));
  return m.block(null, [...pre, inner, store]);
}
