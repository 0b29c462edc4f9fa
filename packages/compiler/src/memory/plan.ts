/**
 * Memory planning: every buffer gets an offset in one arena. Inputs and constants have fixed
 * regions; temporaries and outputs share space by liveness over the kernel schedule
 * (greedy best-fit on intervals, largest first). 16-byte alignment keeps SIMD loads aligned.
 */
import type { Expr, Kernel, Program } from "../lower/kernel-ir";

export interface MemoryPlan {
  arenaBytes: number;
  /** Sum of all buffer sizes (what the arena would be without reuse). */
  totalBytes: number;
  /** [first, last] kernel index of each buffer's lifetime. */
  intervals: [number, number][];
}

const ALIGN = 16;
const roundUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function exprBuffers(e: Expr, out: Set<number>): void {
  switch (e.op) {
    case "load":
      out.add(e.buf);
      for (const d of e.map.dyn) out.add(d.buf);
      return;
    case "index":
      for (const d of e.map.dyn) out.add(d.buf);
      return;
    case "const":
      return;
    case "unary":
    case "convert":
    case "bitcast":
    case "ipow":
      exprBuffers(e.x, out);
      return;
    case "binary":
      exprBuffers(e.x, out);
      exprBuffers(e.y, out);
      return;
    case "select":
      exprBuffers(e.pred, out);
      e.cases.forEach((c) => exprBuffers(c, out));
      return;
    case "threefry":
      e.args.forEach((a) => exprBuffers(a, out));
  }
}

/** Buffers a kernel reads and the one it writes. */
export function kernelBuffers(k: Kernel): { reads: Set<number>; write: number } {
  const reads = new Set<number>();
  switch (k.kind) {
    case "map":
      exprBuffers(k.expr, reads);
      for (const d of k.out.map.dyn) reads.add(d.buf);
      return { reads, write: k.out.buf };
    case "reduce":
    case "scan":
      exprBuffers(k.expr, reads);
      return { reads, write: k.out };
    case "matmul":
      reads.add(k.a.buf);
      reads.add(k.b.buf);
      for (const d of [...k.a.map.dyn, ...k.b.map.dyn]) reads.add(d.buf);
      return { reads, write: k.out };
  }
}

export function planMemory(prog: Program): MemoryPlan {
  const n = prog.kernels.length;
  const intervals: [number, number][] = prog.buffers.map(() => [Infinity, -Infinity]);
  const touch = (b: number, k: number) => {
    const iv = intervals[b]!;
    iv[0] = Math.min(iv[0], k);
    iv[1] = Math.max(iv[1], k);
  };
  prog.kernels.forEach((k, i) => {
    const { reads, write } = kernelBuffers(k);
    for (const r of reads) touch(r, i);
    touch(write, i);
  });
  let fixed = 0;
  for (const b of prog.buffers) {
    if (b.kind === "input" || b.kind === "const") {
      b.offset = fixed;
      fixed += roundUp(b.size * 4);
      intervals[b.id] = [-1, n];
    } else if (b.kind === "output") {
      const iv = intervals[b.id]!;
      intervals[b.id] = [Number.isFinite(iv[0]) ? iv[0] : 0, n];
    }
  }
  const placed: { start: number; end: number; from: number; to: number }[] = [];
  const dynamic = prog.buffers
    .filter((b) => b.kind === "temp" || b.kind === "output")
    .sort((a, b) => b.size - a.size || a.id - b.id);
  for (const b of dynamic) {
    const [from, to] = intervals[b.id]!;
    const bytes = roundUp(Math.max(b.size, 1) * 4);
    // Regions of placed buffers whose lifetimes overlap this one, sorted by address.
    const busy = placed.filter((p) => !(p.to < from || p.from > to)).sort((p, q) => p.start - q.start);
    let offset = fixed;
    for (const p of busy) {
      if (offset + bytes <= p.start) break;
      offset = Math.max(offset, p.end);
    }
    b.offset = offset;
    placed.push({ start: offset, end: offset + bytes, from, to });
  }
  const arenaBytes = Math.max(fixed, ...placed.map((p) => p.end), 16);
  const totalBytes = prog.buffers.reduce((s, b) => s + roundUp(Math.max(b.size, 1) * 4), 0);
  return { arenaBytes, totalBytes, intervals };
}
