import { describe, expect, test } from "vitest";
import { array, grad, ones, random, type Array } from "@wax/tracer";
import { filterJit, inferenceMode, treeAt } from "@wax/nn";
import { Dropout } from "../../src/layers/dropout";
import { expectClose, randomArray } from "./support";

describe("Dropout", () => {
  test("matches JAX's bernoulli mask: p=0.5 with key(0) keeps elements 2 and 3 of 4, scaled by 2", () => {
    // jax.random.bernoulli(PRNGKey(0), 0.5, (4,)) = [False, False, True, True]
    const y = new Dropout()(array([1, 2, 3, 4]), { key: random.key(0) });
    expect(y.tolist()).toEqual([0, 0, 6, 8]);
  });

  test("training output is where(uniform(key) < 1-p, x/(1-p), 0)", () => {
    const x = randomArray([5, 7], 1);
    const key = random.key(3);
    const y = new Dropout({ p: 0.3 })(x, { key });
    const u = random.uniform(key, [5, 7]).data;
    const q = Math.fround(1 - 0.3);
    const want = globalThis.Array.from(x.data, (v, i) => (u[i]! < q ? Math.fround(v / q) : 0));
    expectClose(y, { shape: [5, 7], data: want }, { rtol: 1e-6, atol: 0 });
  });

  test("keeps about 1-p of the elements and preserves the mean", () => {
    const y = new Dropout({ p: 0.3 })(ones([20000]), { key: random.key(7) });
    const data = globalThis.Array.from(y.data as Float32Array);
    const kept = data.filter((v) => v !== 0).length / data.length;
    expect(Math.abs(kept - 0.7)).toBeLessThan(0.015);
    expect(Math.abs(data.reduce((a, b) => a + b, 0) / data.length - 1)).toBeLessThan(0.03);
  });

  test("inference (field, per-call option, inferenceMode) is the identity and needs no key", () => {
    const x = randomArray([6], 2);
    expect(new Dropout({ inference: true })(x)).toBe(x);
    expect(new Dropout()(x, { inference: true })).toBe(x);
    const m = inferenceMode(new Dropout({ p: 0.9 }));
    expect(m.inference).toBe(true);
    expect(m(x)).toBe(x);
    // per-call inference=false overrides the field
    expect(() => m(x, { inference: false })).toThrow(/Dropout: a key is required/);
  });

  test("an inference flag set to an array is read by value", () => {
    const x = randomArray([4], 8);
    expect(treeAt((m: Dropout) => m.inference, new Dropout(), array(true))(x)).toBe(x);
    expect(() => treeAt((m: Dropout) => m.inference, new Dropout(), array(false))(x)).toThrow(/Dropout: a key is required/);
  });

  test("p = 0 forces inference even when training without a key", () => {
    const x = randomArray([4], 3);
    expect(new Dropout({ p: 0 })(x)).toBe(x);
    expect(new Dropout({ p: 0 })(x, { inference: false })).toBe(x);
  });

  test("training without a key throws, saying how to fix it", () => {
    expect(() => new Dropout()(randomArray([3], 4))).toThrow(/Dropout: a key is required in training mode — call dropout\(x, \{ key \}\)/);
  });

  test("p out of [0, 1] is rejected", () => {
    expect(() => new Dropout({ p: 1.5 })).toThrow(/Dropout: p must be a probability in \[0, 1\], got 1.5/);
  });

  test("p and inference are dynamic leaves: treeAt can change p to an array", () => {
    const d = treeAt((m: Dropout) => m.p, new Dropout(), array(0.25));
    const x = ones([8]);
    const y = d(x, { key: random.key(5) });
    const u = random.uniform(random.key(5), [8]).data;
    expect(y.tolist()).toEqual(globalThis.Array.from(u, (v) => (v < 0.75 ? Math.fround(1 / 0.75) : 0)));
  });

  test("the gradient is the scaled mask for x and zero for p (stop_gradient)", () => {
    const key = random.key(11);
    const x = randomArray([10], 5);
    const gx = grad((v: Array) => new Dropout({ p: 0.4 })(v, { key }).sum())(x) as Array;
    const u = random.uniform(key, [10]).data;
    const q = Math.fround(1 - 0.4);
    expectClose(
      gx,
      globalThis.Array.from(u, (v) => (v < q ? 1 / q : 0)),
      { rtol: 1e-6 },
    );
    const gp = grad((p: Array) => treeAt((m: Dropout) => m.p, new Dropout(), p)(x, { key }).sum())(array(0.4)) as Array;
    expect(gp.item()).toBe(0);
  });

  test("filterJit (compiled WebAssembly) matches eager, one compilation for every key", () => {
    const d = new Dropout({ p: 0.5 });
    const jf = filterJit((m: Dropout, x: Array, key: Array) => m(x, { key }));
    const x = randomArray([4, 9], 6);
    for (const seed of [0, 1, 2]) {
      const key = random.key(seed);
      expect(jf(d, x, key).tolist()).toEqual(d(x, { key }).tolist());
    }
    expect(jf.stats().misses).toBe(1);
  });
});
