/**
 * Vectorised reductions against the interpreter, on lengths that reach the vector loops
 * (the primitive tests in `jit-primitives.test.ts` use innermost lengths ≤ 9): the reduced
 * innermost axis with 4 accumulators of 4 lanes (16 per step, then 4, then a scalar tail), and
 * reductions over outer axes 4 (or 16) kept columns at a time.
 *
 * Tolerances (the interpreter accumulates float sums in float64; the vector loops in float32,
 * in another order):
 *
 * | reduction                        | tolerance per output element              |
 * | -------------------------------- | ----------------------------------------- |
 * | reduce_sum, float32, n terms     | (n + 2)·2⁻²⁴·Σ|terms|                     |
 * | reduce_max / reduce_min, float32 | exact (NaN propagates; order-independent) |
 * | int32 / uint32 sum, max, min     | exact (wrapping adds are associative)     |
 *
 * Each vector case also asserts that the vector loop was emitted (the module's text has the
 * f32x4/i32x4 reduction op), so a silent fallback to the scalar loop fails here.
 */
import { describe, expect, it } from "vitest";
import { lax, np, type Array } from "@wax/tracer";
import { compileJaxpr, filterJit } from "../../index";
import { QUIET, U, expectClose, randomArray, randomInts } from "../support";

/** [shape, axes, which vector loop is expected] */
const CASES: [number[], number[], string][] = [
  [[1003], [0], "inner: 16-step, 4-step and scalar tail"],
  [[3, 1000], [1], "inner, per row"],
  [[5, 7, 37], [0, 2], "inner with an outer reduced axis"],
  [[4, 5, 19], [2, 1], "inner, axes unsorted"],
  [[700, 37], [0], "outer: 16 columns, then 4, then a scalar column"],
  [[6, 9, 22], [0, 1], "outer over two axes"],
  [[9, 3, 8], [1], "outer, middle axis"],
];

function compiledText(f: (x: Array) => Array, x: Array): string {
  const jitted = filterJit(f, QUIET);
  jitted(x);
  return compileJaxpr(jitted.lastJaxpr()!, { text: true }).text!;
}

describe("vectorised reductions = interpreter", () => {
  for (const [shape, axes, what] of CASES) {
    const n = axes.reduce((p, a) => p * shape[a]!, 1);
    it(`float32 sum/max/min over ${JSON.stringify(axes)} of [${shape}] (${what})`, () => {
      const x = randomArray(shape, shape.length * 100 + n, { lo: -3, hi: 5 });
      const f = (x: Array) => [lax.reduceSum(x, axes), lax.reduceMax(x, axes), lax.reduceMin(x, axes)];
      const scale = lax.reduceSum(np.abs(x), axes).data;
      expectClose(filterJit(f, QUIET)(x), f(x), (leaf, i) => (leaf === 0 ? (n + 2) * U * scale[i]! : 0), "sum, max, min");
      const text = compiledText((x) => lax.reduceSum(x, axes), x);
      expect(text).toContain("f32x4.add");
      expect(compiledText((x) => lax.reduceMax(x, axes), x)).toContain("f32x4.max");
    });

    it(`int32 sum/max/min over ${JSON.stringify(axes)} of [${shape}] wrap and match exactly`, () => {
      const x = randomInts(shape, n, -(2 ** 30), 2 ** 30);
      const f = (x: Array) => [lax.reduceSum(x, axes), lax.reduceMax(x, axes), lax.reduceMin(x, axes)];
      expectClose(filterJit(f, QUIET)(x), f(x), () => 0, "int32 sum, max, min");
      expect(compiledText((x) => lax.reduceSum(x, axes), x)).toContain("i32x4.add");
    });
  }

  it("NaN and ±inf propagate through the vector accumulators as in the interpreter", () => {
    const x = randomArray([6, 67], 5, { specials: 0.02 });
    const f = (x: Array) => [
      lax.reduceSum(x, [1]),
      lax.reduceMax(x, [1]),
      lax.reduceMin(x, [1]),
      lax.reduceSum(x, [0]),
      lax.reduceMax(x, [0]),
    ];
    // |x| over the finite elements (NaN and ±inf positions are checked exactly).
    const finiteAbs = lax.selectN(lax.lt(np.abs(x), Infinity), np.zerosLike(x), np.abs(x));
    const s1 = lax.reduceSum(finiteAbs, [1]).data;
    const s0 = lax.reduceSum(finiteAbs, [0]).data;
    expectClose(
      filterJit(f, QUIET)(x),
      f(x),
      (leaf, i) => (leaf === 0 ? 69 * U * s1[i]! : leaf === 3 ? 8 * U * s0[i]! : 0),
      "with specials",
    );
  });

  it("a fused prologue (x·y + 1 with y broadcast) is evaluated 4 lanes at a time inside the accumulation", () => {
    const x = randomArray([8, 130], 6);
    const y = randomArray([130], 7);
    const f = (x: Array, y: Array) => [np.sum(np.add(np.multiply(x, y), 1), { axis: 1 }), np.sum(np.multiply(x, y), { axis: 0 })];
    const s1 = np.sum(np.add(np.abs(np.multiply(x, y)), 1), { axis: 1 }).data;
    const s0 = np.sum(np.abs(np.multiply(x, y)), { axis: 0 }).data;
    expectClose(filterJit(f, QUIET)(x, y), f(x, y), (leaf, i) => (leaf === 0 ? 133 * U * s1[i]! : 11 * U * s0[i]!), "prologue");
  });

  it("strided reads (every other element) fall back to the scalar loop and still match", () => {
    const x = randomArray([5, 64], 8);
    const f = (x: Array) => lax.reduceSum(lax.slice(x, [0, 0], [5, 64], [1, 2]), [1]);
    const scale = lax.reduceSum(np.abs(lax.slice(x, [0, 0], [5, 64], [1, 2])), [1]).data;
    expectClose(filterJit(f, QUIET)(x), f(x), (_, i) => 34 * U * scale[i]!, "strided");
    expect(compiledText(f, x)).not.toContain("f32x4.add");
  });
});
