/**
 * Reduction primitives against @tensorflow/tfjs-core on its CPU backend. Shapes are random
 * (rank 0–4, dims 0–5 weighted towards 0 and 1), reduced axes a random subset in random order.
 *
 * | op family                    | oracle                    | tolerance: |wax − tf| ≤ atol + rtol·|tf|           |
 * |------------------------------|---------------------------|---------------------------------------------------|
 * | reduce_sum, f32, x ∈ [-10,10]| tf.sum                    | rtol 1e-5, atol 1e-5 (both accumulate in float64; |
 * |                              |                           |   only the summation order differs)               |
 * | reduce_sum, i32              | tf.sum                    | exact                                             |
 * | reduce_prod, |x| ∈ [0.5, 2]  | tf.prod                   | rtol 1e-5, atol 1e-38 (subnormal results)         |
 * | reduce_max, reduce_min       | tf.max / tf.min           | exact, ±0 equal (which zero wins depends on the   |
 * |                              |                           |   visiting order); NaN propagates                 |
 * |   over a size-0 axis         | JS: -inf / +inf (lax)     | exact (tfjs returns NaN there)                    |
 * | argmax, argmin               | tf.argMax / tf.argMin     | exact; ties → first index                         |
 * |   with NaN                   | JS: first NaN wins (JAX)  | exact (tfjs skips NaN)                            |
 * | cumsum, f32, x ∈ [-10,10]    | tf.cumsum (reverse flag)  | exact, ±0 equal: both scan sequentially in        |
 * |                              |                           |   float32 (a float64 add rounded to float32 is    |
 * |                              |                           |   the float32 add), so a float64 scan fails this  |
 * | cumsum, i32                  | tf.cumsum                 | exact                                             |
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { lax, np, ShapeError, type Array as WaxArray, type DType } from "../../index";
import { sizeOf, range, shapeArb } from "../support/shapes";
import { hostDtype, wax, tfOf, anyF32, oracle, expectExact, expectClose, type Host, type Tol } from "../support/tfjs-oracle";

const RUNS = { numRuns: 40 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// ---- generators and oracle plumbing ---------------------------------------------------------

/** float32 values drawn by `value`, for an array of `shape`. */
const f32Arb = (value: fc.Arbitrary<number>) => (shape: number[]) =>
  fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((v): Host => ({ shape, data: Float32Array.from(v) }));
const i32Arb = (shape: number[]) =>
  fc
    .array(fc.integer({ min: -1000, max: 1000 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
    .map((v): Host => ({ shape, data: Int32Array.from(v) }));
const moderate = fc.float({ min: -10, max: 10, noNaN: true });

/** A random subset of the axes in random order (lax reductions accept any order). */
const withAxes = (x: Host) => fc.shuffledSubarray(range(x.shape.length)).map((axes) => ({ x, axes }));

const SUM_TOL: Tol = { rtol: 1e-5, atol: 1e-5 };
const PROD_TOL: Tol = { rtol: 1e-5, atol: 1e-38 };

/** The values of `x` along `axis`, one row per remaining index (moved last via tfjs transpose). */
function rowsAlong(x: Host, axis: number): number[][] {
  const perm = [...range(x.shape.length).filter((d) => d !== axis), axis];
  const flat = oracle(() => tf.transpose(tfOf(x), perm)).data;
  const n = x.shape[axis]!;
  return range(flat.length / n).map((r) => flat.slice(r * n, (r + 1) * n));
}

// ---- reduce_sum / reduce_prod / reduce_max / reduce_min ------------------------------------------

describe("reduce_sum and reduce_prod over random axis subsets match tfjs", () => {
  test("reduce_sum, float32", () => {
    fc.assert(
      fc.property(shapeArb().chain(f32Arb(moderate)).chain(withAxes), ({ x, axes }) => {
        expectClose(
          lax.reduceSum(wax(x), axes),
          oracle(() => tf.sum(tfOf(x), axes)),
          SUM_TOL,
        );
      }),
      RUNS,
    );
  });

  test("reduce_sum, int32, exactly", () => {
    fc.assert(
      fc.property(shapeArb().chain(i32Arb).chain(withAxes), ({ x, axes }) => {
        expectExact(
          lax.reduceSum(wax(x), axes),
          oracle(() => tf.sum(tfOf(x), axes)),
          "int32",
        );
      }),
      RUNS,
    );
  });

  test("reduce_prod, float32 (size-0 axes give 1)", () => {
    const factor = fc.tuple(fc.float({ min: 0.5, max: 2, noNaN: true }), fc.boolean()).map(([v, neg]) => (neg ? -v : v));
    fc.assert(
      fc.property(shapeArb().chain(f32Arb(factor)).chain(withAxes), ({ x, axes }) => {
        expectClose(
          lax.reduceProd(wax(x), axes),
          oracle(() => tf.prod(tfOf(x), axes)),
          PROD_TOL,
        );
      }),
      RUNS,
    );
  });

  test("reduce_sum propagates Inf and NaN as tfjs does", () => {
    fc.assert(
      fc.property(
        shapeArb()
          .chain(f32Arb(fc.constantFrom(1, -2.5, Infinity, -Infinity, NaN, -0)))
          .chain(withAxes),
        ({ x, axes }) => {
          expectClose(
            lax.reduceSum(wax(x), axes),
            oracle(() => tf.sum(tfOf(x), axes)),
            SUM_TOL,
          );
        },
      ),
      RUNS,
    );
  });
});

describe("reduce_max and reduce_min over random axis subsets match tfjs", () => {
  const cases: ["max" | "min", (x: WaxArray, axes: number[]) => WaxArray, typeof tf.max][] = [
    ["max", lax.reduceMax, tf.max],
    ["min", lax.reduceMin, tf.min],
  ];

  /** lax identities: what a reduction over no elements gives. */
  const identity = (op: "max" | "min", dtype: DType) =>
    dtype === "int32" ? (op === "max" ? -2147483648 : 2147483647) : op === "max" ? -Infinity : Infinity;

  for (const [op, waxOp, tfOp] of cases) {
    for (const [label, values] of [
      ["float32 edge values (NaN, ±Inf, -0, subnormals)", anyF32],
      ["int32", i32Arb],
    ] as const) {
      test(`reduce_${op}, ${label}; a size-0 reduced axis gives the lax identity`, () => {
        fc.assert(
          fc.property(shapeArb().chain(values).chain(withAxes), ({ x, axes }) => {
            const dtype = hostDtype(x);
            const empty = axes.some((a) => x.shape[a] === 0);
            // tfjs answers NaN over zero elements; lax (and JAX) give the identity ∓inf / int extremes.
            const want = empty
              ? (() => {
                  const shape = x.shape.filter((_, i) => !axes.includes(i));
                  return { shape, data: new globalThis.Array<number>(sizeOf(shape)).fill(identity(op, dtype)) };
                })()
              : oracle(() => tfOp(tfOf(x), axes));
            expectExact(waxOp(wax(x), axes), want, dtype, { signedZeroEqual: true });
          }),
          RUNS,
        );
      });
    }
  }

  test("reduce_max rejects a repeated axis", () => {
    expect(() => lax.reduceMax(np.zeros([2, 3]), [1, 1])).toThrow(ShapeError);
  });
});

// ---- argmax / argmin ---------------------------------------------------------------------------

describe("argmax and argmin match tfjs (ties → first index) and JAX's NaN rule", () => {
  /** Few distinct values, so ties are frequent. */
  const tiesArb = fc.constantFrom(-2, -1, 0, 1, 2, -Infinity, Infinity);
  const argCase = (values: fc.Arbitrary<number>) =>
    shapeArb(1, 4)
      .filter((s) => s.some((d) => d > 0))
      .chain(f32Arb(values))
      .chain((x) =>
        fc
          .tuple(fc.constantFrom(...range(x.shape.length).filter((d) => x.shape[d]! > 0)), fc.constantFrom<DType>("int32", "uint32"))
          .map(([axis, indexDtype]) => ({ x, axis, indexDtype })),
      );

  test("argmax and argmin equal tf.argMax / tf.argMin", () => {
    fc.assert(
      fc.property(argCase(tiesArb), ({ x, axis, indexDtype }) => {
        expectExact(
          lax.argmax(wax(x), axis, indexDtype),
          oracle(() => tf.argMax(tfOf(x), axis)),
          indexDtype,
        );
        expectExact(
          lax.argmin(wax(x), axis, indexDtype),
          oracle(() => tf.argMin(tfOf(x), axis)),
          indexDtype,
        );
      }),
      RUNS,
    );
  });

  test("with NaNs, the first NaN wins (JAX), otherwise the first extreme", () => {
    fc.assert(
      fc.property(argCase(fc.constantFrom(NaN, 0, 1, -1)), ({ x, axis }) => {
        const pick = (row: number[], better: (v: number, b: number) => boolean) => {
          const nan = row.findIndex(Number.isNaN);
          if (nan >= 0) return nan;
          return row.reduce((best, v, i) => (better(v, row[best]!) ? i : best), 0);
        };
        const rows = rowsAlong(x, axis);
        const shape = x.shape.filter((_, i) => i !== axis);
        expectExact(lax.argmax(wax(x), axis), { shape, data: rows.map((r) => pick(r, (v, b) => v > b)) }, "int32");
        expectExact(lax.argmin(wax(x), axis), { shape, data: rows.map((r) => pick(r, (v, b) => v < b)) }, "int32");
      }),
      RUNS,
    );
  });

  test("np.argmax without an axis indexes the flattened array", () => {
    fc.assert(
      fc.property(
        shapeArb()
          .filter((s) => sizeOf(s) > 0)
          .chain(f32Arb(tiesArb)),
        (x) => {
          const want = oracle(() => tf.argMax(tf.reshape(tfOf(x), [-1]), 0));
          expectExact(np.argmax(wax(x)), want, "int32");
        },
      ),
      RUNS,
    );
  });

  test("argmax rejects a size-0 axis", () => {
    expect(() => lax.argmax(np.zeros([2, 0]), 1)).toThrow(ShapeError);
  });
});

// ---- cumsum ------------------------------------------------------------------------------------

describe("cumsum forward and reverse matches tfjs cumsum", () => {
  const cumsumCase = (values: (s: number[]) => fc.Arbitrary<Host>) =>
    shapeArb(1, 4)
      .chain(values)
      .chain((x) => fc.tuple(fc.nat({ max: x.shape.length - 1 }), fc.boolean()).map(([axis, reverse]) => ({ x, axis, reverse })));

  test("float32, exactly", () => {
    fc.assert(
      fc.property(cumsumCase(f32Arb(moderate)), ({ x, axis, reverse }) => {
        expectExact(
          lax.cumsum(wax(x), axis, reverse),
          oracle(() => tf.cumsum(tfOf(x), axis, false, reverse)),
          "float32",
          { signedZeroEqual: true },
        );
      }),
      RUNS,
    );
  });

  test("int32, exactly", () => {
    fc.assert(
      fc.property(cumsumCase(i32Arb), ({ x, axis, reverse }) => {
        expectExact(
          lax.cumsum(wax(x), axis, reverse),
          oracle(() => tf.cumsum(tfOf(x), axis, false, reverse)),
          "int32",
        );
      }),
      RUNS,
    );
  });

  test("np.cumsum without an axis scans the flattened array", () => {
    fc.assert(
      fc.property(shapeArb().chain(f32Arb(moderate)), (x) => {
        expectExact(
          np.cumsum(wax(x)),
          oracle(() => tf.cumsum(tf.reshape(tfOf(x), [-1]), 0)),
          "float32",
          { signedZeroEqual: true },
        );
      }),
      RUNS,
    );
  });
});
