import { describe, expect, it } from "vitest";
import { makeJaxpr, np, random, vmap, type Array } from "../index";

// Known values produced by JAX (default threefry, partitionable mode).
describe("random matches JAX bit for bit", () => {
  it("bits(key(0)) is 4070199207", () => {
    expect(random.bits(random.key(0)).item()).toBe(4070199207);
  });

  it("split(key(1), 3)", () => {
    expect(random.split(random.key(1), 3).toArray()).toEqual([
      [507451445, 1853169794],
      [1948878966, 4237131848],
      [2441914641, 3819641963],
    ]);
  });

  it("split(key(0))", () => {
    expect(random.split(random.key(0)).toArray()).toEqual([
      [1797259609, 2579123966],
      [928981903, 3453687069],
    ]);
  });

  it("uniform(key(51), [4])", () => {
    const u = random.uniform(random.key(51), [4]).toArray() as number[];
    [0.471269, 0.12344253, 0.17550635, 0.5663593].forEach((v, i) => expect(u[i]).toBeCloseTo(v, 6));
  });

  it("normal(split(key(0))[0], [4, 4]) starts as JAX's", () => {
    const k1 = random.split(random.key(0)).get(0);
    const z = random.normal(k1, [4, 4]).data;
    [1.0040143, -0.9063372, -0.7481722, -1.1713669].forEach((v, i) => expect(Math.abs(z[i]! - v)).toBeLessThan(1e-4));
  });

  it("key splits a 64-bit seed into two words", () => {
    expect(random.key(2 ** 32 + 5).toArray()).toEqual([1, 5]);
    expect(random.key(-1).toArray()).toEqual([4294967295, 4294967295]);
  });

  it("foldIn gives distinct keys for distinct data and matches threefry(key, [0, data])", () => {
    const k = random.key(0);
    const a = random.foldIn(k, 1).toArray();
    const b = random.foldIn(k, 2).toArray();
    expect(a).not.toEqual(b);
    expect(random.foldIn(k, 7).toArray()).toEqual(random.foldIn(k, 7).toArray());
  });
});

describe("random distributions", () => {
  const n = 20000;
  it("uniform has mean 1/2, variance 1/12, and respects minval/maxval", () => {
    const u = random.uniform(random.key(3), [n]);
    expect(np.mean(u).item()).toBeCloseTo(0.5, 2);
    expect(np.variance(u).item()).toBeCloseTo(1 / 12, 2);
    const v = random.uniform(random.key(4), [n], { minval: -2, maxval: 3 });
    expect(np.min(v).item()).toBeGreaterThanOrEqual(-2);
    expect(np.max(v).item()).toBeLessThan(3);
    expect(np.mean(v).item()).toBeCloseTo(0.5, 1);
  });

  it("normal has mean 0, variance 1 and the right tail mass", () => {
    const z = random.normal(random.key(5), [n]);
    expect(Math.abs(np.mean(z).item())).toBeLessThan(0.03);
    expect(np.variance(z).item()).toBeCloseTo(1, 1);
    const tail = np.mean(np.astype(np.greater(np.abs(z), 1.96), "float32")).item();
    expect(tail).toBeGreaterThan(0.04);
    expect(tail).toBeLessThan(0.06);
  });

  it("bernoulli has the requested rate", () => {
    const b = random.bernoulli(random.key(6), 0.3, [n]);
    expect(b.dtype).toBe("bool");
    expect(np.mean(np.astype(b, "float32")).item()).toBeCloseTo(0.3, 1);
  });
});

describe("random composes with transforms", () => {
  it("traces to threefry2x32 and vmaps over keys like a loop", () => {
    const text = String(makeJaxpr((k: Array) => random.uniform(k, [3]))(random.key(0)));
    expect(text).toContain("threefry2x32");
    const keys = random.split(random.key(9), 4);
    const batched = vmap((k: Array) => random.normal(k, [2]))(keys);
    for (let i = 0; i < 4; i++) {
      expect(batched.get(i).toArray()).toEqual(random.normal(keys.get(i), [2]).toArray());
    }
  });

  it("rejects a malformed key", () => {
    expect(() => random.uniform(np.ones([2]))).toThrow(/key is a uint32\[2\] array/);
  });
});
