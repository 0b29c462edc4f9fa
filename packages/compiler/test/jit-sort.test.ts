/**
 * The compiled `sort` kernel against the reference interpreter, bit for bit: `filterJit(f)`
 * vs `f` run eagerly, for `lax.sort` (one or several operands, 1–2 keys, any dimension),
 * `np.argsort`, `np.sort` (also descending) and `lax.topK`, over random shapes with size-0,
 * size-1 and odd sorted lengths, float32 values mixing NaN (both signs), ±inf and ±0, and
 * int32/uint32/bool keys with many ties (stability). Then shuffles: `random.permutation` and
 * `random.choice` compiled (and vmapped over keys) give the eager values, which are JAX's.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { array, grad, lax, np, random, vmap, type Array, type DType } from "@wax/tracer";
import { filterJit } from "../index";
import { mulberry32 } from "../../../test/support/seeded";
import { QUIET } from "./support";

const RUNS = { numRuns: 25 };

/** Raw bits of every element (floats by their bit pattern, so -0, NaN signs and payloads count). */
function bitsOf(a: Array): number[] {
  const d = a.data;
  if (d instanceof Float32Array) return globalThis.Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
  return globalThis.Array.from(d);
}

/** Compiled and eager results of `f` agree: same shapes and dtypes, same bits. */
function expectSame(f: (...xs: Array[]) => Array | Array[], ...args: Array[]): void {
  const wrap = (...xs: Array[]) => {
    const r = f(...xs);
    return globalThis.Array.isArray(r) ? r : [r];
  };
  const got = filterJit(wrap, QUIET)(...args) as Array[];
  const want = wrap(...args);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.dtype, `output ${i} dtype`).toBe(want[i]!.dtype);
    expect(g.shape, `output ${i} shape`).toEqual(want[i]!.shape);
    expect(bitsOf(g), `output ${i}`).toEqual(bitsOf(want[i]!));
  });
}

const NEG_NAN = new Float32Array(new Uint32Array([0xffc00000]).buffer)[0]!;

/** Seeded data of `dtype`: floats from a small grid (ties) mixed with NaN (both signs), ±inf, ±0; ints with ties; uint32 across 2^31. */
function data(shape: readonly number[], dtype: DType, seed: number): Array {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === "float32") {
    const pool = [NaN, NEG_NAN, Infinity, -Infinity, 0, -0];
    const out = new Float32Array(n);
    // NEG_NAN is stored through a bit pattern: a JS number may not keep a NaN's sign.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) {
      const u = r();
      if (u < 0.25) {
        const k = Math.floor(r() * pool.length);
        if (k === 1) bits[i] = 0xffc00000;
        else out[i] = pool[k]!;
      } else out[i] = Math.floor(r() * 7) / 2 - 1.5;
    }
    return array(out, { shape: [...shape] });
  }
  if (dtype === "uint32")
    return array(
      Uint32Array.from({ length: n }, () => [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1][Math.floor(r() * 5)]!),
      { shape: [...shape], dtype },
    );
  if (dtype === "bool")
    return array(
      Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)),
      { shape: [...shape], dtype },
    );
  return array(
    Int32Array.from({ length: n }, () => Math.floor(r() * 5) - 2 + (r() < 0.1 ? -2147483646 : 0)),
    { shape: [...shape], dtype: "int32" },
  );
}

/** Shapes of rank 1–3 whose sorted axis is 0, 1, an odd length or longer, with a random axis. */
const lengthArb = fc.oneof(fc.constant(0), fc.constant(1), fc.constantFrom(3, 5, 7, 9, 13), fc.integer({ min: 2, max: 40 }));
const caseArb = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 2 }), lengthArb, fc.nat(), fc.nat())
  .map(([rest, len, at, seed]) => {
    const axis = at % (rest.length + 1);
    const shape = [...rest.slice(0, axis), len, ...rest.slice(axis)];
    return { shape, axis, seed };
  });

describe("compiled sort equals the interpreter bit for bit", () => {
  it.each(["float32", "int32", "uint32", "bool"] as const)("lax.sort and np.argsort of %s keys along a random dimension", (dtype) => {
    fc.assert(
      fc.property(caseArb, ({ shape, axis, seed }) => {
        expectSame((x) => [lax.sort(x, { dimension: axis }), np.argsort(x, { axis })], data(shape, dtype, seed));
      }),
      RUNS,
    );
  });

  it("several operands and two keys: ties in the first key broken by the second, then by position", () => {
    fc.assert(
      fc.property(caseArb, ({ shape, axis, seed }) => {
        const keys = [data(shape, "int32", seed), data(shape, "float32", seed + 1)];
        const payload = data(shape, "float32", seed + 2);
        expectSame((a, b, c) => lax.sort([a, b, c], { dimension: axis, numKeys: 2 }), ...keys, payload);
        expectSame((a, c) => lax.sortKeyVal(lax.neg(a), c, { dimension: axis }), keys[0]!, payload);
      }),
      RUNS,
    );
  });

  it("np.sort descending and lax.topK (largest first, XLA's total order, ties → lower index)", () => {
    fc.assert(
      fc.property(caseArb, fc.nat(), ({ shape, seed }, kSeed) => {
        const x = data(shape, "float32", seed);
        const k = kSeed % (shape[shape.length - 1]! + 1);
        expectSame((a) => [np.sort(a, { descending: true }), np.argsort(a, { descending: true }), ...lax.topK(a, k)], x);
        expectSame((a) => lax.topK(a, k), data(shape, "int32", seed));
        expectSame((a) => lax.topK(a, k), data(shape, "uint32", seed));
      }),
      RUNS,
    );
  });

  it("fused operands, results used by other kernels, views as outputs", () => {
    const x = data([6, 33], "float32", 3);
    const y = data([6, 33], "int32", 4);
    expectSame(
      (a, b) => {
        const [k, v] = lax.sort([np.add(np.multiply(a, 2), 1), lax.convertElementType(b, "float32")], { dimension: 1 });
        return [np.sum(v, { axis: 1 }), np.index(k, ":", "1:4"), np.multiply(k, v)];
      },
      x,
      y,
    );
    expectSame((a) => lax.sort(lax.transpose(a, [1, 0]), { dimension: 0 }), x);
  });

  it("a long sort (many merge passes, runs of unequal length)", () => {
    expectSame((a, b) => [np.argsort(a), lax.sortKeyVal(b, a)[1]], data([1000], "float32", 9), data([1000], "int32", 10));
    expectSame((a) => np.argsort(a, { axis: 0 }), data([1025, 2], "int32", 11));
  });

  it("a sort in a scan body: the kernel and its scratch inside a compiled loop", () => {
    const body = (c: Array, x: Array): [Array, Array] => {
      const s = np.sort(np.add(c, x));
      return [s, np.argsort(lax.neg(s))];
    };
    expectSame((init, xs) => lax.scan(body, init, xs) as [Array, Array], data([7], "float32", 13), data([5, 7], "float32", 14));
  });

  it("gradients of sort and topK (a gather of the cotangent's permutation) compile", () => {
    const w = array([1, 2, 3, 4, 5, 6, 7]);
    const f = (x: Array) => np.sum(np.multiply(np.sort(x), w));
    const g = (x: Array) => np.sum(np.multiply(lax.topK(x, 3)[0], array([1, 10, 100])));
    expectSame((x) => [grad(f)(x) as Array, grad(g)(x) as Array], array([3, -1, 2, 7, 0.5, -4, 1.5]));
  });

  it("vmap of topK and sort inside filterJit", () => {
    const xs = data([5, 4, 9], "float32", 12);
    expectSame((a) => vmap((r: Array) => lax.topK(r, 3))(a) as Array[], xs);
    expectSame((a) => vmap((r: Array) => np.sort(r, { axis: 0 }), { inAxes: 2 })(a) as Array, xs);
  });
});

describe("shuffles compile, bit-exact with eager (which is JAX's)", () => {
  it("random.permutation under filterJit gives JAX's permutations", () => {
    const perm10 = filterJit((k: Array) => random.permutation(k, 10), QUIET);
    expect(perm10(random.key(0)).toArray()).toEqual([0, 1, 8, 5, 6, 4, 3, 2, 7, 9]);
    // two rounds of sorting above 1625 elements
    const big = filterJit((k: Array) => random.permutation(k, 2000), QUIET)(random.key(1)).toArray() as number[];
    expect(big.slice(0, 12)).toEqual([1308, 942, 1831, 539, 868, 726, 59, 1314, 665, 1805, 1653, 1627]);
    expect(big.reduce((s, v, i) => s + v * i, 0)).toBe(1980719653);
  });

  it("vmap of permutation over keys, compiled, equals each key's eager permutation", () => {
    const keys = random.split(random.key(5), 6);
    const batched = filterJit((ks: Array) => vmap((k: Array) => random.permutation(k, 10))(ks) as Array, QUIET)(keys);
    for (let i = 0; i < 6; i++) expect(np.index(batched, i).toArray()).toEqual(random.permutation(np.index(keys, i), 10).toArray());
  });

  it("permutation of an array's slices or lanes, and choice without replacement or with p", () => {
    const x = np.multiply(np.arange(12, undefined, 1, "int32").reshape([3, 4]), 10);
    const k = random.key(3);
    expectSame((key, a) => [random.permutation(key, a, { axis: 1 }), random.permutation(key, a, { axis: 0, independent: true })], k, x);
    expectSame(
      (key, a) => [random.choice(key, a, { shape: [2], replace: false, axis: 1 }), random.choice(key, 10, { shape: [3], replace: false })],
      k,
      x,
    );
    expectSame((key) => random.choice(key, 5, { shape: [3], replace: false, p: [0.05, 0.05, 0.8, 0.1, 0] }), k);
    expectSame((key, a) => random.choice(key, a, { shape: [5] }), k, x);
  });
});
