/**
 * Programs that need JAX's control flow, end to end through filterJit:
 * - examples/rnn.ts: a GRU over `lax.scan`, trained with one compiled step;
 * - the seed example's training run as several optimizer steps inside ONE filterJit
 *   (`lax.foriLoop` with static bounds, the usual JAX pattern), against as many single-step calls.
 */
import { describe, expect, it } from "vitest";
import { Array, lax, random as jr, treeLeaves } from "@wax/tracer";
import * as eqx from "@wax/nn";
import * as optax from "@wax/nn/optim";
import { Model, computeLoss, makeStepFor } from "../examples/stateful";

const values = (a: Array) => Float64Array.from(a.concreteValue()!.data);

describe("examples/rnn.ts", () => {
  it("trains a GRU over lax.scan past 90% held-out accuracy with one compilation, the loop kept as a scan", async () => {
    const { main } = await import("../examples/rnn");
    const lines: string[] = [];
    const res = main({ log: (s) => lines.push(s) });
    expect(res.testAcc).toBeGreaterThan(0.9);
    expect(res.trainAcc).toBeGreaterThan(0.9);
    expect(res.makeStep.stats().misses).toBe(1);
    const jaxpr = String(res.makeStep.lastJaxpr());
    // one scan forward, one for the backward pass: not 24 unrolled cells
    expect(jaxpr.match(/= scan\[/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toMatch(/^train accuracy \d+\.\d%, test accuracy \d+\.\d% \(chance: ~50%\)/);
  });
});

describe("the seed example, several optimizer steps inside one filterJit", () => {
  it("lax.foriLoop over the training step gives the parameters of as many single-step calls", () => {
    const key = jr.PRNGKey(5678);
    const [mkey, xkey] = jr.split(key, 3);
    const [model0, state0] = eqx.makeWithState(Model)(mkey!);
    const xs = jr.normal(xkey!, [10, 3]);
    const ys = xs.sin().add(1);
    const optim = optax.adam(3e-4);
    const optState0 = optim.init(eqx.filter(model0, eqx.isInexactArray));
    const steps = 4;

    const oneStep = (model: Model, state: eqx.State, optState: unknown): [Model, eqx.State, unknown] => {
      const [grads, state2] = eqx.filterGrad(computeLoss, { hasAux: true })(model, state, xs, ys) as [unknown, eqx.State];
      const [updates, optState2] = optim.update(grads, optState);
      return [eqx.applyUpdates(model, updates), state2, optState2];
    };
    const train = eqx.filterJit((model: Model, state: eqx.State, optState: unknown) =>
      lax.foriLoop(0, steps, (_i: Array, [m, s, o]: [Model, eqx.State, unknown]) => oneStep(m, s, o), [model, state, optState]),
    );
    const [mLoop, sLoop] = train(model0, state0, optState0) as [Model, eqx.State, unknown];
    expect(String(train.lastJaxpr())).toMatch(/= scan\[/);

    const makeStep = makeStepFor(optim);
    let [m, s, o]: [Model, eqx.State, unknown] = [model0, state0, optState0];
    for (let i = 0; i < steps; i++) [m, s, o] = makeStep(m, s, o, xs, ys) as unknown as [Model, eqx.State, unknown];

    const a = treeLeaves(eqx.filter(mLoop, eqx.isInexactArray)) as Array[];
    const b = treeLeaves(eqx.filter(m, eqx.isInexactArray)) as Array[];
    expect(a.length).toBe(b.length);
    expect(a.length).toBeGreaterThan(5);
    a.forEach((x, i) => {
      const [u, v] = [values(x), values(b[i]!)];
      u.forEach((ui, k) => expect(Math.abs(ui - v[k]!), `leaf ${i}[${k}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(v[k]!)));
    });
    // the parameters moved: the loop ran its 4 steps
    const moved = treeLeaves(eqx.filter(model0, eqx.isInexactArray)) as Array[];
    expect(moved.some((x, i) => values(x).some((w, k) => w !== values(a[i]!)[k]))).toBe(true);
    // running statistics of BatchNorm travel through the carry too
    const sa = treeLeaves(sLoop) as Array[];
    const sb = treeLeaves(s) as Array[];
    sa.forEach((x, i) => values(x).forEach((w, k) => expect(Math.abs(w - values(sb[i]!)[k]!)).toBeLessThanOrEqual(1e-5)));
  });
});
