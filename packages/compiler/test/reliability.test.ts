/** Reliability of the compiled path: no silent wrong answers (issue 15). */
import { describe, expect, it } from "vitest";
import { PytreeError, lax, np, scalar, vmap, type Array } from "@wax/tracer";
import { CompileError } from "../src/errors";
import { filterJit } from "../src/jit";

describe("filterJit and `this`", () => {
  it("keys the cache on the static leaves of `this`", () => {
    const f = filterJit(function (this: { k: number }, x: Array) {
      return x.mul(this.k);
    });
    const x = np.array([1, 2, 3]);
    expect(f.call({ k: 2 }, x).tolist()).toEqual([2, 4, 6]);
    expect(f.call({ k: 3 }, x).tolist()).toEqual([3, 6, 9]);
    expect(f.call({ k: 2 }, x).tolist()).toEqual([2, 4, 6]);
    expect(f.stats().misses).toBe(2);
  });

  it("traces the arrays of `this` as inputs (no recompile when their values change)", () => {
    const f = filterJit(function (this: { w: Array }, x: Array) {
      return x.mul(this.w);
    });
    const x = np.array([1, 2]);
    expect(f.call({ w: np.array([1, 1]) }, x).tolist()).toEqual([1, 2]);
    expect(f.call({ w: np.array([5, 7]) }, x).tolist()).toEqual([5, 14]);
    expect(f.stats().misses).toBe(1);
  });

  it("plain calls (no `this`) keep their own cache and fast path", () => {
    const f = filterJit((x: Array) => x.add(1));
    const x = np.array([1, 2]);
    f(x);
    f(x);
    expect(f.stats()).toMatchObject({ hits: 1, misses: 1 });
  });
});

describe("filterJit and closed-over arrays", () => {
  it("recompiles when a captured array was written in place, and says why", () => {
    const w = np.array([1, 2, 3]);
    const f = filterJit((x: Array) => x.mul(w));
    const x = np.array([1, 1, 1]);
    expect(f(x).tolist()).toEqual([1, 2, 3]);
    (w.data as Float32Array)[1] = 10;
    expect(f(x).tolist()).toEqual([1, 10, 3]);
    expect(f.explainLastMiss()).toMatch(/modified in place/);
    expect(f(x).tolist()).toEqual([1, 10, 3]);
    expect(f.stats().misses).toBe(2);
  });
});

describe("loops past the i32 index range", () => {
  it("a fused loop over 2^31 elements is a CompileError naming the op, the size and what to do", () => {
    const f = filterJit(() => lax.iota("int32", [2 ** 31]).sum());
    expect(() => f()).toThrow(CompileError);
    expect(() => f()).toThrow(/reduce_sum loops over 2147483648 elements \(shape \[2147483648\]\).*split the computation/);
  });
});

describe("vmap over an empty batch, compiled", () => {
  it("a per-example dynamic index over a size-0 batch compiles and gives an empty result", () => {
    const f = filterJit((x: Array, i: Array) => vmap((r: Array, k: Array) => lax.dynamicSlice(r, [k], [2]))(x, i));
    expect(f(np.zeros([0, 5]), np.zeros([0], "int32")).shape).toEqual([0, 2]);
    const x = np.arange(10).reshape([2, 5]);
    expect(f(x, np.array([1, 3], { dtype: "int32" })).tolist()).toEqual([
      [1, 2],
      [8, 9],
    ]);
  });
});

describe("eager and compiled agree on weak types", () => {
  it("astype gives a strong type eager and under jit, also from a weak array of the same dtype", () => {
    const weak = lax.broadcastInDim(scalar(2, "float32", true), [3], []);
    const weakScalar = scalar(2, "float32", true);
    for (const w of [weak, weakScalar]) {
      expect(w.weakType).toBe(true);
      expect(w.astype("float32").weakType).toBe(false);
      expect(filterJit((v: Array) => v.astype("float32"))(w).weakType).toBe(false);
      expect(filterJit((v: Array) => v.astype("int32"))(w).weakType).toBe(false);
    }
  });
});

describe("filterJit of an arrow function called as a method", () => {
  it("does not key the cache on `this` (an arrow function has none)", () => {
    const f = filterJit((x: Array) => x.add(1));
    const a = { f };
    const b = { f };
    const x = np.array([1, 2]);
    expect(a.f(x).tolist()).toEqual([2, 3]);
    expect(b.f(x).tolist()).toEqual([2, 3]);
    expect(f.stats().misses).toBe(1);
  });
});

describe("compiled sin and cos over the whole float32 range", () => {
  it("match the interpreter (float64 Math.sin rounded to float32) within 1 ulp for huge arguments", () => {
    const xs = [1e5, 131073, 6.6e6, -6.6e6, 2 ** 23, 1e10, -1e20, 3.4e38, 1.8462092917700383e25, 0.5, 3];
    const x = np.array(xs);
    const ulps = (a: number, b: number) => Math.abs(a - b) / 2 ** (Math.floor(Math.log2(Math.max(Math.abs(b), 2 ** -126))) - 23);
    for (const [name, f] of [
      ["sin", np.sin],
      ["cos", np.cos],
    ] as const) {
      const eager = f(x).tolist() as number[];
      const jit = filterJit((v: Array) => f(v))(x).tolist() as number[];
      // A one-element program as well (its own loop shape).
      const one = filterJit((v: Array) => f(v))(np.array([3.4e38])).tolist() as number[];
      eager.forEach((e, i) => expect(ulps(jit[i]!, e), `${name}(${xs[i]})`).toBeLessThanOrEqual(1));
      expect(ulps(one[0]!, eager[7]!)).toBeLessThanOrEqual(1);
      expect(eager.every(Number.isFinite)).toBe(true);
    }
  });
});

describe("filterJit of a cyclic pytree", () => {
  it("is a PytreeError naming the cycle, not a stack overflow", () => {
    const f = filterJit((t: { x: Array }) => t.x.add(1));
    const t: Record<string, unknown> = { x: np.ones([2]) };
    t.self = t;
    expect(() => f(t as { x: Array })).toThrow(PytreeError);
    expect(() => f(t as { x: Array })).toThrow(/contains a cycle/);
  });
});
