/**
 * Memory planning: every buffer gets an offset in one arena. Inputs and constants have fixed
 * regions; temporaries and outputs share space by liveness over the schedule (greedy
 * best-fit on intervals, largest first). 16-byte alignment keeps SIMD loads aligned.
 *
 * The schedule is the kernel tree flattened in execution order into steps: one per leaf
 * kernel, and for a control-flow node a step where it starts, one between a while loop's
 * condition and body (where the predicate is read) and one where it ends. A loop runs its
 * steps many times, so a buffer used both inside a loop and outside it (loop-carried state,
 * stacked `ys`, anything read by the body that was made before the loop) stays live over the
 * whole loop; one used only inside a loop body is rewritten before it is read in every
 * iteration, so its lifetime inside one iteration is enough and body temporaries share space.
 *
 * The plan is its own data: the program is not modified.
 */
import {
  controlBuffers,
  isControl,
  kernelBuffers,
  regionsOf,
  exprChildren,
  type Affine,
  type Expr,
  type Kernel,
  type Program,
} from "../lower/kernel-ir";

/** Where every buffer lives, and why (the lifetimes it was planned from). */
export interface MemoryPlan {
  arenaBytes: number;
  /** Sum of all buffer sizes (what the arena would be without reuse). */
  totalBytes: number;
  /** Byte offset of each buffer in the arena. */
  offsets: number[];
  /** [first, last] step of each buffer's lifetime (inputs and constants: [-1, steps]). */
  intervals: [number, number][];
  /** Steps of the flattened schedule (the number of kernels for a program without control flow). */
  steps: number;
}

const ALIGN = 16;
const roundUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** One step of the flattened schedule. */
interface Step {
  reads: Set<number>;
  writes: Set<number>;
  /** The leaf kernel of this step, if it is one. */
  kernel: Kernel | null;
}

/** The kernel tree flattened into steps, with the [start, end] steps of every loop. */
export function schedule(kernels: readonly Kernel[]): { steps: Step[]; loops: [number, number][] } {
  const steps: Step[] = [];
  const loops: [number, number][] = [];
  const walk = (list: readonly Kernel[]): void => {
    for (const k of list) {
      if (!isControl(k)) {
        const { reads, write } = kernelBuffers(k);
        steps.push({ reads, writes: new Set([write]), kernel: k });
        continue;
      }
      const own = controlBuffers(k);
      const start = steps.length;
      steps.push({ reads: k.kind === "while" ? new Set() : own.reads, writes: own.writes, kernel: null });
      if (k.kind === "while") {
        walk(k.cond);
        steps.push({ reads: own.reads, writes: new Set(), kernel: null });
        walk(k.body);
      } else {
        for (const region of regionsOf(k)) walk(region);
      }
      // The loop counter is rewritten at every trip: live over the whole loop.
      steps.push({ reads: new Set(), writes: k.kind === "for" ? own.writes : new Set(), kernel: null });
      if (k.kind !== "switch") loops.push([start, steps.length - 1]);
    }
  };
  walk(kernels);
  return { steps, loops };
}

/** Maps through which `e` reads buffer `buf` (a read as a dynamic index gives a map matching nothing). */
function loadsOf(e: Expr, buf: number, out: Affine[]): void {
  if (e.op === "load" && e.buf === buf) out.push(e.map);
  if (e.op === "load" || e.op === "index") for (const d of e.map.dyn) if (d.buf === buf) out.push({ strides: [], offset: -1, dyn: [] });
  for (const c of exprChildren(e)) loadsOf(c, buf, out);
}

const sameMap = (a: Affine, b: Affine) =>
  a.offset === b.offset &&
  a.dyn.length === 0 &&
  b.dyn.length === 0 &&
  a.strides.length === b.strides.length &&
  a.strides.every((s, i) => s === b.strides[i]);

/** Offsets for every buffer of `prog` (see the module comment). */
export function planMemory(prog: Program): MemoryPlan {
  const { steps, loops } = schedule(prog.kernels);
  const n = steps.length;
  const intervals: [number, number][] = prog.buffers.map(() => [Infinity, -Infinity]);
  const writers = prog.buffers.map(() => 0);
  const touch = (b: number, s: number) => {
    const iv = intervals[b]!;
    iv[0] = Math.min(iv[0], s);
    iv[1] = Math.max(iv[1], s);
  };
  steps.forEach((st, i) => {
    for (const r of st.reads) touch(r, i);
    for (const w of st.writes) {
      touch(w, i);
      writers[w]!++;
    }
  });
  let fixed = 0;
  const offsets = prog.buffers.map(() => 0);
  for (const b of prog.buffers) {
    if (b.kind === "input" || b.kind === "const") {
      offsets[b.id] = fixed;
      fixed += roundUp(b.size * 4);
      intervals[b.id] = [-1, n];
    } else if (b.kind === "output") {
      const iv = intervals[b.id]!;
      intervals[b.id] = [Number.isFinite(iv[0]) ? iv[0] : 0, n];
    }
  }
  // A buffer live both inside and outside a loop is live for the whole loop (to a fixpoint:
  // covering an inner loop may make it cross an outer one).
  for (let changed = true; changed;) {
    changed = false;
    for (const iv of intervals) {
      for (const [s, e] of loops) {
        const crosses = iv[0] <= e && iv[1] >= s && (iv[0] < s || iv[1] > e);
        if (crosses && (iv[0] > s || iv[1] < e)) {
          iv[0] = Math.min(iv[0], s);
          iv[1] = Math.max(iv[1], e);
          changed = true;
        }
      }
    }
  }
  // In-place reuse: an elementwise kernel may write over a temporary that dies at that kernel
  // when it reads it only at the very element it writes (same affine map, no other reads), and
  // the written buffer starts living there (inside a loop body: it is not loop-carried).
  const storage = prog.buffers.map((b) => b.id);
  const find = (x: number): number => (storage[x] === x ? x : (storage[x] = find(storage[x]!)));
  steps.forEach((st, i) => {
    const k = st.kernel;
    if (k?.kind !== "map") return;
    const w = k.out.buf;
    const wb = prog.buffers[w]!;
    if (wb.kind !== "temp" || writers[w] !== 1 || k.out.map.dyn.length > 0 || intervals[w]![0] !== i) return;
    for (const r of st.reads) {
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
  const rootSize = new Map<number, number>();
  for (const b of prog.buffers) {
    if (b.kind !== "temp" && b.kind !== "output") continue;
    const r = find(b.id);
    rootSize.set(r, Math.max(rootSize.get(r) ?? 0, b.size));
  }
  const roots = prog.buffers.filter((b) => (b.kind === "temp" || b.kind === "output") && find(b.id) === b.id);
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
    offsets[b.id] = offset;
    placed.push({ start: offset, end: offset + bytes, from, to });
  }
  for (const b of prog.buffers) {
    if ((b.kind === "temp" || b.kind === "output") && find(b.id) !== b.id) {
      offsets[b.id] = offsets[find(b.id)]!;
      intervals[b.id] = intervals[find(b.id)]!;
    }
  }
  const arenaBytes = Math.max(fixed, ...placed.map((p) => p.end), 16);
  const totalBytes = prog.buffers.reduce((s, b) => s + roundUp(Math.max(b.size, 1) * 4), 0);
  return { arenaBytes, totalBytes, offsets, intervals, steps: n };
}
