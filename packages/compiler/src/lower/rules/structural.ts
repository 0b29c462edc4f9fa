/**
 * Structural primitives. Views (broadcast, transpose, squeeze, slice, contiguous reshape,
 * dynamic_slice, iota) become affine maps and cost no kernel; the others write a new buffer.
 */
import type { Affine } from "../kernel-ir";
import { contiguous, isContiguous } from "../kernel-ir";
import { contiguousStride, outDtype, outShape, remapAffine, writeStrides, type LowerContext, type Val } from "../context";
import { family } from "./family";

/** Adds the clamped start indices `idx` (literals fold into the offset) to a map with `strides`. */
function startTerms(
  ctx: LowerContext,
  idx: readonly Val[],
  strides: readonly number[],
  max: (d: number) => number,
  label: string,
): { offset: number; dyn: Affine["dyn"] } {
  let offset = 0;
  const dyn: Affine["dyn"] = [];
  idx.forEach((iv, d) => {
    if (iv.kind === "expr" && iv.expr.op === "const") offset += Math.min(Math.max(iv.expr.value, 0), max(d)) * strides[d]!;
    else dyn.push({ ...ctx.scalar(iv, label), stride: strides[d]!, max: max(d) });
  });
  return { offset, dyn };
}

/** Lowering rules of the structural primitives. */
export const structuralRules = family({
  iota: (_ctx, e, _ins, p) => {
    const shape = outShape(e);
    const map: Affine = { strides: shape.map((_, i) => (i === p.dimension ? 1 : 0)), offset: 0, dyn: [] };
    return { kind: "expr", expr: { op: "index", map, dtype: outDtype(e) }, shape, dtype: outDtype(e) };
  },
  broadcast_in_dim: (ctx, e, ins, p) => {
    const x = ins[0]!;
    const shape = outShape(e);
    return ctx.view(x, shape, (m) =>
      remapAffine(m, (s, off) => {
        const ns = shape.map(() => 0);
        p.broadcast_dimensions.forEach((d, i) => (ns[d] = x.shape[i] === 1 ? 0 : s[i]!));
        return [ns, off];
      }),
    );
  },
  transpose: (ctx, e, ins, p) => ctx.view(ins[0]!, outShape(e), (m) => remapAffine(m, (s, off) => [p.permutation.map((q) => s[q]!), off])),
  squeeze: (ctx, e, ins, p) =>
    ctx.view(ins[0]!, outShape(e), (m) => remapAffine(m, (s, off) => [s.filter((_, i) => !p.dimensions.includes(i)), off])),
  slice: (ctx, e, ins, p) => {
    const start = p.start_indices;
    const strides = p.strides ?? start.map(() => 1);
    return ctx.view(ins[0]!, outShape(e), (m) =>
      remapAffine(m, (s, off) => [s.map((v, i) => v * strides[i]!), off + start.reduce((acc, st, i) => acc + st * s[i]!, 0)]),
    );
  },
  reshape: (ctx, e, ins) => {
    const x = ins[0]!;
    // A non-contiguous view (transpose, broadcast, strided slice) is copied out first.
    const b = x.kind === "buf" && isContiguous(x.map, x.shape) ? x : ctx.copy(x, "reshape");
    return { kind: "buf", buf: b.buf, map: contiguous(outShape(e), b.map.offset), shape: outShape(e), dtype: b.dtype };
  },
  dynamic_slice: (ctx, e, ins, p) => {
    const x = ctx.materialize(ins[0]!, "dynamic_slice");
    const t = startTerms(ctx, ins.slice(1), x.map.strides, (d) => x.shape[d]! - p.slice_sizes[d]!, "dynamic_slice index");
    return {
      kind: "buf",
      buf: x.buf,
      map: { strides: [...x.map.strides], offset: x.map.offset + t.offset, dyn: [...x.map.dyn, ...t.dyn] },
      shape: outShape(e),
      dtype: x.dtype,
    };
  },
  dynamic_update_slice: (ctx, e, ins) => {
    const [x, u, ...idx] = ins;
    const shape = outShape(e);
    const out = ctx.fresh(shape, outDtype(e));
    ctx.emit({ kind: "map", shape, out: { buf: out.buf, map: out.map }, expr: ctx.asExpr(x!), label: "dynamic_update_slice(copy)" });
    const full = writeStrides(shape);
    const t = startTerms(ctx, idx, full, (d) => shape[d]! - u!.shape[d]!, "dynamic_update_slice index");
    ctx.emit({
      kind: "map",
      shape: [...u!.shape],
      out: { buf: out.buf, map: { strides: full, offset: t.offset, dyn: t.dyn } },
      expr: ctx.asExpr(u!),
      label: "dynamic_update_slice",
    });
    return out;
  },
  concatenate: (ctx, e, ins, p) => {
    const shape = outShape(e);
    const out = ctx.fresh(shape, outDtype(e));
    const full = writeStrides(shape);
    let off = 0;
    for (const x of ins) {
      ctx.emit({
        kind: "map",
        shape: [...x.shape],
        out: { buf: out.buf, map: { strides: full, offset: off * full[p.dimension]!, dyn: [] } },
        expr: ctx.asExpr(x),
        label: "concatenate",
      });
      off += x.shape[p.dimension]!;
    }
    return out;
  },
  pad: (ctx, e, ins, p) => {
    const [x, v] = ins;
    const cfg = p.padding_config;
    const shape = outShape(e);
    const out = ctx.fresh(shape, outDtype(e));
    const full = shape.map((_, d) => contiguousStride(shape, d));
    ctx.emit({ kind: "map", shape, out: { buf: out.buf, map: contiguous(shape) }, expr: ctx.exprAt(v!, shape), label: "pad(fill)" });
    // Crop the operand where low/high padding is negative, then write it strided.
    const lo = cfg.map(([l, , interior]) => (l < 0 ? Math.ceil(-l / (interior + 1)) : 0));
    const srcShape = x!.shape.map((n, d) => {
      const [l, , interior] = cfg[d]!;
      const first = lo[d]!;
      let last = n - 1;
      while (last >= first && l + last * (interior + 1) >= shape[d]!) last--;
      return Math.max(0, last - first + 1);
    });
    if (srcShape.every((n) => n > 0)) {
      const src = ctx.view(x!, srcShape, (m) => remapAffine(m, (s, off) => [s, off + lo.reduce((acc, l, d) => acc + l * s[d]!, 0)]));
      const offset = cfg.reduce((acc, [l, , interior], d) => acc + (l + lo[d]! * (interior + 1)) * full[d]!, 0);
      const strides = cfg.map(([, , interior], d) => full[d]! * (interior + 1));
      ctx.emit({
        kind: "map",
        shape: srcShape,
        out: { buf: out.buf, map: { strides, offset, dyn: [] } },
        expr: ctx.asExpr(src),
        label: "pad",
      });
    }
    return out;
  },
});
