/**
 * `randint`, `permutation`, `choice` and `gumbel`. Expected values come from a Python
 * re-implementation of JAX's algorithms (jax/_src/random/core.py: `_randint`, `_shuffle`)
 * on the pure-Python threefry in shared/reference/threefry.py; the same randint code run
 * with legacy key splitting reproduces JAX's published `randint(PRNGKey(0), (3,3), 0, 8)`.
 */
import { describe, expect, it } from "vitest";
import { Array, ConcretizationError, array, makeJaxpr, np, random, vmap } from "../index";

const isPermutationOf = (xs: number[], n: number) => [...xs].sort((a, b) => a - b).every((v, i) => v === i) && xs.length === n;

describe("randint", () => {
  it("matches JAX's algorithm bit for bit", () => {
    expect(random.randint(random.key(0), [8], 0, 10).toArray()).toEqual([9, 0, 2, 3, 1, 7, 2, 3]);
    expect(random.randint(random.key(5), [6], -1000, 1000000).toArray()).toEqual([615681, 479424, 44479, 189984, 852460, 326909]);
    expect(random.randint(random.key(5), [6], -(2 ** 31), 2 ** 31 - 1).toArray()).toEqual([
      -1787507967, -1163020224, -1664956169, -994140664, -1625109188, -191201739,
    ]);
  });

  it("maxval <= minval gives minval; values stay in range; array bounds broadcast", () => {
    expect(random.randint(random.key(5), [3], 4, 4).toArray()).toEqual([4, 4, 4]);
    const r = random.randint(random.key(6), [1000, 2], array([0, 100], { dtype: "int32" }), array([3, 105], { dtype: "int32" }));
    expect(r.dtype).toBe("int32");
    const col0 = np.index(r, ":", 0).toArray() as number[];
    const col1 = np.index(r, ":", 1).toArray() as number[];
    expect(new Set(col0)).toEqual(new Set([0, 1, 2]));
    expect(new Set(col1)).toEqual(new Set([100, 101, 102, 103, 104]));
  });

  it("traces and vmaps over keys", () => {
    expect(String(makeJaxpr((k: Array) => random.randint(k, [2], 0, 7))(random.key(0)))).toContain("rem");
    const keys = random.split(random.key(2), 3);
    const batched = vmap((k: Array) => random.randint(k, [4], 0, 50))(keys);
    for (let i = 0; i < 3; i++) expect(batched.get(i).toArray()).toEqual(random.randint(keys.get(i), [4], 0, 50).toArray());
  });

  it("rejects bounds that are not int32", () => {
    expect(() => random.randint(random.key(0), [2], 0, 2 ** 31)).toThrow(/randint: maxval 2147483648 is not an int32/);
    expect(() => random.randint(random.key(0), [2], 0.5, 3)).toThrow(/minval 0.5 is not an int32/);
  });
});

describe("permutation", () => {
  it("matches JAX's _shuffle: one round up to 1625 elements, two above", () => {
    expect(random.permutation(random.key(0), 10).toArray()).toEqual([0, 1, 8, 5, 6, 4, 3, 2, 7, 9]);
    const big = random.permutation(random.key(1), 2000).toArray() as number[];
    expect(big.slice(0, 12)).toEqual([1308, 942, 1831, 539, 868, 726, 59, 1314, 665, 1805, 1653, 1627]);
    expect(big.reduce((s, v, i) => s + v * i, 0)).toBe(1980719653);
    expect(random.permutation(random.key(7), 1).toArray()).toEqual([0]);
    expect(random.permutation(random.key(7), 0).toArray()).toEqual([]);
  });

  it("is a permutation, deterministic given the key, and differs between keys", () => {
    for (const n of [2, 17, 100, 1700]) {
      const p = random.permutation(random.key(n), n).toArray() as number[];
      expect(p).toHaveLength(n);
      expect(isPermutationOf(p, n)).toBe(true);
      expect(random.permutation(random.key(n), n).toArray()).toEqual(p);
    }
    expect(random.permutation(random.key(1), 50).toArray()).not.toEqual(random.permutation(random.key(2), 50).toArray());
    expect(random.permutation(random.key(0), 10).dtype).toBe("int32");
  });

  it("shuffles an array's slices together, or each lane independently", () => {
    const x = np.multiply(np.arange(12, undefined, 1, "int32").reshape([3, 4]), 10);
    expect(random.permutation(random.key(3), x, { axis: 1 }).toArray()).toEqual([
      [0, 20, 10, 30],
      [40, 60, 50, 70],
      [80, 100, 90, 110],
    ]);
    expect(random.permutation(random.key(3), x, { axis: 1, independent: true }).toArray()).toEqual([
      [0, 20, 10, 30],
      [50, 60, 70, 40],
      [100, 90, 110, 80],
    ]);
    expect(random.permutation(random.key(3), x, { axis: 0, independent: true }).toArray()).toEqual([
      [0, 50, 60, 70],
      [40, 10, 100, 30],
      [80, 90, 20, 110],
    ]);
    const f = array([0.5, 1.5, 2.5, 3.5]);
    const pf = random.permutation(random.key(4), f);
    expect(pf.dtype).toBe("float32");
    expect([...(pf.toArray() as number[])].sort()).toEqual([0.5, 1.5, 2.5, 3.5]);
  });

  it("traces to sorts by random bits, and vmaps over keys with each key's eager permutation", () => {
    expect(String(makeJaxpr((k: Array) => random.permutation(k, 5))(random.key(0)))).toContain(
      "sort[dimension=0 is_stable=True num_keys=1]",
    );
    const keys = random.split(random.key(11), 4);
    const batched = vmap((k: Array) => random.permutation(k, 30))(keys);
    for (let i = 0; i < 4; i++) expect(batched.get(i).toArray()).toEqual(random.permutation(keys.get(i), 30).toArray());
  });

  it("needs a concrete size: a traced scalar n is a ConcretizationError", () => {
    const traced = () => makeJaxpr((n: Array) => random.permutation(random.key(0), n))(array(5, { dtype: "int32" }));
    expect(traced).toThrow(ConcretizationError);
    expect(traced).toThrow(/permutation: x is a traced scalar \(i32\[\]\), but it sets the result's shape.* — pass a JS number/);
  });
});

describe("choice", () => {
  it("with replacement from arange(n) is randint(key, shape, 0, n)", () => {
    expect(random.choice(random.key(0), 10, { shape: [8] }).toArray()).toEqual([9, 0, 2, 3, 1, 7, 2, 3]);
    expect(random.choice(random.key(0), 10, { shape: [2, 4] }).toArray()).toEqual([
      [9, 0, 2, 3],
      [1, 7, 2, 3],
    ]);
    expect(random.choice(random.key(0), 10).shape).toEqual([]);
  });

  it("without replacement is a prefix of the permutation; from an array it picks slices along axis", () => {
    expect(random.choice(random.key(0), 10, { shape: [3], replace: false }).toArray()).toEqual([0, 1, 8]);
    const x = np.multiply(np.arange(12, undefined, 1, "int32").reshape([3, 4]), 10);
    expect(random.choice(random.key(3), x, { shape: [2], replace: false, axis: 1 }).toArray()).toEqual([
      [0, 20],
      [40, 60],
      [80, 100],
    ]);
    const picked = random.choice(random.key(0), x, { shape: [5] });
    expect(picked.shape).toEqual([5, 4]);
    (picked.toArray() as number[][]).forEach((row) => expect(row[1]! - row[0]!).toBe(10));
    expect(() => random.choice(random.key(0), 3, { shape: [4], replace: false })).toThrow(
      /cannot take a larger sample \(size 4\) than population \(size 3\)/,
    );
  });

  it("with p and replacement follows p (inverse CDF)", () => {
    const n = 20000;
    const draws = random.choice(random.key(8), 3, { shape: [n], p: [0.2, 0.5, 0.3] }).toArray() as number[];
    const freq = [0, 1, 2].map((v) => draws.filter((d) => d === v).length / n);
    [0.2, 0.5, 0.3].forEach((p, i) => expect(Math.abs(freq[i]! - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n)));
    expect(random.choice(random.key(9), 4, { shape: [50], p: [0, 1, 0, 0] }).toArray()).toEqual(new globalThis.Array(50).fill(1));
  });

  it("with p and no replacement draws distinct entries, never a zero-probability one, favouring large p", () => {
    let firstIsHeavy = 0;
    for (let s = 0; s < 200; s++) {
      const d = random.choice(random.key(s), 5, { shape: [3], replace: false, p: [0.05, 0.05, 0.8, 0.1, 0] }).toArray() as number[];
      expect(new Set(d).size).toBe(3);
      expect(d).not.toContain(4);
      if (d[0] === 2) firstIsHeavy++;
    }
    expect(firstIsHeavy).toBeGreaterThan(140);
  });

  it("gumbel has the standard Gumbel mean (Euler–Mascheroni) and variance π²/6", () => {
    const g = random.gumbel(random.key(40), [50000]).data;
    let m = 0;
    g.forEach((v) => (m += v));
    m /= g.length;
    let v = 0;
    g.forEach((x) => (v += (x - m) ** 2));
    v /= g.length;
    expect(Math.abs(m - 0.5772156649)).toBeLessThan(0.03);
    expect(Math.abs(v - Math.PI ** 2 / 6)).toBeLessThan(0.08);
  });
});
