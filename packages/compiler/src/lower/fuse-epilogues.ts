/**
 * Epilogue fusion: an elementwise map that is the only reader of a matmul's or a reduction's
 * result, reading it at the very element it writes, moves into that kernel (`Epilogue`). A
 * Linear layer's bias add and activation then run on each 4×8 GEMM tile while it is in
 * registers and cache, a mean's division right after each sum, and the product is never
 * written out in full.
 *
 * Moving the producer forward to its consumer's place in the schedule is legal here: lowering
 * writes every buffer completely (in consecutive kernels) before anything reads it, and never
 * writes it again in the same trip of a loop (loop-carried buffers are rewritten once per trip,
 * which the checks below see), so the producer's operands are unchanged in between. Producer
 * and consumer are in the same kernel list (region); the product is read nowhere else.
 */
import {
  controlBuffers,
  exprChildren,
  hasLoopIndex,
  isControl,
  kernelAccess,
  kernelBuffers,
  regionsOf,
  type Affine,
  type BufferInfo,
  type Expr,
  type Kernel,
  type LeafKernel,
  type Program,
} from "./kernel-ir";
import { tileEpilogue } from "./gemm-plan";

type Producer = LeafKernel & { kind: "matmul" | "reduce" };

/** The producer's output shape (the epilogue's loop shape). */
function producedShape(k: Producer): number[] {
  if (k.kind === "matmul") return [...k.batch, ...k.mDims, ...k.nDims];
  return k.shape.filter((_, i) => !k.axes.includes(i));
}

/** Maps through which `e` reads `buf` (a dynamic-index read counts as a non-elementwise read). */
function readsOf(e: Expr, buf: number, out: (Affine | null)[]): void {
  if (e.op === "load" && e.buf === buf) out.push(e.map);
  if ((e.op === "load" || e.op === "index") && e.map.dyn.some((d) => d.buf === buf)) out.push(null);
  for (const c of exprChildren(e)) readsOf(c, buf, out);
}

/** Whether `map` reads a contiguous buffer of `shape` at each loop element itself. */
function isIdentity(map: Affine | null, shape: readonly number[]): boolean {
  if (map === null || map.offset !== 0 || map.dyn.length > 0 || map.strides.length !== shape.length) return false;
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && map.strides[d] !== s) return false;
    s *= shape[d]!;
  }
  return true;
}

/** How many leaf kernels (anywhere in the tree) read and write each buffer; control nodes count as readers of what they read. */
function countAccess(kernels: readonly Kernel[], readers: number[], writers: number[]): void {
  for (const k of kernels) {
    if (isControl(k)) {
      const own = controlBuffers(k);
      for (const r of own.reads) readers[r]!++;
      for (const w of own.writes) writers[w]!++;
      for (const region of regionsOf(k)) countAccess(region, readers, writers);
      continue;
    }
    const { reads, write } = kernelBuffers(k);
    for (const r of reads) readers[r]!++;
    writers[write]!++;
  }
}

/** The program with epilogues fused (see the module comment); `prog` is not modified. */
export function fuseEpilogues(prog: Program): Program {
  const readers = prog.buffers.map(() => 0);
  const writers = prog.buffers.map(() => 0);
  countAccess(prog.kernels, readers, writers);
  const outputs = new Set(prog.outputs.map((o) => o.buf));
  const sizes = new Map<number, number>();
  const fuseList = (list: readonly Kernel[]): Kernel[] => {
    const ks = list.map((k): Kernel => {
      switch (k.kind) {
        case "for":
          return { ...k, body: fuseList(k.body) };
        case "while":
          return { ...k, cond: fuseList(k.cond), body: fuseList(k.body) };
        case "switch":
          return { ...k, branches: k.branches.map(fuseList) };
        default:
          return k;
      }
    });
    let i = 0;
    while (i < ks.length) if (!tryFuse(ks, i, prog.buffers, outputs, readers, writers, sizes)) i++;
    return ks;
  };
  const kernels = fuseList(prog.kernels);
  if (sizes.size === 0 && kernels.every((k, i) => k === prog.kernels[i])) return prog;
  return { ...prog, kernels, buffers: prog.buffers.map((b) => (sizes.has(b.id) ? { ...b, size: sizes.get(b.id)! } : b)) };
}

function tryFuse(
  ks: Kernel[],
  i: number,
  buffers: readonly BufferInfo[],
  outputs: Set<number>,
  readers: number[],
  writers: number[],
  sizes: Map<number, number>,
): boolean {
  const k = ks[i]!;
  if ((k.kind !== "matmul" && k.kind !== "reduce") || k.epilogue) return false;
  const t = k.out;
  // The product must be this list's own: written only here, read by one kernel of the list.
  if (buffers[t]!.kind !== "temp" || outputs.has(t) || writers[t] !== 1 || readers[t] !== 1) return false;
  const j = ks.findIndex((other, q) => q !== i && kernelAccess(other).reads.has(t));
  if (j < 0) return false;
  const consumer = ks[j]!;
  const shape = producedShape(k);
  if (
    j < i ||
    consumer.kind !== "map" ||
    consumer.out.buf === t ||
    consumer.shape.length !== shape.length ||
    consumer.shape.some((d, q) => d !== shape[q])
  )
    return false;
  const maps: (Affine | null)[] = [];
  readsOf(consumer.expr, t, maps);
  if (consumer.out.map.dyn.some((d) => d.buf === t) || !maps.every((m) => isIdentity(m, shape))) return false;
  // A gather read or scatter write moves with the loop through its index buffer: not elementwise.
  if (hasLoopIndex(consumer.expr) || consumer.out.map.dyn.some((d) => d.istrides)) return false;
  // Belt and braces for the write-once invariant: nothing in between writes what k reads, and
  // (in a loop body, where a carry is rewritten) k does not read what the epilogue writes.
  const kReads = kernelBuffers(k).reads;
  if (kReads.has(consumer.out.buf)) return false;
  for (let q = i + 1; q < j; q++) for (const w of kernelAccess(ks[q]!).writes) if (kReads.has(w)) return false;
  const fused = { ...k, epilogue: { expr: consumer.expr, out: consumer.out }, label: `${k.label}+${consumer.label}` } as Producer;
  if (fused.kind === "matmul") {
    if (fused.gemm) {
      if (!tileEpilogue(fused, fused.gemm.plan, fused.gemm.tile)) return false;
      sizes.set(t, 1); // never touched: the product lives in the GEMM's tile
    } else {
      sizes.set(
        t,
        Math.max(
          1,
          fused.nDims.reduce((p, q) => p * q, 1),
        ),
      ); // one row
    }
  }
  // The consumer's reads move to the producer's place: its counts stay; t's reader is now k.
  ks[j] = fused;
  ks.splice(i, 1);
  return true;
}
