/**
 * Control flow: `cond`, `while` and `scan` become `switch`, `while` and `for` nodes whose
 * bodies are their sub-jaxprs lowered in place (same buffer space, nothing unrolled: the
 * module's size does not depend on trip counts). `custom_jvp_call` lowers its body inline.
 *
 * Loop-carried state lives in carry buffers made before the loop (a copy of the initial
 * values). At the end of each trip the body's new carries are written back: values that are
 * not already whole temporaries of the body are stored to one first, then every carry is
 * copied from its temporary — so a body that reads an old carry after computing a new one
 * (a swap, `ys` that are the old carry) stays correct. `retarget` then removes the copies it
 * can: the kernel that produced a new carry writes the carry buffer directly when nothing
 * after it in the trip reads the old carry. A scan's `xs` are read, and its `ys` written, as
 * slices at the trip's index, which the loop stores to a counter buffer (dynamic index terms
 * of the affine maps read it).
 *
 * `unroll` is not honoured: a scan is always one trip per iteration (JAX's `unroll` is a
 * performance hint with the same results).
 */
import type { ClosedJaxpr } from "@wax/tracer";
import {
  isContiguous,
  isControl,
  kernelAccess,
  kernelBuffers,
  renameBuffers,
  exprChildren,
  type Affine,
  type Expr,
  type Kernel,
  type Scalar,
} from "../kernel-ir";
import { outDtype, outShape, sizeOf, writeStrides, type BufVal, type LowerContext, type Val } from "../context";
import { family } from "./family";

/** A write-back copy `to ← from` (whole buffers) emitted at the end of a region. */
interface Copy {
  kernel: Kernel;
  from: number;
  to: number;
}

/** Whether `v` is all of buffer `buf`, read in order from its start. */
function isWhole(ctx: LowerContext, v: Val, buf: number): boolean {
  return (
    v.kind === "buf" && v.buf === buf && v.map.offset === 0 && isContiguous(v.map, v.shape) && ctx.buffers[buf]!.size === sizeOf(v.shape)
  );
}

/**
 * A value read by every trip of a loop: computed expressions are stored once before the
 * loop instead of being recomputed in each trip (constants and iotas stay lazy).
 */
function invariant(ctx: LowerContext, v: Val, label: string): Val {
  return v.kind === "expr" && v.expr.op !== "const" && v.expr.op !== "index" ? ctx.materialize(v, label) : v;
}

/** New carry buffers holding copies of `inits`. */
function carryBuffers(ctx: LowerContext, inits: readonly Val[], label: string): BufVal[] {
  return inits.map((v) => {
    const c = ctx.fresh(v.shape, v.dtype);
    ctx.emit({ kind: "map", shape: [...v.shape], out: { buf: c.buf, map: c.map }, expr: ctx.asExpr(v), label: `${label} init` });
    return c;
  });
}

/**
 * Writes a region's results `outs` to the buffers `targets` (see the module comment); buffers
 * from `localFrom` on were made in this region. Returns the copies, for `retarget`.
 */
function writeBack(ctx: LowerContext, outs: readonly Val[], targets: readonly BufVal[], localFrom: number, label: string): Copy[] {
  const sources = new Set<number>();
  const pending: [BufVal, BufVal][] = [];
  outs.forEach((v, k) => {
    const t = targets[k]!;
    if (isWhole(ctx, v, t.buf)) return;
    const src = v.kind === "buf" && v.buf >= localFrom && !sources.has(v.buf) && isWhole(ctx, v, v.buf) ? v : ctx.copy(v, label);
    sources.add(src.buf);
    pending.push([src, t]);
  });
  return pending.map(([src, t]) => {
    const kernel: Kernel = { kind: "map", shape: [...t.shape], out: { buf: t.buf, map: t.map }, expr: ctx.asExpr(src), label };
    ctx.emit(kernel);
    return { kernel, from: src.buf, to: t.buf };
  });
}

/** Maps through which `e` reads `buf` (`null` for a read as a dynamic index). */
function readsOf(e: Expr, buf: number, out: (Affine | null)[]): void {
  if (e.op === "load" && e.buf === buf) out.push(e.map);
  if ((e.op === "load" || e.op === "index") && e.map.dyn.some((d) => d.buf === buf)) out.push(null);
  for (const c of exprChildren(e)) readsOf(c, buf, out);
}

const sameMap = (a: Affine | null, b: Affine): boolean =>
  a !== null &&
  a.offset === b.offset &&
  a.dyn.length === 0 &&
  b.dyn.length === 0 &&
  a.strides.length === b.strides.length &&
  a.strides.every((s, i) => s === b.strides[i]);

/** Whether `k` is `buf ← buf` at the same elements (a copy made a no-op by renaming). */
function isSelfCopy(k: Kernel): boolean {
  return (
    k.kind === "map" && k.out.map.dyn.length === 0 && k.expr.op === "load" && k.expr.buf === k.out.buf && sameMap(k.expr.map, k.out.map)
  );
}

/**
 * Removes the write-back copies it can from a region's kernels: for `to ← from`, when `from`
 * was made in the region by leaf kernels of the region's own list (the first, `w`, writes it
 * whole; later ones may update parts, as `dynamic_update_slice` does), and no kernel after
 * `w` reads or writes `to` (`w` itself may read it, elementwise at the element it writes),
 * `w` and everything after it use `to` instead of `from`, and the copy goes. A carry updated
 * by `x.at[i].set(v)` is then updated in place instead of copied twice per trip.
 */
function retarget(kernels: Kernel[], copies: readonly Copy[], localFrom: number): Kernel[] {
  let list = kernels;
  for (const c of copies) {
    const at = list.indexOf(c.kernel);
    if (c.from < localFrom || at < 0) continue;
    const writers = list.flatMap((k, i) => (k !== c.kernel && kernelAccess(k).writes.has(c.from) ? [i] : []));
    if (writers.length === 0 || writers.some((i) => isControl(list[i]!))) continue;
    const w = writers[0]!;
    const wk = list[w]!;
    if (isControl(wk)) continue;
    const later = list.slice(w + 1).filter((k) => k !== c.kernel);
    if (
      later.some((k) => {
        const a = kernelAccess(k);
        return a.reads.has(c.to) || a.writes.has(c.to);
      })
    )
      continue;
    if (kernelBuffers(wk).reads.has(c.to)) {
      if (wk.kind !== "map") continue;
      const maps: (Affine | null)[] = [];
      readsOf(wk.expr, c.to, maps);
      if (wk.out.map.dyn.some((d) => d.buf === c.to) || !maps.every((m) => sameMap(m, wk.out.map))) continue;
    }
    const rename = (b: number) => (b === c.from ? c.to : b);
    list = list.flatMap((k, i) => {
      if (k === c.kernel) return [];
      const a = kernelAccess(k);
      if (i < w || !(a.reads.has(c.from) || a.writes.has(c.from))) return [k]; // unchanged: later copies find theirs
      const r = renameBuffers(k, rename);
      return isSelfCopy(r) ? [] : [r];
    });
  }
  return list;
}

/**
 * Lowers `f` into a new region whose results are written to `targets`; returns the region's
 * kernels with the write-back copies `retarget` could remove gone.
 */
function regionInto(ctx: LowerContext, targets: readonly BufVal[], label: string, f: () => Val[]): Kernel[] {
  const localFrom = ctx.buffers.length;
  let copies: Copy[] = [];
  const kernels = ctx.region(() => {
    copies = writeBack(ctx, f(), targets, localFrom, label);
  });
  return retarget(kernels, copies, localFrom);
}

/** Lowers a predicate or index computed by `f` into a region; returns it with the scalar's place. */
function scalarRegion(ctx: LowerContext, label: string, f: () => Val): { kernels: Kernel[]; at: Scalar } {
  let at: Scalar = { buf: -1, elem: 0 };
  const kernels = ctx.region(() => {
    const s = ctx.scalar(f(), label);
    at = { buf: s.buf, elem: s.elem };
  });
  return { kernels, at };
}

/** The slice `i` (the loop's counter) of `x` along its first axis. */
function sliceAt(x: BufVal, counter: number, length: number): BufVal {
  const dyn = [...x.map.dyn, { buf: counter, elem: 0, unsigned: false, stride: x.map.strides[0]!, max: Math.max(length - 1, 0) }];
  return {
    kind: "buf",
    buf: x.buf,
    map: { strides: x.map.strides.slice(1), offset: x.map.offset, dyn },
    shape: x.shape.slice(1),
    dtype: x.dtype,
  };
}

const lowerBranches = (ctx: LowerContext, branches: readonly ClosedJaxpr[], ops: Val[], results: BufVal[]): Kernel[][] =>
  branches.map((br, i) => regionInto(ctx, results, `cond branch ${i} result`, () => ctx.lowerJaxpr(br, ops)));

/** Lowering rules of `cond`, `while`, `scan` and `custom_jvp_call`. */
export const controlFlowRules = family({
  cond: (ctx, e, ins, p) => {
    const [index, ...ops] = ins;
    const n = p.branches.length;
    if (index!.kind === "expr" && index!.expr.op === "const")
      return ctx.lowerJaxpr(p.branches[Math.min(Math.max(index!.expr.value, 0), n - 1)]!, ops);
    const at = ctx.scalar(index!, "cond index");
    const results = e.outputs.map((_, i) => ctx.fresh(outShape(e, i), outDtype(e, i)));
    ctx.emit({
      kind: "switch",
      index: { buf: at.buf, elem: at.elem },
      branches: lowerBranches(ctx, p.branches, ops, results),
      label: "cond",
    });
    return results;
  },
  while: (ctx, _e, ins, p) => {
    const nc = p.cond_nconsts;
    const nb = p.body_nconsts;
    const condConsts = ins.slice(0, nc).map((v) => invariant(ctx, v, "while cond const"));
    const bodyConsts = ins.slice(nc, nc + nb).map((v) => invariant(ctx, v, "while body const"));
    const carries = carryBuffers(ctx, ins.slice(nc + nb), "while carry");
    const cond = scalarRegion(ctx, "while predicate", () => ctx.lowerJaxpr(p.cond_jaxpr, [...condConsts, ...carries])[0]!);
    const body = regionInto(ctx, carries, "while carry", () => ctx.lowerJaxpr(p.body_jaxpr, [...bodyConsts, ...carries]));
    ctx.emit({ kind: "while", cond: cond.kernels, pred: cond.at, body, label: "while" });
    return carries;
  },
  scan: (ctx, e, ins, p) => {
    const { length, num_consts: nConsts, num_carry: nCarry } = p;
    const consts = ins.slice(0, nConsts).map((v) => invariant(ctx, v, "scan const"));
    const carries = carryBuffers(ctx, ins.slice(nConsts, nConsts + nCarry), "scan carry");
    const xs = ins.slice(nConsts + nCarry).map((v) => ctx.materialize(v, "scan xs"));
    const ys = e.outputs.slice(nCarry).map((_, i) => ctx.fresh(outShape(e, nCarry + i), outDtype(e, nCarry + i)));
    const counter = ctx.newBuf(1, "int32");
    const body = regionInto(ctx, carries, "scan carry", () => {
      const outs = ctx.lowerJaxpr(p.jaxpr, [...consts, ...carries, ...xs.map((x) => sliceAt(x, counter, length))]);
      outs.slice(nCarry).forEach((y, i) => {
        const shape = y.shape;
        const dyn = [{ buf: counter, elem: 0, unsigned: false, stride: sizeOf(shape), max: Math.max(length - 1, 0) }];
        ctx.emit({
          kind: "map",
          shape: [...shape],
          out: { buf: ys[i]!.buf, map: { strides: writeStrides(shape), offset: 0, dyn } },
          expr: ctx.asExpr(y),
          label: "scan ys",
        });
      });
      return outs.slice(0, nCarry);
    });
    ctx.emit({ kind: "for", trips: length, reverse: p.reverse, counter, body, label: "scan" });
    return [...carries, ...ys];
  },
  custom_jvp_call: (ctx, _e, ins, p) => ctx.lowerJaxpr(p.call_jaxpr, ins),
});
