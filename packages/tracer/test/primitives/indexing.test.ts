/**
 * Indexing primitives and their numpy/lax APIs against oracles: @tensorflow/tfjs-core (CPU
 * backend) where it has the op and indices are in bounds, otherwise per-element references
 * written from XLA's semantics (`support/gather-cases.ts`) or hand-computed values.
 *
 * | what                                              | oracle                                  | tolerance |
 * |---------------------------------------------------|-----------------------------------------|-----------|
 * | gather, random dimension numbers and modes        | per-element XLA reference               | exact     |
 * | scatter family, random dims, repeats, modes       | sequential per-update XLA reference     | exact     |
 * | x.get(intArray), np.take (in bounds)              | tf.gather                               | exact     |
 * | gather as gather_nd                               | tf.gatherND                             | exact     |
 * | scatter-add of repeats into zeros                 | tf.scatterND (sums repeats)             | exact     |
 * | scatter with unique indices                       | tf.tensorScatterUpdate                  | exact     |
 * | rev, np.flip, x.get("::-1")                       | tf.reverse                              | exact     |
 * | advanced indexing, slices with any step, x.at     | hand-computed / list-based reference    | exact     |
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { array, ArgumentError, DTypeError, lax, makeJaxpr, np, ShapeError, type Array as WaxArray, type DType } from "../../index";
import {
  apiMode,
  COMBINERS,
  gatherDimsApi,
  randomGather,
  randomScatter,
  referenceGather,
  referenceScatter,
  scatterDimsApi,
  sizeOf,
  type ScatterName,
} from "../support/gather-cases";
import { thrown } from "../support/thrown";

const RUNS = { numRuns: 200 };
const i32 = (data: number[] | number, shape?: number[]) =>
  array(typeof data === "number" ? data : Int32Array.from(data), { dtype: "int32", shape });
const f32 = (data: number[], shape: number[]) => array(Float32Array.from(data), { shape });
const values = (a: WaxArray) => globalThis.Array.from(a.data);
const tfValues = (t: tf.Tensor) => globalThis.Array.from(t.dataSync());

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const DTYPES: DType[] = ["float32", "int32", "uint32", "bool"];
const FILL: Record<DType, number> = { float32: NaN, float64: NaN, int32: -2147483648, uint32: 4294967295, bool: 1 };
const asDtype = (v: number, d: DType) => (d === "bool" ? (v > 0 ? 1 : 0) : d === "uint32" ? Math.abs(v) : v);

describe("gather matches XLA's semantics", () => {
  test("random dimension numbers (batching dims, permuted start_index_map), every mode and dtype, equal a per-element reference", () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...DTYPES), (seed, dtype) => {
        const c = randomGather(seed);
        const data = c.operand.map((v) => asDtype(v, dtype));
        const x = array(data, { dtype, shape: c.operandShape });
        const idx = i32(c.indices, c.indicesShape);
        const got = lax.gather(x, idx, gatherDimsApi(c.dims), c.sliceSizes, { mode: apiMode(c.mode) });
        expect(got.shape).toEqual(c.outShape);
        expect(got.dtype).toBe(dtype);
        const want = referenceGather({ ...c, operand: data }, FILL[dtype]);
        expect(values(got)).toEqual(want);
      }),
      RUNS,
    );
  });

  test("fill mode uses fillValue, else NaN / INT_MIN / UINT_MAX / true, for any slice not entirely in bounds", () => {
    const dn = { offsetDims: [1], collapsedSliceDims: [], startIndexMap: [0] };
    const idx = i32([0, 2, 3, -1], [4, 1]);
    // slices of 2 from a length-4 axis: starts 0 and 2 fit, 3 and -1 do not
    for (const dtype of DTYPES) {
      const x = array([1, 1, 0, 1], { dtype });
      const got = lax.gather(x, idx, dn, [2], { mode: "fill" });
      const f = FILL[dtype];
      expect(values(got), dtype).toEqual([1, 1, 0, 1, f, f, f, f]);
    }
    expect(values(lax.gather(f32([1, 2, 3, 4], [4]), idx, dn, [2], { mode: "fill", fillValue: -7 }))).toEqual([1, 2, 3, 4, -7, -7, -7, -7]);
    // clip (the default) moves the start back into range instead
    expect(values(lax.gather(f32([1, 2, 3, 4], [4]), idx, dn, [2]))).toEqual([1, 2, 3, 4, 3, 4, 1, 2]);
  });

  test("gather as gather_nd (full index vectors, collapsed dims) equals tf.gatherND", () => {
    const x = f32([...globalThis.Array(24).keys()], [2, 3, 4]);
    const idx = [
      [1, 2],
      [0, 0],
      [1, 0],
      [0, 2],
    ];
    const got = lax.gather(x, i32(idx.flat(), [4, 2]), { offsetDims: [1], collapsedSliceDims: [0, 1], startIndexMap: [0, 1] }, [1, 1, 4]);
    const want = tf.gatherND(tf.tensor(values(x), [2, 3, 4]), tf.tensor2d(idx, [4, 2], "int32"));
    expect(got.shape).toEqual(want.shape);
    expect(values(got)).toEqual(tfValues(want));
  });

  test("x.get(intArray) and np.take equal tf.gather along any axis (in-bounds indices, negative ones wrapped once)", () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
          .chain((shape) =>
            fc.tuple(
              fc.constant(shape),
              fc.nat({ max: shape.length - 1 }),
              fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 2 }),
            ),
          ),
        fc.integer(),
        ([shape, axis, idxShape], seed) => {
          const n = shape[axis]!;
          const k = sizeOf(idxShape);
          const raw = globalThis.Array.from({ length: k }, (_, i) => (((seed >>> 0) + i * 7919) % (2 * n)) - n);
          const wrapped = raw.map((v) => (v < 0 ? v + n : v));
          const x = f32(
            globalThis.Array.from({ length: sizeOf(shape) }, (_, i) => i * 1.5 - 3),
            shape,
          );
          const want = tf.gather(tf.tensor(values(x), shape), tf.tensor(wrapped, idxShape, "int32"), axis);
          const viaTake = np.take(x, i32(raw, idxShape), { axis });
          expect(viaTake.shape).toEqual(want.shape);
          expect(values(viaTake)).toEqual(tfValues(want));
          const viaGet = x.get(...globalThis.Array<string>(axis).fill(":"), i32(raw, idxShape));
          expect(values(viaGet)).toEqual(tfValues(want));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("the scatter family matches XLA's semantics", () => {
  const names = Object.keys(COMBINERS) as ScatterName[];
  const apis = {
    scatter: lax.scatter,
    "scatter-add": lax.scatterAdd,
    "scatter-mul": lax.scatterMul,
    "scatter-min": lax.scatterMin,
    "scatter-max": lax.scatterMax,
  };

  test("random dimension numbers with repeated and out-of-bounds indices, every mode, equal a sequential per-update reference", () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...names), fc.constantFrom<DType>("float32", "int32"), (seed, name, dtype) => {
        const c = randomScatter(seed);
        const x = array(c.operand, { dtype, shape: c.operandShape });
        const u = array(c.updates, { dtype, shape: c.updatesShape });
        const got = apis[name](x, i32(c.indices, c.indicesShape), u, scatterDimsApi(c.dims), { mode: apiMode(c.mode) });
        expect(got.shape).toEqual(c.operandShape);
        // (the reference multiplies JS numbers: an int32 0 · -3 is 0, not -0)
        expect(values(got)).toEqual(referenceScatter(c, COMBINERS[name]).map((v) => (dtype === "int32" ? v | 0 : v)));
      }),
      RUNS,
    );
  });

  test("scatter-add of repeated indices into zeros equals tf.scatterND; scatter with unique indices equals tf.tensorScatterUpdate", () => {
    const dn = { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    const idx = [[3], [1], [3], [0], [3]];
    const upd = f32(
      [...globalThis.Array(10).keys()].map((v) => v - 4.5),
      [5, 2],
    );
    const added = lax.scatterAdd(np.zeros([4, 2]), i32(idx.flat(), [5, 1]), upd, dn);
    expect(values(added)).toEqual(tfValues(tf.scatterND(tf.tensor2d(idx, [5, 1], "int32"), tf.tensor(values(upd), [5, 2]), [4, 2])));
    const uniq = [[2], [0]];
    const base = f32([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const u2 = f32([-1, -2, -3, -4], [2, 2]);
    const set = lax.scatter(base, i32(uniq.flat(), [2, 1]), u2, dn);
    expect(values(set)).toEqual(
      tfValues(tf.tensorScatterUpdate(tf.tensor(values(base), [4, 2]), tf.tensor2d(uniq, [2, 1], "int32"), tf.tensor(values(u2), [2, 2]))),
    );
  });

  test("drop mode drops a whole window that is partly out of bounds; clip moves it in; the last repeated update wins", () => {
    const dn = { updateWindowDims: [1], insertedWindowDims: [], scatterDimsToOperandDims: [0] };
    const x = f32([0, 0, 0, 0, 0], [5]);
    const idx = i32([4, 1, 1], [3, 1]);
    const u = f32([1, 2, 3, 4, 5, 6], [3, 2]);
    // window [4, 6) is out of bounds: dropped; windows at 1: the later one (5, 6) wins
    expect(values(lax.scatter(x, idx, u, dn))).toEqual([0, 5, 6, 0, 0]);
    expect(values(lax.scatter(x, idx, u, dn, { mode: "clip" }))).toEqual([0, 5, 6, 1, 2]);
    expect(values(lax.scatterAdd(x, idx, u, dn))).toEqual([0, 8, 10, 0, 0]);
  });

  test("scatter-min/max propagate NaN as lax.min/max; scatter-mul and -add on bool are and/or; int32 wraps", () => {
    const dn = { updateWindowDims: [], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    const idx = i32([0, 1, 1], [3, 1]);
    expect(values(lax.scatterMax(f32([1, 1, 1], [3]), idx, f32([NaN, 5, -2], [3]), dn))).toEqual([NaN, 5, 1]);
    expect(values(lax.scatterMin(f32([1, 1, 1], [3]), idx, f32([0, NaN, -2], [3]), dn))).toEqual([0, NaN, 1]);
    expect(values(lax.scatterAdd(array([false, false, true]), idx, array([true, false, false]), dn))).toEqual([1, 0, 1]);
    expect(values(lax.scatterMul(array([true, true, true]), idx, array([true, true, false]), dn))).toEqual([1, 0, 1]);
    expect(values(lax.scatterAdd(i32([2147483647, 0, 0]), idx, i32([1, 0, 0]), dn))).toEqual([-2147483648, 0, 0]);
  });
});

describe("rev and flips", () => {
  test("rev, np.flip and x.get with negative steps equal tf.reverse", () => {
    const x = f32([...globalThis.Array(24).keys()], [2, 3, 4]);
    const t = tf.tensor(values(x), [2, 3, 4]);
    expect(values(lax.rev(x, [0, 2]))).toEqual(tfValues(tf.reverse(t, [0, 2])));
    expect(values(np.flip(x))).toEqual(tfValues(tf.reverse(t, [0, 1, 2])));
    expect(values(np.flip(x, -2))).toEqual(tfValues(tf.reverse(t, [1])));
    expect(values(x.get("::-1", ":", "::-1"))).toEqual(tfValues(tf.reverse(t, [0, 2])));
  });
});

describe("numpy indexing", () => {
  /** Python's `list[a:b:c]` (slice.indices semantics), the reference of every slice string. */
  function pySlice(n: number, start: number | null, stop: number | null, step: number): number[] {
    const norm = (v: number | null, dflt: number, lo: number, hi: number) =>
      v === null ? dflt : Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    const s = step > 0 ? norm(start, 0, 0, n) : norm(start, n - 1, -1, n - 1);
    const e = step > 0 ? norm(stop, n, 0, n) : norm(stop, -1, -1, n - 1);
    const out: number[] = [];
    for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
    return out;
  }

  test("slices with any nonzero step (negative ones reverse) take Python's elements", () => {
    const bound = fc.option(fc.integer({ min: -8, max: 8 }), { nil: null });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        bound,
        bound,
        fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0),
        (n, a, b, step) => {
          const x = f32([...globalThis.Array(n).keys()], [n]);
          const spec = `${a ?? ""}:${b ?? ""}:${step}`;
          expect(values(x.get(spec)), spec).toEqual(pySlice(n, a, b, step));
        },
      ),
      { numRuns: 300 },
    );
  });

  const x = f32([...globalThis.Array(60).keys()], [3, 4, 5]);
  const at = (i: number, j: number, k: number) => i * 20 + j * 5 + k;

  test("several index arrays broadcast together; adjacent ones keep their place, separated ones go first (numpy)", () => {
    const rows = i32([0, 2, -1], [3, 1]);
    const cols = i32([1, 3], [1, 2]);
    // adjacent advanced indices on axes 0 and 1: result [3, 2, 5]
    const a = x.get(rows, cols);
    expect(a.shape).toEqual([3, 2, 5]);
    expect(values(a.get(2, 1))).toEqual([0, 1, 2, 3, 4].map((k) => at(2, 3, k)));
    // separated by a slice: broadcast dims first, then the slice: [3, 2, 4]
    const b = x.get(rows, ":", i32([1, 3], [1, 2]));
    expect(b.shape).toEqual([3, 2, 4]);
    expect(values(b.get(1, 0))).toEqual([0, 1, 2, 3].map((j) => at(2, j, 1)));
    // ints count as advanced indices among arrays (numpy's a[1, :, [0, 1]] quirk): [2, 4]
    const c = x.get(1, ":", i32([0, 4]));
    expect(c.shape).toEqual([2, 4]);
    expect(values(c.get(1))).toEqual([0, 1, 2, 3].map((j) => at(1, j, 4)));
    // in the middle with a new axis and an ellipsis: [3, 1, 2, 5]... x[:, None, [0, 3]] → [3, 1, 2, 5]
    const d = x.get(":", null, [0, 3]);
    expect(d.shape).toEqual([3, 1, 2, 5]);
    expect(values(d.get(2, 0, 1))).toEqual([0, 1, 2, 3, 4].map((k) => at(2, 3, k)));
    expect(x.get("...", [4, 0]).shape).toEqual([3, 4, 2]);
  });

  test("a concrete boolean mask selects its true elements (np.nonzero order); a traced one is refused", () => {
    const mask = array([true, false, true]);
    expect(x.get(mask).shape).toEqual([2, 4, 5]);
    expect(values(x.get(mask, 0, 0))).toEqual([at(0, 0, 0), at(2, 0, 0)]);
    const m2 = array([
      [true, false, false, false],
      [false, false, false, true],
      [false, true, false, false],
    ]);
    expect(values(x.get(m2, 2))).toEqual([at(0, 0, 2), at(1, 3, 2), at(2, 1, 2)]);
    expect(() => makeJaxpr((m: WaxArray) => x.get(m))(mask)).toThrow(/boolean mask bool\[3\] must be concrete/);
    expect(() => x.get(array([true, false]))).toThrow(/does not match axes 0..0 of f32\[3,4,5\]/);
  });

  test("index arrays out of bounds are clamped when read (JAX's default), as gather's promise_in_bounds", () => {
    const v = f32([10, 11, 12], [3]);
    expect(values(v.get(i32([5, -1, -4])))).toEqual([12, 12, 10]);
  });

  test("x.at(...).set/add/mul/min/max: repeats combine (set: last wins), out-of-bounds updates are dropped, negatives wrap", () => {
    const v = f32([1, 2, 3, 4], [4]);
    const idx = i32([1, -1, 1, 9]);
    expect(values(v.at(idx).set(f32([10, 20, 30, 40], [4])))).toEqual([1, 30, 3, 20]);
    expect(values(v.at(idx).add(1))).toEqual([1, 4, 3, 5]);
    expect(values(v.at(idx).mul(3))).toEqual([1, 18, 3, 12]);
    expect(values(v.at(idx).min(f32([0, 9, -5, -9], [4])))).toEqual([1, -5, 3, 4]);
    expect(values(v.at(idx).max(f32([0, 9, -5, -9], [4])))).toEqual([1, 2, 3, 9]);
    expect(values(v.at(idx).get())).toEqual([2, 4, 2, 4]);
    expect(values(v.at(idx).get({ mode: "fill", fillValue: -1 }))).toEqual([2, 4, 2, -1]);
    // with slices, new axes and broadcast values
    const m = f32([...globalThis.Array(12).keys()], [3, 4]);
    expect(m.at("::2", 1).set(-1).tolist()).toEqual([
      [0, -1, 2, 3],
      [4, 5, 6, 7],
      [8, -1, 10, 11],
    ]);
    expect(
      m
        .at(1, null, "1:3")
        .add(f32([100, 200], [1, 2]))
        .tolist(),
    ).toEqual([
      [0, 1, 2, 3],
      [4, 105, 206, 7],
      [8, 9, 10, 11],
    ]);
    expect(m.at(":", [0, 0]).add(1).tolist()).toEqual([
      [2, 1, 2, 3],
      [6, 5, 6, 7],
      [10, 9, 10, 11],
    ]);
    // values are cast to the array's dtype, as JAX
    expect(i32([1, 2, 3]).at(0).set(7.9).dtype).toBe("int32");
  });

  test("np.takeAlongAxis pairs the other axes, fills out-of-bounds, and wraps negatives", () => {
    const a = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(np.takeAlongAxis(a, i32([0, 2, 1, 0], [2, 2]), 1).tolist()).toEqual([
      [1, 3],
      [5, 4],
    ]);
    expect(np.takeAlongAxis(a, i32([1, 0, 2], [1, 3]), 0).tolist()).toEqual([[4, 2, NaN]]);
    expect(np.takeAlongAxis(a, i32([-1, 0], [2, 1]), 1).tolist()).toEqual([[3], [4]]);
    expect(np.takeAlongAxis(a, i32([2], [1, 1]), 1, { mode: "clip" }).tolist()).toEqual([[3], [6]]);
    expect(np.takeAlongAxis(a, i32([5, 0, 1], [3]), null).tolist()).toEqual([6, 1, 2]);
  });

  test("np.take modes: fill (default), clip, wrap, and the flattened array when axis is null", () => {
    const a = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const idx = i32([4, -1, 7]);
    expect(values(np.take(a, idx))).toEqual([5, 6, NaN]);
    expect(values(np.take(a, idx, { mode: "clip" }))).toEqual([5, 1, 6]);
    expect(values(np.take(a, idx, { mode: "wrap" }))).toEqual([5, 6, 2]);
    expect(np.take(a, [2, 0], { axis: 1 }).tolist()).toEqual([
      [3, 1],
      [6, 4],
    ]);
    expect(values(np.take(i32([1, 2]), [5]))).toEqual([-2147483648]);
  });
});

describe("printing and errors", () => {
  test("a gather prints as in JAX", () => {
    const jaxpr = makeJaxpr((w: WaxArray, i: WaxArray) => w.get(i))(np.zeros([5, 3]), i32([1, 2]));
    expect(String(jaxpr).replace(/\s+/g, " ")).toContain(
      "gather[ dimension_numbers=GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,), operand_batching_dims=(), start_indices_batching_dims=()) fill_value=None indices_are_sorted=False mode=GatherScatterMode.PROMISE_IN_BOUNDS slice_sizes=(1, 3) unique_indices=False ]",
    );
    const sc = makeJaxpr((w: WaxArray, i: WaxArray) => w.at(i).add(1))(np.zeros([5]), i32([1, 2]));
    expect(String(sc).replace(/\s+/g, " ")).toContain(
      "scatter-add[ dimension_numbers=ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,), operand_batching_dims=(), scatter_indices_batching_dims=()) indices_are_sorted=False mode=GatherScatterMode.FILL_OR_DROP unique_indices=False ]",
    );
    expect(String(makeJaxpr((w: WaxArray) => np.flip(w, 0))(np.zeros([2])))).toContain("rev[dimensions=(0,)]");
  });

  const dn = { offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0] };
  const w = np.zeros([5, 3]);

  test("float indices are refused everywhere, naming the op and the cast to make", () => {
    expect(thrown(DTypeError, () => lax.gather(w, f32([1], [1, 1]), dn, [1, 3]))).toBe(
      "gather: indices f32[1,1] must have an integer dtype, not float32 — cast them with .astype('int32')",
    );
    expect(
      thrown(DTypeError, () =>
        lax.scatterAdd(w, f32([1], [1, 1]), np.zeros([1, 3]), {
          updateWindowDims: [1],
          insertedWindowDims: [0],
          scatterDimsToOperandDims: [0],
        }),
      ),
    ).toMatch(/^scatter-add: scatter indices f32\[1,1\] must have an integer dtype.*astype\('int32'\)/);
    expect(thrown(DTypeError, () => w.get(f32([1, 2], [2])))).toMatch(
      /^index: index array f32\[2\] has dtype float32 — .*astype\('int32'\)/,
    );
    expect(thrown(DTypeError, () => w.get([1.5]))).toMatch(/^index: index list \[1.5\] must hold integers/);
    expect(thrown(DTypeError, () => np.take(w, f32([1], [1])))).toMatch(/^take: indices f32\[1\] have dtype float32/);
  });

  test("bad index shapes and dimension numbers name the op, the values and what to do", () => {
    expect(thrown(ShapeError, () => lax.gather(w, i32([1, 2], [1, 2]), dn, [1, 3]))).toBe(
      "gather: start_index_map (0,) has 1 entries but the index vector (last dimension of i32[1,2]) has 2",
    );
    expect(thrown(ShapeError, () => lax.gather(w, i32(1), dn, [1, 3]))).toMatch(
      /^gather: indices i32\[\] must have rank >= 1 .* reshape a scalar index to \[1\]/,
    );
    expect(thrown(ShapeError, () => lax.gather(w, i32([1], [1, 1]), dn, [2, 3]))).toMatch(
      /^gather: slice_sizes \(2, 3\) must be 0 or 1 in collapsed or batching dimension 0/,
    );
    expect(thrown(ShapeError, () => lax.gather(w, i32([1], [1, 1]), { ...dn, offsetDims: [0, 1] }, [1, 3]))).toMatch(
      /^gather: offset_dims \(0, 1\) must have one entry per operand dimension that is neither collapsed nor batching \(1: \(1,\)\)/,
    );
    expect(thrown(ShapeError, () => lax.gather(w, i32([1], [1, 1]), dn, [1, 4]))).toMatch(
      /^gather: slice_sizes \(1, 4\) has 4 for dimension 1 of f32\[5,3\]/,
    );
    expect(
      thrown(ShapeError, () => lax.gather(w, i32([1], [1, 1]), { ...dn, operandBatchingDims: [1], startIndicesBatchingDims: [0] }, [1, 1])),
    ).toMatch(/operand batching dimension 1 of f32\[5,3\] \(size 3\) must equal indices dimension 0 of i32\[1,1\] \(size 1\)/);
    const sdn = { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    expect(thrown(ShapeError, () => lax.scatter(w, i32([1, 2], [2, 1]), np.zeros([3, 3]), sdn))).toBe(
      "scatter: update scatter dimension 0 of f32[3,3] (size 3) must equal batch dimension 0 of indices i32[2,1] (size 2)",
    );
    expect(thrown(DTypeError, () => lax.scatter(w, i32([1], [1, 1]), i32([1, 2, 3], [1, 3]), sdn))).toMatch(
      /^scatter: updates i32\[1,3\] must have the operand's dtype float32/,
    );
    expect(thrown(ArgumentError, () => lax.gather(w, i32([1], [1, 1]), { offset_dims: [1] } as never, [1, 3]))).toMatch(
      /^gather: unknown dimensionNumbers field "offset_dims" — the fields are offsetDims/,
    );
    expect(thrown(ArgumentError, () => lax.gather(w, i32([1], [1, 1]), dn, [1, 3], { mode: "wrap" as never }))).toMatch(
      /^gather: unknown mode "wrap"/,
    );
    expect(thrown(ShapeError, () => w.at(i32([0, 1])).set(np.zeros([3, 3])))).toMatch(
      /^at\(...\).set: cannot broadcast the values f32\[3,3\] to the indexed shape \[2,3\]/,
    );
  });
});
