/**
 * BatchNorm against tfjs batch moments (an independent implementation) and hand-written EMA
 * formulas, in both modes, training and inference, with and without spatial axes.
 */
import { describe, expect, test } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { Array, array, random, vmap } from "@wax/tracer";
import { BatchNorm, State, filterJit, inferenceMode, makeWithState } from "@wax/nn";

await tf.setBackend("cpu");

const flat = (a: Array) => [...(a.concreteValue()!.data as Float32Array)];
function close(got: number[], want: number[], tol = 2e-5) {
  expect(got.length).toBe(want.length);
  got.forEach((x, i) => expect(Math.abs(x - want[i]!), `at ${i}: ${x} vs ${want[i]}`).toBeLessThan(tol * (1 + Math.abs(want[i]!))));
}

/** Batch mean/variance per channel of xs [B, C, ...spatial] with tfjs. */
function tfMoments(xs: Array): [number[], number[]] {
  const t = tf.tensor(flat(xs), xs.shape as number[]);
  const axes = [0, ...xs.shape.slice(2).map((_, i) => i + 2)];
  const { mean, variance } = tf.moments(t, axes);
  return [[...mean.dataSync()], [...variance.dataSync()]];
}

/** The expected normalisation of xs with per-channel mean/var (numbers), no affine. */
function normalise(xs: Array, mean: number[], variance: number[], eps = 1e-5): number[] {
  const t = tf.tensor(flat(xs), xs.shape as number[]);
  const bshape = [1, xs.shape[1]!, ...xs.shape.slice(2).map(() => 1)];
  const m = tf.tensor(mean, bshape);
  const v = tf.tensor(variance, bshape);
  return [...tf.div(tf.sub(t, m), tf.sqrt(tf.add(v, eps))).dataSync()];
}

const batched = (bn: BatchNorm) => vmap((x: Array, s: State) => bn(x, s), { axisName: "batch", inAxes: [0, null], outAxes: [0, null] });

describe.each(["ema", "batch"] as const)("BatchNorm mode %s", (mode) => {
  for (const shape of [
    [8, 3],
    [6, 2, 5],
  ]) {
    test(`first training call normalises with the batch statistics, input ${JSON.stringify(shape)}`, () => {
      const xs = random.normal(random.PRNGKey(3), shape).mul(2).add(1);
      const [bn, state] = makeWithState(BatchNorm)({ inputSize: shape[1]!, axisName: "batch", channelwiseAffine: false, mode });
      const [out] = batched(bn)(xs, state);
      const [mean, variance] = tfMoments(xs);
      close(flat(out), normalise(xs, mean, variance));
    });
  }
});

describe("BatchNorm ema mode", () => {
  test("later steps mix running and batch statistics; inference uses the stored ones", () => {
    const m = 0.9;
    const [bn, s0] = makeWithState(BatchNorm)({ inputSize: 3, axisName: "batch", momentum: m });
    const x1 = random.normal(random.PRNGKey(1), [7, 3]);
    const x2 = random.normal(random.PRNGKey(2), [7, 3]).mul(3);
    const [, s1] = batched(bn)(x1, s0);
    const [bm1, bv1] = tfMoments(x1);
    close(flat(s1.get(bn.emaStateIndex!)[0]), bm1);
    close(flat(s1.get(bn.emaStateIndex!)[1]), bv1);
    expect(s1.get(bn.emaFirstTimeIndex!).item()).toBe(0);
    const [out2, s2] = batched(bn)(x2, s1);
    const [bm2, bv2] = tfMoments(x2);
    const mean = bm2.map((b, i) => (1 - m) * b + m * bm1[i]!);
    const variance = bv2.map((b, i) => (1 - m) * b + m * bv1[i]!);
    close(flat(s2.get(bn.emaStateIndex!)[0]), mean);
    close(flat(s2.get(bn.emaStateIndex!)[1]), variance);
    // Output is normalised with the mixed statistics (Equinox's EMA training behaviour); weight 1, bias 0.
    close(flat(out2), normalise(x2, mean, variance));
    // Inference: stored statistics, state unchanged, no axis name needed.
    const inf = inferenceMode(bn);
    const x3 = random.normal(random.PRNGKey(9), [4, 3]);
    const out3 = vmap((x: Array) => inf(x, s2)[0])(x3) as Array;
    close(flat(out3), normalise(x3, mean, variance));
  });

  test("channelwise affine applies weight and bias", () => {
    const [bn, s0] = makeWithState(BatchNorm)({ inputSize: 2, axisName: "batch" });
    const xs = array([
      [1, 2],
      [3, 6],
    ]);
    const [out] = batched(bn)(xs, s0);
    close(flat(out), normalise(xs, [2, 4], [1, 4]));
  });
});

describe("BatchNorm batch mode", () => {
  test("counter, debiased EMA, inference after training and at zero steps", () => {
    const m = 0.8;
    const [bn, s0] = makeWithState(BatchNorm)({ inputSize: 2, axisName: "batch", momentum: m, mode: "batch", channelwiseAffine: false });
    // Zero training steps: hidden mean 0, var 1, scale guarded at 1 -> x / sqrt(1 + eps).
    const x0 = array([
      [1, -2],
      [3, 4],
    ]);
    const o0 = vmap((x: Array) => inferenceMode(bn)(x, s0)[0])(x0) as Array;
    close(
      flat(o0),
      [1, -2, 3, 4].map((v) => v / Math.sqrt(1 + 1e-5)),
    );
    const x1 = random.normal(random.PRNGKey(4), [9, 2]);
    const x2 = random.normal(random.PRNGKey(5), [9, 2]).add(2);
    const [, s1] = batched(bn)(x1, s0);
    const [out2, s2] = batched(bn)(x2, s1);
    const [bm1, bv1] = tfMoments(x1);
    const [bm2, bv2] = tfMoments(x2);
    close(flat(out2), normalise(x2, bm2, bv2)); // pure batch statistics in training
    expect(s2.get(bn.batchCounter!).item()).toBe(2);
    const hm = bm1.map((b, i) => (0 * m + b * (1 - m)) * m + bm2[i]! * (1 - m));
    const hv = bv1.map((b, i) => (1 * m + b * (1 - m)) * m + bv2[i]! * (1 - m));
    close(flat(s2.get(bn.batchStateIndex!)[0]), hm);
    close(flat(s2.get(bn.batchStateIndex!)[1]), hv);
    const scale = 1 - m ** 2;
    const x3 = array([[0.5, 1.5]]);
    const o3 = vmap((x: Array) => inferenceMode(bn)(x, s2)[0])(x3) as Array;
    close(
      flat(o3),
      normalise(
        x3,
        hm.map((v) => v / scale),
        hv.map((v) => v / scale),
      ),
    );
  });
});

describe("BatchNorm plumbing", () => {
  test("several axis names average over all of them (nested vmap)", () => {
    const xs = random.normal(random.PRNGKey(6), [3, 4, 2]);
    const [bn, s0] = makeWithState(BatchNorm)({ inputSize: 2, axisName: ["outer", "inner"], channelwiseAffine: false });
    const inner = vmap((x: Array, s: State) => bn(x, s), { axisName: "inner", inAxes: [0, null], outAxes: [0, null] });
    const outer = vmap((x: Array, s: State) => inner(x, s), { axisName: "outer", inAxes: [0, null], outAxes: [0, null] });
    const [out] = outer(xs, s0);
    const flatXs = xs.reshape([12, 2]);
    const [mean, variance] = tfMoments(flatXs);
    close(flat(out), normalise(flatXs, mean, variance));
  });

  test("jitted training steps match eager ones", () => {
    const [bn, s0] = makeWithState(BatchNorm)({ inputSize: 3, axisName: "batch" });
    const step = (b: BatchNorm, x: Array, s: State) => batched(b)(x, s);
    const jstep = filterJit(step);
    let se = s0;
    // makeWithState is deterministic: a second call gives an equal, independent model and state.
    const [bn2, s02] = makeWithState(BatchNorm)({ inputSize: 3, axisName: "batch" });
    let sj = s02;
    for (let i = 0; i < 3; i++) {
      const x = random.normal(random.PRNGKey(10 + i), [5, 3]);
      let oe: Array;
      let oj: Array;
      [oe, se] = step(bn, x, se);
      [oj, sj] = jstep(bn2, x, sj);
      close(flat(oj), flat(oe), 1e-5);
    }
    close(flat(sj.get(bn2.emaStateIndex!)[1]), flat(se.get(bn.emaStateIndex!)[1]), 1e-5);
    expect(jstep.stats().misses).toBe(1);
  });

  test("errors name the layer and the shapes", () => {
    const [bn, s0] = makeWithState(BatchNorm)({ inputSize: 3, axisName: "batch" });
    expect(() => batched(bn)(array([[1, 2]]), s0)).toThrow(/BatchNorm: expected one example of shape \[3, \.\.\.spatial\], got f32\[2\]/);
    expect(() => bn(array([1, 2, 3]), s0)).toThrow(/batch/);
    expect(() => new BatchNorm({ inputSize: 3, axisName: "b", mode: "other" as never })).toThrow(/mode must be "ema" or "batch"/);
  });
});
