/**
 * Bugs the differential fuzzer (test/fuzz) found, each pinned by its minimal repro: compiled
 * against eager, and eager against JAX's defined behaviour.
 */
import { describe, expect, it } from "vitest";
import { array, jvp, lax, np, type Array } from "@wax/tracer";
import { filterJit } from "../index";

const bits = (a: Array) => [...new Uint32Array(Float32Array.from(a.concreteValue()!.data as Float32Array).buffer)];

describe("fuzzer-found bugs stay fixed", () => {
  it("a reversed gather (np.flip of np.take / of advanced indexing) compiles to the eager values, no out-of-bounds access", () => {
    const f = (x: Array, i: Array) => np.flip(np.take(x, i), 0);
    const x = array([5]);
    const i = array([0, 0], { dtype: "int32" });
    expect(filterJit(f)(x, i).tolist()).toEqual(f(x, i).tolist());
    const g = (x: Array, i: Array) => np.flip(x.get(":", i), 1);
    const x2 = array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const i2 = array([1, 0], { dtype: "int32" });
    expect(filterJit(g)(x2, i2).tolist()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const h = (x: Array) => jvp((v: Array) => np.flip(np.sort(v), 0), [x], [np.onesLike(x)]);
    const [p, t] = filterJit(h)(array([2, 1])) as [Array, Array];
    expect([p.tolist(), t.tolist()]).toEqual([
      [2, 1],
      [1, 1],
    ]);
  });

  it("topK ranks a NaN the same whatever its sign, so compiled min/max NaNs give eager's ranking", () => {
    const f = (x: Array) => lax.topK(np.minimum(x, 2.5), 1);
    const x = array([0, NaN]);
    const [ve, ie] = f(x);
    const [vj, ij] = filterJit(f)(x);
    expect(ie.tolist()).toEqual([1]);
    expect(ij.tolist()).toEqual(ie.tolist());
    expect(Number.isNaN(vj.item()) && Number.isNaN(ve.item())).toBe(true);
    expect(bits(vj).length).toBe(1);
  });

  it("the JVP of rem broadcasts a rank-0 dividend's tangent", () => {
    const x = array(3.5);
    const y = array([[2, 3]]);
    const [out, t] = jvp((a: Array) => np.fmod(a, y), [x], [array(1)]) as [Array, Array];
    expect(t.shape).toEqual(out.shape);
    expect(t.tolist()).toEqual([[1, 1]]);
  });

  it("any/all over zero-size axes are False/True, as JAX's", () => {
    const e = np.zeros([2, 0]);
    expect(np.any(e).tolist()).toBe(false);
    expect(np.all(e).tolist()).toBe(true);
    expect(np.any(e, 1).tolist()).toEqual([false, false]);
    expect(filterJit((a: Array) => np.all(a, 1))(e).tolist()).toEqual([true, true]);
  });
});
