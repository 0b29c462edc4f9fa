/**
 * floorDivide, tri/tril/triu, split, linalg.norm, finfo/iinfo, lax.clamp, random.categorical,
 * and JAX's dtype rules (power with an integer exponent, bool add/multiply, full's dtype),
 * against tfjs (floorDiv, bandPart, split, norm) and values computed here in float64.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { beforeAll, describe, expect, test } from "vitest";
import { ArgumentError, array, DTypeError, grad, makeJaxpr, np, random, ShapeError, vmap, type Array as WaxArray } from "../../index";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const data = (a: WaxArray) => globalThis.Array.from(a.data as ArrayLike<number>);
const tfData = (t: tf.Tensor) => globalThis.Array.from(t.dataSync());

describe("floorDivide", () => {
  const xs = [7, -7, 7, -7, 0, 5, -1, 6];
  const ys = [2, 2, -2, -2, 3, 5, 3, -4];
  test("int32 rounds towards -inf, as tf.floorDiv and Python's //", () => {
    const got = np.floorDivide(array(xs, { dtype: "int32" }), array(ys, { dtype: "int32" }));
    expect(got.dtype).toBe("int32");
    expect(data(got)).toEqual(tfData(tf.floorDiv(tf.tensor1d(xs, "int32"), tf.tensor1d(ys, "int32"))));
    expect(data(got)).toEqual(xs.map((x, i) => Math.floor(x / ys[i]!)));
  });
  test("float32 matches floor(x / y) and x == q·y + remainder(x, y)", () => {
    const fx = [7.5, -7.5, 1e-3, -2.25, 9];
    const fy = [2, 2, -0.5, 0.75, -3];
    const q = np.floorDivide(array(fx), array(fy));
    expect(data(q)).toEqual(fx.map((x, i) => Math.floor(x / fy[i]!)));
    const back = np.add(np.multiply(q, array(fy)), np.remainder(array(fx), array(fy)));
    data(back).forEach((v, i) => expect(v).toBeCloseTo(fx[i]!, 5));
  });
  test("an integer divisor of 0 is replaced by 1 (jnp), booleans are refused", () => {
    expect(data(np.floorDivide(array([5, -5], { dtype: "int32" }), 0))).toEqual([5, -5]);
    expect(() => np.floorDivide(array([true]), array([true]))).toThrow(DTypeError);
  });
});

describe("tri, tril, triu", () => {
  const m = array([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [9, 10, 11, 12],
  ]);
  test("tril/triu with k against tf.linalg.bandPart, and np.tri", () => {
    const t = tf.tensor2d(data(m), [3, 4]);
    expect(data(np.tril(m))).toEqual(tfData(tf.linalg.bandPart(t, -1, 0)));
    expect(data(np.triu(m))).toEqual(tfData(tf.linalg.bandPart(t, 0, -1)));
    expect(data(np.tril(m, 1))).toEqual([1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12]);
    expect(data(np.triu(m, -1))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12]);
    expect(data(np.tri(2, 3))).toEqual([1, 0, 0, 1, 1, 0]);
  });
  test("batched over leading axes; traces without a constant; 1-D is an error", () => {
    const b = np.stack([m, m.mul(-1)]);
    expect(data(np.tril(b).get(1))).toEqual(data(np.tril(m.mul(-1))));
    expect(makeJaxpr((x: WaxArray) => np.triu(x))(m).toString()).toMatch(/iota/);
    expect(() => np.tril(array([1, 2]))).toThrow(/tril: input must be at least 2-D/);
  });
});

describe("split", () => {
  const x = np.arange(12).reshape(3, 4);
  test("into equal sections along an axis, as tf.split", () => {
    const parts = np.split(x, 2, 1);
    const want = tf.split(tf.tensor2d(data(x), [3, 4]), 2, 1);
    parts.forEach((p, i) => expect(data(p)).toEqual(tfData(want[i]!)));
  });
  test("at indices (clamped, numpy's rule)", () => {
    const parts = np.split(np.arange(6), [2, 5, 9]);
    expect(parts.map(data)).toEqual([[0, 1], [2, 3, 4], [5], []]);
  });
  test("an unequal division is a ShapeError", () => {
    expect(() => np.split(x, 3, 1)).toThrow(/split: array split does not result in an equal division/);
  });
});

describe("linalg.norm", () => {
  const v = [3, -4, 0, 1];
  test("vector norms: 2 (default), 1, inf, -inf, 0, p=3", () => {
    const a = array(v);
    expect(np.linalg.norm(a).item()).toBeCloseTo(Math.sqrt(26), 5);
    expect(np.linalg.norm(a, { ord: 1 }).item()).toBe(8);
    expect(np.linalg.norm(a, { ord: Infinity }).item()).toBe(4);
    expect(np.linalg.norm(a, { ord: -Infinity }).item()).toBe(0);
    expect(np.linalg.norm(a, { ord: 0 }).item()).toBe(3);
    expect(np.linalg.norm(a, { ord: 3 }).item()).toBeCloseTo(Math.cbrt(27 + 64 + 1), 5);
    expect(np.linalg.norm(a).item()).toBeCloseTo(tf.norm(tf.tensor1d(v)).dataSync()[0]!, 5);
  });
  test("matrix norms: Frobenius, 1, inf; along an axis with keepdims", () => {
    const m = array([
      [1, -2],
      [3, 4],
    ]);
    expect(np.linalg.norm(m).item()).toBeCloseTo(Math.sqrt(30), 5);
    expect(np.linalg.norm(m, { ord: 1 }).item()).toBe(6);
    expect(np.linalg.norm(m, { ord: Infinity }).item()).toBe(7);
    const rows = np.linalg.norm(m, { axis: 1, keepdims: true });
    expect(rows.shape).toEqual([2, 1]);
    data(rows).forEach((r, i) => expect(r).toBeCloseTo([Math.sqrt(5), 5][i]!, 5));
    expect(() => np.linalg.norm(m, { ord: 2 })).toThrow(/needs singular values/);
  });
  test("its gradient is x / |x|", () => {
    const g = grad((x: WaxArray) => np.linalg.norm(x))(array([3, 4]));
    expect(data(g)).toEqual([0.6000000238418579, 0.800000011920929]);
  });
});

test("finfo and iinfo give JAX's limits", () => {
  expect(np.finfo("float32").eps).toBe(1.1920928955078125e-7);
  expect(np.finfo("float32").max).toBe(3.4028234663852886e38);
  expect(np.finfo("float32").tiny).toBe(1.1754943508222875e-38);
  expect(np.finfo(array([1], { dtype: "float64" })).eps).toBe(Number.EPSILON);
  expect(np.iinfo("int32").max).toBe(2147483647);
  expect(() => np.finfo("int32")).toThrow(/finfo: int32 is not a floating-point dtype/);
});

describe("JAX's dtype rules", () => {
  test("power and pow with a JS integer exponent keep int32", () => {
    const i = array([1, 2, 3], { dtype: "int32" });
    expect(np.power(i, 2).dtype).toBe("int32");
    expect(data(np.power(i, 3))).toEqual([1, 8, 27]);
    expect(np.power(i, 0.5).dtype).toBe("float32");
    expect(i.pow(2).dtype).toBe("int32");
  });
  test("integer arrays to integer array powers stay int32 (JAX's binary exponentiation, 0 ** 0 = 1)", () => {
    const got = np.power(array([2, 3, -2, 0, 0, 7], { dtype: "int32" }), array([3, 0, 5, 0, 4, 2], { dtype: "int32" }));
    expect(got.dtype).toBe("int32");
    expect(data(got)).toEqual([8, 1, -32, 1, 0, 49]);
    expect(data(np.power(2, array([0, 1, 10], { dtype: "int32" })))).toEqual([1, 2, 1024]);
  });
  test("bool + bool is logical or, bool * bool logical and, bool - bool an error", () => {
    const a = array([true, true, false, false]);
    const b = array([true, false, true, false]);
    const sum = np.add(a, b);
    expect(sum.dtype).toBe("bool");
    expect(data(sum)).toEqual([1, 1, 1, 0]);
    expect(data(a.mul(b))).toEqual([1, 0, 0, 0]);
    expect(() => a.sub(b)).toThrow(/subtract: boolean operands/);
    expect(np.sum(a).dtype).toBe("int32");
  });
  test("full takes the fill value's dtype: an integer fills int32, a fraction float32, both weak", () => {
    const f = np.full([2], 3);
    expect([f.dtype, f.aval.weakType]).toEqual(["int32", true]);
    expect(np.full([2], 0.5).dtype).toBe("float32");
    expect(np.full([2], 3, "float32").dtype).toBe("float32");
    expect(np.full([2], 3).add(array([0.5, 1])).dtype).toBe("float32");
    expect(np.full([2], true).dtype).toBe("bool");
  });
});

describe("random.categorical", () => {
  test("is argmax(gumbel + logits), int32 of the batch shape", () => {
    const key = random.key(3);
    const logits = np.log(
      array([
        [0.1, 0.2, 0.7],
        [0.5, 0.25, 0.25],
      ]),
    );
    const s = random.categorical(key, logits);
    expect([s.dtype, s.shape]).toEqual(["int32", [2]]);
    const manual = np.argmax(random.gumbel(key, [2, 3]).add(logits), -1);
    expect(data(s)).toEqual(data(manual));
  });
  test("frequencies follow softmax(logits); shape adds leading sample dims; axis 0", () => {
    const key = random.key(0);
    const p = [0.2, 0.3, 0.5];
    const s = random.categorical(key, np.log(array(p)), { shape: [4000] });
    expect(s.shape).toEqual([4000]);
    const counts = [0, 1, 2].map((c) => data(s).filter((v) => v === c).length / 4000);
    counts.forEach((c, i) => expect(Math.abs(c - p[i]!)).toBeLessThan(0.03));
    const t = random.categorical(key, np.zeros([3, 2]), { axis: 0, shape: [5, 2] });
    expect(t.shape).toEqual([5, 2]);
    expect(data(t).every((v) => v >= 0 && v < 3)).toBe(true);
  });
  test("a shape that does not end with the batch shape is refused; vmap over keys works", () => {
    expect(() => random.categorical(random.key(0), np.zeros([2, 3]), { shape: [4] })).toThrow(ShapeError);
    const keys = random.split(random.key(1), 3);
    expect(vmap((k: WaxArray) => random.categorical(k, np.zeros([4])))(keys).shape).toEqual([3]);
    expect(() => random.normal(random.key(0), [2, -1])).toThrow(ArgumentError);
  });
});
