/** Reductions, cumulative sums and `dot_general`: each one kernel writing a new buffer. */
import type { Eqn } from "@wax/tracer";
import { contiguous, type LeafKernel, type Target } from "../kernel-ir";
import { MR, NR, gemmPlan, type GemmPlan } from "../gemm-plan";
import { outDtype, outShape, type LowerContext, type Val } from "../context";
import { family } from "./family";

type ReduceFn = (LeafKernel & { kind: "reduce" })["fn"];

const reduce =
  (fn: ReduceFn) =>
  (ctx: LowerContext, e: Eqn, ins: Val[], p: { readonly axes: readonly number[] }): Val => {
    const x = ins[0]!;
    const out = ctx.fresh(outShape(e), outDtype(e));
    ctx.emit({
      kind: "reduce",
      shape: [...x.shape],
      axes: [...p.axes],
      fn,
      expr: ctx.asExpr(x),
      out: out.buf,
      dtype: out.dtype,
      label: e.prim.name,
    });
    return out;
  };

/** Lowering rules of the reductions, `cumsum` and `dot_general`. */
export const reductionRules = family({
  reduce_sum: reduce("sum"),
  reduce_max: reduce("max"),
  reduce_min: reduce("min"),
  reduce_prod: reduce("prod"),
  argmax: reduce("argmax"),
  argmin: reduce("argmin"),
  cumsum: (ctx, e, ins, p) => {
    const out = ctx.fresh(outShape(e), outDtype(e));
    ctx.emit({
      kind: "scan",
      shape: outShape(e),
      axis: p.axis,
      reverse: p.reverse,
      expr: ctx.asExpr(ins[0]!),
      out: out.buf,
      dtype: out.dtype,
      label: "cumsum",
    });
    return out;
  },
  dot_general: (ctx, e, ins, p) => {
    const [[lc, rc], [lb, rb]] = p.dimension_numbers;
    const a = ctx.materialize(ins[0]!, "dot_general lhs");
    const b = ctx.materialize(ins[1]!, "dot_general rhs");
    const lf = a.shape.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i));
    const rf = b.shape.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i));
    const aOrder = [...lb, ...lf, ...lc];
    const bOrder = [...rb, ...rc, ...rf];
    const out = ctx.fresh(outShape(e), outDtype(e));
    const kernel: LeafKernel & { kind: "matmul" } = {
      kind: "matmul",
      batch: lb.map((d) => a.shape[d]!),
      mDims: lf.map((d) => a.shape[d]!),
      nDims: rf.map((d) => b.shape[d]!),
      kDims: lc.map((d) => a.shape[d]!),
      a: { buf: a.buf, map: { strides: aOrder.map((d) => a.map.strides[d]!), offset: a.map.offset, dyn: a.map.dyn } },
      b: { buf: b.buf, map: { strides: bOrder.map((d) => b.map.strides[d]!), offset: b.map.offset, dyn: b.map.dyn } },
      out: out.buf,
      dtype: out.dtype,
      label: "dot_general",
    };
    let plan = out.dtype === "float32" ? gemmPlan(kernel) : null;
    if (!plan && out.dtype === "float32") {
      // Operand dims that do not merge (a vmapped im2col, a transposed cotangent) are copied
      // once into the GEMM's [batch, m, k] / [batch, k, n] order: a streaming pass, against
      // the unpacked fallback's several-fold slower inner loop.
      const packed = contiguousOperands(ctx, kernel);
      if (packed) {
        plan = packed.plan;
        kernel.a = packed.a;
        kernel.b = packed.b;
      }
    }
    if (plan && splitLongK(ctx, kernel, plan)) return out;
    if (plan) {
      const aPack = ctx.newBuf(plan.Mp * plan.K, "float32");
      const bPack = ctx.newBuf(plan.K * plan.Np, "float32");
      const tile = ctx.newBuf(MR * NR, "float32");
      kernel.gemm = { plan, aPack, bPack, tile };
    }
    ctx.emit(kernel);
    return out;
  },
});

type MatmulKernel = LeafKernel & { kind: "matmul" };

/**
 * The GEMM plan of `k` with each operand whose dims do not merge copied to a contiguous
 * buffer in GEMM order; null when the problem is not a GEMM candidate even then.
 */
function contiguousOperands(ctx: LowerContext, k: MatmulKernel): { plan: GemmPlan; a: Target; b: Target } | null {
  const aShape = [...k.batch, ...k.mDims, ...k.kDims];
  const bShape = [...k.batch, ...k.kDims, ...k.nDims];
  const copy = (t: Target, shape: number[], label: string): Target => {
    const c = ctx.copy({ kind: "buf", buf: t.buf, map: t.map, shape, dtype: "float32" }, label);
    return { buf: c.buf, map: contiguous(shape) };
  };
  // Size-1 dims get stride 0 in `contiguous`; the merge ignores them, so this is a full check.
  const trial = { ...k, a: { buf: k.a.buf, map: contiguous(aShape) }, b: { buf: k.b.buf, map: contiguous(bShape) } };
  if (!gemmPlan(trial)) return null;
  const aOk = gemmPlan({ ...trial, a: k.a }) !== null;
  const bOk = gemmPlan({ ...trial, b: k.b }) !== null;
  const a = aOk ? k.a : copy(k.a, aShape, "dot_general lhs (to GEMM order)");
  const b = bOk ? k.b : copy(k.b, bShape, "dot_general rhs (to GEMM order)");
  const plan = gemmPlan({ ...k, a, b });
  return plan ? { plan, a, b } : null;
}

/**
 * A product whose contraction is much longer than its output (a weight gradient: Σ over batch
 * and positions into a small [out, in] matrix) is split along its outermost contracted dim
 * into a batch of GEMMs, whose packed panels fit in cache, and a sum over that batch: the
 * single GEMM would stream both k-long panels from memory for every tile of the output.
 * Emits both kernels and returns true, or returns false to leave `k` as it is.
 */
function splitLongK(ctx: LowerContext, k: MatmulKernel, plan: GemmPlan): boolean {
  if (plan.batch !== 1 || k.kDims.length < 2 || k.kDims[0]! < 4 || plan.K < 2048 || plan.K < 16 * Math.max(plan.M, plan.N)) return false;
  const nb = k.batch.length; // all of size 1: dropped
  const nm = k.mDims.length;
  const nk = k.kDims.length;
  const as = k.a.map.strides.slice(nb);
  const bs = k.b.map.strides.slice(nb);
  const parts = k.kDims[0]!;
  const split: MatmulKernel = {
    ...k,
    batch: [parts],
    kDims: k.kDims.slice(1),
    a: { buf: k.a.buf, map: { ...k.a.map, strides: [as[nm]!, ...as.slice(0, nm), ...as.slice(nm + 1)] } },
    b: { buf: k.b.buf, map: { ...k.b.map, strides: [bs[0]!, ...bs.slice(1, nk), ...bs.slice(nk)] } },
    label: "dot_general (k split)",
  };
  const splitPlan = gemmPlan(split);
  if (!splitPlan) return false;
  const shape = [parts, ...k.mDims, ...k.nDims];
  const partial = ctx.fresh(shape, "float32");
  split.out = partial.buf;
  split.gemm = {
    plan: splitPlan,
    aPack: ctx.newBuf(splitPlan.Mp * splitPlan.K, "float32"),
    bPack: ctx.newBuf(splitPlan.K * splitPlan.Np, "float32"),
    tile: ctx.newBuf(MR * NR, "float32"),
  };
  ctx.emit(split);
  ctx.emit({
    kind: "reduce",
    shape,
    axes: [0],
    fn: "sum",
    expr: ctx.asExpr(partial),
    out: k.out,
    dtype: "float32",
    label: "dot_general (k split sum)",
  });
  return true;
}
