/**
 * The memory plan of compiled programs: alignment, bounds, fixed regions for inputs and
 * constants, no two simultaneously live buffers sharing bytes (with liveness recomputed here
 * from the kernels, independently of the planner), reuse that actually shrinks the arena,
 * and outputs that still equal eager results after reuse.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Array, array, grad, lax, makeJaxpr, nn, np, random, vmap, type NestedArray, type TypedArray } from "@wax/tracer";
import type { HostArray } from "@wax/runtime";
import { compileJaxpr, filterJit, type Affine, type Compiled, type Expr, type Kernel } from "../index";

const ALIGN = 16;

/** Bytes a buffer actually occupies (4 bytes per element, bools included). */
const bytesOf = (size: number) => size * 4;

/**
 * Every buffer id a kernel touches, found by walking the kernel object: `buf` fields (loads,
 * targets, dynamic index terms), numeric `out`, and GEMM scratch (`aPack`, `bPack`, `tile`).
 * Deliberately independent of the planner's own `kernelBuffers`.
 */
function touched(k: Kernel): Set<number> {
  const ids = new Set<number>();
  const walk = (v: unknown, key: string): void => {
    if (typeof v === "number") {
      if (["buf", "out", "aPack", "bPack", "tile"].includes(key)) ids.add(v);
    } else if (v !== null && typeof v === "object") {
      for (const [kk, vv] of Object.entries(v)) walk(vv, globalThis.Array.isArray(v) ? key : kk);
    }
  };
  walk(k, "");
  return ids;
}

/** [first, last] kernel index using each buffer, or null if no kernel uses it. */
function liveness(c: Compiled): ([number, number] | null)[] {
  const iv: ([number, number] | null)[] = c.program.buffers.map(() => null);
  c.program.kernels.forEach((k, i) => {
    for (const b of touched(k)) {
      const cur = iv[b];
      iv[b] = cur ? [Math.min(cur[0], i), Math.max(cur[1], i)] : [i, i];
    }
  });
  return iv;
}

/** Affine maps through which `e` reads buffer `buf` (a dynamic-index use counts as a non-elementwise read). */
function loadMaps(e: Expr, buf: number, out: (Affine | null)[]): void {
  switch (e.op) {
    case "load":
      if (e.buf === buf) out.push(e.map);
      if (e.map.dyn.some((d) => d.buf === buf)) out.push(null);
      return;
    case "index":
      if (e.map.dyn.some((d) => d.buf === buf)) out.push(null);
      return;
    case "const":
      return;
    case "unary":
    case "convert":
    case "bitcast":
    case "ipow":
      return loadMaps(e.x, buf, out);
    case "binary":
      loadMaps(e.x, buf, out);
      return loadMaps(e.y, buf, out);
    case "select":
      loadMaps(e.pred, buf, out);
      return e.cases.forEach((x) => loadMaps(x, buf, out));
    case "threefry":
      return e.args.forEach((x) => loadMaps(x, buf, out));
  }
}

/**
 * Whether `dst` may legally overwrite `src` in place: `src` (a temporary) is last used by
 * the kernel that first writes `dst`, that kernel is elementwise, is the only writer of
 * `dst`, writes it without dynamic indices, and reads `src` only at the element it writes.
 */
function inPlace(c: Compiled, src: number, dst: number): boolean {
  const { buffers, kernels } = c.program;
  const own = liveness(c);
  const s = own[src];
  const d = own[dst];
  if (!s || !d || buffers[src]!.kind !== "temp" || c.plan.offsets[src] !== c.plan.offsets[dst] || s[1] !== d[0]) return false;
  const k = kernels[s[1]]!;
  if (k.kind !== "map" || k.out.buf !== dst || k.out.map.dyn.length > 0) return false;
  if (kernels.some((other, i) => i !== s[1] && touched(other).has(dst) && writes(other) === dst)) return false;
  const maps: (Affine | null)[] = [];
  loadMaps(k.expr, src, maps);
  const o = k.out.map;
  return maps.every(
    (m) =>
      m !== null &&
      m.offset === o.offset &&
      m.dyn.length === 0 &&
      m.strides.length === o.strides.length &&
      m.strides.every((x, i) => x === o.strides[i]),
  );
}

function writes(k: Kernel): number {
  if (k.kind === "map") return k.out.buf;
  if (k.kind === "matmul" || k.kind === "reduce" || k.kind === "scan") return k.out;
  throw new Error(`a flat program has no ${k.kind} kernel`);
}

/** Checks every invariant of the memory plan of a compiled program; returns summary numbers. */
function checkPlan(c: Compiled): { arena: number; total: number; fixed: number; peakLive: number } {
  const { program, plan } = c;
  const n = program.kernels.length;
  expect(plan.steps, "a program without control flow has one schedule step per kernel").toBe(n);
  const bufs = program.buffers.map((b) => ({ ...b, offset: plan.offsets[b.id]! }));
  expect(plan.intervals).toHaveLength(bufs.length);
  expect(plan.arenaBytes % ALIGN).toBe(0);

  // Alignment and bounds.
  for (const b of bufs) {
    expect(b.offset % ALIGN, `buffer ${b.id} offset ${b.offset}`).toBe(0);
    expect(b.offset).toBeGreaterThanOrEqual(0);
    expect(b.offset + bytesOf(b.size), `buffer ${b.id} end`).toBeLessThanOrEqual(plan.arenaBytes);
  }

  // Inputs and constants: live for the whole run, in a region no other buffer touches.
  const fixedBufs = bufs.filter((b) => b.kind === "input" || b.kind === "const");
  const fixedEnd = Math.max(0, ...fixedBufs.map((b) => b.offset + bytesOf(b.size)));
  for (const b of fixedBufs) expect(plan.intervals[b.id], `fixed buffer ${b.id}`).toEqual([-1, n]);
  for (const b of bufs) {
    if (b.kind !== "input" && b.kind !== "const" && b.size > 0) {
      expect(b.offset, `${b.kind} buffer ${b.id} inside the fixed region`).toBeGreaterThanOrEqual(fixedEnd);
    }
  }
  // Inputs and constants do not overlap each other.
  for (let i = 0; i < fixedBufs.length; i++) {
    for (let j = i + 1; j < fixedBufs.length; j++) {
      const a = fixedBufs[i]!;
      const b = fixedBufs[j]!;
      if (a.size === 0 || b.size === 0) continue;
      expect(
        a.offset + bytesOf(a.size) <= b.offset || b.offset + bytesOf(b.size) <= a.offset,
        `fixed buffers ${a.id} and ${b.id} overlap`,
      ).toBe(true);
    }
  }

  // Outputs live until the end (they are read back after `run`); program outputs are output buffers.
  for (const o of program.outputs) expect(bufs[o.buf]!.kind).toBe("output");
  for (const b of bufs) if (b.kind === "output") expect(plan.intervals[b.id]![1], `output ${b.id}`).toBe(n);

  // The planner's intervals cover every use found in the kernels.
  const own = liveness(c);
  own.forEach((iv, id) => {
    if (!iv) return;
    const [from, to] = plan.intervals[id]!;
    expect(from <= iv[0] && to >= iv[1], `buffer ${id} used in kernels ${iv} but planned live ${[from, to]}`).toBe(true);
  });

  // No two buffers that are live at the same time share a byte. Buffers whose planned
  // intervals overlap may share bytes only as one storage (same offset: an in-place merge);
  // and any two buffers sharing bytes must never be live together according to the kernels,
  // except for a legal in-place write (checked by `inPlace`).
  const live = (id: number): [number, number] | null => {
    const b = bufs[id]!;
    if (b.kind === "input" || b.kind === "const") return [-1, n];
    const iv = own[id];
    if (b.kind === "output") return [iv ? iv[0] : 0, n];
    return iv ?? null;
  };
  const used = bufs.filter((b) => b.size > 0 && live(b.id) !== null);
  for (let i = 0; i < used.length; i++) {
    for (let j = i + 1; j < used.length; j++) {
      const a = used[i]!;
      const b = used[j]!;
      if (a.offset + bytesOf(a.size) <= b.offset || b.offset + bytesOf(b.size) <= a.offset) continue;
      const what = `buffers ${a.id} (${a.kind}, planned ${plan.intervals[a.id]}, used ${live(a.id)}, bytes ${a.offset}+${bytesOf(a.size)}) and ${b.id} (${b.kind}, planned ${plan.intervals[b.id]}, used ${live(b.id)}, bytes ${b.offset}+${bytesOf(b.size)})`;
      const [pa0, pa1] = plan.intervals[a.id]!;
      const [pb0, pb1] = plan.intervals[b.id]!;
      if (!(pa1 < pb0 || pb1 < pa0)) expect(a.offset, `${what}: overlapping planned lifetimes, partially shared bytes`).toBe(b.offset);
      const [la0, la1] = live(a.id)!;
      const [lb0, lb1] = live(b.id)!;
      const disjoint = la1 < lb0 || lb1 < la0;
      expect(disjoint || inPlace(c, a.id, b.id) || inPlace(c, b.id, a.id), `${what} share bytes while both live`).toBe(true);
    }
  }

  // Sizes: the arena never exceeds the no-reuse total, and the executable's memory holds it.
  expect(plan.arenaBytes).toBeLessThanOrEqual(plan.totalBytes);
  expect(c.executable.arenaBytes).toBeGreaterThanOrEqual(plan.arenaBytes);
  c.layout.inputs.forEach((s, i) => expect(s.offset).toBe(plan.offsets[program.inputs[i]!]));
  c.layout.outputs.forEach((s, i) => expect(s.offset).toBe(plan.offsets[program.outputs[i]!.buf]));

  // Peak of bytes that must be live at once (temporaries and outputs; one storage counted once).
  let peakLive = 0;
  for (let k = 0; k < n; k++) {
    const atOffset = new Map<number, number>();
    for (const b of bufs) {
      if (b.kind === "input" || b.kind === "const") continue;
      const iv = live(b.id);
      if (iv && iv[0] <= k && k <= iv[1])
        atOffset.set(b.offset, Math.max(atOffset.get(b.offset) ?? 0, Math.ceil(bytesOf(Math.max(b.size, 1)) / ALIGN) * ALIGN));
    }
    peakLive = Math.max(
      peakLive,
      [...atOffset.values()].reduce((x, y) => x + y, 0),
    );
  }
  return { arena: plan.arenaBytes, total: plan.totalBytes, fixed: fixedEnd, peakLive };
}

function hostData(a: Array): HostArray {
  return a.concreteValue()!.data as HostArray;
}

function flat(x: NestedArray): number[] {
  return [x].flat(Infinity as 1) as number[];
}

/** Compiled outputs equal eager outputs within a relative tolerance (NaN equals NaN). */
function expectMatches(got: readonly TypedArray[], want: readonly Array[], tol = 1e-4): void {
  expect(got).toHaveLength(want.length);
  want.forEach((w, i) => {
    const g = globalThis.Array.from(got[i]!);
    const e = flat(w.toArray()).map(Number);
    expect(g.length).toBe(e.length);
    g.forEach((v, j) => {
      if (Number.isNaN(e[j]!)) expect(v).toBeNaN();
      else expect(Math.abs(v - e[j]!), `output ${i}[${j}]: ${v} vs ${e[j]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e[j]!)));
    });
  });
}

/**
 * Compiles `f` at `args`, checks the plan, then runs it on `args` and on a second set of
 * inputs (so stale data left in reused buffers by the first run would show) and compares
 * each run with eager evaluation.
 */
function compileAndCheck(f: (...xs: Array[]) => Array | Array[], argSets: Array[][]): ReturnType<typeof checkPlan> & { c: Compiled } {
  const c = compileJaxpr(makeJaxpr(f)(...argSets[0]!));
  const summary = checkPlan(c);
  for (const args of [...argSets, argSets[0]!]) {
    const eager = f(...args);
    const want = eager instanceof Array ? [eager] : eager;
    expectMatches(c.executable.call(args.map(hostData)), want);
  }
  return { ...summary, c };
}

const normal = (seed: number, shape: number[], scale = 1) => random.normal(random.key(seed), shape).mul(scale) as Array;

/** A `layers`-deep tanh MLP forward pass. */
const mlp = (x: Array, ...ws: Array[]) => ws.reduce((h, w) => np.tanh(h.matmul(w)), x);

describe("memory plan invariants on compiled programs", () => {
  it("a fused elementwise chain", () => {
    const f = (x: Array, y: Array) => np.exp(x.mul(y).add(1)).sub(np.tanh(y)).div(x.square().add(2));
    compileAndCheck(f, [
      [normal(1, [7, 5]), normal(2, [7, 5])],
      [normal(3, [7, 5]), normal(4, [7, 5])],
    ]);
  });

  it("a chain of non-fusible reductions (repeated normalisation)", () => {
    const f = (x: Array) => {
      let h = x;
      for (let i = 0; i < 10; i++) {
        const mu = h.mean({ axis: -1, keepdims: true });
        const c = h.sub(mu);
        h = c.div(np.sqrt(c.square().mean({ axis: -1, keepdims: true }).add(1e-3))).add(h.max({ axis: 0, keepdims: true }).mul(0.1));
      }
      return h;
    };
    const r = compileAndCheck(f, [[normal(5, [6, 9])], [normal(6, [6, 9])]]);
    expect(r.arena).toBeLessThan(r.total);
  });

  it("a 10-layer MLP forward (small: scalar matmuls) reuses memory", () => {
    const ws = globalThis.Array.from({ length: 10 }, (_, i) => normal(10 + i, [16, 16], 0.4));
    const ws2 = globalThis.Array.from({ length: 10 }, (_, i) => normal(30 + i, [16, 16], 0.4));
    const r = compileAndCheck(mlp, [
      [normal(7, [8, 16]), ...ws],
      [normal(8, [8, 16]), ...ws2],
    ]);
    expect(r.arena).toBeLessThan(r.total);
    // Ping-pong between layers: the temporaries need no more than twice the peak of live bytes.
    expect(r.arena - r.fixed).toBeLessThanOrEqual(2 * r.peakLive);
  });

  it("a 10-layer MLP forward (wide: packed GEMM with scratch buffers) reuses memory and reports the ratio", () => {
    const ws = globalThis.Array.from({ length: 10 }, (_, i) => normal(50 + i, [64, 64], 0.15));
    const ws2 = globalThis.Array.from({ length: 10 }, (_, i) => normal(70 + i, [64, 64], 0.15));
    const x = normal(9, [32, 64]);
    const r = compileAndCheck(mlp, [
      [x, ...ws],
      [normal(10, [32, 64]), ...ws2],
    ]);
    expect(r.arena).toBeLessThan(r.total);
    expect(r.arena - r.fixed).toBeLessThanOrEqual(2 * r.peakLive);
    // The same program through filterJit reports the same sizes in its statistics.
    const jitted = filterJit(mlp, { name: "mlp10" });
    expectMatches([jitted(x, ...ws).data], [mlp(x, ...ws)]);
    const e = jitted.stats().entries[0]!;
    expect([e.arenaBytes, e.totalBufferBytes]).toEqual([r.arena, r.total]);
    console.log(
      `memory plan: 10-layer MLP forward (32x64, 10 x 64x64, tanh): arena ${e.arenaBytes} B vs ${e.totalBufferBytes} B without reuse ` +
        `(ratio ${(e.arenaBytes / e.totalBufferBytes).toFixed(3)}; temporaries ${r.arena - r.fixed} B, peak live ${r.peakLive} B, ${e.kernels} kernels)`,
    );
  });

  it("the gradient of an MLP loss (filterJit(grad(f)))", () => {
    const loss = (w1: Array, w2: Array, x: Array, y: Array) => np.tanh(x.matmul(w1)).matmul(w2).sub(y).square().mean();
    const g = grad(loss, { argnums: [0, 1] }) as (...a: Array[]) => Array[];
    const args = [normal(80, [12, 33], 0.3), normal(81, [33, 5], 0.3), normal(82, [40, 12]), normal(83, [40, 5])];
    const args2 = [normal(84, [12, 33], 0.3), normal(85, [33, 5], 0.3), normal(86, [40, 12]), normal(87, [40, 5])];
    const r = compileAndCheck((...a: Array[]) => g(...a), [args, args2]);
    expect(r.arena).toBeLessThanOrEqual(r.total);
  });

  it("multi-kernel writers: concatenate, pad, dynamic_update_slice, cumsum, and a vmapped body", () => {
    const f = (x: Array, u: Array) => {
      const cat = np.concatenate([x, x.mul(2), np.exp(x)], 0);
      const padded = np.pad(cat, [
        [1, 2],
        [0, 3],
      ]);
      const upd = lax.dynamicUpdateSlice(padded, u, [2, 1]);
      const cs = np.cumsum(upd, { axis: 1 });
      const v = vmap((row: Array) => row.sub(row.max()))(cs);
      return [v, cs.sum({ axis: 0 }), upd];
    };
    compileAndCheck(f, [
      [normal(90, [3, 4]), normal(91, [2, 2])],
      [normal(92, [3, 4]), normal(93, [2, 2])],
    ]);
  });

  it("captured constants, duplicated outputs and a pass-through input", () => {
    const w = normal(100, [5, 5]);
    const b = normal(101, [5]);
    const f = (x: Array, y: Array) => {
      const h = nn.relu(x.matmul(w).add(b));
      return [h, h, y, h.sum()];
    };
    compileAndCheck(f, [
      [normal(102, [3, 5]), normal(103, [4])],
      [normal(104, [3, 5]), normal(105, [4])],
    ]);
  });

  it("mixed dtypes, a zero-size input and scalar outputs", () => {
    const f = (x: Array, i: Array, e: Array) => {
      const mask = x.gt(0);
      const counts = mask.astype("int32").sum({ axis: 0 });
      const picked = np.where(mask, x, x.neg().exp());
      return [counts, picked.sum(), i.mul(3).add(counts.sum()), e.sum({ axis: 0 }), mask];
    };
    compileAndCheck(f, [
      [normal(110, [5, 3]), array([1, 2, 3], { dtype: "int32" }), np.ones([0, 2])],
      [normal(111, [5, 3]), array([-1, 0, 7], { dtype: "int32" }), np.ones([0, 2])],
    ]);
  });
});

describe("the plan checker itself", () => {
  /** A copy of a compiled program whose buffers and intervals can be corrupted. */
  const corruptible = (c: Compiled): Compiled => ({
    ...c,
    plan: { ...c.plan, offsets: [...c.plan.offsets], intervals: c.plan.intervals.map((iv) => [...iv] as [number, number]) },
  });
  const ws = globalThis.Array.from({ length: 4 }, (_, i) => normal(200 + i, [8, 8]));
  const c = compileJaxpr(makeJaxpr(mlp)(normal(199, [4, 8]), ...ws));
  const temps = c.program.buffers.filter((b) => b.kind === "temp" && b.size > 0);

  it("accepts the real plan", () => {
    expect(() => checkPlan(c)).not.toThrow();
  });

  it("rejects two simultaneously live temporaries at one offset", () => {
    const bad = corruptible(c);
    const own = liveness(c);
    // A matmul's operand and its result: both live at the matmul kernel, never legal in place.
    const pair = temps.flatMap((a) =>
      temps
        .filter((b) => b.id !== a.id && own[a.id]![1] === own[b.id]![0] && c.program.kernels[own[b.id]![0]]!.kind === "matmul")
        .map((b) => [a.id, b.id] as const),
    )[0]!;
    expect(pair).toBeDefined();
    bad.plan.offsets[pair[1]] = bad.plan.offsets[pair[0]]!;
    expect(() => checkPlan(bad)).toThrow(/share bytes while both live|partially shared/);
  });

  it("rejects a misaligned offset, a temporary inside the input region and a too-short interval", () => {
    // A temporary live across more than one kernel (a fused matmul's scratch lives in one).
    const own = liveness(c);
    const t = temps.find((b) => own[b.id] && own[b.id]![1] > own[b.id]![0])!.id;
    const misaligned = corruptible(c);
    misaligned.plan.offsets[t] = misaligned.plan.offsets[t]! + 4;
    expect(() => checkPlan(misaligned)).toThrow(/offset/);
    const inInputs = corruptible(c);
    inInputs.plan.offsets[t] = 0;
    expect(() => checkPlan(inInputs)).toThrow(/fixed region/);
    const short = corruptible(c);
    const iv = liveness(c)[t]!;
    short.plan.intervals[t] = [iv[0], iv[0]];
    expect(iv[1]).toBeGreaterThan(iv[0]);
    expect(() => checkPlan(short)).toThrow(/planned live/);
  });
});

// ---- generated programs -----------------------------------------------------------------------

type Step =
  | { op: "matmul"; w: number }
  | { op: "normalize" }
  | { op: "softmax" }
  | { op: "cumsum" }
  | { op: "transposeMatmul"; w: number }
  | { op: "tanh" }
  | { op: "concatSlice" };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("matmul" as const), w: fc.nat(2) }),
  fc.constant({ op: "normalize" as const }),
  fc.constant({ op: "softmax" as const }),
  fc.constant({ op: "cumsum" as const }),
  fc.record({ op: fc.constant("transposeMatmul" as const), w: fc.nat(2) }),
  fc.constant({ op: "tanh" as const }),
  fc.constant({ op: "concatSlice" as const }),
);

/** A chain program over h: [m, d] with three [d, d] weights; every step keeps the shape. */
function chain(steps: Step[]) {
  return (x: Array, w0: Array, w1: Array, w2: Array): Array[] => {
    const ws = [w0, w1, w2];
    let h = x;
    const outs: Array[] = [];
    for (const s of steps) {
      switch (s.op) {
        case "matmul":
          h = h.matmul(ws[s.w]!);
          break;
        case "transposeMatmul":
          h = h.matmul(ws[s.w]!.transpose());
          break;
        case "normalize":
          h = h.sub(h.mean({ axis: -1, keepdims: true }));
          break;
        case "softmax":
          h = nn.softmax(h, -1);
          break;
        case "cumsum":
          h = np.cumsum(h, { axis: 0 }).mul(0.5);
          break;
        case "tanh":
          h = np.tanh(h);
          outs.push(h.sum({ axis: 0 }));
          break;
        case "concatSlice": {
          const c = np.concatenate([h, h.neg()], 1);
          h = lax.slice(c, [0, 1], [c.shape[0]!, 1 + h.shape[1]!]).add(h);
          break;
        }
      }
    }
    return [h, ...outs];
  };
}

describe("memory plan on generated programs", () => {
  it("holds its invariants and gives eager results for random chains of non-fusible ops", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 3, 5),
        fc.constantFrom(1, 4, 7),
        fc.array(stepArb, { minLength: 1, maxLength: 8 }),
        fc.nat(1000),
        (m, d, steps, seed) => {
          const f = chain(steps);
          const ws = [0, 1, 2].map((i) => normal(seed + i, [d, d], 0.5));
          compileAndCheck(f, [
            [normal(seed + 10, [m, d]), ...ws],
            [normal(seed + 20, [m, d]), ...ws.map((w) => w.mul(-1))],
          ]);
        },
      ),
      { numRuns: 40, seed: 42 },
    );
  });
});
