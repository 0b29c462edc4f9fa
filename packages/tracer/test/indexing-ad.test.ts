/**
 * Transforms of the indexing primitives (gather, the scatter family, rev) and of the numpy
 * indexing built on them.
 *
 * - JVP and VJP against central finite differences in float64 (h = 1e-6; jvp per element within
 *   1e-6·|fd| + 1e-8·(1 + max|f|), ⟨vjp(u), t⟩ against ⟨u, fd⟩ and against ⟨u, jvp(t)⟩), on random
 *   XLA dimension numbers with repeated and out-of-bounds indices in every mode.
 * - The transpose pairs: vjp of gather is scatter-add, vjp of scatter-add's updates is gather.
 * - Batching: `vmap(f)(xs)[i]` equals `f(xs[i])` exactly for any batched subset of operand,
 *   indices and updates at any axis; `vmap` of an indexing op stays one gather/scatter.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { array, grad, jvp, lax, makeJaxpr, np, vjp, vmap, type Array as WaxArray, type ClosedJaxpr } from "../index";
import { mulberry32 } from "../../../test/support/seeded";
import {
  apiMode,
  gatherDimsApi,
  randomGather,
  randomScatter,
  referenceScatter,
  scatterDimsApi,
  sizeOf,
  type ScatterName,
} from "./support/gather-cases";

const RUNS = { numRuns: 60 };
const i32 = (data: number[], shape?: number[]) => array(Int32Array.from(data), { dtype: "int32", shape });
const f64 = (data: number[], shape: number[]) => array(Float64Array.from(data), { dtype: "float64", shape });
const values = (a: WaxArray) => globalThis.Array.from(a.data);
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const absDot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + Math.abs(v * b[i]!), 0);

/** `n` distinct values in [-2, 2] (gaps ≥ 1/512, so min/max have no ties and FD steps cross none). */
function distinct(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  const m = Math.max(257, 2 * n);
  const ks = [...globalThis.Array(m).keys()].sort(() => r() - 0.5).slice(0, n);
  return ks.map((k) => ((k - m / 2) * 4) / m + r() / (4 * m));
}

/** JVP and VJP of `f` at float64 `xs` against central differences (see the module comment). */
function checkDerivatives(
  label: string,
  f: (...xs: WaxArray[]) => WaxArray,
  xs: { shape: number[]; data: number[] }[],
  seed: number,
): void {
  const r = mulberry32(seed);
  const args = xs.map((x) => f64(x.data, x.shape));
  const ts = xs.map((x) => x.data.map(() => 2 * r() - 1));
  const h = 1e-6;
  const shifted = (sign: number) =>
    values(
      f(
        ...xs.map((x, i) =>
          f64(
            x.data.map((v, k) => v + sign * h * ts[i]![k]!),
            x.shape,
          ),
        ),
      ),
    );
  const plus = shifted(1);
  const minus = shifted(-1);
  const fd = plus.map((p, k) => (p - minus[k]!) / (2 * h));
  const scale = 1 + Math.max(0, ...plus.map(Math.abs), ...minus.map(Math.abs));
  const [, tOut] = jvp(
    f,
    args,
    ts.map((t, i) => f64(t, xs[i]!.shape)),
  ) as [WaxArray, WaxArray];
  values(tOut).forEach((got, k) => {
    const want = fd[k]!;
    if (!(Math.abs(got - want) <= 1e-6 * Math.abs(want) + 1e-8 * scale))
      throw new Error(`${label}: jvp element ${k} is ${got}, central difference ${want}`);
  });
  const out = f(...args);
  const u = values(out).map(() => 2 * r() - 1);
  const [, back] = vjp(f, ...args);
  const cts = (back(f64(u, [...out.shape])) as WaxArray[]).map(values);
  const vjpT = cts.reduce((s, c, i) => s + dot(c, ts[i]!), 0);
  const bound = 1e-6 * absDot(u, fd) + 1e-8 * scale * u.reduce((s, v) => s + Math.abs(v), 0);
  expect(Math.abs(vjpT - dot(u, fd)), `${label}: <vjp(u), t> vs <u, fd>`).toBeLessThanOrEqual(bound);
  const jv = values(tOut);
  expect(Math.abs(vjpT - dot(u, jv)), `${label}: <vjp(u), t> vs <u, jvp(t)>`).toBeLessThanOrEqual(
    1e-10 * (cts.reduce((s, c, i) => s + absDot(c, ts[i]!), 0) + absDot(u, jv)),
  );
}

const scatters: Record<ScatterName, typeof lax.scatter> = {
  scatter: lax.scatter,
  "scatter-add": lax.scatterAdd,
  "scatter-mul": lax.scatterMul,
  "scatter-min": lax.scatterMin,
  "scatter-max": lax.scatterMax,
};

describe("JVP and VJP against finite differences", () => {
  test("gather in every mode (fill with a constant), random dimension numbers", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const c = randomGather(seed);
        const idx = i32(c.indices, c.indicesShape);
        const f = (x: WaxArray) => lax.gather(x, idx, gatherDimsApi(c.dims), c.sliceSizes, { mode: apiMode(c.mode), fillValue: 0.5 });
        checkDerivatives(`gather seed ${seed}`, f, [{ shape: c.operandShape, data: distinct(sizeOf(c.operandShape), seed) }], seed);
      }),
      RUNS,
    );
  });

  for (const name of Object.keys(scatters) as ScatterName[]) {
    test(`${name} in both operand and updates, with repeated and out-of-bounds indices`, () => {
      fc.assert(
        fc.property(fc.integer(), fc.boolean(), (seed, unique) => {
          const c = randomScatter(seed);
          const idx = i32(c.indices, c.indicesShape);
          const n = sizeOf(c.operandShape);
          const vals = distinct(n + sizeOf(c.updatesShape), seed);
          // scatter-mul's rule is exact at zeros: put some in.
          if (name === "scatter-mul") vals.forEach((_, i) => i % 3 === 0 && (vals[i] = 0));
          // uniqueIndices is a promise: only make it where it holds (no element written twice).
          const writes = referenceScatter({ ...c, operand: c.operand.map(() => 0), updates: c.updates.map(() => 1) }, (o) => o + 1);
          const isUnique = unique && writes.every((w) => w <= 1);
          const f = (x: WaxArray, u: WaxArray) =>
            scatters[name](x, idx, u, scatterDimsApi(c.dims), { mode: apiMode(c.mode), uniqueIndices: isUnique });
          checkDerivatives(
            `${name} seed ${seed}`,
            f,
            [
              { shape: c.operandShape, data: vals.slice(0, n) },
              { shape: c.updatesShape, data: vals.slice(n) },
            ],
            seed,
          );
        }),
        RUNS,
      );
    });
  }

  test("rev, np.take, np.takeAlongAxis, advanced x.get and x.at(...).set/add/mul/min/max", () => {
    const x = { shape: [3, 4], data: distinct(12, 1) };
    const idx = i32([2, -1, 0, 2, 5], [5]);
    const cases: [string, (a: WaxArray, b: WaxArray) => WaxArray][] = [
      ["rev", (a) => lax.rev(a, [0, 1]).mul(a)],
      ["x.get('::-2', '1::-1')", (a) => a.get("::-2", "1::-1")],
      ["np.take fill", (a) => np.take(a, idx, { axis: 1, fillValue: 0 })],
      ["np.takeAlongAxis", (a) => np.takeAlongAxis(a, i32([0, 3, 1, 1, 2, 0], [3, 2]), 1)],
      ["x.get(rows, cols)", (a) => a.get(i32([0, 2, 2], [3, 1]), i32([1, -1], [1, 2])).square()],
      ["x.at(rows).set(v)", (a, v) => a.at(idx.get("0:4")).set(v)],
      ["x.at(rows).add(v)", (a, v) => a.at(idx.get("0:4")).add(v)],
      ["x.at(rows).mul(v)", (a, v) => a.at(idx.get("0:4")).mul(v)],
      ["x.at(rows).min(v)", (a, v) => a.at(idx.get("0:4")).min(v)],
      ["x.at(rows).max(v)", (a, v) => a.at(idx.get("0:4")).max(v)],
    ];
    cases.forEach(([label, f], k) => checkDerivatives(label, f, [x, { shape: [4, 4], data: distinct(16, 2) }], 10 + k));
  });

  test("scatter-max splits a tie's tangent evenly among the operand and the updates that attain it (as max)", () => {
    const dn = { updateWindowDims: [], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    const f = (x: WaxArray, u: WaxArray) => lax.scatterMax(x, i32([0, 0, 1], [3, 1]), u, dn);
    const [out, t] = jvp(f, [f64([1, 0], [2]), f64([1, 1, -1], [3])], [f64([3, 5], [2]), f64([6, 9, 7], [3])]) as [WaxArray, WaxArray];
    expect(values(out)).toEqual([1, 0]);
    expect(values(t)).toEqual([(3 + 6 + 9) / 3, 5]);
  });

  test("scatter-mul's update tangent is exact with zeros and repeats: d/du of x·u₁·u₂·u₃", () => {
    const dn = { updateWindowDims: [], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    const f = (u: WaxArray) => lax.scatterMul(f64([2], [1]), i32([0, 0, 0], [3, 1]), u, dn).sum();
    expect(values(grad(f)(f64([0, 3, 5], [3])) as WaxArray)).toEqual([30, 0, 0]);
    expect(values(grad(f)(f64([0, 0, 5], [3])) as WaxArray)).toEqual([0, 0, 0]);
    expect(values(grad(f)(f64([4, 3, 5], [3])) as WaxArray)).toEqual([30, 40, 24]);
  });
});

describe("transpose pairs", () => {
  test("the VJP of gather is scatter-add of the cotangent, and the VJP of scatter-add's updates is gather", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const c = randomGather(seed);
        const idx = i32(c.indices, c.indicesShape);
        const mode = c.mode === "fill_or_drop" ? "fill" : "clip";
        const x = f64(distinct(sizeOf(c.operandShape), seed), c.operandShape);
        const ct = f64(distinct(sizeOf(c.outShape), seed + 1), c.outShape);
        const [, back] = vjp((a: WaxArray) => lax.gather(a, idx, gatherDimsApi(c.dims), c.sliceSizes, { mode: apiMode(c.mode) }), x);
        const sdn = {
          updateWindowDims: c.dims.offset_dims,
          insertedWindowDims: c.dims.collapsed_slice_dims,
          scatterDimsToOperandDims: c.dims.start_index_map,
          operandBatchingDims: c.dims.operand_batching_dims,
          scatterIndicesBatchingDims: c.dims.start_indices_batching_dims,
        };
        expect(values((back(ct) as WaxArray[])[0]!)).toEqual(
          values(lax.scatterAdd(np.zeros(c.operandShape, "float64"), idx, ct, sdn, { mode })),
        );
        const [, back2] = vjp((u: WaxArray) => lax.scatterAdd(x, idx, u, sdn, { mode }), ct);
        const xs = f64(distinct(sizeOf(c.operandShape), seed + 2), c.operandShape);
        expect(values((back2(xs) as WaxArray[])[0]!)).toEqual(
          values(lax.gather(xs, idx, gatherDimsApi(c.dims), c.sliceSizes, { mode, fillValue: 0 })),
        );
      }),
      RUNS,
    );
  });

  test("rev transposes to rev", () => {
    const [, back] = vjp((a: WaxArray) => lax.rev(a, [1]), f64([1, 2, 3, 4, 5, 6], [2, 3]));
    expect(values((back(f64([1, 2, 3, 4, 5, 6], [2, 3])) as WaxArray[])[0]!)).toEqual([3, 2, 1, 6, 5, 4]);
  });
});

/** Slice `i` of `x` along `axis`. */
const take = (x: WaxArray, axis: number, i: number) => x.get(...globalThis.Array<string>(axis).fill(":"), i);
/** `n` instances stacked along `axis`. */
const stack = (xs: WaxArray[], axis: number) => np.stack(xs, axis);

describe("batching", () => {
  /** vmap(f, inAxes)(...) slice i equals f on the instances' slices i. */
  function checkVmap(label: string, f: (...xs: WaxArray[]) => WaxArray, instances: WaxArray[][], axes: (number | null)[]): void {
    const n = instances.length;
    const args = axes.map((ax, k) =>
      ax === null
        ? instances[0]![k]!
        : stack(
            instances.map((inst) => inst[k]!),
            ax,
          ),
    );
    const out = vmap(f, { inAxes: axes })(...args) as WaxArray;
    for (let i = 0; i < n; i++) {
      const one = f(...axes.map((ax, k) => (ax === null ? instances[0]![k]! : instances[i]![k]!)));
      expect(values(take(out, 0, i)), `${label}, instance ${i}`).toEqual(values(one));
    }
  }
  const axisArb = (rank: number) => fc.option(fc.integer({ min: 0, max: rank }), { nil: null });

  test("vmap of gather: operand, indices or both batched, at any axis", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 3 }), fc.tuple(axisArb(3), axisArb(3)), (seed, n, [ax, ai]) => {
        const c = randomGather(seed);
        const dims = gatherDimsApi(c.dims);
        const f = (x: WaxArray, idx: WaxArray) => lax.gather(x, idx, dims, c.sliceSizes, { mode: apiMode(c.mode) });
        const instances = [...globalThis.Array(n).keys()].map((i) => {
          const other = randomGather(seed + 1000 * (i + 1));
          const idxs = c.indices.map(
            (v, k) => (i === 0 ? v : (v + other.indices[k % Math.max(1, other.indices.length)]! + i) % 7) - (i > 1 ? 1 : 0),
          );
          return [
            array(
              c.operand.map((v) => v * (i + 1)),
              { shape: c.operandShape },
            ),
            i32(idxs, c.indicesShape),
          ];
        });
        const axes: (number | null)[] = [
          ax === null ? null : Math.min(ax, c.operandShape.length),
          ai === null ? null : Math.min(ai, c.indicesShape.length),
        ];
        if (!axes.some((a) => a !== null)) axes[0] = 0;
        checkVmap(`gather seed ${seed} axes ${axes}`, f, instances, axes);
      }),
      RUNS,
    );
  });

  test("vmap of the scatter family: any subset of operand, indices and updates batched, at any axis", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom(...(Object.keys(scatters) as ScatterName[])),
        fc.tuple(axisArb(3), axisArb(3), axisArb(3)),
        (seed, name, [ax, ai, au]) => {
          const c = randomScatter(seed);
          const f = (x: WaxArray, idx: WaxArray, u: WaxArray) =>
            scatters[name](x, idx, u, scatterDimsApi(c.dims), { mode: apiMode(c.mode) });
          const instances = [0, 1, 2].map((i) => [
            array(
              c.operand.map((v) => v + i),
              { shape: c.operandShape },
            ),
            i32(
              c.indices.map((v, k) => (i === 0 ? v : v + ((k + i) % 3) - 1)),
              c.indicesShape,
            ),
            array(
              c.updates.map((v) => v * (i + 1)),
              { shape: c.updatesShape },
            ),
          ]);
          const axes: (number | null)[] = [
            ax === null ? null : Math.min(ax, c.operandShape.length),
            ai === null ? null : Math.min(ai, c.indicesShape.length),
            au === null ? null : Math.min(au, c.updatesShape.length),
          ];
          if (!axes.some((a) => a !== null)) axes[2] = 0;
          checkVmap(`${name} seed ${seed} axes ${axes}`, f, instances, axes);
        },
      ),
      RUNS,
    );
  });

  test("vmap of rev, advanced indexing and x.at(...).add", () => {
    const xs = [0, 1, 2].map((i) =>
      array(
        [...globalThis.Array(12).keys()].map((v) => v * (i + 1)),
        { shape: [3, 4] },
      ),
    );
    const is = [0, 1, 2].map((i) => i32([i, -1, 2 - i], [3]));
    checkVmap(
      "rev",
      (x) => lax.rev(x, [1]),
      xs.map((x) => [x]),
      [1],
    );
    checkVmap(
      "x.get(i, ::-1)",
      (x, i) => x.get(i, "::-1"),
      xs.map((x, k) => [x, is[k]!]),
      [0, 0],
    );
    checkVmap(
      "x.at(:, i).add(1)",
      (x, i) => x.at(":", i).add(1),
      xs.map((x, k) => [x, is[k]!]),
      [2, null],
    );
    checkVmap(
      "x.at(i).set(row)",
      (x, i) => x.at(i).set(x.get(0).mul(-1)),
      xs.map((x, k) => [x, is[k]!]),
      [1, 0],
    );
  });

  const count = (j: ClosedJaxpr, name: string) => j.jaxpr.eqns.filter((e) => e.prim.name === name).length;

  test("vmap of a row lookup x.get(i) (dynamic_slice) is one gather; of dynamic_update_slice one scatter", () => {
    const w = np.zeros([50, 8]);
    const ids = i32(
      [...globalThis.Array(128).keys()].map((k) => k % 50),
      [128],
    );
    const j = makeJaxpr((i: WaxArray) => vmap((k: WaxArray) => w.get(k))(i))(ids);
    expect(count(j, "gather")).toBe(1);
    expect(j.jaxpr.eqns.length).toBeLessThan(10);
    const u = makeJaxpr((i: WaxArray) => vmap((k: WaxArray) => lax.dynamicUpdateSlice(w, np.ones([1, 8]), [k, 0]))(i))(ids);
    expect(count(u, "scatter")).toBe(1);
    const rows = vmap((k: WaxArray) => w.at(k).set(1).get(k))(i32([3, -1], [2]));
    expect(rows.shape).toEqual([2, 8]);
    expect(values(rows).every((v) => v === 1)).toBe(true);
  });
});
