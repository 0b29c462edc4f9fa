/**
 * Lowering of `gather`, the `scatter` family and `rev`.
 *
 * - `rev` is a view: negative strides from the last element, no kernel.
 * - `gather` is a lazy expression over the output: one load of the operand whose address adds,
 *   per component of the index vector, the index read from the indices buffer at the output's
 *   batch position (a dynamic term whose position varies with the loop, `DynTerm.istrides`),
 *   clamped so the slice stays in bounds. Fill mode selects `fill_value` where an index is out
 *   of bounds. Like any elementwise value it fuses into its consumer, and a gather of whole rows
 *   (the index constant along the innermost dim, as an embedding lookup) loads 4 lanes at once.
 * - A scatter copies the operand into a new buffer, then one `map` kernel over the updates
 *   writes each update to its computed address (read-modify-write for add/mul/min/max). Its
 *   loop runs over the updates in order, so repeated indices combine deterministically and
 *   `scatter` keeps the last update, as the interpreter. Out-of-bounds windows are dropped by
 *   writing back the value already there (the address is clamped, so memory stays in bounds).
 */
import type { ScatterParams } from "@wax/tracer";
import type { Affine, BinaryOp, DynTerm, Expr, KDType } from "./kernel-ir";
import { outDtype, outShape, remapAffine, sizeOf, writeStrides, type BufVal, type LowerContext, type LowerRule, type Val } from "./context";
import { family } from "./rules/family";

type ScatterName = "scatter" | "scatter-add" | "scatter-mul" | "scatter-min" | "scatter-max";

/** Operand dims that are sliced as windows (neither collapsed/inserted nor batching), in order. */
function windowDims(rank: number, ...excluded: (readonly number[])[]): number[] {
  const out: number[] = [];
  for (let d = 0; d < rank; d++) if (!excluded.some((e) => e.includes(d))) out.push(d);
  return out;
}

/** JAX's default fill for out-of-bounds gathers: NaN, INT_MIN, UINT_MAX, true. */
function defaultFill(dtype: KDType): number {
  return dtype === "float32" ? NaN : dtype === "int32" ? -2147483648 : dtype === "uint32" ? 4294967295 : 1;
}

/** The indices as a buffer readable at any element (no dynamic terms of its own). */
function indexBuffer(ctx: LowerContext, v: Val, label: string): BufVal {
  const b = ctx.materialize(v, label);
  return b.map.dyn.length > 0 ? ctx.copy(b, label) : b;
}

/**
 * One index per component of the index vector, read at the loop position: `loopDims[j]` is the
 * loop dim of the indices' `j`th batch dim. Returns the dynamic address terms (clamped into
 * `[0, max]`) and the raw index expressions (for the bounds check of fill/drop modes).
 */
function indexTerms(
  idx: BufVal,
  loopRank: number,
  loopDims: readonly number[],
  components: readonly { stride: number; max: number }[],
): { dyn: DynTerm[]; raw: { expr: Expr; max: number }[] } {
  const last = idx.shape.length - 1;
  const istrides = new globalThis.Array<number>(loopRank).fill(0);
  loopDims.forEach((l, j) => (istrides[l] = istrides[l]! + idx.map.strides[j]!));
  const dyn: DynTerm[] = [];
  const raw: { expr: Expr; max: number }[] = [];
  components.forEach(({ stride, max }, k) => {
    const elem = idx.map.offset + k * idx.map.strides[last]!;
    dyn.push({ buf: idx.buf, elem, istrides: [...istrides], unsigned: idx.dtype === "uint32", stride, max });
    raw.push({ expr: { op: "load", buf: idx.buf, map: { strides: [...istrides], offset: elem, dyn: [] }, dtype: idx.dtype }, max });
  });
  return { dyn, raw };
}

const bin = (fn: BinaryOp, x: Expr, y: Expr, dtype: KDType): Expr => ({ op: "binary", fn, x, y, dtype });

/** Whether every index is within `[0, max]` (one bool expression; `null` when there are none). */
function inBounds(raw: readonly { expr: Expr; max: number }[]): Expr | null {
  let acc: Expr | null = null;
  for (const { expr, max } of raw) {
    const d = expr.dtype;
    const le = bin("le", expr, { op: "const", value: max, dtype: d }, "bool");
    const ok = d === "uint32" ? le : bin("and", bin("ge", expr, { op: "const", value: 0, dtype: d }, "bool"), le, "bool");
    acc = acc === null ? ok : bin("and", acc, ok, "bool");
  }
  return acc;
}

const gather: LowerRule<"gather"> = (ctx, e, ins, p) => {
  const shape = outShape(e);
  const dtype = outDtype(e);
  if (sizeOf(ins[0]!.shape) === 0) {
    // Nothing is in bounds of an empty operand: fill (or zeros, when not filling), as the interpreter.
    return {
      kind: "expr",
      expr: { op: "const", value: p.mode === "fill_or_drop" ? (p.fill_value ?? defaultFill(dtype)) : 0, dtype },
      shape,
      dtype,
    };
  }
  const x = ctx.materialize(ins[0]!, "gather operand");
  const idx = indexBuffer(ctx, ins[1]!, "gather indices");
  const dn = p.dimension_numbers;
  const win = windowDims(x.shape.length, dn.collapsed_slice_dims, dn.operand_batching_dims);
  const batchPos = shape.map((_, i) => i).filter((i) => !dn.offset_dims.includes(i));
  const strides = shape.map(() => 0);
  dn.offset_dims.forEach((o, j) => (strides[o] = x.map.strides[win[j]!]!));
  dn.operand_batching_dims.forEach((d, i) => {
    const o = batchPos[dn.start_indices_batching_dims[i]!]!;
    strides[o] = strides[o]! + x.map.strides[d]!;
  });
  const comps = dn.start_index_map.map((d) => ({ stride: x.map.strides[d]!, max: x.shape[d]! - p.slice_sizes[d]! }));
  const { dyn, raw } = indexTerms(idx, shape.length, batchPos, comps);
  const load: Expr = { op: "load", buf: x.buf, map: { strides, offset: x.map.offset, dyn: [...x.map.dyn, ...dyn] }, dtype };
  const ok = p.mode === "fill_or_drop" ? inBounds(raw) : null;
  if (ok === null) return { kind: "expr", expr: load, shape, dtype };
  const fill: Expr = { op: "const", value: p.fill_value ?? defaultFill(dtype), dtype };
  return { kind: "expr", expr: { op: "select", pred: ok, cases: [fill, load], dtype }, shape, dtype };
};

/** The combined value of a scatter: the update, or the operator applied to the old value and it. */
function combine(name: ScatterName, old: Expr, upd: Expr, dtype: KDType): Expr {
  if (name === "scatter") return upd;
  const fn: BinaryOp =
    dtype === "bool"
      ? ({ "scatter-add": "or", "scatter-mul": "and", "scatter-min": "and", "scatter-max": "or" } as const)[name]
      : ({ "scatter-add": "add", "scatter-mul": "mul", "scatter-min": "min", "scatter-max": "max" } as const)[name];
  return bin(fn, old, upd, dtype);
}

function scatterRule<N extends ScatterName>(name: N): LowerRule<N> {
  return (ctx, e, ins, params) => {
    const p = params as ScatterParams;
    const shape = outShape(e);
    const dtype = outDtype(e);
    const [x, indices, u] = ins as [Val, Val, Val];
    const out = ctx.fresh(shape, dtype);
    ctx.emit({ kind: "map", shape, out: { buf: out.buf, map: out.map }, expr: ctx.asExpr(x), label: `${name}(copy)` });
    if (sizeOf(u.shape) === 0 || sizeOf(shape) === 0) return out;
    const idx = indexBuffer(ctx, indices, `${name} indices`);
    const dn = p.dimension_numbers;
    const full = writeStrides(shape);
    const win = windowDims(shape.length, dn.inserted_window_dims, dn.operand_batching_dims);
    const scatterPos = u.shape.map((_, i) => i).filter((i) => !dn.update_window_dims.includes(i));
    const strides = u.shape.map(() => 0);
    const sizes = shape.map(() => 1);
    dn.update_window_dims.forEach((i, j) => {
      strides[i] = full[win[j]!]!;
      sizes[win[j]!] = u.shape[i]!;
    });
    dn.operand_batching_dims.forEach((d, i) => {
      const l = scatterPos[dn.scatter_indices_batching_dims[i]!]!;
      strides[l] = strides[l]! + full[d]!;
    });
    const comps = dn.scatter_dims_to_operand_dims.map((d) => ({ stride: full[d]!, max: shape[d]! - sizes[d]! }));
    const { dyn, raw } = indexTerms(idx, u.shape.length, scatterPos, comps);
    const map: Affine = { strides, offset: 0, dyn };
    const old: Expr = { op: "load", buf: out.buf, map, dtype };
    const value = combine(name, old, ctx.asExpr(u), dtype);
    // XLA drops a window that is not entirely in bounds; clip mode clamped it instead.
    const ok = p.mode === "clip" ? null : inBounds(raw);
    const expr: Expr = ok === null ? value : { op: "select", pred: ok, cases: [old, value], dtype };
    ctx.emit({ kind: "map", shape: [...u.shape], out: { buf: out.buf, map }, expr, label: name });
    return out;
  };
}

const rev: LowerRule<"rev"> = (ctx, e, ins, p) => {
  const x = ins[0]!;
  return ctx.view(x, outShape(e), (m) =>
    remapAffine(m, (s, off) => [
      s.map((v, d) => (p.dimensions.includes(d) ? -v : v)),
      off + p.dimensions.reduce((acc, d) => acc + Math.max(0, x.shape[d]! - 1) * s[d]!, 0),
    ]),
  );
};

/** Lowering rules of the indexing primitives. */
export const indexingRules = family({
  gather,
  scatter: scatterRule("scatter"),
  "scatter-add": scatterRule("scatter-add"),
  "scatter-mul": scatterRule("scatter-mul"),
  "scatter-min": scatterRule("scatter-min"),
  "scatter-max": scatterRule("scatter-max"),
  rev,
});
