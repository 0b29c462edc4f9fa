import { beforeAll, describe, expect, test } from "vitest";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { array, grad, lax, nn as jnn, np, random, vmap, type Array } from "@wax/tracer";
import { filterJit } from "@wax/nn";
import { Conv2d } from "../../src/layers/conv";
import {
  AdaptiveAvgPool2d,
  AdaptiveMaxPool1d,
  AdaptiveMaxPool2d,
  AvgPool1d,
  AvgPool2d,
  AvgPool3d,
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
} from "../../src/layers/pool";
import { expectClose, oracle, randomArray, tf, toTf, useTfCpu } from "./support";

beforeAll(useTfCpu);

/** tfjs pooling of one [C, H, W] example through NHWC, padding applied by tf.pad with `fill`. */
function tfPool2d(kind: "max" | "avg", x: Array, k: [number, number], s: [number, number], pads: [number, number][]) {
  return oracle(() => {
    const xt = tf.pad(
      tf.expandDims(tf.transpose(toTf(x), [1, 2, 0]), 0) as tf.Tensor4D,
      [[0, 0], ...pads, [0, 0]],
      kind === "max" ? -Infinity : 0,
    ) as tf.Tensor4D;
    const y = kind === "max" ? tf.maxPool(xt, k, s, "valid") : tf.avgPool(xt, k, s, "valid");
    return tf.transpose(tf.squeeze(y, [0]), [2, 0, 1]);
  });
}

describe("MaxPool2d / AvgPool2d against tfjs", () => {
  const x = randomArray([3, 7, 8], 5);
  test("Equinox's default stride is 1", () => {
    expectClose(
      new MaxPool2d({ kernelSize: 2 })(x),
      tfPool2d(
        "max",
        x,
        [2, 2],
        [1, 1],
        [
          [0, 0],
          [0, 0],
        ],
      ),
    );
    expectClose(
      new AvgPool2d({ kernelSize: 3 })(x),
      tfPool2d(
        "avg",
        x,
        [3, 3],
        [1, 1],
        [
          [0, 0],
          [0, 0],
        ],
      ),
    );
  });
  test("stride, per-dim padding (avg counts the padded zeros, as Equinox)", () => {
    expectClose(
      new MaxPool2d({
        kernelSize: [3, 2],
        stride: 2,
        padding: [
          [1, 1],
          [0, 1],
        ],
      })(x),
      tfPool2d(
        "max",
        x,
        [3, 2],
        [2, 2],
        [
          [1, 1],
          [0, 1],
        ],
      ),
    );
    expectClose(
      new AvgPool2d({
        kernelSize: 2,
        stride: [2, 3],
        padding: [
          [1, 0],
          [0, 2],
        ],
      })(x),
      tfPool2d(
        "avg",
        x,
        [2, 2],
        [2, 3],
        [
          [1, 0],
          [0, 2],
        ],
      ),
    );
  });
  test("useCeil adds one stride of high padding when the windows do not fit", () => {
    // 7 rows, kernel 2, stride 2: floor gives 3 rows, ceil 4; 8 columns fit exactly.
    const y = new MaxPool2d({ kernelSize: 2, stride: 2, useCeil: true })(x);
    expect([...y.shape]).toEqual([3, 4, 4]);
    expectClose(
      y,
      tfPool2d(
        "max",
        x,
        [2, 2],
        [2, 2],
        [
          [0, 2],
          [0, 0],
        ],
      ),
    );
    expect([...new MaxPool2d({ kernelSize: 2, stride: 2 })(x).shape]).toEqual([3, 3, 4]);
  });
  test("gradients of a vmapped MaxPool2d match tfjs's maxPool gradient", () => {
    const xs = randomArray([2, 3, 6, 6], 9);
    const pool = new MaxPool2d({ kernelSize: 2, stride: 2 });
    const w = randomArray([2, 3, 3, 3], 10);
    const g = grad((xs: Array) => np.sum(np.multiply(vmap(pool)(xs) as Array, w)))(xs) as Array;
    const tg = oracle(() => {
      const [dx] = tf.grads((t: tf.Tensor) =>
        tf.sum(tf.mul(tf.transpose(tf.maxPool(tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D, 2, 2, "valid"), [0, 3, 1, 2]), toTf(w))),
      )([toTf(xs)]);
      return dx!;
    });
    expectClose(g, tg);
  });
});

describe("1d and 3d pools", () => {
  test("MaxPool1d / AvgPool1d by hand", () => {
    const x = array([[1, 5, 2, 4, 3]], { dtype: "float32" });
    expect(globalThis.Array.from(new MaxPool1d({ kernelSize: 2, stride: 2, padding: 1 })(x).data)).toEqual([1, 5, 4]);
    expect(globalThis.Array.from(new AvgPool1d({ kernelSize: 2 })(x).data)).toEqual([3, 3.5, 3, 3.5]);
  });
  test("MaxPool3d / AvgPool3d equal reduceWindow over the three spatial dims", () => {
    const x = randomArray([2, 4, 5, 6], 3);
    expectClose(new MaxPool3d({ kernelSize: 2, stride: 2 })(x), lax.reduceWindow(x, -Infinity, "max", [1, 2, 2, 2], [1, 2, 2, 2], "VALID"));
    const avg = new AvgPool3d({ kernelSize: [2, 3, 2], padding: 1 })(x);
    expect([...avg.shape]).toEqual([2, 5, 5, 7]);
    expectClose(
      avg,
      np.divide(
        lax.reduceWindow(
          x,
          0,
          "add",
          [1, 2, 3, 2],
          [1, 1, 1, 1],
          [
            [0, 0],
            [1, 1],
            [1, 1],
            [1, 1],
          ],
        ),
        12,
      ),
    );
  });
});

describe("adaptive pools (Equinox's binning)", () => {
  test("a dim of 7 into 3 bins: the first 7 mod 3 bins take one more element", () => {
    const x = array([[0, 1, 2, 3, 4, 5, 6]], { dtype: "float32" });
    // bins {0,1,2}, {3,4}, {5,6}
    expect(globalThis.Array.from(new AdaptiveMaxPool1d(3)(x).data)).toEqual([2, 4, 6]);
  });
  test("AdaptiveAvgPool2d / AdaptiveMaxPool2d by hand on [1, 5, 4] into [2, 2]", () => {
    const x = np.reshape(np.arange(20, undefined, 1, "float32"), [1, 5, 4]);
    // rows {0,1,2}, {3,4}; columns {0,1}, {2,3}
    const avg = new AdaptiveAvgPool2d([2, 2])(x);
    expectClose(avg, {
      shape: [1, 2, 2],
      data: [(0 + 1 + 4 + 5 + 8 + 9) / 6, (2 + 3 + 6 + 7 + 10 + 11) / 6, (12 + 13 + 16 + 17) / 4, (14 + 15 + 18 + 19) / 4],
    });
    expectClose(new AdaptiveMaxPool2d(2)(x), { shape: [1, 2, 2], data: [9, 11, 17, 19] });
  });
  test("rejects a target larger than the input", () => {
    expect(() => new AdaptiveAvgPool2d(4)(np.zeros([1, 3, 5]))).toThrow(/fewer than the target 4/);
  });
});

describe("compiled pooling equals the interpreter", () => {
  test("filterJit of vmapped pools and their gradients", () => {
    const xs = randomArray([4, 3, 9, 8], 17);
    const pools = [
      new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }),
      new AvgPool2d({ kernelSize: 2, stride: 2, useCeil: true }),
      new AdaptiveAvgPool2d([2, 3]),
    ];
    const f = (xs: Array) => {
      const outs = pools.map((p) => vmap(p)(xs) as Array);
      const loss = (xs: Array) => pools.reduce((s, p) => np.add(s, np.sum(np.square(vmap(p)(xs) as Array))), np.zeros([]));
      return [...outs, grad(loss)(xs) as Array];
    };
    const eager = f(xs);
    const compiled = filterJit(f)(xs);
    eager.forEach((e, i) => expectClose(compiled[i]!, e, { rtol: 1e-5, atol: 1e-6 }));
  });
  test("reduceWindow with dilations compiles to the interpreter's values", () => {
    const x = randomArray([5, 11], 19);
    const f = (x: Array) => [
      lax.reduceWindow(
        x,
        -Infinity,
        "max",
        [2, 3],
        [1, 2],
        [
          [1, 0],
          [2, 1],
        ],
        { windowDilation: [2, 1] },
      ),
      lax.reduceWindow(x, 0, "add", [2, 2], [2, 1], "SAME", { baseDilation: [1, 2] }),
      grad((x: Array) => np.sum(lax.reduceWindow(x, -Infinity, "max", [3, 3], [2, 2], "SAME")))(x) as Array,
    ];
    const eager = f(x);
    const compiled = filterJit(f)(x);
    eager.forEach((e, i) => expectClose(compiled[i]!, e));
  });
  test("a CNN's compiled gradients (conv, relu, max-pool, conv, avg-pool; vmapped) equal the interpreter's", () => {
    // Sizes that take the packed GEMM paths: relayout copies, skinny panels, the split weight gradient.
    const [k1, k2] = random.split(random.key(3), 2);
    const convs = [new Conv2d(3, 8, 3, { padding: 1, key: k1! }), new Conv2d(8, 16, 3, { padding: 1, key: k2! })];
    const xs = randomArray([16, 3, 12, 12], 23);
    const loss = (convs: Conv2d[], xs: Array) => {
      const one = (x: Array) => {
        const h = new MaxPool2d({ kernelSize: 2, stride: 2 })(jnn.relu(convs[0]!(x)));
        return new AvgPool2d({ kernelSize: 2, stride: 2 })(jnn.relu(convs[1]!(h)));
      };
      return np.sum(np.square(vmap(one)(xs) as Array));
    };
    const g = (convs: Conv2d[], xs: Array) => grad(loss)(convs, xs) as Conv2d[];
    const eager = g(convs, xs);
    const compiled = filterJit(g)(convs, xs);
    eager.forEach((c, i) => {
      expectClose(compiled[i]!.weight, c.weight, { rtol: 2e-4, atol: 2e-4 });
      expectClose(compiled[i]!.bias!, c.bias!, { rtol: 2e-4, atol: 2e-4 });
    });
  });
});
