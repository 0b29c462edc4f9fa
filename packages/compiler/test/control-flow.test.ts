/**
 * Compiled control flow against the interpreter: `lax.cond` / `switch` / `whileLoop` /
 * `foriLoop` / `scan` / `map` under `filterJit`, with zero-trip loops, empty scans, reverse
 * scans, nesting, pytree / int / bool carries, a data-dependent loop, and bodies that read an
 * old carry after computing the new one. Also: the module's size does not depend on trip
 * counts, loop-carried buffers never share bytes with a body's temporaries, and the passes
 * work inside sub-jaxprs.
 *
 * Tolerances: programs of exact float ops (+, −, ×, ÷, comparisons, selects) and integer ops
 * are compared bit for bit (the interpreter rounds each f32 op as Wasm does). Bodies with
 * `tanh` / `logistic` (4 ulp in compiled code, `codegen/simd-math.ts`) or float32 matmul
 * accumulation get a relative bound, stated where used.
 */
import { describe, expect, it } from "vitest";
import { array, lax, makeJaxpr, np, type Array, type ClosedJaxpr, type Jaxpr } from "@wax/tracer";
import { compileJaxpr, filterJit, optimize, type Compiled, type Kernel } from "../index";
import { QUIET, U, expectClose, randomArray, randomInts } from "./support";

/** `f` under filterJit equals `f` run eagerly, bit for bit. */
function check<A extends unknown[]>(f: (...args: A) => unknown, args: A, what: string): void {
  expectClose(filterJit(f, QUIET)(...args), f(...args), () => 0, what);
}

/** As `check`, with a per-element bound `rel`·|want| + `abs` (0 and 0: bit-exact). */
function checkClose<A extends unknown[]>(f: (...args: A) => unknown, args: A, what: string, rel: number, abs = 0): void {
  const got = filterJit(f, QUIET)(...args);
  const want = f(...args);
  const wants = flatData(want);
  expectClose(got, want, (leaf, i) => rel * Math.abs(wants[leaf]![i]!) + abs, what);
}

function flatData(x: unknown): ArrayLike<number>[] {
  if (x === null || x === undefined) return [];
  if (globalThis.Array.isArray(x)) return x.flatMap(flatData);
  if (typeof x === "object" && "data" in (x as object)) return [(x as Array).data];
  return Object.values(x as object).flatMap(flatData);
}

/** The compiled program of `f` at `args`. */
const compiled = (f: (...xs: Array[]) => unknown, args: Array[]): Compiled =>
  compileJaxpr(makeJaxpr(f as (...xs: Array[]) => Array)(...args));

/** Every kernel of a program, nested ones included. */
function allKernels(ks: readonly Kernel[]): Kernel[] {
  return ks.flatMap((k) => {
    if (k.kind === "for") return [k, ...allKernels(k.body)];
    if (k.kind === "while") return [k, ...allKernels(k.cond), ...allKernels(k.body)];
    if (k.kind === "switch") return [k, ...k.branches.flatMap(allKernels)];
    return [k];
  });
}

// ---- cond / switch ----------------------------------------------------------------------------

describe("cond and switch compile to branches", () => {
  it("cond takes the branch of a traced predicate (both ways), pytree operands and outputs", () => {
    const f = (p: Array, x: Array, y: Array) =>
      lax.cond(
        p,
        (o: { x: Array; y: Array }) => ({ s: o.x.mul(2).add(o.y), n: o.y.astype("int32") }),
        (o: { x: Array; y: Array }) => ({ s: o.x.sub(o.y), n: o.y.astype("int32").neg() }),
        { x, y },
      );
    const x = randomArray([3, 4], 1);
    const y = randomArray([4], 2, { lo: -5, hi: 5 });
    for (const p of [true, false]) check(f, [array(p), x, y], `cond ${p}`);
    const kinds = allKernels(compiled(f, [array(true), x, y]).program.kernels).map((k) => k.kind);
    expect(kinds).toContain("switch");
  });

  it("switch clamps its index as JAX does (below 0: first branch, past the end: last)", () => {
    const f = (i: Array, x: Array) => lax.switch(i, [(x: Array) => x.add(1), (x: Array) => x.mul(3), (x: Array) => np.exp(x)], x);
    const x = randomArray([5], 3);
    for (const i of [-7, 0, 1, 2, 3, 100]) checkClose(f, [array(i, { dtype: "int32" }), x], `switch index ${i}`, 4 * U);
  });

  it("a branch may return an operand unchanged, a constant, or a value computed from a closed-over array", () => {
    const w = randomArray([4], 4);
    const f = (p: Array, x: Array) =>
      lax.cond(
        p,
        (x: Array) => [x, np.zeros([4])],
        (x: Array) => [x.mul(w), np.ones([4])],
        x,
      );
    for (const p of [true, false]) check(f, [array(p), randomArray([4], 5)], `cond ${p}`);
  });

  it("bool and int outputs", () => {
    const f = (p: Array, k: Array) =>
      lax.cond(
        p,
        (k: Array) => [k.gt(2), k.add(1)],
        (k: Array) => [k.lt(0), k.mul(k)],
        k,
      );
    for (const p of [true, false]) check(f, [array(p), randomInts([6], 6, -5, 5)], `cond ${p}`);
  });
});

// ---- while / fori ---------------------------------------------------------------------------

describe("whileLoop and foriLoop compile to loops", () => {
  it("a data-dependent loop: Newton's iteration for sqrt, with its iteration count", () => {
    const sqrtNewton = (a: Array) =>
      lax.whileLoop(
        ([x, prev, _n]: [Array, Array, Array]) => np.abs(x.sub(prev)).gt(np.multiply(x, 1e-7)),
        ([x, _prev, n]: [Array, Array, Array]) => [x.add(a.div(x)).mul(0.5), x, n.add(1)] as [Array, Array, Array],
        [a, a.add(1), array(0, { dtype: "int32" })] as [Array, Array, Array],
      );
    for (const a of [2, 1e-3, 12345.678, 1]) {
      check(sqrtNewton, [array(a, { dtype: "float32" })], `sqrt(${a})`);
      const [x, , n] = filterJit(sqrtNewton, QUIET)(array(a, { dtype: "float32" }));
      expect(Math.abs(x.item() - Math.sqrt(a))).toBeLessThanOrEqual(4 * U * Math.sqrt(a));
      expect(n.item()).toBeGreaterThan(0);
    }
  });

  it("zero trips: the result is the initial value", () => {
    const f = (x: Array) =>
      lax.whileLoop(
        (v: Array) => v.sum().lt(0),
        (v: Array) => v.mul(2),
        x,
      );
    check(f, [array([1, 2, 3])], "while, zero trips");
    const g = (lo: Array, hi: Array, x: Array) => lax.foriLoop(lo, hi, (i: Array, v: Array) => v.add(i), x);
    check(g, [array(5, { dtype: "int32" }), array(2, { dtype: "int32" }), array([1.5, 2])], "fori, traced bounds, zero trips");
    check((x: Array) => lax.foriLoop(3, 3, (i: Array, v: Array) => v.mul(i), x), [array([1, 2])], "fori, static bounds, zero trips");
  });

  it("pytree carries with int and bool leaves", () => {
    type C = { x: Array; steps: Array; done: Array };
    const f = (x: Array, limit: Array) =>
      lax.whileLoop(
        (c: C) => np.logicalNot(c.done),
        (c: C) => {
          const x = c.x.mul(1.5).add(1);
          return { x, steps: c.steps.add(1), done: x.max().gt(limit) };
        },
        { x, steps: array(0, { dtype: "int32" }) as Array, done: array(false) as Array },
      );
    check(f, [array([0.5, -1, 2]), array(1000)], "while with a pytree carry");
  });

  it("foriLoop: static bounds (a scan) and traced bounds (a while) give the interpreter's values", () => {
    const body = (i: Array, [a, b]: [Array, Array]) => [a.add(b.mul(i)), b.sub(a.mul(0.25))] as [Array, Array];
    const init = [randomArray([3], 7), randomArray([3], 8)] as [Array, Array];
    check((a: Array, b: Array) => lax.foriLoop(2, 12, body, [a, b] as [Array, Array]), init, "fori static");
    check(
      (lo: Array, hi: Array, a: Array, b: Array) => lax.foriLoop(lo, hi, body, [a, b] as [Array, Array]),
      [array(2, { dtype: "int32" }), array(12, { dtype: "int32" }), ...init],
      "fori traced",
    );
  });

  it("a swap of carries and a body reading the old carry after the new one is computed", () => {
    const f = (a: Array, b: Array) =>
      lax.foriLoop(
        0,
        5,
        (_i: Array, [a, b]: [Array, Array]) => {
          const a2 = b.add(1);
          return [a2, a.mul(2).add(a2)] as [Array, Array];
        },
        [a, b] as [Array, Array],
      );
    check(f, [array([1, 2]), array([10, 20])], "swap");
    const g = (x: Array) =>
      lax.whileLoop(
        (v: Array) => v.sum().lt(50),
        (v: Array) => v.add(v.sum()),
        x,
      );
    check(g, [array([1, 2, 3])], "a body reading all of the old carry for each new element");
  });

  it("a matmul of the carry: the new carry is not written over the old one while it is read", () => {
    const w = randomArray([6, 6], 9, { lo: -0.4, hi: 0.4 });
    const f = (h: Array) => lax.foriLoop(0, 7, (_i: Array, h: Array) => h.matmul(w).add(h), h);
    checkClose(f, [randomArray([2, 6], 10)], "h = h@w + h", 1e-5, 1e-5);
  });
});

// ---- scan / map ---------------------------------------------------------------------------

describe("scan and map compile to counted loops", () => {
  const cumsum = (c: Array, x: Array) => {
    const n = c.add(x);
    return [n, n.mul(c)] as const;
  };

  it("forward and reverse scans over pytrees, with consts, return the interpreter's carry and ys", () => {
    const w = randomArray([3], 11);
    for (const reverse of [false, true]) {
      const f = (c0: Array, xs: Array, zs: Array) =>
        lax.scan(
          (c: { a: Array; k: Array }, x: { u: Array; z: Array }) => {
            const a = c.a.mul(x.u).add(w);
            return [
              { a, k: c.k.add(x.z) },
              { y: a.sub(c.a), i: x.z.mul(c.k), b: a.gt(0) },
            ] as const;
          },
          { a: c0, k: array(1, { dtype: "int32" }) as Array },
          { u: xs, z: zs },
          { reverse },
        );
      check(f, [randomArray([3], 12), randomArray([6, 3], 13), randomInts([6], 14, -3, 3)], `scan reverse=${reverse}`);
    }
  });

  it("a scan of length 0 returns the initial carry and empty ys", () => {
    const f = (c: Array, xs: Array) => lax.scan(cumsum, c, xs);
    check(f, [array([1, 2]), np.zeros([0, 2])], "length 0");
    check(
      (c: Array) => lax.scan((c: Array, _x: null) => [c.add(1), c] as const, c, null, { length: 0 }),
      [array([1, 2])],
      "length 0, no xs",
    );
  });

  it("ys that are the old carry, xs read twice, a scan without carry (lax.map)", () => {
    const f = (c: Array, xs: Array) => lax.scan((c: Array, x: Array) => [c.add(x).mul(x), c] as const, c, xs);
    check(f, [array([0.5, 1, 2]), randomArray([5, 3], 15)], "ys = old carry");
    check((xs: Array) => lax.map((x: Array) => x.mul(x).sum(), xs), [randomArray([4, 3], 16)], "map");
  });

  it("unroll does not change results or the module", () => {
    const f = (u: number) => (c: Array, xs: Array) => lax.scan(cumsum, c, xs, { unroll: u });
    const args: [Array, Array] = [randomArray([4], 17), randomArray([9, 4], 18)];
    check(f(1), args, "unroll 1");
    check(f(3), args, "unroll 3");
    expect(compiled(f(3), args).wasm.byteLength).toBe(compiled(f(1), args).wasm.byteLength);
  });

  it("nested: cond inside scan inside while", () => {
    const f = (x: Array, xs: Array) =>
      lax.whileLoop(
        ([_v, n]: [Array, Array]) => n.lt(4),
        ([v, n]: [Array, Array]) => {
          const [c] = lax.scan(
            (c: Array, x: Array) =>
              [
                lax.cond(
                  x.sum().gt(0),
                  (c: Array) => c.add(x),
                  (c: Array) => c.sub(x.mul(0.5)),
                  c,
                ),
                null,
              ] as const,
            v,
            xs,
          );
          return [c.mul(0.5), n.add(1)] as [Array, Array];
        },
        [x, array(0, { dtype: "int32" })] as [Array, Array],
      );
    check(f, [randomArray([3], 19), randomArray([5, 3], 20)], "nested");
    const kinds = allKernels(compiled(f, [randomArray([3], 19), randomArray([5, 3], 20)]).program.kernels).map((k) => k.kind);
    expect(kinds.filter((k) => k === "while" || k === "for" || k === "switch").sort()).toEqual(["for", "switch", "while"]);
  });
});

describe("in-place carries", () => {
  it("a carry updated with dynamic_update_slice is written in place: no kernel of the body copies it", () => {
    const f = (acc: Array, v: Array) =>
      lax.foriLoop(0, 6, (i: Array, acc: Array) => lax.dynamicUpdateSlice(acc, v.mul(i.astype("float32")).reshape([1, 3]), [i, 0]), acc);
    const args: [Array, Array] = [np.zeros([6, 3]), randomArray([3], 70)];
    check(f, args, "rows written one per trip");
    const loop = compiled(f, args).program.kernels.find((k) => k.kind === "for")!;
    const body = loop.kind === "for" ? loop.body : [];
    expect(body.map((k) => k.label)).toContain("dynamic_update_slice");
    expect(body.filter((k) => k.kind === "map" && k.shape.join() === "6,3")).toEqual([]);
  });

  it("a new carry computed elementwise from the old one is written over it, without a copy", () => {
    const f = (x: Array) => lax.foriLoop(0, 5, (_i: Array, x: Array) => np.exp(x.mul(-0.5)).add(x), x);
    checkClose(f, [randomArray([7], 71)], "x = exp(-x/2) + x", 8 * U);
    const loop = compiled(f, [randomArray([7], 71)]).program.kernels.find((k) => k.kind === "for")!;
    expect(loop.kind === "for" && loop.body).toHaveLength(1);
  });
});

// ---- a GRU over a sequence ----------------------------------------------------------------------

/** A GRU cell scanned over `xs` [T, batch, in]; returns the last state and every state. */
function gru(h0: Array, xs: Array, ws: Array[]): [Array, Array] {
  const [wz, uz, wr, ur, wh, uh] = ws as [Array, Array, Array, Array, Array, Array];
  return lax.scan(
    (h: Array, x: Array) => {
      const z = lax.logistic(x.matmul(wz).add(h.matmul(uz)));
      const r = lax.logistic(x.matmul(wr).add(h.matmul(ur)));
      const hh = np.tanh(x.matmul(wh).add(r.mul(h).matmul(uh)));
      const hn = np.subtract(1, z).mul(h).add(z.mul(hh));
      return [hn, hn] as const;
    },
    h0,
    xs,
  );
}

describe("a GRU scanned over a sequence", () => {
  const ws = [0, 1, 2, 3, 4, 5].map((i) => randomArray(i % 2 === 0 ? [3, 8] : [8, 8], 30 + i, { lo: -0.5, hi: 0.5 }));
  const h0 = randomArray([4, 8], 40, { lo: -0.5, hi: 0.5 });
  const f = (h0: Array, xs: Array, ...ws: Array[]) => gru(h0, xs, ws);

  it("equals the interpreter", () => {
    // logistic/tanh are 4 ulp and the small matmuls accumulate in float32; the cell is a
    // contraction (|∂h'/∂h| < 1 here), so per-step errors do not grow: 1e-5 absolute bounds them.
    checkClose(f, [h0, randomArray([10, 4, 3], 41), ...ws], "GRU T=10", 0, 1e-5);
  });

  it("compiles to a module whose size does not depend on the trip count (T = 10, 1000 and 2000)", () => {
    const sizes = [10, 1000, 2000].map((T) => {
      const c = compiled(f, [h0, randomArray([T, 4, 3], 42), ...ws]);
      return { bytes: c.wasm.byteLength, kernels: allKernels(c.program.kernels).length };
    });
    // The same kernels; the bytes differ only in the LEB128 width of constants (trip count,
    // index clamps, arena offsets): 10 → 1000 widens some by a byte, 1000 → 2000 none.
    expect(sizes[1]!.kernels).toBe(sizes[0]!.kernels);
    expect(sizes[2]!.kernels).toBe(sizes[0]!.kernels);
    expect(Math.abs(sizes[1]!.bytes - sizes[0]!.bytes)).toBeLessThan(0.03 * sizes[0]!.bytes);
    expect(sizes[2]!.bytes).toBe(sizes[1]!.bytes);
    const xs = randomArray([1000, 4, 3], 44);
    checkClose(f, [h0, xs, ...ws], "GRU T=1000", 0, 1e-5);
  });
});

// ---- the memory plan around loops -------------------------------------------------------------

/** Buffer ids a kernel (with its nested kernels) refers to, found by walking the object. */
function touched(k: unknown, out = new Set<number>()): Set<number> {
  const walk = (v: unknown, key: string): void => {
    if (typeof v === "number") {
      if (["buf", "out", "aPack", "bPack", "tile", "counter"].includes(key)) out.add(v);
    } else if (v !== null && typeof v === "object") {
      for (const [kk, vv] of Object.entries(v)) walk(vv, globalThis.Array.isArray(v) ? key : kk);
    }
  };
  walk(k, "");
  return out;
}

/**
 * For every loop: buffers used both inside and outside it (carries, ys, consts, the counter)
 * share no byte with each other nor with a buffer used only inside it.
 */
function checkLoopPlan(c: Compiled): number {
  const { program, plan } = c;
  const bytes = (id: number): [number, number] => [plan.offsets[id]!, plan.offsets[id]! + 4 * program.buffers[id]!.size];
  const overlap = (a: number, b: number) => {
    const [a0, a1] = bytes(a);
    const [b0, b1] = bytes(b);
    return a0 < b1 && b0 < a1;
  };
  let loops = 0;
  const visit = (list: readonly Kernel[], outside: Set<number>): void => {
    list.forEach((k, i) => {
      if (k.kind !== "for" && k.kind !== "while" && k.kind !== "switch") return;
      const others = new Set(outside);
      list.forEach((o, j) => j !== i && touched(o, others));
      const inside = touched(k.kind === "for" ? k.body : k.kind === "while" ? [k.cond, k.body] : k.branches);
      if (k.kind !== "switch") {
        loops++;
        const crossing = [...inside].filter((b) => others.has(b) || program.buffers[b]!.kind !== "temp");
        if (k.kind === "for") crossing.push(k.counter);
        const local = [...inside].filter((b) => !crossing.includes(b));
        for (const a of crossing) {
          for (const b of [...crossing, ...local]) {
            if (a !== b && program.buffers[a]!.size > 0 && program.buffers[b]!.size > 0)
              expect(overlap(a, b), `loop ${k.label}: buffers ${a} (live across the loop) and ${b} share bytes`).toBe(false);
          }
        }
      }
      const regions = k.kind === "for" ? [k.body] : k.kind === "while" ? [k.cond, k.body] : k.branches;
      for (const r of regions) visit(r, others);
    });
  };
  const outside = new Set<number>([...program.inputs, ...program.outputs.map((o) => o.buf)]);
  visit(program.kernels, outside);
  return loops;
}

describe("the memory plan of loops", () => {
  it("keeps loop-carried buffers, ys and consts apart from the body's temporaries", () => {
    const ws = [0, 1, 2, 3, 4, 5].map((i) => randomArray(i % 2 === 0 ? [3, 8] : [8, 8], 50 + i));
    const gruC = compiled((h0, xs, ...w) => gru(h0!, xs!, w), [randomArray([4, 8], 56), randomArray([6, 4, 3], 57), ...ws]);
    expect(checkLoopPlan(gruC)).toBe(1);
    const nested = compiled(
      (x: Array, xs: Array) =>
        lax.foriLoop(
          0,
          3,
          (_i: Array, v: Array) => lax.scan((c: Array, x: Array) => [np.tanh(c.add(x)).mul(v.sum()), c.mul(x)] as const, v, xs)[0],
          x,
        ),
      [randomArray([5], 58), randomArray([4, 5], 59)],
    );
    expect(checkLoopPlan(nested)).toBe(2);
  });

  it("reuses memory between a body's temporaries (the arena is smaller than all buffers together)", () => {
    const w = randomArray([16, 16], 61, { lo: -0.3, hi: 0.3 });
    const layer = (h: Array) => np.tanh(h.matmul(w));
    const f = (x: Array) => lax.foriLoop(0, 4, (_i: Array, v: Array) => layer(layer(layer(layer(v)))).add(v), x);
    const c = compiled(f, [randomArray([16, 16], 60)]);
    expect(c.plan.arenaBytes).toBeLessThan(c.plan.totalBytes);
    checkLoopPlan(c);
    checkClose(f, [randomArray([16, 16], 60)], "body with several temporaries", 1e-5, 1e-5);
  });
});

// ---- passes inside sub-jaxprs ------------------------------------------------------------------

/** Equations of a jaxpr with primitive `name`, sub-jaxprs included. */
function countPrim(j: Jaxpr, name: string): number {
  let n = 0;
  for (const e of j.eqns) {
    if (e.prim.name === name) n++;
    for (const v of Object.values(e.params as object)) {
      const subs = globalThis.Array.isArray(v) ? v : [v];
      for (const s of subs)
        if (s !== null && typeof s === "object" && "jaxpr" in s && "consts" in s) n += countPrim((s as ClosedJaxpr).jaxpr, name);
    }
  }
  return n;
}

const scanEqn = (j: ClosedJaxpr) => j.jaxpr.eqns.find((e) => e.prim.name === "scan")!;

describe("passes inside sub-jaxprs", () => {
  it("DCE drops a scan's unused ys and the carries nothing used depends on", () => {
    const f = (c: Array, k: Array, xs: Array) => {
      const [[a, _b, _n], ys] = lax.scan(
        ([a, b, n]: [Array, Array, Array], x: Array) =>
          [
            [a.add(x), b.mul(np.exp(x)), n.add(1)],
            [a.mul(2), np.sin(b)],
          ] as const,
        [c, c, k] as [Array, Array, Array],
        xs,
      );
      return [a, ys[0]];
    };
    const j = optimize(makeJaxpr(f)(array([1, 2]), array(0, { dtype: "int32" }), randomArray([3, 2], 61)));
    const e = scanEqn(j);
    expect(e.outputs).toHaveLength(2); // carry a, ys[0]
    expect(countPrim(j.jaxpr, "exp")).toBe(0);
    expect(countPrim(j.jaxpr, "sin")).toBe(0);
    check(f, [array([1, 2]), array(0, { dtype: "int32" }), randomArray([3, 2], 61)], "after DCE");
  });

  it("DCE keeps a carry a used one depends on, and a while carry its predicate reads", () => {
    const f = (x: Array) => {
      const [[a]] = lax.scan(
        ([a, b]: [Array, Array], _x: null) => [[a.add(b), b.mul(2)] as [Array, Array], null] as const,
        [x, x] as [Array, Array],
        null,
        { length: 4 },
      );
      const [v] = lax.whileLoop(
        ([_v, n, _u]: [Array, Array, Array]) => n.lt(3),
        ([v, n, u]: [Array, Array, Array]) => [v.add(1), n.add(1), np.exp(u)] as [Array, Array, Array],
        [a, array(0, { dtype: "int32" }), x] as [Array, Array, Array],
      );
      return v;
    };
    const j = optimize(makeJaxpr(f)(array([1, 2])));
    expect(scanEqn(j).outputs).toHaveLength(2);
    const w = j.jaxpr.eqns.find((e) => e.prim.name === "while")!;
    expect(w.outputs).toHaveLength(2);
    expect(countPrim(j.jaxpr, "exp")).toBe(0);
    check(f, [array([1, 2])], "after DCE");
  });

  it("CSE and constant folding work inside bodies; a cond with a known index is inlined", () => {
    const f = (x: Array, xs: Array) => {
      const [c] = lax.scan(
        (c: Array, x: Array) =>
          [
            np
              .sin(c.add(x))
              .add(np.sin(c.add(x)))
              .mul(np.add(2, 3)),
            null,
          ] as const,
        x,
        xs,
      );
      return lax.cond(
        true,
        (c: Array) => c.mul(2),
        (c: Array) => c.neg(),
        c,
      );
    };
    const args: [Array, Array] = [randomArray([3], 62), randomArray([4, 3], 63)];
    const j = optimize(makeJaxpr(f)(...args));
    expect(countPrim(j.jaxpr, "sin")).toBe(1);
    expect(countPrim(j.jaxpr, "cond")).toBe(0);
    const body = (scanEqn(j).params as { jaxpr: ClosedJaxpr }).jaxpr.jaxpr;
    expect(body.eqns.some((e) => e.prim.name === "add" && e.inputs.every((a) => "value" in a))).toBe(false);
    checkClose(f, args, "after CSE/fold", 4 * U);
  });
});
