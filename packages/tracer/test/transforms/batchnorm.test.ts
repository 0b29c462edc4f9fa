/**
 * The BatchNorm pattern of the seed example: a per-example function normalised with batch
 * statistics taken by `pmean` over a named `vmap` axis. Two ways to differentiate it (JAX
 * internals brief, section 3):
 *
 * - `grad(loss)` with `vmap(norm, {axisName: "batch"})` inside the loss: the batch trace turns
 *   the named psum into a positional `reduce_sum` before AD sees it, so gradients flow through
 *   the batch statistics. Checked against tfjs differentiating the same full-batch math written
 *   with `tf.moments(h, 0, keepDims)`.
 * - `vmap(grad(perExampleLoss), {axisName: "batch"})` with the collective inside: `psum` is
 *   linear and transposes to `psum`, so instance i receives Σ_j ∂L_j/∂p through i (the pmap
 *   convention); summed over the batch these are the full-batch gradient.
 *
 * Tolerance: float32 on both sides, different summation orders; |wax − tf| ≤ 1e-4·max|tf|
 * per gradient leaf (plus 1e-7 absolute).
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core alone registers no gradient functions (the `@tensorflow/tfjs` bundle does this).
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { beforeAll, describe, expect, it } from "vitest";
import {
  array,
  grad,
  lax,
  makeJaxpr,
  np,
  pmean,
  psum,
  treeMap,
  valueAndGrad,
  vmap,
  evalJaxpr,
  treeLeaves,
  type Array as WaxArray,
} from "../../index";
import { mulberry32 } from "../../../../test/support/seeded";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// ---- data ---------------------------------------------------------------------------------

const B = 6;
const DIN = 4;
const F = 3;
const EPS = 1e-5;

const rng = mulberry32;
const randomData = (n: number, seed: number, lo: number, hi: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
};

const xsData = randomData(B * DIN, 1, -2, 2);
const wData = randomData(DIN * F, 2, -1, 1);
const gammaData = randomData(F, 3, 0.5, 1.5);
const betaData = randomData(F, 4, -0.5, 0.5);
/** Non-uniform per-element loss weights, so no gradient vanishes by symmetry. */
const weightsData = randomData(B * F, 5, 0.1, 2);

interface Params {
  w: WaxArray;
  gamma: WaxArray;
  beta: WaxArray;
}
const params: Params = {
  w: array(wData, { shape: [DIN, F] }),
  gamma: array(gammaData),
  beta: array(betaData),
};
const xs = array(xsData, { shape: [B, DIN] });
const weights = array(weightsData, { shape: [B, F] });

// ---- the wax model --------------------------------------------------------------------------

/** Per-example: linear layer, then normalisation with batch statistics over axis "batch". */
function norm(x: WaxArray, p: Params, detachStats = false): WaxArray {
  const h = x.matmul(p.w);
  let mean = pmean(h, "batch");
  let v = np.maximum(pmean(h.sub(mean).square(), "batch"), 0);
  if (detachStats) {
    mean = lax.stopGradient(mean);
    v = lax.stopGradient(v);
  }
  return h.sub(mean).div(v.add(EPS).sqrt()).mul(p.gamma).add(p.beta);
}

/** mean(norm(xs)² · weights) over the batch and the features. */
const loss = (p: Params, x: WaxArray, detachStats = false): WaxArray =>
  (vmap((xi: WaxArray, pp: Params) => norm(xi, pp, detachStats), { axisName: "batch", inAxes: [0, null] })(x, p) as WaxArray)
    .square()
    .mul(weights)
    .mean();

/** Instance i's share of the loss, so that Σ_i perExampleLoss_i = loss. Must run under vmap "batch". */
const perExampleLoss = (p: Params, x: WaxArray, wt: WaxArray): WaxArray =>
  norm(x, p)
    .square()
    .mul(wt)
    .sum()
    .div(B * F);

// ---- the tfjs oracle ------------------------------------------------------------------------

/** The same full-batch math in tfjs: moments over the batch axis with keepDims. */
function tfLoss(w: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const h = tf.matMul(tf.tensor2d(xsData, [B, DIN]), w as tf.Tensor2D);
  const { mean, variance } = tf.moments(h, 0, true);
  const y = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(tf.maximum(variance, 0), EPS))), gamma), beta);
  return tf.mean(tf.mul(tf.square(y), tf.tensor2d(weightsData, [B, F])));
}

function oracle(): { value: number; w: number[]; gamma: number[]; beta: number[] } {
  return tf.tidy(() => {
    const args = [tf.tensor2d(wData, [DIN, F]), tf.tensor1d(gammaData), tf.tensor1d(betaData)];
    const [gw, gg, gb] = tf.grads(tfLoss)(args);
    return {
      value: tfLoss(args[0]!, args[1]!, args[2]!).dataSync()[0]!,
      w: [...gw!.dataSync()],
      gamma: [...gg!.dataSync()],
      beta: [...gb!.dataSync()],
    };
  });
}

const values = (a: unknown): number[] => globalThis.Array.from((a as WaxArray).data, Number);

/** |got − want| ≤ rtol·max|want| + atol, element by element. */
function expectCloseToOracle(got: number[], want: number[], what: string, rtol = 1e-4, atol = 1e-7): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const scale = Math.max(...want.map(Math.abs));
  got.forEach((g, k) => {
    if (!(Math.abs(g - want[k]!) <= atol + rtol * scale)) {
      expect.fail(`${what}: element ${k} is ${g}, expected ${want[k]} (scale ${scale})\n got  ${got.join(", ")}\n want ${want.join(", ")}`);
    }
  });
}

/** Largest |a − b| relative to max|b|. */
const relDiff = (a: number[], b: number[]) => Math.max(...a.map((v, k) => Math.abs(v - b[k]!))) / Math.max(...b.map(Math.abs));

// ---- grad(loss) with vmap + pmean inside ----------------------------------------------------

describe("grad of a loss with vmap(norm, {axisName: 'batch'}) inside", () => {
  it("the forward pass normalises each feature over the batch: zero mean and unit variance before the affine part", () => {
    const unit = { ...params, gamma: np.ones([F]), beta: np.zeros([F]) };
    const y = vmap(norm, { axisName: "batch", inAxes: [0, null] })(xs, unit) as WaxArray;
    expect(y.shape).toEqual([B, F]);
    for (const m of values(y.mean({ axis: 0 }))) expect(Math.abs(m)).toBeLessThan(1e-6);
    for (const v of values(y.var({ axis: 0 }))) expect(v).toBeCloseTo(1, 4);
  });

  it("value and gradients w.r.t. w, gamma and beta match tfjs on the full-batch moments", () => {
    const want = oracle();
    const [value, g] = valueAndGrad(loss)(params, xs) as [WaxArray, Params];
    expect(value.item()).toBeCloseTo(want.value, 5);
    expect(g.w.shape).toEqual([DIN, F]);
    expectCloseToOracle(values(g.w), want.w, "∂/∂w");
    expectCloseToOracle(values(g.gamma), want.gamma, "∂/∂gamma");
    expectCloseToOracle(values(g.beta), want.beta, "∂/∂beta");
  });

  it("the check is sensitive to the path through the batch statistics: detaching them changes ∂/∂w far beyond the tolerance", () => {
    const want = oracle();
    const detached = grad(loss)(params, xs, true) as Params;
    expect(relDiff(values(detached.w), want.w)).toBeGreaterThan(1e-2);
  });

  it("under makeJaxpr the named pmean is already a positional reduce_sum (no collective reaches AD), and the program replays", () => {
    const j = makeJaxpr((p: Params) => grad(loss)(p, xs))(params);
    const names = j.jaxpr.eqns.map((e) => e.prim.name);
    expect(
      names.filter((n) => n === "psum" || n === "pmax" || n === "pmin"),
      String(j),
    ).toEqual([]);
    expect(names).toContain("reduce_sum");
    const replay = evalJaxpr(j, treeLeaves(params) as WaxArray[]);
    const direct = treeLeaves(grad(loss)(params, xs)) as WaxArray[];
    replay.forEach((r, k) => expect(values(r)).toEqual(values(direct[k])));
  });
});

// ---- vmap(grad(perExampleLoss)) with the collective inside ----------------------------------

describe("vmap(grad(perExampleLoss), {axisName: 'batch'})", () => {
  const perInstance = vmap(grad(perExampleLoss), { axisName: "batch", inAxes: [null, 0, 0] });

  it("per-instance gradients sum over the batch to the full-batch gradient (psum transposes to psum)", () => {
    const gs = perInstance(params, xs, weights) as Params;
    expect(gs.w.shape).toEqual([B, DIN, F]);
    expect(gs.gamma.shape).toEqual([B, F]);
    const want = oracle();
    expectCloseToOracle(values(gs.w.sum({ axis: 0 })), want.w, "Σ_i ∂/∂w");
    expectCloseToOracle(values(gs.gamma.sum({ axis: 0 })), want.gamma, "Σ_i ∂/∂gamma");
    expectCloseToOracle(values(gs.beta.sum({ axis: 0 })), want.beta, "Σ_i ∂/∂beta");
    const full = grad(loss)(params, xs) as Params;
    expectCloseToOracle(values(gs.w.sum({ axis: 0 })), values(full.w), "Σ_i ∂/∂w vs grad(loss)", 1e-5);
  });

  it("psum of the per-instance gradients inside the vmap is the full-batch gradient on every instance (the data-parallel recipe)", () => {
    const f = vmap((p: Params, x: WaxArray, wt: WaxArray) => treeMap((g: WaxArray) => psum(g, "batch"), grad(perExampleLoss)(p, x, wt)), {
      axisName: "batch",
      inAxes: [null, 0, 0],
      outAxes: null,
    });
    const g = f(params, xs, weights) as Params;
    expect(g.w.shape).toEqual([DIN, F]);
    const want = oracle();
    expectCloseToOracle(values(g.w), want.w, "psum ∂/∂w");
    expectCloseToOracle(values(g.gamma), want.gamma, "psum ∂/∂gamma");
    expectCloseToOracle(values(g.beta), want.beta, "psum ∂/∂beta");
  });

  it("matches the brief's worked example: y_i = p·x_i, m = pmean(y), L_i = (y_i − m)² gives ct_p_i = x_i·(g_i − Σ_j g_j / n)", () => {
    const x = [0.5, -1, 2, 3.5];
    const p = 1.5;
    const n = x.length;
    const y = x.map((v) => p * v);
    const m = y.reduce((a, b) => a + b, 0) / n;
    const gi = y.map((v) => 2 * (v - m));
    const sumG = gi.reduce((a, b) => a + b, 0);
    const want = x.map((v, i) => v * (gi[i]! - sumG / n));
    const f = (pp: WaxArray, xi: WaxArray) => {
      const yi = pp.mul(xi);
      return yi.sub(pmean(yi, "b")).square();
    };
    const got = vmap(grad(f), { axisName: "b", inAxes: [null, 0] })(array(p), array(x)) as WaxArray;
    expectCloseToOracle(values(got), want, "ct_p_i", 1e-6, 1e-6);
    // Σ_i ct_p_i = d(Σ_i L_i)/dp = Σ_i 2(y_i − m)(x_i − mean(x))
    const meanX = x.reduce((a, b) => a + b, 0) / n;
    const total = x.reduce((s, v, i) => s + gi[i]! * (v - meanX), 0);
    expect(values(got).reduce((a, b) => a + b, 0)).toBeCloseTo(total, 4);
  });

  it("under makeJaxpr the transposed psum is a reduce_sum over the batch, and the program replays", () => {
    const j = makeJaxpr(perInstance)(params, xs, weights);
    const names = j.jaxpr.eqns.map((e) => e.prim.name);
    expect(
      names.filter((nm) => nm === "psum"),
      String(j),
    ).toEqual([]);
    expect(names.filter((nm) => nm === "reduce_sum").length).toBeGreaterThanOrEqual(4); // 2 pmeans forward, 2 transposed
    const replay = evalJaxpr(j, [...(treeLeaves(params) as WaxArray[]), xs, weights]);
    const direct = treeLeaves(perInstance(params, xs, weights)) as WaxArray[];
    replay.forEach((r, k) => expect(values(r)).toEqual(values(direct[k])));
  });
});
