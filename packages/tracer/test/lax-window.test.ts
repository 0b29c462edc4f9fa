import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { beforeAll, describe, expect, test } from "vitest";
import { array, grad, jvp, lax, np, vmap, type Array } from "../index";
import { mulberry32 } from "../../../test/support/seeded";
import { oracle } from "./support/tfjs-oracle";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function random(shape: number[], seed: number, dtype: "float32" | "float64" = "float32"): Array {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return array(
    Float64Array.from({ length: n }, () => 2 * r() - 1),
    { shape, dtype },
  );
}
const values = (x: Array): number[] => globalThis.Array.from(x.data as ArrayLike<number>);
function close(actual: Array, expected: { shape?: readonly number[]; data: readonly number[] }, tol = 1e-5): void {
  if (expected.shape) expect([...actual.shape]).toEqual([...expected.shape]);
  const got = values(actual);
  expect(got.length).toBe(expected.data.length);
  const bad = got.flatMap((g, i) =>
    Math.abs(g - expected.data[i]!) <= tol * (1 + Math.abs(expected.data[i]!)) ? [] : [`[${i}] ${g} vs ${expected.data[i]}`],
  );
  expect(bad).toEqual([]);
}

/** [H, W, C] as tfjs's NHWC with a batch of one; pads applied with tf.pad (value `fill`). */
const tfInput = (x: Array, pads: [number, number][], fill: number) =>
  tf.pad(tf.tensor4d(values(x), [1, x.shape[0]!, x.shape[1]!, x.shape[2]!], "float32"), [[0, 0], ...pads, [0, 0]], fill) as tf.Tensor4D;

interface Case {
  name: string;
  hwc: [number, number, number];
  window: [number, number];
  stride: [number, number];
  pads: [number, number][];
}
const cases: Case[] = [
  {
    name: "2×2 stride 2",
    hwc: [6, 8, 3],
    window: [2, 2],
    stride: [2, 2],
    pads: [
      [0, 0],
      [0, 0],
    ],
  },
  {
    name: "3×3 stride 1, padded",
    hwc: [5, 6, 2],
    window: [3, 3],
    stride: [1, 1],
    pads: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: "3×2 stride (2, 1), uneven pads",
    hwc: [7, 5, 2],
    window: [3, 2],
    stride: [2, 1],
    pads: [
      [0, 2],
      [1, 0],
    ],
  },
];

describe("lax.reduceWindow against tfjs pooling", () => {
  for (const c of cases) {
    const x = random(c.hwc, 11);
    const win = [...c.window, 1];
    const strides = [...c.stride, 1];
    const pads: [number, number][] = [...c.pads, [0, 0]];
    test(`max, ${c.name}: values and gradient`, () => {
      const f = (x: Array) => lax.reduceWindow(x, -Infinity, lax.max, win, strides, pads);
      const expected = oracle(() => tf.squeeze(tf.maxPool(tfInput(x, c.pads, -Infinity), c.window, c.stride, "valid"), [0]));
      close(f(x), expected);
      const wsum = random(expected.shape as number[], 12);
      const g = grad((x: Array) => np.sum(np.multiply(f(x), wsum)))(x) as Array;
      const tg = oracle(() => {
        const [dx] = tf.grads((t: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.squeeze(tf.maxPool(tf.pad(t as tf.Tensor4D, [[0, 0], ...c.pads, [0, 0]], -Infinity), c.window, c.stride, "valid"), [0]),
              tf.tensor(values(wsum), wsum.shape as number[]),
            ),
          ),
        )([tf.tensor(values(x), [1, ...c.hwc])]);
        return tf.squeeze(dx!, [0]);
      });
      close(g, tg);
    });
    test(`add, ${c.name}: values and gradient (avg pool counting the padding)`, () => {
      const k = c.window[0] * c.window[1];
      const f = (x: Array) => np.divide(lax.reduceWindow(x, 0, "add", win, strides, pads), k);
      const expected = oracle(() => tf.squeeze(tf.avgPool(tfInput(x, c.pads, 0), c.window, c.stride, "valid"), [0]));
      close(f(x), expected);
      const wsum = random(expected.shape as number[], 13);
      const g = grad((x: Array) => np.sum(np.multiply(f(x), wsum)))(x) as Array;
      const tg = oracle(() => {
        const [dx] = tf.grads((t: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.squeeze(tf.avgPool(tf.pad(t as tf.Tensor4D, [[0, 0], ...c.pads, [0, 0]]), c.window, c.stride, "valid"), [0]),
              tf.tensor(values(wsum), wsum.shape as number[]),
            ),
          ),
        )([tf.tensor(values(x), [1, ...c.hwc])]);
        return tf.squeeze(dx!, [0]);
      });
      close(g, tg);
    });
  }
});

describe("lax.reduceWindow semantics", () => {
  test("window and base dilation, computed by hand", () => {
    const x = array([1, 2, 3, 4, 5, 6, 7], { dtype: "float32" });
    // window dilation 2: windows {0,2}, {1,3}, ...
    expect(values(lax.reduceWindow(x, 0, "add", [2], [1], "VALID", { windowDilation: [2] }))).toEqual([4, 6, 8, 10, 12]);
    // base dilation 2: [1,0,2,0,3,...,7] (13 elements), window 3 stride 2
    expect(values(lax.reduceWindow(x, 0, "add", [3], [2], "VALID", { baseDilation: [2] }))).toEqual([3, 5, 7, 9, 11, 13]);
    expect(values(lax.reduceWindow(x, -Infinity, "max", [3], [3], "SAME"))).toEqual([2, 5, 7]);
    expect(values(lax.reduceWindow(x, 10, "min", [2], [2], [[0, 1]]))).toEqual([1, 3, 5, 7]);
  });

  test("a non-identity init value joins every window, as in XLA", () => {
    const x = array([1, 2, 3, 4], { dtype: "float32" });
    expect(values(lax.reduceWindow(x, 1, "add", [2], [2], "VALID"))).toEqual([4, 8]);
    expect(values(lax.reduceWindow(x, 2.5, "max", [2], [2], "VALID"))).toEqual([2.5, 4]);
  });

  test("max sends a tied window's gradient to its first maximum, as select_and_scatter_add", () => {
    const x = array([3, 3, 1, 5, 5, 5], { dtype: "float32" });
    const g = grad((x: Array) => np.sum(lax.reduceWindow(x, -Infinity, "max", [3], [3], "VALID")))(x) as Array;
    expect(values(g)).toEqual([1, 0, 0, 1, 0, 0]);
    // Overlapping windows accumulate: windows {0,1,2}, {1,2,3}.
    const y = array([1, 4, 4, 2], { dtype: "float32" });
    expect(values(grad((y: Array) => np.sum(lax.reduceWindow(y, -Infinity, "max", [3], [1], "VALID")))(y) as Array)).toEqual([0, 2, 0, 0]);
  });

  test("gradients agree with float64 central differences (max, sum, dilations)", () => {
    const x = random([2, 7, 6], 21, "float64");
    const w = random([2, 4, 3], 22, "float64");
    const f = (x: Array) =>
      np.sum(
        np.multiply(
          np.add(
            lax.reduceWindow(
              x,
              -Infinity,
              "max",
              [1, 2, 3],
              [1, 2, 2],
              [
                [0, 0],
                [1, 1],
                [1, 0],
              ],
            ),
            lax.reduceWindow(
              x,
              0,
              "add",
              [1, 2, 2],
              [1, 2, 2],
              [
                [0, 0],
                [1, 1],
                [0, 1],
              ],
              { windowDilation: [1, 1, 2] },
            ),
          ),
          w,
        ),
      );
    const g = values(grad(f)(x) as Array);
    const base = values(x);
    const h = 1e-6;
    const fd = base.map((_, i) => {
      const p = Float64Array.from(base);
      const m = Float64Array.from(base);
      p[i]! += h;
      m[i]! -= h;
      return (
        ((f(array(p, { shape: [2, 7, 6], dtype: "float64" })).item() as number) -
          (f(array(m, { shape: [2, 7, 6], dtype: "float64" })).item() as number)) /
        (2 * h)
      );
    });
    g.forEach((v, i) => expect(v).toBeCloseTo(fd[i]!, 5));
  });

  test("jvp is linear for add and follows the argmax for max", () => {
    const x = random([9], 31);
    const t = random([9], 32);
    const [, dsum] = jvp((x: Array) => lax.reduceWindow(x, 0, "add", [3], [3], "VALID"), [x], [t]) as [Array, Array];
    close(dsum, {
      data: [0, 3, 6].map((s) =>
        values(t)
          .slice(s, s + 3)
          .reduce((a, b) => a + b),
      ),
    });
    const [, dmax] = jvp((x: Array) => lax.reduceWindow(x, -Infinity, "max", [3], [3], "VALID"), [x], [t]) as [Array, Array];
    const xv = values(x);
    close(dmax, {
      data: [0, 3, 6].map((s) => {
        const w = xv.slice(s, s + 3);
        return values(t)[s + w.indexOf(Math.max(...w))]!;
      }),
    });
  });

  test("vmap over a batch equals the per-example loop", () => {
    const xs = random([3, 2, 5, 5], 41);
    const f = (x: Array) =>
      lax.reduceWindow(
        x,
        -Infinity,
        "max",
        [1, 2, 2],
        [1, 2, 2],
        [
          [0, 0],
          [0, 1],
          [0, 1],
        ],
      );
    const batched = vmap(f)(xs) as Array;
    expect([...batched.shape]).toEqual([3, 2, 3, 3]);
    const loop = [0, 1, 2].flatMap((i) => values(f(xs.get(i))));
    expect(values(batched)).toEqual(loop);
  });

  test("rejects a window that does not match the operand's rank, and unknown monoids", () => {
    const x = random([4, 4], 1);
    expect(() => lax.reduceWindow(x, 0, "add", [2], [1], "VALID")).toThrow(
      /windowDimensions \[2\] must have one positive integer per operand dim/,
    );
    expect(() => lax.reduceWindow(x, 0, lax.mul, [2, 2], [1, 1], "VALID")).toThrow(/computation must be "add", "max", "min"/);
  });
});
