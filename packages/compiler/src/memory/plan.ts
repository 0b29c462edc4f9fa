/**
 * Memory planning: every buffer gets an offset in one arena. Inputs and constants have fixed
 * regions; temporaries and outputs share space by liveness over the kernel schedule
 * (greedy best-fit on intervals, largest first). 16-byte alignment keeps SIMD loads aligned.
 */
import { exprChildren, type Affine, type Expr, type Kernel, type Program } from "../lower/kernel-ir";

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
  if (e.op === "load") out.add(e.buf);
  if (e.op === "load" || e.op === "index") for (const d of e.map.dyn) out.add(d.buf);
  for (const c of exprChildren(e)) exprBuffers(c, out);
}

/** Buffers a kernel reads and the one it writes. */
export function kernelBuffers(k: Kernel): { reads: Set<number>; write: number } {
  const res = kernelBuffersBase(k);
  if (k.kind === "matmul" && k.gemm) {
    res.reads.add(k.gemm.aPack);
    res.reads.add(k.gemm.bPack);
    res.reads.add(k.gemm.tile);
  }
  if ((k.kind === "matmul" || k.kind === "reduce") && k.epilogue) {
    // The producer's own buffer is scratch (or an intermediate) live only in this kernel.
    res.reads.add(k.out);
    exprBuffers(k.epilogue.expr, res.reads);
    for (const d of k.epilogue.out.map.dyn) res.reads.add(d.buf);
    return { reads: res.reads, write: k.epilogue.out.buf };
  }
  return res;
}

function kernelBuffersBase(k: Kernel): { reads: Set<number>; write: number } {
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

/** Maps through which `e` reads buffer `buf` (a read as a dynamic index gives a map matching nothing). */
function loadsOf(e: Expr, buf: number, out: Affine[]): void {
  if (e.op === "load" && e.buf === buf) out.push(e.map);
  if (e.op === "load" || e.op === "index") for (const d of e.map.dyn) if (d.buf === buf) out.push({ strides: [], offset: -1, dyn: [] });
  for (const c of exprChildren(e)) loadsOf(c, buf, out);
}

const sameMap = (a: Affine, b: Affine) =>
  a.offset === b.offset && a.dyn.length === 0 && b.dyn.length === 0 && a.strides.length === b.strides.length && a.strides.every((s, i) => s === b.strides[i]);

export function planMemory(prog: Program): MemoryPlan {
  const n = prog.kernels.length;
  const intervals: [number, number][] = prog.buffers.map(() => [Infinity, -Infinity]);
  const writers = prog.buffers.map(() => 0);
  const touch = (b: number, k: number) => {
    const iv = intervals[b]!;
    iv[0] = Math.min(iv[0], k);
    iv[1] = Math.max(iv[1], k);
  };
  prog.kernels.forEach((k, i) => {
    const { reads, write } = kernelBuffers(k);
    for (const r of reads) touch(r, i);
    touch(write, i);
    writers[write]!++;
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
  // In-place reuse: an elementwise kernel may write over a temporary that dies at that kernel
  // when it reads it only at the very element it writes (same affine map, no other reads).
  const storage = prog.buffers.map((b) => b.id);
  const find = (x: number): number => (storage[x] === x ? x : (storage[x] = find(storage[x]!)));
  prog.kernels.forEach((k, i) => {
    if (k.kind !== "map") return;
    const w = k.out.buf;
    const wb = prog.buffers[w]!;
    if (wb.kind !== "temp" || writers[w] !== 1 || k.out.map.dyn.length > 0) return;
    const { reads } = kernelBuffers(k);
    for (const r of reads) {
      const rb = prog.buffers[r]!;
      const root = find(r);
      if (rb.kind !== "temp" || rb.size !== wb.size || intervals[root]![1] !== i) continue;
      const maps: Affine[] = [];
      loadsOf(k.expr, r, maps);
      if (maps.length === 0 || !maps.every((m) => sameMap(m, k.out.map))) continue;
      // Merge w into r's storage: one lifetime from r's start to w's end.
      storage[w] = root;
      intervals[root] = [intervals[root]![0], Math.max(intervals[root]![1], intervals[w]![1])];
      break;
    }
  });
  const placed: { start: number; end: number; from: number; to: number }[] = [];
  const roots = prog.buffers.filter((b) => (b.kind === "temp" || b.kind === "output") && find(b.id) === b.id);
  const rootSize = new Map<number, number>();
  for (const b of prog.buffers) {
    if (b.kind !== "temp" && b.kind !== "output") continue;
    const r = find(b.id);
    rootSize.set(r, Math.max(rootSize.get(r) ?? 0, b.size));
  }
  roots.sort((a, b) => rootSize.get(b.id)! - rootSize.get(a.id)! || a.id - b.id);
  for (const b of roots) {
    const [from, to] = intervals[b.id]!;
    const bytes = roundUp(Math.max(rootSize.get(b.id)!, 1) * 4);
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
  for (const b of prog.buffers) {
    if ((b.kind === "temp" || b.kind === "output") && find(b.id) !== b.id) {
      b.offset = prog.buffers[find(b.id)]!.offset;
      intervals[b.id] = intervals[find(b.id)]!;
    }
  }
  const arenaBytes = Math.max(fixed, ...placed.map((p) => p.end), 16);
  const totalBytes = prog.buffers.reduce((s, b) => s + roundUp(Math.max(b.size, 1) * 4), 0);
  return { arenaBytes, totalBytes, intervals };
}
