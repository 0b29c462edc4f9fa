/**
 * The seed step: examples/stateful.ts's `Model` (BatchNorm, SpectralNorm, Linear layers),
 * `computeLoss` and `optax.adam` in one `filterJit`, returning the loss. `seedSpec()` builds
 * the model once with wax (JAX's initialisation for key 5678) and hands its initial weights
 * and state to every peer, so that all of them run the same arithmetic from the same numbers.
 *
 * Besides the step time (the harness's timed `run`), each wax bench reports its first call
 * (trace + compile + run) and the bytes it allocates per step.
 */
import { firstCalls } from "./timing";
import v8 from "node:v8";
import { random as jr, type Array } from "@wax/tracer";
import * as eqx from "@wax/nn";
import * as optax from "@wax/nn/optim";
import { Model, computeLoss } from "../examples/stateful";
import type { Bench, SeedSpec } from "./types";

const copy = (a: Array): Float32Array => Float32Array.from(a.data);

function seedInputs() {
  const key = jr.PRNGKey(5678);
  const [mkey, xkey] = jr.split(key, 3);
  const [model, state] = eqx.makeWithState(Model)(mkey!);
  const xs = jr.normal(xkey!, [10, 3]);
  const ys = xs.sin().add(1);
  return { model, state, xs, ys };
}

/** The seed model's initial weights and state, and its data, as plain arrays. */
export function seedSpec(): SeedSpec {
  const { model, state, xs, ys } = seedInputs();
  const bn = (b: eqx.BatchNorm) => {
    const [mean, variance] = state.get(b.emaStateIndex!);
    return {
      weight: copy(b.weight!),
      bias: copy(b.bias!),
      first: state.get(b.emaFirstTimeIndex!).item() !== 0,
      mean: copy(mean),
      variance: copy(variance),
    };
  };
  const [u, v] = state.get(model.spectralLinear.uvIndex);
  const lin = (l: eqx.Linear) => ({ w: copy(l.weight), b: copy(l.bias!) });
  return {
    norm1: bn(model.norm1),
    spectral: { ...lin(model.spectralLinear.layer), u: copy(u), v: copy(v) },
    norm2: bn(model.norm2),
    linear1: lin(model.linear1),
    linear2: lin(model.linear2),
    xs: copy(xs),
    ys: copy(ys),
    batch: 10,
    learningRate: 3e-4,
  };
}

/** The seed's training step with the loss, as one `filterJit` (the example's `makeStep` plus the loss). */
function makeSeedStep(optim: optax.GradientTransformation) {
  return function seedStep(model: Model, state: eqx.State, optState: unknown, xs: Array, ys: Array) {
    const [[loss, newState], grads] = eqx.filterValueAndGrad(computeLoss, { hasAux: true })(model, state, xs, ys) as [
      [Array, eqx.State],
      unknown,
    ];
    let updates: unknown;
    [updates, optState] = optim.update(grads, optState);
    model = eqx.applyUpdates(model, updates);
    return [model, newState, optState, loss] as const;
  };
}

/**
 * Bytes allocated per call of `run`, from V8 heap statistics: `used_heap_size` deltas over
 * batches of 100 calls (a batch in which a garbage collection ran shows a drop and is left
 * out), median over `calls` calls.
 */
export function bytesPerCall(run: () => void, calls = 10_000): number {
  const batch = 100;
  const deltas: number[] = [];
  for (let b = 0; b < calls / batch; b++) {
    const before = v8.getHeapStatistics().used_heap_size;
    for (let i = 0; i < batch; i++) run();
    const d = v8.getHeapStatistics().used_heap_size - before;
    if (d >= 0) deltas.push(d / batch);
  }
  deltas.sort((a, b) => a - b);
  return deltas.length ? deltas[deltas.length >> 1]! : NaN;
}

/** wax: the seed step itself (examples/stateful.ts), jitted (`jit`) or run eagerly. */
export function waxSeed(spec: SeedSpec, jit: boolean): Bench {
  const inputs = seedInputs();
  const { xs, ys } = inputs;
  let { model, state } = inputs;
  const optim = optax.adam(spec.learningRate);
  let optState: unknown = optim.init(eqx.filter(model, eqx.isInexactArray));
  const eager = makeSeedStep(optim);
  const jitted = eqx.filterJit(eager);
  const step = jit ? jitted : eager;
  let loss = 0;
  const run = () => {
    let l: Array;
    [model, state, optState, l] = step(model, state, optState, xs, ys);
    loss = l.item();
  };
  const { firstMs: first, check, compileMs } = firstCalls(run, () => loss);
  if (!jit) return { run, dispose() {}, check };
  for (let i = 0; i < 2000; i++) run();
  return {
    run,
    dispose() {},
    check,
    compileMs,
    internalCompileMs: jitted.stats().compileMs,
    extra: { firstCallMs: first, bytesPerStep: bytesPerCall(run) },
  };
}
