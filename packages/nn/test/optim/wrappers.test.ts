/**
 * lion, MultiSteps and injectHyperparams against float64 re-implementations of Optax's
 * formulas, eagerly and inside filterJit; and the error for a state that does not match.
 */
import { describe, expect, it } from "vitest";
import { Array as WaxArray, array, np } from "@wax/tracer";
import { filterJit } from "@wax/compiler";
import { treeAt } from "../../src/tree-at";
import {
  adam,
  injectHyperparams,
  lion,
  linearSchedule,
  MultiSteps,
  OptimizerStateError,
  sgd,
  type GradientTransformation,
} from "../../src/optim/index";

const list = (a: unknown) => globalThis.Array.from((a as WaxArray).data as ArrayLike<number>);
function expectClose(got: unknown, want: number[], tol = 1e-6) {
  const g = list(got);
  expect(g.length).toBe(want.length);
  g.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!))));
}
const gradAt = (k: number) => [Math.sin(k + 1), -0.5 + 0.1 * k, 2 * Math.cos(k)];

describe("lion", () => {
  it("matches Optax's formula over 5 steps (b1 0.9, b2 0.99, weight decay 1e-3)", () => {
    const lr = 0.01;
    let p = [1, -2, 0.5];
    let mu = [0, 0, 0];
    const optim = lion(lr);
    let params: WaxArray = array(p);
    let state = optim.init(params);
    for (let k = 0; k < 5; k++) {
      const g = gradAt(k);
      const [u, s] = optim.update(array(g), state, params);
      state = s;
      const want = g.map((gi, i) => -lr * (Math.sign(0.1 * gi + 0.9 * mu[i]!) + 1e-3 * p[i]!));
      mu = g.map((gi, i) => 0.01 * gi + 0.99 * mu[i]!);
      expectClose(u, want);
      p = p.map((v, i) => v + want[i]!);
      params = np.add(params, u as WaxArray);
    }
  });
  it("takes b1, b2 and weightDecay options", () => {
    const optim = lion({ learningRate: 0.1, b1: 0.5, b2: 0.5, weightDecay: 0 });
    const params = array([1, 1]);
    const [u] = optim.update(array([1, -1]), optim.init(params), params);
    expectClose(u, [-0.1, 0.1]);
  });
});

describe("MultiSteps", () => {
  const run = (optim: GradientTransformation, n: number, jit: boolean) => {
    let params: WaxArray = array([1, -2, 0.5]);
    let state = optim.init(params);
    const step = (g: WaxArray, s: unknown, p: WaxArray) => optim.update(g, s, p);
    const f = jit ? filterJit(step) : step;
    const out: number[][] = [];
    for (let k = 0; k < n; k++) {
      const [u, s] = f(array(gradAt(k)), state, params);
      state = s;
      params = np.add(params, u as WaxArray);
      out.push(list(u));
    }
    return { out, state };
  };
  for (const jit of [false, true]) {
    it(`every 3 steps applies sgd to the mean gradient, zeros otherwise${jit ? " (filterJit)" : ""}`, () => {
      const { out, state } = run(new MultiSteps(sgd(0.1), { everyKSchedule: 3 }), 6, jit);
      const mean = (ks: number[]) => [0, 1, 2].map((i) => ks.reduce((s, k) => s + gradAt(k)[i]!, 0) / ks.length);
      expect(out[0]).toEqual([0, 0, 0]);
      expect(out[1]).toEqual([0, 0, 0]);
      expectClose(
        array(out[2]!),
        mean([0, 1, 2]).map((v) => -0.1 * v),
      );
      expect(out[3]).toEqual([0, 0, 0]);
      expectClose(
        array(out[5]!),
        mean([3, 4, 5]).map((v) => -0.1 * v),
      );
      expect(list((state as { gradientStep: WaxArray }).gradientStep)).toEqual([2]);
    });
  }
  it("useGradMean false sums, hasUpdated reports the real updates, a schedule sets k", () => {
    const optim = new MultiSteps(sgd(1), { everyKSchedule: 2, useGradMean: false });
    const p = array([0, 0, 0]);
    let s = optim.init(p);
    [, s] = optim.update(array(gradAt(0)), s, p);
    expect(list(optim.hasUpdated(s))).toEqual([0]);
    const [u, next] = optim.update(array(gradAt(1)), s, p);
    s = next;
    expect(list(optim.hasUpdated(s))).toEqual([1]);
    expectClose(
      u,
      [0, 1, 2].map((i) => -(gradAt(0)[i]! + gradAt(1)[i]!)),
    );
    // k = 1 for the first real step, then 2.
    const sched = new MultiSteps(sgd(1), { everyKSchedule: (step) => np.where(np.equal(step, 0), 1, 2) });
    let s2 = sched.init(p);
    let u2: unknown;
    [u2, s2] = sched.update(array([1, 1, 1]), s2, p);
    expectClose(u2, [-1, -1, -1]);
    [u2, s2] = sched.update(array([1, 1, 1]), s2, p);
    expectClose(u2, [0, 0, 0]);
  });
});

describe("injectHyperparams", () => {
  it("adam with injected learningRate equals adam, and treeAt changes it between steps", () => {
    const params = { w: array([1, -2, 0.5]) };
    const plain = adam(0.1);
    const injected = injectHyperparams(adam)({ learningRate: 0.1 });
    let s1 = plain.init(params);
    let s2 = injected.init(params);
    expect(Object.keys(s2.hyperparams)).toEqual(["learningRate"]);
    expectClose(s2.hyperparams.learningRate, [0.1]);
    const [u1, next1] = plain.update({ w: array(gradAt(0)) }, s1, params);
    s1 = next1;
    const [u2, next2] = injected.update({ w: array(gradAt(0)) }, s2, params);
    s2 = next2;
    expectClose((u2 as { w: WaxArray }).w, list((u1 as { w: WaxArray }).w));
    // Halve the learning rate: the update halves (Adam's direction does not depend on it).
    const [u3] = plain.update({ w: array(gradAt(1)) }, s1, params);
    s2 = treeAt((s) => s.hyperparams.learningRate, s2, array(0.05));
    const [u4] = injected.update({ w: array(gradAt(1)) }, s2, params);
    expectClose(
      (u4 as { w: WaxArray }).w,
      list((u3 as { w: WaxArray }).w).map((v) => v / 2),
    );
  });
  it("a schedule is evaluated at the count; b1 can be injected too; works in filterJit", () => {
    const optim = injectHyperparams(sgd)({ learningRate: linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 4 }) });
    const p = array([0]);
    let s = optim.init(p);
    const step = filterJit((g: WaxArray, st: typeof s) => optim.update(g, st, p));
    const got: number[] = [];
    for (let k = 0; k < 3; k++) {
      let u: unknown;
      [u, s] = step(array([1]), s);
      got.push(list(u)[0]!);
    }
    expectClose(array(got), [-1, -0.75, -0.5]);
    expectClose(s.hyperparams.learningRate, [0.5]);
    const withB1 = injectHyperparams(adam)({ learningRate: 1, b1: 0.5 });
    const s3 = withB1.init(p);
    expect(Object.keys(s3.hyperparams).sort()).toEqual(["b1", "learningRate"]);
    const [u] = withB1.update(array([2]), s3, p);
    expectClose(u, [-1], 1e-5);
  });
});

it("a learning rate changed with treeAt between compiled steps does not recompile", () => {
  const optim = injectHyperparams(adam)({ learningRate: 0.1 });
  const params = array([1, 2]);
  let s = optim.init(params);
  const step = filterJit((g: WaxArray, st: typeof s) => optim.update(g, st, params));
  const [u1, next1] = step(array([1, 1]), s);
  s = treeAt((st) => st.hyperparams.learningRate, next1, array(0.01));
  const [u2, next2] = step(array([1, 1]), s);
  s = next2;
  expect(step.stats().misses).toBe(1);
  // Adam's second-step direction with equal gradients is 1: the update is -lr.
  expectClose(u1, [-0.1, -0.1], 1e-5);
  expectClose(u2, [-0.01, -0.01], 1e-5);
});

describe("a state that does not match its optimizer", () => {
  const params = { w: array([1, 2]), b: array([3]) };
  it("names the path in the state and both structures", () => {
    const sgdState = sgd(0.1).init(params);
    let msg = "";
    try {
      adam(0.1).update(params, sgdState, params);
    } catch (e) {
      expect(e).toBeInstanceOf(OptimizerStateError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(
      /chain.update: the optimizer state at \[0\] does not match this optimizer and these parameters — expected PyTreeDef\(\{count: \*, mu: \{b: \*, w: \*\}, nu: \{b: \*, w: \*\}\}\) \(what init\(params\) gives\), got PyTreeDef\(\{\}\)/,
    );
  });
  it("a schedule's state given a constant's names the inner path", () => {
    const sched = adam(linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 4 }));
    const s = adam(0.1).init(params);
    expect(() => sched.update(params, s, params)).toThrow(
      /state at \[1\] does not match .* expected PyTreeDef\(\{count: \*\}\) .* got PyTreeDef\(\{\}\)/,
    );
  });
  it("a state from init on other parameters names both structures", () => {
    const o = adam(0.1);
    expect(() => o.update(params, o.init({ w: array([1, 2]) }), params)).toThrow(
      /state at \[0\] .* expected PyTreeDef\(\{count: \*, mu: \{b: \*, w: \*\}.* got PyTreeDef\(\{count: \*, mu: \{w: \*\}/,
    );
  });
});
