/**
 * `sort` and `top_k`: the reference interpreter against independent oracles, JAX's orders
 * on hand-picked values, the API (`lax.sort`, `lax.sortKeyVal`, `lax.topK`, `np.sort`,
 * `np.argsort`), printing, errors, derivatives against finite differences and batching.
 *
 * | case                                  | oracle                                         | comparison       |
 * |---------------------------------------|------------------------------------------------|------------------|
 * | lax.sort / np.argsort, every f32 bit  | JS stable sort by (isNaN, x + 0) per lane      | bit-exact        |
 * |   pattern, random shape and dimension |                                                |                  |
 * | lax.sort, int32 keys + f32 payload,   | JS stable sort of (key, payload) lanes         | exact            |
 * |   two int32 keys                      |                                                |                  |
 * | lax.topK, f32 on a grid with ties,    | tf.topk (tfjs: ties → lower index first)       | exact            |
 * |   int32                               |                                                |                  |
 * | NaN (±), ±0, ±inf, uint32, bool       | hand values (JAX's `_canonicalize_float_for_   | exact            |
 * |                                       |   sort`, XLA's TopK total order)               |                  |
 * | jvp / vjp of sort, sortKeyVal, topK   | central differences in float64, h = 1e-6,      | 1e-6 relative    |
 * |   (distinct values: differentiable)   |   and ⟨vjp(u), t⟩ = ⟨u, jvp(t)⟩                |                  |
 * | vmap                                  | vmap(f)(xs)[i] == f(xs[i]), random in/out axes | exact            |
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { array, grad, jvp, lax, makeJaxpr, np, random, ShapeError, vjp, vmap, type Array as WaxArray } from "../../index";
import { range, shapeArb, sizeOf } from "../support/shapes";
import { anyF32, oracle, tfOf, wax, type Host } from "../support/tfjs-oracle";
import { thrown } from "../support/thrown";

const RUNS = { numRuns: 40 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// ---- oracles --------------------------------------------------------------------------------

/** Positions of the lanes along `axis` of `shape` (row-major flat indices), one list per lane. */
function lanes(shape: readonly number[], axis: number): number[][] {
  const inner = sizeOf(shape.slice(axis + 1));
  const n = shape[axis]!;
  const outer = sizeOf(shape.slice(0, axis));
  const out: number[][] = [];
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) out.push(range(n).map((i) => (o * n + i) * inner + j));
  return out;
}

/** JAX's sort key of a float: NaNs (any sign) after everything, -0 equal to +0. */
const sortKey = (v: number): [number, number] => (Number.isNaN(v) ? [1, 0] : [0, v + 0]);
const cmpKeys = (a: [number, number], b: [number, number]) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

/** The stable argsort of every lane along `axis`, by `compare` on lane positions. */
function argsortLanes(shape: readonly number[], axis: number, compare: (p: number, q: number) => number): number[][] {
  return lanes(shape, axis).map((lane) => range(lane.length).sort((a, b) => compare(lane[a]!, lane[b]!) || a - b));
}

/** `data` permuted lane by lane by `perms` (as `lanes` lists them), as a flat array. */
function permute(data: ArrayLike<number>, shape: readonly number[], axis: number, perms: number[][]): number[] {
  const out = new globalThis.Array<number>(sizeOf(shape));
  lanes(shape, axis).forEach((lane, l) => lane.forEach((pos, i) => (out[pos] = data[lane[perms[l]![i]!]!]!)));
  return out;
}

/** Argsort indices laid out like the array (int32 along `axis`). */
function indicesArray(shape: readonly number[], axis: number, perms: number[][]): number[] {
  const out = new globalThis.Array<number>(sizeOf(shape));
  lanes(shape, axis).forEach((lane, l) => lane.forEach((pos, i) => (out[pos] = perms[l]![i]!)));
  return out;
}

const bitsOf = (xs: ArrayLike<number>) => globalThis.Array.from(new Uint32Array(Float32Array.from(xs).buffer));
const f32FromBits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);
const withAxis = (minRank: number) =>
  shapeArb(minRank, 4).chain((shape) => fc.tuple(fc.constant(shape), fc.nat({ max: Math.max(0, shape.length - 1) })));

// ---- sort against a JS oracle -----------------------------------------------------------------

describe("sort matches a stable JS sort in JAX's float order", () => {
  test("one float32 operand of any bit pattern, along a random dimension (bit-exact, incl. NaN payloads and -0)", () => {
    fc.assert(
      fc.property(
        withAxis(1).chain(([shape, axis]) => fc.tuple(anyF32(shape), fc.constant(axis))),
        ([x, axis]) => {
          const perms = argsortLanes(x.shape, axis, (p, q) => cmpKeys(sortKey(x.data[p]!), sortKey(x.data[q]!)));
          const sorted = lax.sort(wax(x), { dimension: axis });
          expect(sorted.shape).toEqual(x.shape);
          expect(bitsOf(sorted.data)).toEqual(bitsOf(permute(x.data, x.shape, axis, perms)));
          const idx = np.argsort(wax(x), { axis });
          expect(idx.dtype).toBe("int32");
          expect(globalThis.Array.from(idx.data)).toEqual(indicesArray(x.shape, axis, perms));
        },
      ),
      RUNS,
    );
  });

  test("an int32 key carries float32 and int32 payloads; two int32 keys sort lexicographically", () => {
    const smallInts = (shape: number[]) =>
      fc.array(fc.integer({ min: -3, max: 3 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) });
    fc.assert(
      fc.property(
        withAxis(1).chain(([shape, axis]) =>
          fc.tuple(fc.constant(shape), fc.constant(axis), smallInts(shape), smallInts(shape), anyF32(shape)),
        ),
        ([shape, axis, k1, k2, payload]) => {
          const a = array(Int32Array.from(k1), { shape, dtype: "int32" });
          const b = array(Int32Array.from(k2), { shape, dtype: "int32" });
          const one = argsortLanes(shape, axis, (p, q) => k1[p]! - k1[q]!);
          const [sk, sp] = lax.sortKeyVal(a, wax(payload), { dimension: axis });
          expect(globalThis.Array.from(sk!.data)).toEqual(permute(k1, shape, axis, one));
          expect(bitsOf(sp!.data)).toEqual(bitsOf(permute(payload.data, shape, axis, one)));
          const two = argsortLanes(shape, axis, (p, q) => k1[p]! - k1[q]! || k2[p]! - k2[q]!);
          const outs = lax.sort([a, b, wax(payload)], { dimension: axis, numKeys: 2 });
          expect(outs.map((o) => o.dtype)).toEqual(["int32", "int32", "float32"]);
          expect(globalThis.Array.from(outs[1]!.data)).toEqual(permute(k2, shape, axis, two));
          expect(bitsOf(outs[2]!.data)).toEqual(bitsOf(permute(payload.data, shape, axis, two)));
        },
      ),
      RUNS,
    );
  });
});

describe("sort on hand-picked values", () => {
  test("NaNs of either sign go last, -0 equals +0 and ties keep their input order", () => {
    const negNaN = 0xffc00000;
    const posNaN = 0x7fc00001;
    const x = f32FromBits([negNaN, bitsOf([1])[0]!, 0x80000000, bitsOf([-Infinity])[0]!, posNaN, 0, bitsOf([Infinity])[0]!]);
    const [sorted, idx] = lax.sort([array(x), lax.iota("int32", [7])]);
    expect(globalThis.Array.from(idx!.data)).toEqual([3, 2, 5, 1, 6, 0, 4]);
    expect(bitsOf(sorted!.data)).toEqual([bitsOf([-Infinity])[0], 0x80000000, 0, bitsOf([1])[0], bitsOf([Infinity])[0], negNaN, posNaN]);
  });

  test("uint32 keys compare unsigned, int32 signed, bool false before true", () => {
    expect(lax.sort(array(Uint32Array.from([4294967295, 0, 2147483648, 7]), { dtype: "uint32" })).toArray()).toEqual([
      0, 7, 2147483648, 4294967295,
    ]);
    expect(lax.sort(array([5, -2147483648, 2147483647, -1], { dtype: "int32" })).toArray()).toEqual([-2147483648, -1, 5, 2147483647]);
    const [b, i] = lax.sortKeyVal(array([true, false, true, false]), array([0, 1, 2, 3], { dtype: "int32" }));
    expect(b.toArray()).toEqual([false, false, true, true]);
    expect(i.toArray()).toEqual([1, 3, 0, 2]);
  });

  test("stability: equal keys keep the order of their payloads, along dimension 0 of a matrix", () => {
    const keys = array(
      [
        [2, 1],
        [1, 1],
        [2, 0],
        [1, 1],
      ],
      { dtype: "int32" },
    );
    const vals = array([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const [k, v] = lax.sortKeyVal(keys, vals, { dimension: 0 });
    expect(k.toArray()).toEqual([
      [1, 0],
      [1, 1],
      [2, 1],
      [2, 1],
    ]);
    expect(v.toArray()).toEqual([
      [1, 2],
      [3, 0],
      [0, 1],
      [2, 3],
    ]);
  });

  test("sizes 0 and 1 along the sorted dimension", () => {
    expect(lax.sort(np.zeros([3, 0]), { dimension: 1 }).shape).toEqual([3, 0]);
    expect(lax.sort(np.zeros([0, 4]), { dimension: 1 }).shape).toEqual([0, 4]);
    expect(np.argsort(array([[5], [-1]]), { axis: 1 }).toArray()).toEqual([[0], [0]]);
  });
});

// ---- np.sort / np.argsort options --------------------------------------------------------------

describe("np.sort and np.argsort follow jnp's options", () => {
  test("axis (default -1, null flattens), descending", () => {
    const x = array([
      [3, 1, 2],
      [0, 5, -1],
    ]);
    expect(np.sort(x).toArray()).toEqual([
      [1, 2, 3],
      [-1, 0, 5],
    ]);
    expect(np.sort(x, { axis: 0 }).toArray()).toEqual([
      [0, 1, -1],
      [3, 5, 2],
    ]);
    expect(np.sort(x, { axis: null }).toArray()).toEqual([-1, 0, 1, 2, 3, 5]);
    expect(np.argsort(x, { axis: null }).toArray()).toEqual([5, 3, 1, 2, 0, 4]);
    expect(np.sort(x, { descending: true }).toArray()).toEqual([
      [3, 2, 1],
      [5, 0, -1],
    ]);
    expect(np.argsort(x, { axis: 0, descending: true }).toArray()).toEqual([
      [0, 1, 0],
      [1, 0, 1],
    ]);
  });

  test("descending puts NaN first; argsort keeps ties in input order, sort reverses them (as jnp reverses an ascending sort)", () => {
    const x = array([1, NaN, 3, 1, NaN]);
    expect(np.argsort(x, { descending: true }).toArray()).toEqual([1, 4, 2, 0, 3]);
    expect(np.sort(x, { descending: true }).toArray()).toEqual([NaN, NaN, 3, 1, 1]);
    expect(globalThis.Array.from(np.sort(array([0, -0, 1]), { descending: true }).data).map((v) => Object.is(v, -0))).toEqual([
      false,
      true,
      false,
    ]);
    expect(np.argsort(array([2, 7, 7, 2], { dtype: "int32" }), { descending: true }).toArray()).toEqual([1, 2, 0, 3]);
    expect(np.argsort(array(Uint32Array.from([1, 4294967295, 0]), { dtype: "uint32" }), { descending: true }).toArray()).toEqual([1, 0, 2]);
    expect(np.argsort(array([false, true, true]), { descending: true }).toArray()).toEqual([1, 2, 0]);
  });
});

// ---- top_k ------------------------------------------------------------------------------------

describe("top_k", () => {
  const gridF32 = (shape: number[]) =>
    fc
      .array(fc.integer({ min: -4, max: 4 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
      .map((v): Host => ({ shape, data: Float32Array.from(v, (k) => k / 2 + 0) }));
  const i32 = (shape: number[]) =>
    fc
      .array(fc.integer({ min: -2147483648, max: 2147483647 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
      .map((v): Host => ({ shape, data: Int32Array.from(v) }));
  const withK = (gen: (shape: number[]) => fc.Arbitrary<Host>) =>
    shapeArb(1, 3).chain((shape) => fc.tuple(gen(shape), fc.nat({ max: shape[shape.length - 1]! })));

  test.each([
    ["float32 with many ties", gridF32],
    ["int32", i32],
  ] as const)("matches tf.topk on %s (values and indices, ties → lower index)", (_name, gen) => {
    fc.assert(
      fc.property(withK(gen), ([x, k]) => {
        const [values, indices] = lax.topK(wax(x), k);
        expect(values.shape).toEqual([...x.shape.slice(0, -1), k]);
        expect(indices.dtype).toBe("int32");
        expect(globalThis.Array.from(values.data)).toEqual(oracle(() => tf.topk(tfOf(x), k).values).data);
        expect(globalThis.Array.from(indices.data)).toEqual(oracle(() => tf.topk(tfOf(x), k).indices).data);
      }),
      RUNS,
    );
  });

  test("floats follow XLA's total order (NaN > +inf > ... > +0 > -0 > ... > -inf), every NaN ranked as +NaN whatever its sign", () => {
    const x = f32FromBits([0xffc00000, bitsOf([-Infinity])[0]!, 0, 0x7fc00000, 0x80000000, bitsOf([2])[0]!, 0]);
    const [v, i] = lax.topK(array(x), 7);
    // the two NaNs tie (lower index first); values keep their bits
    expect(i.toArray()).toEqual([0, 3, 5, 2, 6, 4, 1]);
    expect(bitsOf(v.data)).toEqual([0xffc00000, 0x7fc00000, bitsOf([2])[0], 0, 0, 0x80000000, bitsOf([-Infinity])[0]]);
  });

  test("uint32 and bool; k = 0 and k = n", () => {
    const [v, i] = lax.topK(array(Uint32Array.from([3, 4294967295, 3]), { dtype: "uint32" }), 2);
    expect([v.toArray(), i.toArray()]).toEqual([
      [4294967295, 3],
      [1, 0],
    ]);
    const [bv, bi] = lax.topK(array([false, true, false, true]), 3);
    expect([bv.toArray(), bi.toArray()]).toEqual([
      [true, true, false],
      [1, 3, 0],
    ]);
    expect(lax.topK(array([[1, 2]]), 0)[0].shape).toEqual([1, 0]);
    expect(lax.topK(array([1, 2, 3]), 3)[1].toArray()).toEqual([2, 1, 0]);
  });
});

// ---- printing and errors ------------------------------------------------------------------------

describe("printing and errors", () => {
  test("jaxprs print as JAX's", () => {
    expect(String(makeJaxpr((x: WaxArray) => np.argsort(x))(np.zeros([2, 3])))).toBe(
      [
        "{ lambda ; a:f32[2,3]. let",
        "    b:i32[2,3] = iota[dimension=1 dtype=int32 shape=(2, 3)]",
        "    _:f32[2,3] c:i32[2,3] = sort[dimension=1 is_stable=True num_keys=1] a b",
        "  in (c,) }",
      ].join("\n"),
    );
    expect(String(makeJaxpr((x: WaxArray) => lax.topK(x, 2))(np.zeros([4])))).toBe(
      "{ lambda ; a:f32[4]. let b:f32[2] c:i32[2] = top_k[k=2] a in (b, c) }",
    );
  });

  test("bad operands and params name the op, the values and what to do", () => {
    expect(thrown(ShapeError, () => lax.sort([np.zeros([3]), np.zeros([4])]))).toMatch(
      /^sort: operands must have equal shapes, got f32\[3\], f32\[4\] — broadcast/,
    );
    expect(thrown(ShapeError, () => lax.sort([np.zeros([3])], { numKeys: 2 }))).toMatch(
      /^sort: num_keys 2 must be between 1 and the number of operands \(1\) — /,
    );
    expect(thrown(ShapeError, () => lax.sort(np.zeros([3]), { dimension: 1 }))).toMatch(
      /^sort: axis 1 is out of bounds for an array of rank 1 — /,
    );
    expect(thrown(ShapeError, () => np.sort(array(1)))).toMatch(/^sort: axis -1 is out of bounds for an array of rank 0/);
    expect(thrown(ShapeError, () => lax.topK(np.zeros([3]), 4))).toMatch(
      /^top_k: k 4 is larger than the last axis of f32\[3\] \(3\) — pass k in \[0, 3\]/,
    );
    expect(thrown(ShapeError, () => lax.topK(np.zeros([3]), -1))).toMatch(/^top_k: k must be a non-negative integer, got -1/);
    expect(thrown(ShapeError, () => lax.topK(array(2), 1))).toMatch(/^top_k: the operand f32\[\] is a scalar — /);
  });
});

// ---- derivatives ----------------------------------------------------------------------------

/** Distinct values on a 1/4 grid plus jitter (no ties: sort and top_k are differentiable there). */
function distinctF64(shape: number[]): fc.Arbitrary<WaxArray> {
  const n = sizeOf(shape);
  return fc
    .tuple(
      fc.shuffledSubarray(range(n), { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: n, maxLength: n }),
    )
    .map(([ks, jit]) =>
      array(
        Float64Array.from(ks, (k, i) => (k - n / 2) / 4 + jit[i]! / 1e4),
        { shape, dtype: "float64" },
      ),
    );
}
const f64Arb = (shape: number[]) =>
  fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((v) =>
    array(
      Float64Array.from(v, (k) => k / 500),
      { shape, dtype: "float64" },
    ),
  );

const dot = (a: WaxArray, b: WaxArray) => globalThis.Array.from(a.data).reduce((s, v, i) => s + v * b.data[i]!, 0);

/** jvp vs central differences, and ⟨vjp(u), t⟩ vs ⟨u, jvp(t)⟩, for `f` of one float64 array. */
function checkDerivatives(f: (x: WaxArray) => WaxArray, x: WaxArray, t: WaxArray, u: WaxArray): void {
  const h = 1e-6;
  const [y, ty] = jvp(f, [x], [t]) as [WaxArray, WaxArray];
  const plus = f(np.add(x, np.multiply(t, h)));
  const minus = f(np.subtract(x, np.multiply(t, h)));
  const fd = globalThis.Array.from(plus.data, (p, i) => (p - minus.data[i]!) / (2 * h));
  const scale = 1 + Math.max(0, ...globalThis.Array.from(y.data, Math.abs));
  globalThis.Array.from(ty.data).forEach((v, i) =>
    expect(Math.abs(v - fd[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(fd[i]!) + 1e-8 * scale),
  );
  const [, pullback] = vjp(f, x);
  const [ct] = pullback(u) as [WaxArray];
  const lhs = dot(ct, t);
  const rhs = dot(u, ty);
  expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-10 * (Math.abs(lhs) + Math.abs(rhs)) + 1e-12);
}

describe("derivatives against finite differences", () => {
  const caseArb = (minRank: number, build: (shape: number[], axis: number) => fc.Arbitrary<[(x: WaxArray) => WaxArray, number[]]>) =>
    withAxis(minRank).chain(([shape, axis]) =>
      build(shape, axis).chain(([f, outShape]) => fc.tuple(fc.constant(f), distinctF64(shape), f64Arb(shape), f64Arb(outShape))),
    );

  test("np.sort along a random axis", () => {
    fc.assert(
      fc.property(
        caseArb(1, (shape, axis) => fc.constant([(x: WaxArray) => np.sort(x, { axis }), shape])),
        ([f, x, t, u]) => checkDerivatives(f, x, t, u),
      ),
      RUNS,
    );
  });

  test("sort of (keys, values) with the values differentiated through the keys' permutation", () => {
    fc.assert(
      fc.property(
        caseArb(1, (shape, axis) =>
          fc.constant([
            (x: WaxArray) => {
              const [k, v] = lax.sort([x, np.sin(x)], { dimension: axis });
              return np.add(k, np.multiply(v, 3));
            },
            shape,
          ]),
        ),
        ([f, x, t, u]) => checkDerivatives(f, x, t, u),
      ),
      RUNS,
    );
  });

  test("lax.topK values along the last axis", () => {
    fc.assert(
      fc.property(
        caseArb(1, (shape) =>
          fc.nat({ max: shape[shape.length - 1]! }).map((k) => [(x: WaxArray) => lax.topK(x, k)[0], [...shape.slice(0, -1), k]]),
        ),
        ([f, x, t, u]) => checkDerivatives(f, x, t, u),
      ),
      RUNS,
    );
  });

  test("grad of a weighted sorted sum sends each weight to the element that landed there", () => {
    const w = array([1, 2, 3, 4]);
    const g = grad((x: WaxArray) => np.sum(np.multiply(np.sort(x), w)))(array([3, 1, 2, 5])) as WaxArray;
    expect(g.toArray()).toEqual([3, 1, 2, 4]);
    const gk = grad((x: WaxArray) => np.sum(np.multiply(lax.topK(x, 2)[0], array([1, 10]))))(array([3, 1, 2, 5])) as WaxArray;
    expect(gk.toArray()).toEqual([10, 0, 0, 1]);
    // a constant key: only the carried operand is linear in the tangent program
    const keys = array([2, 0, 1]);
    const gv = grad((v: WaxArray) => np.sum(np.multiply(lax.sortKeyVal(keys, v)[1], array([1, 2, 3]))))(array([5, 6, 7])) as WaxArray;
    expect(gv.toArray()).toEqual([3, 1, 2]);
  });

  test("grad through random.permutation sends each weight back to the element it moved", () => {
    const k = random.key(2);
    const p = random.permutation(k, 6).toArray() as number[];
    const w1 = array([10, 20, 30, 40, 50, 60]);
    const g1 = grad((x: WaxArray) => np.sum(np.multiply(random.permutation(k, x), w1)))(np.zeros([6])) as WaxArray;
    const w2 = np.stack([w1, np.negative(w1)], 1);
    // rows shuffled together: the gather path (jnp.take of the shuffled arange)
    const g2 = grad((x: WaxArray) => np.sum(np.multiply(random.permutation(k, x, { axis: 0 }), w2)))(np.zeros([6, 2])) as WaxArray;
    const expected = new globalThis.Array<number>(6);
    p.forEach((src, i) => (expected[src] = (i + 1) * 10));
    expect(g1.toArray()).toEqual(expected);
    expect(g2.toArray()).toEqual(expected.map((v) => [v, -v]));
  });
});

// ---- batching ---------------------------------------------------------------------------------

describe("vmap(f)(xs)[i] == f(xs[i])", () => {
  const take = (x: WaxArray, axis: number, i: number) => np.index(x, ...range(axis).map(() => ":"), i);

  test("sort with several operands, random dimension, batch axes and numKeys", () => {
    fc.assert(
      fc.property(
        withAxis(1).chain(([shape, axis]) =>
          fc.tuple(
            fc.constant(shape),
            fc.constant(axis),
            fc.integer({ min: 1, max: 3 }),
            fc.array(fc.nat({ max: shape.length }), { minLength: 3, maxLength: 3 }),
            fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
            fc.integer({ min: 1, max: 3 }),
            fc.nat({ max: 10000 }),
          ),
        ),
        ([shape, axis, size, inAxes, batched, numKeys, seed]) => {
          const rnd = (k: number) =>
            array(
              Int32Array.from({ length: sizeOf(shape) * size }, (_, i) => ((seed + 31 * i + 7 * k) * 2654435761) % 3),
              { shape: [...shape, size], dtype: "int32" },
            );
          const ops = [0, 1, 2].map((k) => (batched[k] ? np.moveaxis(rnd(k), -1, inAxes[k]!) : take(rnd(k), shape.length, 0)));
          const f = (...xs: WaxArray[]) => lax.sort(xs, { dimension: axis, numKeys });
          const out = vmap(f, { inAxes: ops.map((_, k) => (batched[k] ? inAxes[k]! : null)), axisSize: size })(...ops) as WaxArray[];
          for (let i = 0; i < size; i++) {
            const ex = f(...ops.map((o, k) => (batched[k] ? take(o, inAxes[k]!, i) : o)));
            out.forEach((o, j) => expect(take(o, 0, i).toArray()).toEqual(ex[j]!.toArray()));
          }
        },
      ),
      RUNS,
    );
  });

  test("topK and argsort with the batch axis anywhere, also the last axis", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((shape) =>
          fc.tuple(anyF32([...shape, 3]), fc.nat({ max: shape.length }), fc.nat({ max: shape[shape.length - 1]! })),
        ),
        ([host, inAxis, k]) => {
          const xs = np.moveaxis(wax(host), -1, inAxis);
          const f = (x: WaxArray) => [...lax.topK(x, k), np.argsort(x, { axis: 0 })];
          const out = vmap(f, { inAxes: inAxis })(xs) as WaxArray[];
          for (let i = 0; i < 3; i++) {
            const ex = f(take(xs, inAxis, i));
            out.forEach((o, j) => expect(bitsOf(take(o, 0, i).data)).toEqual(bitsOf(ex[j]!.data)));
          }
        },
      ),
      RUNS,
    );
  });

  test("vmap of grad and grad of vmap agree with the per-example gradients", () => {
    const xs = array([
      [3, 1, 2],
      [0.5, -1, 4],
    ]);
    const w = array([1, 2, 3]);
    const f = (x: WaxArray) => np.sum(np.multiply(np.sort(x), w));
    const perExample = (x: WaxArray) => grad(f)(x) as WaxArray;
    const g = vmap(perExample)(xs) as WaxArray;
    expect(g.toArray()).toEqual([perExample(take(xs, 0, 0)).toArray(), perExample(take(xs, 0, 1)).toArray()]);
    const gv = grad((x: WaxArray) => np.sum(vmap(f)(x) as WaxArray))(xs) as WaxArray;
    expect(gv.toArray()).toEqual(g.toArray());
  });
});
