import { beforeAll, describe, expect, test } from "vitest";
import { array, grad, np, vmap, type Array } from "@wax/tracer";
import { State, filterJit, treeAt } from "@wax/nn";
import { LayerNorm } from "../../src/layers/layer-norm";
import { expectClose, finiteDifferences, oracle, randomArray, tf, toTf, useTfCpu } from "./support";

beforeAll(useTfCpu);

/** The tfjs oracle: moments over every axis, then scale and shift. */
function tfLayerNorm(x: Array, w: Array | null, b: Array | null, eps: number) {
  return oracle(() => {
    const t = toTf(x);
    const { mean, variance } = tf.moments(t);
    let out = tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, eps)));
    if (w) out = tf.mul(out, toTf(w));
    if (b) out = tf.add(out, toTf(b));
    return out;
  });
}

function withParams(ln: LayerNorm, seed: number): LayerNorm {
  const shape = ln.shape;
  return treeAt((m: LayerNorm) => [m.weight, m.bias], ln, [randomArray(shape, seed), randomArray(shape, seed + 1)]);
}

describe("LayerNorm", () => {
  test("initialises weight to ones and bias to zeros of the given shape; an int shape becomes [n]", () => {
    const ln = new LayerNorm([2, 3]);
    expect(ln.weight!.tolist()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(ln.bias!.tolist()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(new LayerNorm(4).shape).toEqual([4]);
    const bare = new LayerNorm(4, { useWeight: false, useBias: false });
    expect(bare.weight).toBeNull();
    expect(bare.bias).toBeNull();
  });

  test("forward matches tfjs (moments over all elements, rsqrt, weight and bias)", () => {
    for (const [shape, eps] of [
      [[7], 1e-5],
      [[3, 4], 1e-5],
      [[2, 3, 5], 0.1],
    ] as [number[], number][]) {
      const ln = withParams(new LayerNorm(shape, { eps }), shape.length);
      const x = np.add(np.multiply(randomArray(shape, 10 + shape.length), 3), 0.5);
      expectClose(ln(x), tfLayerNorm(x, ln.weight, ln.bias, eps), { rtol: 1e-5, atol: 1e-5 });
    }
  });

  test("without weight and bias it only standardises", () => {
    const ln = new LayerNorm([6], { useWeight: false, useBias: false });
    const x = randomArray([6], 20);
    expectClose(ln(x), tfLayerNorm(x, null, null, 1e-5), { atol: 1e-5 });
  });

  test("hand-computed: [1, 2, 3, 4] has mean 2.5 and variance 1.25", () => {
    const y = new LayerNorm(4, { eps: 0 })(array([1, 2, 3, 4]));
    const s = 1 / Math.sqrt(1.25);
    expectClose(y, [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s], { rtol: 1e-6 });
  });

  test("a constant input gives the bias, not NaN (variance clamped at 0, eps inside rsqrt)", () => {
    const ln = withParams(new LayerNorm(3), 30);
    expectClose(ln(np.full([3], 2.5)), ln.bias!, { atol: 1e-6 });
  });

  test("the result has x's dtype (float64 stays float64)", () => {
    const ln = new LayerNorm(3, { dtype: "float64" });
    expect(ln(randomArray([3], 31, "float64")).dtype).toBe("float64");
    expect(new LayerNorm(3)(randomArray([3], 31, "float64")).dtype).toBe("float64");
  });

  test("with a state it returns [out, state] and leaves the state untouched", () => {
    const ln = new LayerNorm(3);
    const state = new State(ln);
    const x = randomArray([3], 32);
    const [y, s2] = ln(x, state);
    expect(s2).toBe(state);
    expect(y.tolist()).toEqual(ln(x).tolist());
  });

  test("x must have exactly the layer's shape; the error names both shapes and vmap", () => {
    const ln = new LayerNorm([3, 4]);
    expect(() => ln(randomArray([2, 3, 4], 1))).toThrow(/LayerNorm: expected x of shape \[3, 4\], got f32\[2,3,4\] — .*vmap/);
    expect(() => ln(randomArray([4, 3], 1))).toThrow(/LayerNorm: expected x of shape \[3, 4\], got f32\[4,3\]/);
  });

  test("vmap over leading axes normalises each example separately", () => {
    const ln = withParams(new LayerNorm(5), 40);
    const xs = randomArray([3, 5], 41);
    const ys = vmap(ln)(xs);
    for (let i = 0; i < 3; i++) expectClose(ys.get(i), ln(xs.get(i)).tolist() as number[], { atol: 1e-6 });
  });

  test("gradients match central finite differences (float64) for x, weight and bias", () => {
    const base = new LayerNorm([2, 3], { dtype: "float64" });
    const w = randomArray([2, 3], 50, "float64");
    const b = randomArray([2, 3], 51, "float64");
    const x = randomArray([2, 3], 52, "float64");
    const r = randomArray([2, 3], 53, "float64");
    const loss = (xv: Array, wv: Array, bv: Array) =>
      np.sum(np.multiply(treeAt((m: LayerNorm) => [m.weight, m.bias], base, [wv, bv])(xv), r));
    const [gx, gw, gb] = grad(loss, { argnums: [0, 1, 2] })(x, w, b) as Array[];
    expectClose(
      gx!,
      finiteDifferences((v) => loss(v, w, b), x),
      { rtol: 1e-6, atol: 1e-8 },
    );
    expectClose(
      gw!,
      finiteDifferences((v) => loss(x, v, b), w),
      { rtol: 1e-6, atol: 1e-8 },
    );
    expectClose(
      gb!,
      finiteDifferences((v) => loss(x, w, v), b),
      { rtol: 1e-6, atol: 1e-8 },
    );
  });

  test("filterJit (compiled WebAssembly) matches eager", () => {
    const ln = withParams(new LayerNorm([4, 3]), 60);
    const jf = filterJit((m: LayerNorm, x: Array) => m(x));
    const x = randomArray([4, 3], 61);
    expectClose(jf(ln, x), ln(x), { rtol: 1e-5, atol: 1e-6 });
  });
});
