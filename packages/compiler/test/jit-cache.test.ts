/**
 * filterJit's cache: what is part of the key (treedef, static leaves by value, avals with
 * weak types), that hits never re-trace, the bounded LRU, the recompile warning, static
 * outputs, TypedArray leaves, calls under outer transforms, the `jitMethod` decorator and
 * errors that leave the cache usable.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  Array,
  AxisNameError,
  array,
  asArray,
  grad,
  jvp,
  np,
  psum,
  registerPytreeNode,
  treeLeaves,
  vmap,
  type NestedArray,
  type TypedArray,
} from "@wax/tracer";
import { CompileError, filterJit, jitMethod } from "../index";

/** Wraps `fn` so every trace (every call of the Python-level function) is counted. */
function counted<A extends unknown[], R>(fn: (...args: A) => R): { fn: (...args: A) => R; traces: () => number } {
  let n = 0;
  return {
    fn: (...args: A) => {
      n++;
      return fn(...args);
    },
    traces: () => n,
  };
}

/** Elementwise comparison of nested arrays within a relative tolerance. */
function expectClose(got: NestedArray, want: NestedArray, tol = 1e-5): void {
  const g = [got].flat(Infinity as 1) as number[];
  const w = [want].flat(Infinity as 1) as number[];
  expect(g.length).toBe(w.length);
  g.forEach((v, i) => expect(Math.abs(v - w[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w[i]!))));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("filterJit cache hits", () => {
  it("hits on equal shapes and equal-valued static leaves without re-tracing", () => {
    const relu = (x: Array) => np.maximum(x, 0);
    const { fn, traces } = counted(
      (x: Array, opts: { scale: number; mode: string; neg: boolean; nested: { ks: number[]; act: (x: Array) => Array } }) => {
        const y = opts.nested.act(x.mul(opts.scale)).add(opts.nested.ks[1]!);
        return opts.mode === "sum" ? (opts.neg ? y.neg() : y).sum() : y;
      },
    );
    const f = filterJit(fn, { name: "hits" });
    // A fresh (but equal-valued) options object and fresh array values on every call.
    const opts = () => ({ scale: 2, mode: "sum", neg: true, nested: { ks: [1, 10], act: relu } });
    const results = [array([1, -2, 3]), array([4, 5, -6]), array([0.5, 0.5, 0.5])].map((x) => f(x, opts()).item());
    expect(results).toEqual([-(2 + 0 + 6 + 30), -(8 + 10 + 0 + 30), -(1 + 1 + 1 + 30)]);
    expect(traces()).toBe(1);
    const s = f.stats();
    expect([s.hits, s.misses, s.entries.length, s.entries[0]!.hits]).toEqual([2, 1, 1, 2]);
    expect(s.entries[0]!.staticLeaves).toEqual(["sum", true, relu, 1, 10, 2]); // keys sorted (mode, neg, nested, scale), as JAX sorts dict keys
    expect(s.compileMs).toBeGreaterThan(0);
    expect(s.compileMs).toBeCloseTo(s.entries[0]!.compileMs, 6);
    expect(f.explainLastMiss()).toBeNull();
  });

  it("treats NaN static leaves as equal (Object.is), so they hit", () => {
    const { fn, traces } = counted((x: Array, k: number) => (Number.isNaN(k) ? x : x.mul(k)));
    const f = filterJit(fn);
    f(array([1]), NaN);
    expect(f(array([2]), NaN).toArray()).toEqual([2]);
    expect(traces()).toBe(1);
  });
});

interface MissCase {
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- cases hold functions of different signatures, each called with its own arguments
  fn: (...args: any[]) => unknown;
  first: unknown[];
  second: unknown[];
  /** What explainLastMiss() must say about the second call. */
  why: RegExp;
}

const double = (x: Array) => x.mul(2);
const triple = (x: Array) => x.mul(3);
const sumLeaves = (...args: unknown[]) =>
  treeLeaves(args)
    .filter((l): l is Array => l instanceof Array)
    .reduce((acc: Array, l) => acc.add(l.sum()), np.zeros([]));

const MISSES: MissCase[] = [
  { name: "array shape", fn: double, first: [np.ones([3])], second: [np.ones([4])], why: /array leaf 0 changed from f32\[3\] to f32\[4\]/ },
  {
    name: "array dtype",
    fn: double,
    first: [array([1, 2, 3])],
    second: [array([1, 2, 3], { dtype: "int32" })],
    why: /array leaf 0 changed from f32\[3\] to i32\[3\]/,
  },
  {
    name: "weak type (JS-number scalar vs strong scalar)",
    fn: (x: Array) => x.add(1),
    first: [asArray(2.5)],
    second: [array(2.5)],
    why: /array leaf 0 changed from f32\[\] \(weak\) to f32\[\]/,
  },
  {
    name: "static number",
    fn: (x: Array, k: number) => x.mul(k),
    first: [np.ones([2]), 1],
    second: [np.ones([2]), 2],
    why: /static \(non-array\) leaf 0 changed from 1 to 2/,
  },
  {
    name: "static 0 vs -0",
    fn: (x: Array, k: number) => np.ones([2]).div(k).add(x),
    first: [np.ones([2]), 0],
    second: [np.ones([2]), -0],
    why: /static \(non-array\) leaf 0 changed from 0 to -0/,
  },
  {
    name: "static string",
    fn: (x: Array, m: string) => (m === "double" ? x.mul(2) : x.mul(3)),
    first: [np.ones([2]), "double"],
    second: [np.ones([2]), "triple"],
    why: /static \(non-array\) leaf 0 changed from "double" to "triple"/,
  },
  {
    name: "static boolean",
    fn: (x: Array, b: boolean) => (b ? x.neg() : x),
    first: [np.ones([2]), true],
    second: [np.ones([2]), false],
    why: /static \(non-array\) leaf 0 changed from true to false/,
  },
  {
    name: "function identity",
    fn: (x: Array, act: (x: Array) => Array) => act(x),
    first: [np.ones([2]), double],
    second: [np.ones([2]), triple],
    why: /static \(non-array\) leaf 0 changed from function double to function triple/,
  },
  {
    name: "object keys",
    fn: sumLeaves,
    first: [{ a: np.ones([2]) }],
    second: [{ b: np.ones([2]) }],
    why: /argument structure changed from PyTreeDef\(\[\{a: \*\}\]\) to PyTreeDef\(\[\{b: \*\}\]\)/,
  },
  {
    name: "list length",
    fn: sumLeaves,
    first: [[np.ones([2])]],
    second: [[np.ones([2]), np.ones([2])]],
    why: /argument structure changed from PyTreeDef\(\[\[\*\]\]\) to PyTreeDef\(\[\[\*, \*\]\]\)/,
  },
  {
    name: "null vs undefined",
    fn: sumLeaves,
    first: [np.ones([2]), null],
    second: [np.ones([2]), undefined],
    why: /argument structure changed from PyTreeDef\(\[\*, null\]\) to PyTreeDef\(\[\*, undefined\]\)/,
  },
  {
    name: "a static number replaced by an array",
    fn: (x: Array | number) => asArray(x).mul(2),
    first: [3],
    second: [array(3)],
    why: /leaf 0/,
  },
  {
    name: "an array replaced by a static number",
    fn: (x: Array | number) => asArray(x).mul(2),
    first: [array(3)],
    second: [3],
    why: /leaf 0/,
  },
];

describe("filterJit cache misses", () => {
  it.each(MISSES)("recompiles when the $name changes, and explains why", ({ fn, first, second, why }) => {
    const c = counted(fn);
    const f = filterJit(c.fn, { name: "miss" });
    f(...first);
    expect(f.explainLastMiss()).toBe("first call");
    const got = f(...second) as Array;
    expect(c.traces()).toBe(2);
    expect(f.stats().misses).toBe(2);
    expect(f.stats().entries).toHaveLength(2);
    expect(f.explainLastMiss()).toMatch(why);
    const want = fn(...second) as Array;
    expect(got.toArray()).toEqual(want.toArray());
    expect([got.dtype, got.weakType]).toEqual([want.dtype, want.weakType]);
    // Both entries now hit.
    f(...first);
    f(...second);
    expect(c.traces()).toBe(2);
  });

  it("keys on which leaves are static, not only on their values (swapping a static and an array argument)", () => {
    const c = counted((a: Array | number, b: Array | number) => (a instanceof Array ? a.mul(10).add(b as number) : (b as Array).sub(a)));
    const f = filterJit(c.fn, { name: "swap" });
    expect((f(1, array(5)) as Array).item()).toBe(4); // 5 - 1
    expect((f(array(5), 1) as Array).item()).toBe(51); // 5 * 10 + 1
    expect(c.traces()).toBe(2);
  });
});

describe("filterJit structural fast path (nested pytrees of arrays)", () => {
  it("hits with fresh containers of the same structure, reading each array leaf in order", () => {
    const c = counted((p: { w: Array; b: Array }[], opt: { lr: number; t: Array }, x: Array) =>
      p
        .reduce((h, l) => h.mul(l.w).add(l.b), x)
        .mul(opt.lr)
        .add(opt.t),
    );
    const f = filterJit(c.fn);
    const call = (k: number) =>
      f(
        [
          { w: array([k, 2]), b: array([1, k]) },
          { b: array([0, 3]), w: array([1, -1]) },
        ],
        { t: array([k, k]), lr: 2 },
        array([1, 1]),
      );
    // h = [k + 1, k + 2] after layer 0, [k + 1, 1 − k] after layer 1; then ·2 + k.
    for (let k = 1; k <= 4; k++) expect(call(k).toArray()).toEqual([3 * k + 2, 2 - k]);
    expect(c.traces()).toBe(1);
    expect(f.stats()).toMatchObject({ hits: 3, misses: 1 });
  });

  it("misses on an extra object key, a leaf turned into a list, another static value or shape", () => {
    const c = counted((d: Record<string, unknown>) => (d["a"] as Array).add(1));
    const f = filterJit(c.fn, { warnAfterMisses: Infinity });
    f({ a: array([1]), s: 1 });
    f({ a: array([1]), s: 1 });
    expect(c.traces()).toBe(1);
    f({ a: array([1]), s: 2 });
    expect(f.explainLastMiss()).toMatch(/static/);
    f({ a: array([1]), s: 2, extra: null });
    expect(f.explainLastMiss()).toMatch(/structure/);
    f({ a: array([1]), s: [2] });
    expect(f.explainLastMiss()).toMatch(/structure/);
    f({ a: array([1, 2]), s: [2] });
    expect(f.explainLastMiss()).toMatch(/f32\[1\] to f32\[2\]/);
    expect(c.traces()).toBe(5);
  });
});

describe("filterJit bounded cache", () => {
  it("keeps at most maxEntries and evicts the least recently used", () => {
    const c = counted((x: Array) => x.mul(2));
    const f = filterJit(c.fn, { maxEntries: 2 });
    const avals = () => f.stats().entries.map((e) => e.avals.join());
    f(np.ones([1]));
    f(np.ones([2]));
    expect(avals()).toEqual(["f32[2]", "f32[1]"]);
    f(np.ones([1])); // hit: [1] becomes most recently used
    expect(c.traces()).toBe(2);
    expect(avals()).toEqual(["f32[1]", "f32[2]"]);
    f(np.ones([3])); // evicts [2], not [1]
    expect(avals()).toEqual(["f32[3]", "f32[1]"]);
    f(np.ones([1]));
    expect(c.traces()).toBe(3);
    expect(f(np.ones([2])).toArray()).toEqual([2, 2]); // was evicted: traced again
    expect(c.traces()).toBe(4);
    expect(f.stats().entries).toHaveLength(2);
    expect(f.stats()).toMatchObject({ hits: 2, misses: 4 });
  });

  it("explains a recompilation caused by eviction as eviction", () => {
    const f = filterJit((x: Array) => x.mul(2), { maxEntries: 2 });
    f(np.ones([1]));
    f(np.ones([2]));
    f(np.ones([3])); // evicts [1]
    f(np.ones([1]));
    expect(f.explainLastMiss()).toMatch(/evict/);
  });

  it("clear() drops every entry, so the next call traces again", () => {
    const c = counted((x: Array) => x.mul(2));
    const f = filterJit(c.fn);
    f(np.ones([2]));
    f.clear();
    expect(f.stats().entries).toHaveLength(0);
    f(np.ones([2]));
    expect(c.traces()).toBe(2);
  });
});

describe("filterJit recompile warning", () => {
  it("warns once, after warnAfterMisses misses, naming the function and the reason", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const f = filterJit(
      function keepsRecompiling(x: Array) {
        return x.mul(2);
      },
      { warnAfterMisses: 3 },
    );
    f(np.ones([1]));
    for (let i = 0; i < 5; i++) f(np.ones([2])); // hits do not count
    expect(warn).not.toHaveBeenCalled();
    f(np.ones([3]));
    expect(warn).toHaveBeenCalledTimes(1);
    const msg = String(warn.mock.calls[0]![0]);
    expect(msg).toContain("keepsRecompiling");
    expect(msg).toContain("array leaf 0 changed from f32[2] to f32[3]");
    for (let n = 4; n < 8; n++) f(np.ones([n]));
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("does not warn while the function hits", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const f = filterJit((x: Array) => x.mul(2), { warnAfterMisses: 2 });
    for (let i = 0; i < 10; i++) f(array([i]));
    expect(warn).not.toHaveBeenCalled();
  });
});

describe("filterJit inputs and outputs", () => {
  it("returns static output leaves as they were returned, on misses and on hits", () => {
    const marker = { tag: "kept" };
    const f = filterJit((x: Array) => ({
      y: x.mul(2),
      tag: "t",
      n: 3,
      flag: false,
      none: null,
      u: undefined,
      act: double,
      obj: new Map([["k", marker]]),
    }));
    for (const x of [array([1]), array([2])]) {
      const r = f(x);
      expect(r.y.toArray()).toEqual([x.item() * 2]);
      expect([r.tag, r.n, r.flag, r.none, r.u]).toEqual(["t", 3, false, null, undefined]);
      expect("u" in r).toBe(true);
      expect(r.act).toBe(double);
      expect(r.obj.get("k")).toBe(marker);
    }
  });

  it("bakes arrays captured by closure into the module as constants", () => {
    const w = array([1, 2, 3]);
    const f = filterJit((x: Array) => x.mul(w).add(array(0.5)));
    expect(f(array([1, 1, 1])).toArray()).toEqual([1.5, 2.5, 3.5]);
    expect(f(array([2, 2, 2])).toArray()).toEqual([2.5, 4.5, 6.5]);
  });

  it("outputs of mixed dtypes are fresh: the next call does not change them", () => {
    const f = filterJit((x: Array) => [x.mul(2), x.gt(0), x.astype("int32"), x.sum()] as const);
    const first = f(array([1.5, -2, 3]));
    const second = f(array([-7, 8, 0.5]));
    expect(first.map((a) => a.toArray())).toEqual([[3, -4, 6], [true, false, true], [1, -2, 3], 2.5]);
    expect(second.map((a) => a.toArray())).toEqual([[-14, 16, 1], [false, true, true], [-7, 8, 0], 1.5]);
    // Outputs above 64 bytes share one fresh buffer per call (bools after the 4-byte ones).
    const big = (k: number) => array(globalThis.Array.from({ length: 100 }, (_, i) => (i % 3) - 1 + k));
    const [a1, b1, c1, s1] = f(big(0));
    const [a2, b2, c2] = f(big(0.5));
    expect(a1.toArray()).toEqual(globalThis.Array.from({ length: 100 }, (_, i) => 2 * ((i % 3) - 1)));
    expect(b1.toArray()).toEqual(globalThis.Array.from({ length: 100 }, (_, i) => i % 3 === 2));
    expect(c1.toArray()).toEqual(globalThis.Array.from({ length: 100 }, (_, i) => (i % 3) - 1));
    expect(s1.item()).toBe(-1);
    expect(a2.toArray()).toEqual(globalThis.Array.from({ length: 100 }, (_, i) => 2 * ((i % 3) - 0.5)));
    expect(b2.toArray()).toEqual(globalThis.Array.from({ length: 100 }, (_, i) => i % 3 !== 0));
    expect(c2.toArray()).toEqual(globalThis.Array.from({ length: 100 }, (_, i) => ((i % 3) - 0.5) | 0));
  });

  it("returns an unchanged input as a fresh array with the same values", () => {
    const f = filterJit((x: Array, y: Array) => [x, y.add(1)] as const);
    const x = array([
      [1, 2],
      [3, 4],
    ]);
    const [a, b] = f(x, array([0]));
    expect(a.toArray()).toEqual(x.toArray());
    expect(a).not.toBe(x);
    expect(b.toArray()).toEqual([1]);
  });

  const typed: [string, () => TypedArray][] = [
    ["Float32Array", () => new Float32Array([1.5, -2, 3, 0.25, 7])],
    ["Int32Array", () => new Int32Array([1, -2, 3, 2147483647, -7])],
    ["Uint32Array", () => new Uint32Array([1, 2, 3, 4000000000, 7])],
    ["Uint8Array (bool)", () => new Uint8Array([0, 1, 5, 255, 0])],
  ];
  it.each(typed)("accepts %s leaves as dynamic arrays, like array() of the same data", (_, make) => {
    const c = counted((x: Array) => ({ i: x.astype("int32").mul(2), s: x.astype("float32").sum() }));
    // filterJit's type keeps `fn`'s parameter types; at runtime a TypedArray stands in for an Array.
    const f = filterJit(c.fn) as unknown as (x: TypedArray) => ReturnType<typeof c.fn>;
    for (const t of [make(), make().reverse()]) {
      const got = f(t);
      const want = c.fn(array(t));
      expect([got.i.shape, got.i.dtype]).toEqual([[5], "int32"]);
      expectClose(got.s.toArray(), want.s.toArray());
      expect(got.i.toArray()).toEqual(want.i.toArray());
    }
    // Different contents of the same length hit the same entry: the leaf is traced, not static.
    expect(c.traces()).toBe(3); // one trace for the cache entry, two eager references
  });
});

describe("filterJit under outer transforms", () => {
  const loss = (w: Array, x: Array) => np.tanh(x.matmul(w)).square().sum();
  const w = array([
    [0.5, -1],
    [0.25, 2],
    [1, 0.1],
  ]);
  const x = array([
    [1, 2, 3],
    [-1, 0.5, 2],
  ]);

  it("grad(filterJit(f)) traces through and equals grad(f)", () => {
    const g = grad(filterJit(loss)) as (w: Array, x: Array) => Array;
    expectClose(g(w, x).toArray(), (grad(loss) as (w: Array, x: Array) => Array)(w, x).toArray());
  });

  it("vmap(filterJit(f)) traces through and equals vmap(f)", () => {
    const f = (x: Array) => np.exp(x).sum().mul(x);
    const xs = array([
      [1, 2, 3],
      [0, -1, 0.5],
    ]);
    expectClose(vmap(filterJit(f))(xs).toArray(), vmap(f)(xs).toArray());
  });

  it("filterJit(grad(f)) and filterJit(vmap(f)) compile and match eager", () => {
    const gj = filterJit(grad(loss) as (w: Array, x: Array) => Array);
    expectClose(gj(w, x).toArray(), (grad(loss) as (w: Array, x: Array) => Array)(w, x).toArray());
    const per = (row: Array) => row.mul(row.sum());
    expectClose(filterJit(vmap(per))(x).toArray(), vmap(per)(x).toArray());
  });

  it("differentiates through a filterJit call that closes over the differentiated value", () => {
    const f = (s: Array) => filterJit((c: Array) => c.mul(s).sum())(array([2, 3]));
    expect((grad(f) as (s: Array) => Array)(array(1.5)).item()).toBeCloseTo(5, 5);
    const [y, dy] = jvp(f, [array(1.5)], [array(1)]) as [Array, Array];
    expect([y.item(), dy.item()]).toEqual([7.5, 5]);
  });

  it("vmaps a filterJit call that closes over the batched value", () => {
    const f = (s: Array) => filterJit((c: Array) => c.mul(s).sum())(array([2, 3]));
    expect(vmap(f)(array([1, 2, 3])).toArray()).toEqual([5, 10, 15]);
  });

  it("sees the axis names of an enclosing vmap even when no argument is batched", () => {
    const f = (x: Array) => x.add(filterJit((c: Array) => psum(c, "i"))(array(2)));
    expect(vmap(f, { axisName: "i" })(array([1, 2, 3])).toArray()).toEqual([7, 8, 9]);
  });
});

// ---- jitMethod ------------------------------------------------------------------------------

let scalerTraces = 0;
class Scaler {
  constructor(
    readonly w: Array,
    readonly offset: number,
  ) {}

  @jitMethod
  apply(x: Array): Array {
    scalerTraces++;
    return x.mul(this.w).add(this.offset);
  }
}
// `w` is a child (traced); `offset` is the static aux part.
registerPytreeNode<Scaler>(Scaler, {
  flatten: (s) => [[s.w], s.offset],
  unflatten: (offset, [w]) => new Scaler(w as Array, offset as number),
});

let plainTraces = 0;
class Plain {
  factor = 3;
  @jitMethod
  run(x: Array, k: number): Array {
    plainTraces++;
    return x.mul(this.factor).add(k);
  }
}

describe("jitMethod", () => {
  it("compiles a method with `this` as an argument: array fields traced, static fields in the key", () => {
    scalerTraces = 0;
    const x = array([1, 2]);
    expect(new Scaler(array([10, 20]), 1).apply(x).toArray()).toEqual([11, 41]);
    // A different instance with an equal structure and offset: a hit with the new weights.
    expect(new Scaler(array([3, 4]), 1).apply(x).toArray()).toEqual([4, 9]);
    expect(scalerTraces).toBe(1);
    // A different static field: compiles anew.
    expect(new Scaler(array([3, 4]), 2).apply(x).toArray()).toEqual([5, 10]);
    expect(scalerTraces).toBe(2);
    // A different shape of an array field: compiles anew.
    expect(new Scaler(array(2), 2).apply(x).toArray()).toEqual([4, 6]);
    expect(scalerTraces).toBe(3);
    expect(new Scaler(array([5, 6]), 2).apply(array([1, 1])).toArray()).toEqual([7, 8]);
    expect(scalerTraces).toBe(3);
  });

  it("keys an unregistered instance by identity and other arguments by value", () => {
    plainTraces = 0;
    const p = new Plain();
    expect(p.run(array([1, 2]), 1).toArray()).toEqual([4, 7]);
    expect(p.run(array([2, 2]), 1).toArray()).toEqual([7, 7]);
    expect(plainTraces).toBe(1);
    expect(p.run(array([2, 2]), 2).toArray()).toEqual([8, 8]);
    expect(plainTraces).toBe(2);
    const q = new Plain();
    q.factor = 5;
    expect(q.run(array([2, 2]), 2).toArray()).toEqual([12, 12]);
    expect(plainTraces).toBe(3);
  });
});

// ---- a callable pytree node as the jitted function ------------------------------------------

/** A callable registered class (as nn Modules and Partial are): a function object with fields. */
abstract class Affine {}
Object.setPrototypeOf(Affine.prototype, Function.prototype);
type AffineFn = ((x: Array) => Array) & { w: Array; b: Array; act: string };
let affineCalls = 0;
function makeAffine(w: Array, b: Array, act: string): AffineFn {
  const f = ((x: Array) => {
    affineCalls++;
    const y = x.mul(f.w).add(f.b);
    return f.act === "relu" ? np.maximum(y, 0) : y;
  }) as AffineFn;
  Object.setPrototypeOf(f, Affine.prototype);
  Object.assign(f, { w, b, act });
  return f;
}
registerPytreeNode(Affine, {
  name: "Affine",
  flatten: (f: AffineFn) => [[f.w, f.b], f.act],
  unflatten: (act, [w, b]) => makeAffine(w as Array, b as Array, act as string),
});

describe("filterJit of a callable pytree node", () => {
  it("traces the node's array leaves as inputs (not constants) and matches calling it eagerly", () => {
    const model = makeAffine(array([1, -2, 3]), array([0.5, 0.5, -4]), "relu");
    const f = filterJit(model);
    const x = array([2, 1, 1]);
    expect(f(x).toArray()).toEqual(model(x).toArray());
    const jaxpr = f.lastJaxpr()!;
    // w, b and x are the compiled module's inputs; nothing is baked in as a constant.
    expect(jaxpr.jaxpr.invars.map((v) => String(v.aval))).toEqual(["f32[3]", "f32[3]", "f32[3]"]);
    expect(jaxpr.consts.length).toBe(0);
    // The node's static part is in the cache key (its treedef).
    expect(f.stats().entries[0]!.inTree).toMatch(/Affine\[.*relu.*\]/);
  });

  it("hits the cache on repeated calls without re-tracing, and recompiles for a new shape", () => {
    const model = makeAffine(array([1, 2]), array([0, 1]), "linear");
    affineCalls = 0;
    const f = filterJit(model);
    expect(f(array([1, 1])).toArray()).toEqual([1, 3]);
    expect(f(array([2, 3])).toArray()).toEqual([2, 7]);
    expect(affineCalls).toBe(1);
    expect(f.stats()).toMatchObject({ hits: 1, misses: 1 });
    expect(
      f(
        array([
          [1, 1],
          [2, 2],
        ]),
      ).toArray(),
    ).toEqual([
      [1, 3],
      [2, 5],
    ]);
    expect(f.stats().misses).toBe(2);
    expect(f.explainLastMiss()).toMatch(/array leaf 2 changed from f32\[2\] to f32\[2,2\]/);
  });

  it("nests in a jitted training-like function that takes the node as an argument, too", () => {
    const model = makeAffine(array([1, 2]), array([0, 1]), "relu");
    const loss = filterJit((m: AffineFn, x: Array) => m(x).sum());
    expect(loss(model, array([1, -3])).item()).toBe(1);
    expect(loss(makeAffine(array([3, 2]), array([0, 1]), "relu"), array([1, 1])).item()).toBe(6);
    expect(loss.stats()).toMatchObject({ hits: 1, misses: 1 });
  });
});

// ---- errors ---------------------------------------------------------------------------------

describe("filterJit errors", () => {
  it("a collective outside vmap throws an AxisNameError naming the function and the op, and the cache stays usable", () => {
    const c = counted((x: Array, mode: string) => (mode === "collective" ? psum(x, "batch") : x.mul(2)));
    const f = filterJit(c.fn, { name: "usesPsum" });
    expect(f(array([1, 2]), "plain").toArray()).toEqual([2, 4]);
    let err: unknown = null;
    try {
      f(array([1, 2]), "collective");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AxisNameError);
    expect(String(err)).toContain("psum");
    expect(String(err)).toContain("usesPsum");
    expect(f.stats().entries).toHaveLength(1);
    const before = c.traces();
    expect(f(array([3, 4]), "plain").toArray()).toEqual([6, 8]);
    expect(c.traces()).toBe(before); // the good entry is still cached
    expect(f(array([1, 2, 3]), "plain").toArray()).toEqual([2, 4, 6]); // and new entries compile
  });

  it("a float64 input throws a CompileError naming the function and the dtype, and the cache stays usable", () => {
    const f = filterJit((x: Array) => x.mul(2), { name: "wantsF32" });
    expect(() => f(array([1, 2], { dtype: "float64" }))).toThrowError(CompileError);
    expect(() => f(array([1, 2], { dtype: "float64" }))).toThrowError(/wantsF32.*float64|float64.*wantsF32/);
    expect(f(array([1, 2])).toArray()).toEqual([2, 4]);
    expect(f.stats().entries).toHaveLength(1);
  });

  it("a float64 intermediate throws a CompileError naming the function and the op", () => {
    const f = filterJit((x: Array) => x.astype("float64").mul(2).astype("float32"), { name: "widens" });
    let err: unknown = null;
    try {
      f(array([1, 2]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CompileError);
    expect(String(err)).toMatch(/widens/);
    expect(String(err)).toMatch(/convert_element_type/);
  });
});
