/**
 * The seed program (examples/stateful.ts, Equinox's "stateful operations" example):
 * - the 5 jitted training steps (one WebAssembly module) against the same steps run eagerly
 *   (the reference interpreter, op by op);
 * - one step's math against an independent tfjs computation: the full-batch forward pass
 *   (BatchNorm with batch statistics on the first step, SpectralNorm after one power
 *   iteration on the stop-gradient weight, relu, BatchNorm, two Linears), the MSE loss, its
 *   gradient by tfjs autodiff, and Adam's first update;
 * - inference through inferenceMode + Partial, jitted vs eager.
 *
 * Tolerances (float32 both sides, different summation orders): gradients within 1e-4 of the
 * largest gradient entry of their leaf; parameters within 1e-6 absolute (lr = 3e-4).
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { beforeAll, describe, expect, it } from "vitest";
import { Array, random as jr, treeLeaves, vmap } from "@wax/tracer";
import * as eqx from "@wax/nn";
import * as optax from "@wax/nn/optim";
import { Model, computeLoss, main, makeStepFor } from "../examples/stateful";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const data = (a: Array) => Float32Array.from(a.concreteValue()!.data as Float32Array);
const T = (a: Array) => tf.tensor(data(a), a.shape as number[]);

function setup() {
  const key = jr.PRNGKey(5678);
  const [mkey, xkey] = jr.split(key, 3);
  const [model, state] = eqx.makeWithState(Model)(mkey!);
  const xs = jr.normal(xkey!, [10, 3]);
  const ys = xs.sin().add(1);
  const optim = optax.adam(3e-4);
  const optState = optim.init(eqx.filter(model, eqx.isInexactArray));
  return { model, state, xs, ys, optim, optState };
}

function maxAbsDiff(a: Float32Array, b: Float32Array | number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("the seed example (Equinox stateful operations)", () => {
  it("runs 5 jitted steps and inference, printing the losses and predictions", () => {
    const lines: string[] = [];
    const run = main({ log: (s) => lines.push(s) });
    expect(lines.filter((l) => l.startsWith("step "))).toHaveLength(5);
    const losses = lines.filter((l) => l.startsWith("step ")).map((l) => Number(l.split("loss ")[1]));
    // Adam at lr 3e-4 on a full batch: the loss goes down every step.
    losses.slice(1).forEach((l, i) => expect(l).toBeLessThan(losses[i]!));
    expect(run.predTestYs.shape).toEqual([5, 3]);
    expect(run.makeStep.stats().misses).toBe(1); // one compilation for all 5 steps
    expect(run.evaluate.stats().misses).toBe(1);
  });

  it("jitted steps equal the same steps run eagerly (interpreter)", () => {
    const { model, state, xs, ys, optim, optState } = setup();
    const jitted = makeStepFor(optim);
    const eager = (m: Model, s: eqx.State, o: unknown) => {
      const [grads, s2] = eqx.filterGrad(computeLoss, { hasAux: true })(m, s, xs, ys);
      const [updates, o2] = optim.update(grads, o);
      return [eqx.applyUpdates(m, updates), s2, o2] as const;
    };
    // Each step starts both runs from the same (eager) values, so differences do not compound.
    let [m, s, o] = [model, state, optState] as [Model, eqx.State, unknown];
    for (let step = 0; step < 5; step++) {
      const [mj, sj, oj] = jitted(m, s, o, xs, ys);
      const [me, se, oe] = eager(m, s, o);
      const lj = treeLeaves([mj, sj, oj]).filter((l): l is Array => l instanceof Array);
      const le = treeLeaves([me, se, oe]).filter((l): l is Array => l instanceof Array);
      expect(lj.length).toBe(le.length);
      lj.forEach((a, i) => {
        expect(a.aval.equals(le[i]!.aval)).toBe(true);
        // Leaf 3 is the SpectralNorm'd Linear's bias. For a channel whose relu is active on the
        // whole batch, the BatchNorm that follows removes the bias exactly: its gradient is 0 up
        // to float noise (tfjs gives e.g. -6.5e-9, 4.7e-10), and Adam (mu_hat/sqrt(nu_hat) = sign(g)
        // at first) turns that noise into an update of up to ±lr in any implementation.
        // Elsewhere: 2e-5 absolute (a fifteenth of the lr) or 2e-3 of the leaf's largest entry, for
        // gradient-derived leaves (Adam's moments, running statistics): gradients are sums with
        // cancellation, summed here in another order (vectorised f32 reductions vs the interpreter).
        const scale = Math.max(...[...data(le[i]!)].map(Math.abs));
        const tol = i === 3 ? 2 * 3e-4 : Math.max(2e-5, 2e-3 * scale);
        if (a.dtype === "float32") expect(maxAbsDiff(data(a), data(le[i]!)), `step ${step} leaf ${i} ${a.aval}`).toBeLessThan(tol);
        else
          expect(globalThis.Array.from(a.concreteValue()!.data as Int32Array)).toEqual(
            globalThis.Array.from(le[i]!.concreteValue()!.data as Int32Array),
          );
      });
      [m, s, o] = [me, se, oe];
    }
  });

  it("one step's gradients, state and Adam update match an independent tfjs computation", () => {
    const { model, state, xs, ys, optim, optState } = setup();
    const [, v0] = state.get(model.spectralLinear.uvIndex);
    // ---- tfjs: power iteration on the (stop-gradient) weight, then the differentiable forward pass.
    const W = T(model.spectralLinear.layer.weight);
    const norm = (t: tf.Tensor) => tf.maximum(tf.norm(t), 1e-12);
    const wv = tf.matMul(W, tf.reshape(T(v0), [3, 1]));
    const u = tf.reshape(tf.div(wv, norm(wv)), [32]);
    const vRaw = tf.matMul(W, tf.reshape(u, [32, 1]), true, false);
    const v = tf.reshape(tf.div(vRaw, norm(vRaw)), [3]);
    const bn = (h: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(h, 0);
      return tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), w), b);
    };
    const params = [
      model.norm1.weight!,
      model.norm1.bias!,
      model.spectralLinear.layer.weight,
      model.spectralLinear.layer.bias!,
      model.norm2.weight!,
      model.norm2.bias!,
      model.linear1.weight,
      model.linear1.bias!,
      model.linear2.weight,
      model.linear2.bias!,
    ].map(T);
    const X = T(xs);
    const Y = T(ys);
    const lossFn = (...p: tf.Tensor[]) => {
      const [w1, b1, ws, bs, w2, b2, wl1, bl1, wl2, bl2] = p as [tf.Tensor, ...tf.Tensor[]];
      let h = bn(X, w1!, b1!);
      const sigma = tf.sum(tf.mul(u, tf.reshape(tf.matMul(ws!, tf.reshape(v, [3, 1])), [32])));
      h = tf.add(tf.matMul(h, tf.div(ws!, sigma), false, true), bs!);
      h = tf.relu(h);
      h = bn(h, w2!, b2!);
      h = tf.relu(tf.add(tf.matMul(h, wl1!, false, true), bl1!));
      h = tf.add(tf.matMul(h, wl2!, false, true), bl2!);
      return tf.mean(tf.square(tf.sub(h, Y))) as tf.Scalar;
    };
    const tfGrads = tf.grads(lossFn)(params);
    // ---- wax: the same gradient, eager and jitted.
    const gradOf = (m: Model, s: eqx.State) => eqx.filterGrad(computeLoss, { hasAux: true })(m, s, xs, ys) as [Model, eqx.State];
    const [g, s1] = gradOf(model, state);
    const [gj] = eqx.filterJit(gradOf)(setup().model, setup().state);
    const pick = (m: Model) =>
      [
        m.norm1.weight,
        m.norm1.bias,
        m.spectralLinear.layer.weight,
        m.spectralLinear.layer.bias,
        m.norm2.weight,
        m.norm2.bias,
        m.linear1.weight,
        m.linear1.bias,
        m.linear2.weight,
        m.linear2.bias,
      ] as Array[];
    for (const [name, wax] of [
      ["eager", pick(g)],
      ["jitted", pick(gj)],
    ] as const) {
      wax.forEach((w, i) => {
        const want = tfGrads[i]!.dataSync() as Float32Array;
        const scale = Math.max(...[...want].map(Math.abs));
        expect(maxAbsDiff(data(w), want), `${name} gradient leaf ${i}`).toBeLessThan(1e-4 * scale + 1e-6);
      });
    }
    // State after one step: BatchNorm stores the batch statistics; SpectralNorm stores (u, v).
    const { mean, variance } = tf.moments(X, 0);
    expect(maxAbsDiff(data(s1.get(model.norm1.emaStateIndex!)[0]), mean.dataSync() as Float32Array)).toBeLessThan(1e-6);
    expect(maxAbsDiff(data(s1.get(model.norm1.emaStateIndex!)[1]), variance.dataSync() as Float32Array)).toBeLessThan(1e-5);
    expect(maxAbsDiff(data(s1.get(model.spectralLinear.uvIndex)[1]), v.dataSync() as Float32Array)).toBeLessThan(1e-5);
    expect(s1.get(model.norm2.emaFirstTimeIndex!).item()).toBe(0);
    // Adam's first step: mu_hat = g, nu_hat = g², update = -lr g / (|g| + eps).
    const [updates] = optim.update(g, optState) as [Model, unknown];
    pick(updates).forEach((up, i) => {
      const gi = tfGrads[i]!.dataSync() as Float32Array;
      const want = [...gi].map((x) => (-3e-4 * x) / (Math.abs(x) + 1e-8));
      const got = data(up);
      // Where |g| is tiny the sign of g decides ±lr: compare only well-determined entries.
      const scale = Math.max(...[...gi].map(Math.abs));
      gi.forEach((x, k) => {
        if (Math.abs(x) > 1e-3 * scale) expect(Math.abs(got[k]! - want[k]!), `update leaf ${i}[${k}]`).toBeLessThan(1e-6);
      });
    });
  });

  it("inference: Partial(inferenceMode(model), {state}) jitted equals eager, and state is untouched", () => {
    const run = main({ log: () => {} });
    const inferenceModel = new eqx.Partial(eqx.inferenceMode(run.model), { state: run.state });
    const eager = vmap(inferenceModel)(run.testXs)[0] as Array;
    expect(maxAbsDiff(data(run.predTestYs), data(eager))).toBeLessThan(1e-5);
    // Inference is per example: evaluating one point alone gives the same row.
    const one = vmap(inferenceModel)(run.testXs.get("0:1"))[0] as Array;
    expect(maxAbsDiff(data(one), data(eager).slice(0, 3))).toBeLessThan(1e-6);
  });
});
