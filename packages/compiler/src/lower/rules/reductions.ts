/** Reductions, cumulative sums and `dot_general`: each one kernel writing a new buffer. */
import type { Eqn } from "@wax/tracer";
import type { LeafKernel } from "../kernel-ir";
import { MR, NR, gemmPlan } from "../gemm-plan";
import { outDtype, outShape, type LowerContext, type Val } from "../context";
import { family } from "./family";

type ReduceFn = (LeafKernel & { kind: "reduce" })["fn"];

const reduce =
  (fn: ReduceFn) =>
  (ctx: LowerContext, e: Eqn, ins: Val[], p: { readonly axes: readonly number[] }): Val => {
    const x = ins[0]!;
    const out = ctx.fresh(outShape(e), outDtype(e));
    ctx.emit({ kind: "reduce", shape: [...x.shape], axes: [...p.axes], fn, expr: ctx.asExpr(x), out: out.buf, dtype: out.dtype, label: e.prim.name });
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
    ctx.emit({ kind: "scan", shape: outShape(e), axis: p.axis, reverse: p.reverse, expr: ctx.asExpr(ins[0]!), out: out.buf, dtype: out.dtype, label: "cumsum" });
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
    const plan = out.dtype === "float32" ? gemmPlan(kernel) : null;
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
