/**
 * Equinox's "stateful operations" example (BatchNorm and SpectralNorm), line for line.
 * https://docs.kidger.site/equinox/examples/stateful/
 *
 * Run: npm run example
 */
import { Array, nn as jnn, random as jr, vmap } from "@wax/tracer";
import * as eqx from "@wax/nn";
import * as optax from "@wax/nn/optim";

// This model is just a weird mish-mash of stateful and non-stateful layers for
// demonstration purposes, it isn't doing any clever.
export class Model extends eqx.Module {
  norm1: eqx.BatchNorm;
  spectralLinear: eqx.SpectralNorm<eqx.Linear>;
  norm2: eqx.BatchNorm;
  linear1: eqx.Linear;
  linear2: eqx.Linear;

  constructor(key: Array) {
    super();
    const [key1, key2, key3, key4] = jr.split(key, 4);
    this.norm1 = new eqx.BatchNorm({ inputSize: 3, axisName: "batch" });
    this.spectralLinear = new eqx.SpectralNorm({
      layer: new eqx.Linear(3, 32, { key: key1 }),
      weightName: "weight",
      key: key2,
    });
    this.norm2 = new eqx.BatchNorm({ inputSize: 32, axisName: "batch" });
    this.linear1 = new eqx.Linear(32, 32, { key: key3 });
    this.linear2 = new eqx.Linear(32, 3, { key: key4 });
  }

  static callParameters = ["x", "state"]; // Partial binds keywords by these (Python reads __call__'s signature)
  __call__(x: Array, state: eqx.State): [Array, eqx.State] {
    [x, state] = this.norm1(x, state);
    [x, state] = this.spectralLinear(x, state);
    x = jnn.relu(x);
    [x, state] = this.norm2(x, state);
    x = this.linear1(x);
    x = jnn.relu(x);
    x = this.linear2(x);
    return [x, state];
  }
}

export function computeLoss(model: Model, state: eqx.State, xs: Array, ys: Array): [Array, eqx.State] {
  const batchModel = vmap(model, { axisName: "batch", inAxes: [0, null], outAxes: [0, null] });
  let predYs: Array;
  [predYs, state] = batchModel(xs, state);
  const loss = predYs.sub(ys).pow(2).mean();
  return [loss, state];
}

export function makeStepFor(optim: optax.GradientTransformation) {
  return eqx.filterJit(function makeStep(model: Model, state: eqx.State, optState: unknown, xs: Array, ys: Array) {
    let grads: Model;
    [grads, state] = eqx.filterGrad(computeLoss, { hasAux: true })(model, state, xs, ys);
    let updates: Model;
    [updates, optState] = optim.update(grads, optState);
    model = eqx.applyUpdates(model, updates);
    return [model, state, optState] as const;
  });
}

export function main(opts: { log?: (s: string) => void } = {}) {
  const log = opts.log ?? console.log;
  const datasetSize = 10;
  const learningRate = 3e-4;
  const steps = 5;
  const seed = 5678;
  const key = jr.PRNGKey(seed);
  const [mkey, xkey, xkey2] = jr.split(key, 3);
  let [model, state] = eqx.makeWithState(Model)(mkey);
  const xs = jr.normal(xkey, [datasetSize, 3]);
  const ys = xs.sin().add(1);
  const optim = optax.adam(learningRate);
  let optState = optim.init(eqx.filter(model, eqx.isInexactArray));
  const makeStep = makeStepFor(optim);
  const lossOf = eqx.filterJit((model: Model, state: eqx.State, xs: Array, ys: Array) => computeLoss(model, state, xs, ys)[0]);
  for (let i = 0; i < steps; i++) {
    // Full-batch gradient descent in this simple example.
    [model, state, optState] = makeStep(model, state, optState, xs, ys);
    log(`step ${i}: loss ${lossOf(model, state, xs, ys).item().toFixed(6)}`);
  }

  let inferenceModel: eqx.Module = eqx.inferenceMode(model);
  inferenceModel = new eqx.Partial(inferenceModel, { state });
  const evaluate = eqx.filterJit(function evaluate(model: (x: Array) => [Array, eqx.State], xs: Array) {
    // discard state
    const [out] = vmap(model)(xs);
    return out as Array;
  });
  const testDatasetSize = 5;
  const testXs = jr.normal(xkey2, [testDatasetSize, 3]);
  const predTestYs = evaluate(inferenceModel, testXs);
  log(`predictions on ${testDatasetSize} test points:\n${String(predTestYs)}`);
  return { model, state, optState, predTestYs, makeStep, evaluate, xs, ys, testXs };
}

if (import.meta.url === `file://${process.argv[1]}`) main();

/**
 * Example arguments for the `wax` CLI: `npx wax ir examples/stateful.ts --fn makeStep` dumps
 * the compiled training step, `npx wax export examples/stateful.ts --fn evaluate --out out/`
 * writes the trained model's inference as a standalone artifact.
 */
export const irExamples = {
  makeStep: () => {
    const key = jr.PRNGKey(5678);
    const [mkey, xkey] = jr.split(key, 3);
    const [model, state] = eqx.makeWithState(Model)(mkey!);
    const xs = jr.normal(xkey!, [10, 3]);
    const optim = optax.adam(3e-4);
    const optState = optim.init(eqx.filter(model, eqx.isInexactArray));
    return { fn: makeStepFor(optim), args: [model, state, optState, xs, xs.sin().add(1)] };
  },
  evaluate: () => {
    const { model, state, evaluate, testXs } = main({ log: () => {} });
    const inferenceModel = new eqx.Partial(eqx.inferenceMode(model), { state });
    // The trained weights become constants of the artifact; it takes only the inputs.
    return { fn: (xs: Array) => evaluate(inferenceModel, xs), args: [testXs] };
  },
};
