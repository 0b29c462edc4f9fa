import { beforeAll, describe, expect, test } from "vitest";
import { array, grad, np, vmap, type Array } from "@wax/tracer";
import { RMSNorm, State, filterJit, treeAt } from "@wax/nn";
import { expectClose, finiteDifferences, oracle, randomArray, tf, toTf, useTfCpu } from "./support";

beforeAll(useTfCpu);

/** The tfjs oracle: x · rsqrt(mean(x²) + eps) · w + b. */
function tfRMSNorm(x: Array, w: Array | null, b: Array | null, eps: number) {
  return oracle(() => {
    const t = toTf(x);
    let out = tf.mul(t, tf.rsqrt(tf.add(tf.mean(tf.square(t)), eps)));
    if (w) out = tf.mul(out, toTf(w));
    if (b) out = tf.add(out, toTf(b));
    return out;
  });
}

const withParams = (n: RMSNorm, seed: number) =>
  treeAt((m: RMSNorm) => [m.weight, m.bias], n, [randomArray(n.shape, seed), randomArray(n.shape, seed + 1)]);

describe("RMSNorm", () => {
  test("initialises weight to ones and bias to zeros (both on by default, as Equinox); an int shape becomes [n]", () => {
    const n = new RMSNorm([2, 3]);
    expect(n.weight!.tolist()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(n.bias!.tolist()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(new RMSNorm(4).shape).toEqual([4]);
    const bare = new RMSNorm(4, { useWeight: false, useBias: false });
    expect(bare.weight).toBeNull();
    expect(bare.bias).toBeNull();
  });

  test("forward matches tfjs (root mean square over all elements, weight, bias)", () => {
    for (const [shape, eps] of [
      [[7], 1e-5],
      [[3, 4], 1e-5],
      [[2, 3, 5], 0.1],
    ] as [number[], number][]) {
      const n = withParams(new RMSNorm(shape, { eps }), shape.length);
      const x = np.add(np.multiply(randomArray(shape, 10 + shape.length), 3), 0.5);
      expectClose(n(x), tfRMSNorm(x, n.weight, n.bias, eps), { rtol: 1e-5, atol: 1e-5 });
    }
  });

  test("hand-computed: [3, 4] has root mean square sqrt(12.5), and it does not centre", () => {
    const y = new RMSNorm(2, { eps: 0 })(array([3, 4]));
    expectClose(y, [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)], { rtol: 1e-6 });
  });

  test("the result has x's dtype; with a state it returns [out, state] untouched", () => {
    expect(new RMSNorm(3)(randomArray([3], 1, "float64")).dtype).toBe("float64");
    const n = new RMSNorm(3);
    const state = new State(n);
    const [y, s2] = n(randomArray([3], 2), state);
    expect(s2).toBe(state);
    expect(y.tolist()).toEqual(n(randomArray([3], 2)).tolist());
  });

  test("x must have exactly the layer's shape; the error names both shapes and vmap", () => {
    expect(() => new RMSNorm([3, 4])(randomArray([2, 3, 4], 1))).toThrow(
      /RMSNorm: expected x of shape \[3, 4\], got f32\[2,3,4\] — .*vmap/,
    );
    expect(() => new RMSNorm([-1])).toThrow(/RMSNorm: shape must be non-negative integers/);
  });

  test("vmap normalises each example separately", () => {
    const n = withParams(new RMSNorm(5), 40);
    const xs = randomArray([3, 5], 41);
    const ys = vmap(n)(xs) as Array;
    for (let i = 0; i < 3; i++) expectClose(ys.get(i), n(xs.get(i)), { atol: 1e-6 });
  });

  test("gradients match central finite differences (float64) for x and weight", () => {
    const base = new RMSNorm([2, 3], { dtype: "float64" });
    const w = randomArray([2, 3], 50, "float64");
    const x = randomArray([2, 3], 52, "float64");
    const r = randomArray([2, 3], 53, "float64");
    const loss = (xv: Array, wv: Array) => np.sum(np.multiply(treeAt((m: RMSNorm) => m.weight, base, wv)(xv), r));
    const [gx, gw] = grad(loss, { argnums: [0, 1] })(x, w) as Array[];
    expectClose(
      gx!,
      finiteDifferences((v) => loss(v, w), x),
      { rtol: 1e-6, atol: 1e-8 },
    );
    expectClose(
      gw!,
      finiteDifferences((v) => loss(x, v), w),
      { rtol: 1e-6, atol: 1e-8 },
    );
  });

  test("filterJit (compiled WebAssembly) matches eager, batched with vmap", () => {
    const n = withParams(new RMSNorm(6), 60);
    const xs = randomArray([4, 6], 61);
    const jf = filterJit((m: RMSNorm, x: Array) => vmap(m)(x) as Array);
    expectClose(jf(n, xs), vmap(n)(xs) as Array, { rtol: 1e-5, atol: 1e-6 });
  });
});
