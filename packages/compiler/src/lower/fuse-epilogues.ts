/**
 * Epilogue fusion: an elementwise map that is the only reader of a matmul's or a reduction's
 * result, reading it at the very element it writes, moves into that kernel (`Epilogue`). A
 * Linear layer's bias add and activation then run on each 4×8 GEMM tile while it is in
 * registers and cache, a mean's division right after each sum, and the product is never
 * written out in full.
 *
 * Moving the producer forward to its consumer's place in the schedule is always legal here:
 * lowering writes every buffer completely (in consecutive kernels) before anything reads it,
 * and never writes it again, so the producer's operands are unchanged in between.
 */
import { exprChildren, type Affine, type Expr, type Kernel, type Program } from "./kernel-ir";
import { kernelBuffers } from "../memory/plan";
import { tileEpilogue } from "../codegen/gemm";

/** The producer's output shape (the epilogue's loop shape). */
function producedShape(k: Kernel & { kind: "matmul" | "reduce" }): number[] {
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

export function fuseEpilogues(prog: Program): void {
  const outputs = new Set(prog.outputs.map((o) => o.buf));
  let i = 0;
  while (i < prog.kernels.length) {
    if (!tryFuse(prog, i, outputs)) i++;
  }
}

function tryFuse(prog: Program, i: number, outputs: Set<number>): boolean {
  const k = prog.kernels[i]!;
  if ((k.kind !== "matmul" && k.kind !== "reduce") || k.epilogue) return false;
  const t = k.out;
  if (prog.buffers[t]!.kind !== "temp" || outputs.has(t)) return false;
  const readers: number[] = [];
  prog.kernels.forEach((other, j) => {
    if (j !== i && kernelBuffers(other).reads.has(t)) readers.push(j);
  });
  if (readers.length !== 1) return false;
  const j = readers[0]!;
  const consumer = prog.kernels[j]!;
  const shape = producedShape(k);
  if (j < i || consumer.kind !== "map" || consumer.out.buf === t || consumer.shape.length !== shape.length || consumer.shape.some((d, q) => d !== shape[q])) return false;
  const maps: (Affine | null)[] = [];
  readsOf(consumer.expr, t, maps);
  if (consumer.out.map.dyn.some((d) => d.buf === t) || !maps.every((m) => isIdentity(m, shape))) return false;
  // Belt and braces for the write-once invariant: nothing in between writes what k reads.
  const kReads = kernelBuffers(k).reads;
  for (let q = i + 1; q < j; q++) if (kReads.has(kernelBuffers(prog.kernels[q]!).write)) return false;
  const fused = { ...k, epilogue: { expr: consumer.expr, out: consumer.out }, label: `${k.label}+${consumer.label}` } as Kernel & { kind: "matmul" | "reduce" };
  if (fused.kind === "matmul") {
    if (fused.gemm) {
      if (!tileEpilogue(fused, fused.gemm.plan, fused.gemm.tile)) return false;
      prog.buffers[t]!.size = 1; // never touched: the product lives in the GEMM's tile
    } else {
      prog.buffers[t]!.size = Math.max(1, fused.nDims.reduce((p, q) => p * q, 1)); // one row
    }
  }
  prog.kernels[j] = fused;
  prog.kernels.splice(i, 1);
  return true;
}
