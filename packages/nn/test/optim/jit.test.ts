/**
 * An optimizer step compiled with `filterJit` gives the same updates and states as the same
 * step run eagerly, for every alias, with schedules and with `null` holes in the tree.
 */
import { describe, expect, it } from "vitest";
import { Array, array, np, treeFlatten, treeMap } from "@wax/tracer";
import { filterJit } from "@wax/compiler";
import {
  adam,
  adamw,
  chain,
  clipByGlobalNorm,
  rmsprop,
  scaleByAdam,
  scaleByLearningRate,
  sgd,
  warmupCosineDecaySchedule,
  type GradientTransformation,
} from "../../src/optim/index";

/** Every leaf of `got` within 1e-6 relative (plus 1e-9 absolute) of `want`; same structure. */
function expectTreesClose(got: unknown, want: unknown) {
  const [g, gd] = treeFlatten(got);
  const [w, wd] = treeFlatten(want);
  expect(gd.equals(wd)).toBe(true);
  g.forEach((x, i) => {
    const y = w[i] as Array;
    expect((x as Array).dtype).toBe(y.dtype);
    const xs = (x as Array).data;
    y.data.forEach((v, k) => expect(Math.abs(xs[k]! - v)).toBeLessThanOrEqual(1e-6 * Math.abs(v) + 1e-9));
  });
}

const gradAt = (k: number) => ({
  layers: [
    {
      weight: array([
        [Math.sin(k), -0.5],
        [2 * Math.cos(k), 0.25 * k],
      ]),
      bias: null,
    },
  ],
  scale: array([1 - 0.3 * k]),
  act: null,
});

function run(optim: GradientTransformation, steps = 5) {
  const params0 = {
    layers: [
      {
        weight: array([
          [0.1, 0.2],
          [-0.3, 0.4],
        ]),
        bias: null,
      },
    ],
    scale: array([1]),
    act: null,
  };
  const stepFn = (grads: unknown, state: unknown, params: unknown) => {
    const [updates, next] = optim.update(grads, state, params);
    return [treeMap((p: Array, u: Array) => np.add(p, u), params, updates), next, updates] as const;
  };
  const jitted = filterJit(stepFn);
  let [pe, se]: [unknown, unknown] = [params0, optim.init(params0)];
  let [pj, sj]: [unknown, unknown] = [params0, optim.init(params0)];
  for (let k = 0; k < steps; k++) {
    const [pe2, se2, ue] = stepFn(gradAt(k), se, pe);
    const [pj2, sj2, uj] = jitted(gradAt(k), sj, pj);
    expectTreesClose(uj, ue);
    expectTreesClose(sj2, se2);
    expectTreesClose(pj2, pe2);
    [pe, se, pj, sj] = [pe2, se2, pj2, sj2];
  }
  expect(jitted.stats().misses).toBe(1);
}

describe("filterJit'd optimizer steps match eager ones", () => {
  it("adam", () => run(adam(0.05)));
  it("adamw with a warm-up cosine schedule", () =>
    run(
      adamw({
        learningRate: warmupCosineDecaySchedule({ initValue: 0, peakValue: 0.1, warmupSteps: 2, decaySteps: 6 }),
        weightDecay: 0.01,
      }),
    ));
  it("sgd with nesterov momentum", () => run(sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })));
  it("rmsprop with bias correction and momentum", () => run(rmsprop({ learningRate: 0.01, biasCorrection: true, momentum: 0.5 })));
  it("clipByGlobalNorm before adam, clipping on some steps only", () =>
    run(chain(clipByGlobalNorm(2), scaleByAdam({ nesterov: true }), scaleByLearningRate(0.1))));
});
