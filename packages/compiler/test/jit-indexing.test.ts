/**
 * Compiled indexing against the reference interpreter: `filterJit(f)(...args)` (one
 * WebAssembly module) must equal `f(...args)` run eagerly, exactly (indexing moves values;
 * scatter-add/mul combine repeated updates in the same order on both sides). Random XLA
 * dimension numbers (batching dims, permuted index maps, size-0/1 axes), indices in and out of
 * bounds, repeated scatter indices, every mode and dtype; then the numpy-level APIs, gradients
 * and vmaps built on them, and the shape of `vmap(embedding)`'s program.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { array, grad, lax, np, vmap, type Array, type DType } from "@wax/tracer";
import { filterJit } from "../index";
import {
  apiMode,
  gatherDimsApi,
  randomGather,
  randomScatter,
  scatterDimsApi,
  type ScatterName,
} from "../../tracer/test/support/gather-cases";
import { QUIET } from "./support";

const RUNS = { numRuns: 40 };
const i32 = (data: number[], shape?: number[]) => array(Int32Array.from(data), { dtype: "int32", shape });
const f32 = (data: number[], shape: number[]) => array(Float32Array.from(data), { shape });
/** Values with NaN as itself and -0 told from 0. */
const values = (a: Array) => globalThis.Array.from(a.data, (v) => (Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v));

/** Primitives of every program compiled here (the coverage check at the end). */
const compiled = new Set<string>();

/** Compiles `f`, runs it on `args`, and checks every output equals the interpreter's exactly. */
function expectJitMatches(f: (...xs: Array[]) => Array | Record<string, Array>, args: Array[], what: string): void {
  const jf = filterJit(f, QUIET);
  const got = jf(...args);
  for (const e of jf.lastJaxpr()!.jaxpr.eqns) compiled.add(e.prim.name);
  const want = f(...args);
  const pairs: [string, Array, Array][] =
    "shape" in want
      ? [["", got as Array, want as Array]]
      : Object.keys(want).map((k) => [k, (got as Record<string, Array>)[k]!, (want as Record<string, Array>)[k]!]);
  for (const [k, g, w] of pairs) {
    expect(String(g.aval), `${what} ${k}: aval`).toBe(String(w.aval));
    expect(values(g), `${what} ${k}`).toEqual(values(w));
  }
}

const DTYPES: DType[] = ["float32", "int32", "uint32", "bool"];
const asDtype = (v: number, d: DType) => (d === "bool" ? (v > 0 ? 1 : 0) : d === "uint32" ? Math.abs(v) : v);

describe("gather", () => {
  it("random dimension numbers, every mode and dtype, alone and fused with producers and consumers", () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...DTYPES), (seed, dtype) => {
        const c = randomGather(seed);
        const x = array(
          c.operand.map((v) => asDtype(v, dtype)),
          { dtype, shape: c.operandShape },
        );
        const idx = i32(c.indices, c.indicesShape);
        const g = (a: Array, i: Array) => lax.gather(a, i, gatherDimsApi(c.dims), c.sliceSizes, { mode: apiMode(c.mode) });
        expectJitMatches(g, [x, idx], `gather seed ${seed} ${dtype}`);
        if (dtype === "float32") {
          // an expression operand (materialized), computed indices, and a fused consumer
          expectJitMatches((a, i) => g(a.mul(2), i.add(1).sub(1)).add(0.5), [x, idx], `fused gather seed ${seed}`);
        }
      }),
      RUNS,
    );
  });

  it("a gather of whole rows loads 4 lanes at a time (every row length, fill mode included)", () => {
    for (const n of [1, 3, 4, 5, 8, 9]) {
      const w = f32(
        [...globalThis.Array(6 * n).keys()].map((v) => v - 7.5),
        [6, n],
      );
      const ids = i32([5, 0, -1, 7, 2, 2], [6]);
      expectJitMatches((a, i) => a.get(i).mul(3), [w, ids], `rows of ${n}`);
      expectJitMatches((a, i) => np.take(a, i, { axis: 0 }), [w, ids], `take rows of ${n}`);
    }
  });
});

describe("uint32 indices", () => {
  it("an index ≥ 2^31 is large, not negative: gathers clamp it high or fill, scatters drop it", () => {
    const x = f32([1, 2, 3, 4], [4]);
    const idx = array(Uint32Array.from([0, 3, 2147483648, 4294967295]), { dtype: "uint32", shape: [4, 1] });
    const dn = { offsetDims: [], collapsedSliceDims: [0], startIndexMap: [0] };
    const sdn = { updateWindowDims: [], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    const f = (a: Array, i: Array) => ({
      clip: lax.gather(a, i, dn, [1]),
      fill: lax.gather(a, i, dn, [1], { mode: "fill" }),
      drop: lax.scatterAdd(a, i, f32([10, 20, 30, 40], [4]), sdn),
      clipAdd: lax.scatterAdd(a, i, f32([10, 20, 30, 40], [4]), sdn, { mode: "clip" }),
    });
    expect(values(f(x, idx).clip)).toEqual([1, 4, 4, 4]);
    expect(values(f(x, idx).drop)).toEqual([11, 2, 3, 24]);
    expectJitMatches(f, [x, idx], "uint32");
  });
});

describe("the scatter family", () => {
  const apis: Record<ScatterName, typeof lax.scatter> = {
    scatter: lax.scatter,
    "scatter-add": lax.scatterAdd,
    "scatter-mul": lax.scatterMul,
    "scatter-min": lax.scatterMin,
    "scatter-max": lax.scatterMax,
  };
  it("random dimension numbers with repeated and out-of-bounds indices, every mode, float32 and int32", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.constantFrom(...(Object.keys(apis) as ScatterName[])),
        fc.constantFrom<DType>("float32", "int32"),
        (seed, name, dtype) => {
          const c = randomScatter(seed);
          const x = array(c.operand, { dtype, shape: c.operandShape });
          const u = array(
            c.updates.map((v) => v / (dtype === "float32" ? 3 : 1)),
            { dtype, shape: c.updatesShape },
          );
          const idx = i32(c.indices, c.indicesShape);
          const s = (a: Array, i: Array, v: Array) => apis[name](a, i, v, scatterDimsApi(c.dims), { mode: apiMode(c.mode) });
          expectJitMatches(s, [x, idx, u], `${name} seed ${seed} ${dtype}`);
        },
      ),
      RUNS,
    );
  });

  it("bool scatters (or/and), NaN in scatter-min/max, and int32 wraparound match the interpreter", () => {
    const dn = { updateWindowDims: [], insertedWindowDims: [0], scatterDimsToOperandDims: [0] };
    const idx = i32([0, 1, 1, 2, 0], [5, 1]);
    const b = array([false, true, false]);
    const bu = array([true, false, false, true, false]);
    expectJitMatches(
      (a, i, v) => ({
        add: lax.scatterAdd(a, i, v, dn),
        mul: lax.scatterMul(a, i, v, dn),
        min: lax.scatterMin(a, i, v, dn),
        max: lax.scatterMax(a, i, v, dn),
      }),
      [b, idx, bu],
      "bool",
    );
    const xf = f32([1, -0, NaN], [3]);
    const uf = f32([NaN, 0, -5, 3, 2], [5]);
    expectJitMatches(
      (a, i, v) => ({ min: lax.scatterMin(a, i, v, dn), max: lax.scatterMax(a, i, v, dn), set: lax.scatter(a, i, v, dn) }),
      [xf, idx, uf],
      "float",
    );
    expectJitMatches(
      (a, i, v) => lax.scatterAdd(a, i, v, dn),
      [i32([2147483647, 0, -2147483648]), idx, i32([1, 5, -1, 3, 1])],
      "int32 wraps",
    );
  });
});

describe("rev and numpy indexing", () => {
  const x = f32(
    [...globalThis.Array(60).keys()].map((v) => v / 4 - 3),
    [3, 4, 5],
  );
  it("rev and negative-step slices are views (alone, through a matmul, a reshape and a reduction)", () => {
    const w = f32(
      [...globalThis.Array(40).keys()].map((v) => (v % 7) - 3),
      [5, 8],
    );
    expectJitMatches((a) => lax.rev(a, [0, 2]), [x], "rev");
    expectJitMatches((a) => a.get("::-1", "1::-2", "::-3").mul(2), [x], "negative steps");
    expectJitMatches((a, b) => np.matmul(lax.rev(a, [2]), lax.rev(b, [0, 1])), [x, w], "rev into matmul");
    expectJitMatches((a) => ({ r: np.flip(a, 1).reshape([12, 5]), s: np.flip(a).sum({ axis: 2 }) }), [x], "rev into reshape and sum");
  });

  it("advanced indexing, np.take / takeAlongAxis in every mode, and x.at(...) updates", () => {
    const rows = i32([0, 2, -1, 5], [4, 1]);
    const cols = i32([1, -4, 9], [1, 3]);
    const args = [x, rows, cols];
    expectJitMatches((a, r, c) => a.get(r, c), args, "x[r, c]");
    expectJitMatches((a, r, c) => a.get(r, ":", c).add(a.get(0, 0, 0)), args, "x[r, :, c]");
    expectJitMatches((a, r) => a.get(":", null, r.reshape([4]), "1::2"), args, "x[:, None, r, 1::2]");
    expectJitMatches(
      (a, r, c) => ({
        fill: np.take(a, c, { axis: 2 }),
        clip: np.take(a, r, { mode: "clip" }),
        wrap: np.take(a, c, { axis: 1, mode: "wrap" }),
      }),
      args,
      "take",
    );
    expectJitMatches(
      (a, r) =>
        np.takeAlongAxis(
          a,
          r
            .reshape([4, 1, 1])
            .get("0:3")
            .add(i32([0, 4, 1, 3, 2], [1, 1, 5]))
            .sub(2),
          2,
        ),
      args,
      "takeAlongAxis (negative indices)",
    );
    expectJitMatches(
      (a, r, c) => np.takeAlongAxis(a, c.reshape([1, 1, 3]).add(r.reshape([4, 1, 1]).get("0:3")), 2),
      args,
      "takeAlongAxis with out-of-bounds",
    );
    expectJitMatches((a, r, c) => a.at(r, c).set(-1), args, "at.set");
    expectJitMatches((a, r, c) => a.at(r, ":", c).add(a.get(0, 0, "0:4")), args, "at.add with repeats");
    expectJitMatches(
      (a, r) => ({ mul: a.at(r.reshape([4])).mul(2), min: a.at(":", "::2").min(0), max: a.at("...", 1).max(a.get(0, ":", 0)) }),
      args,
      "at.mul/min/max",
    );
    expectJitMatches((a, r, c) => a.at(r, c).get({ mode: "fill", fillValue: 7 }), args, "at.get fill");
  });

  it("gradients through gather and scatter compile (scatter-add of repeated rows, the id trick of scatter)", () => {
    const idx = i32([1, 1, -1, 0], [4]);
    expectJitMatches((a, i) => grad((b: Array) => b.get(i).square().sum())(a) as Array, [x, idx], "grad of gather");
    expectJitMatches((a, i) => grad((b: Array) => b.at(i).set(b.get(2).mul(3)).square().sum())(a) as Array, [x, idx], "grad of scatter");
    expectJitMatches((a, i) => grad((b: Array) => b.at(i).max(0.5).sum())(a) as Array, [x, idx], "grad of scatter-max");
  });

  it("vmap of x.get, of dynamic_update_slice and of x.at(...).add compile to the interpreter's values", () => {
    const ids = i32([2, -1, 0, 1, 2, 7], [6]);
    const w = f32([...globalThis.Array(12).keys()], [3, 4]);
    expectJitMatches((a, i) => vmap((k: Array) => a.get(k))(i), [w, ids], "vmap get");
    expectJitMatches(
      (a, i) => vmap((k: Array) => lax.dynamicUpdateSlice(a, np.ones([1, 2]), [k, k]))(i),
      [w, ids],
      "vmap dynamic_update_slice",
    );
    expectJitMatches((a, i) => vmap((r: Array, k: Array) => r.at(k).add(10), { inAxes: [null, 0] })(a.get(0), i), [w, ids], "vmap at.add");
  });
});

describe("indexing inside compiled loops", () => {
  it("gathers and scatters in a scan body and an in-place update loop (foriLoop) match the interpreter", () => {
    const w = f32(
      [...globalThis.Array(20).keys()].map((v) => v / 2 - 4),
      [5, 4],
    );
    const ids = i32([3, 1, 4, -1, 0, 2, 9]);
    expectJitMatches(
      (a, i) => {
        const [carry, ys] = lax.scan((c: Array, k: Array) => [c.add(a.get(k)), a.at(k).add(c).get(k)] as const, np.zeros([4]), i);
        return { carry, ys };
      },
      [w, ids],
      "scan",
    );
    expectJitMatches(
      (a) => lax.foriLoop(0, 5, (k: Array, acc: Array) => acc.at(k).set(acc.get(k).mul(2).add(k.astype("float32"))), a),
      [w],
      "foriLoop",
    );
  });
});

describe("vmap(embedding)", () => {
  it("embeds a [128, 64] batch of ids with one gather (jaxpr and kernels independent of the batch), equal to eager", () => {
    // An embedding lookup as Equinox writes it (`weight[x]` on one integer index), vmapped twice.
    const embedding = (weight: Array) => (i: Array) => weight.get(i);
    const weight = f32(
      [...globalThis.Array(1000 * 32).keys()].map((v) => Math.sin(v)),
      [1000, 32],
    );
    const ids = i32(
      [...globalThis.Array(128 * 64).keys()].map((k) => (k * 7919) % 1000),
      [128, 64],
    );
    const f = filterJit((w: Array, i: Array) => vmap(vmap(embedding(w)))(i), QUIET);
    const out = f(weight, ids);
    const jaxpr = f.lastJaxpr()!;
    expect(jaxpr.jaxpr.eqns.filter((e) => e.prim.name === "gather").length).toBe(1);
    expect(jaxpr.jaxpr.eqns.length).toBeLessThan(12);
    expect(f.stats().entries[0]!.kernels).toBeLessThanOrEqual(3);
    expect(out.shape).toEqual([128, 64, 32]);
    expect(values(out)).toEqual(values(vmap(vmap(embedding(weight)))(ids) as Array));
    expect(values(out.get(5, 9))).toEqual(values(weight.get(((5 * 64 + 9) * 7919) % 1000)));
  });
});

describe("coverage", () => {
  it("every indexing primitive was compiled and compared above", () => {
    const names = ["gather", "scatter", "scatter-add", "scatter-mul", "scatter-min", "scatter-max", "rev"];
    expect(names.filter((n) => !compiled.has(n))).toEqual([]);
  });
});
