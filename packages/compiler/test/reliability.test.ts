/** Reliability of the compiled path: no silent wrong answers (issue 15). */
import { describe, expect, it } from "vitest";
import { np, type Array } from "@wax/tracer";
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
