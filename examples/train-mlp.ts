/**
 * Training a classifier with BatchNorm and Dropout on a generated data set (three interleaved
 * spirals, 2-D points), through filterJit, with a progress bar. The model is an MLP made with
 * `Sequential`; BatchNorm (mode "batch") keeps running statistics in the `State`, Dropout takes
 * one PRNG key per example. At the end, inference (inferenceMode + Partial) on a held-out set.
 *
 * Run: npx tsx --import ./scripts/register-hooks.mjs examples/train-mlp.ts
 */
import { Array, array, nn as jnn, np, random as jr, vmap } from "@wax/tracer";
import * as eqx from "@wax/nn";
import * as optax from "@wax/nn/optim";

/** `n` points per class of `classes` spirals, with Gaussian noise; labels are int32. */
export function spirals(key: Array, n: number, classes = 3): { xs: Array; ys: Array } {
  const [tkey, nkey] = jr.split(key);
  const t = jr.uniform(tkey!, [classes, n], { minval: 0.05, maxval: 1 });
  const offsets = np.multiply(np.arange(0, classes).reshape([classes, 1]), (2 * Math.PI) / classes);
  const theta = np.add(np.add(np.multiply(t, 4), offsets), np.multiply(jr.normal(nkey!, [classes, n]), 0.15));
  const xs = np.stack([np.multiply(t, np.sin(theta)), np.multiply(t, np.cos(theta))], -1).reshape([classes * n, 2]);
  const ys = np.multiply(np.ones([classes, n], "int32"), np.arange(0, classes, 1, "int32").reshape([classes, 1])).reshape([classes * n]);
  return { xs, ys };
}

export class Classifier extends eqx.Module {
  layers: eqx.Sequential;

  constructor(key: Array, opts: { width?: number; dropout?: number } = {}) {
    super();
    const { width = 64, dropout = 0.1 } = opts;
    const [k1, k2, k3] = jr.split(key, 3);
    this.layers = new eqx.Sequential([
      new eqx.Linear(2, width, { key: k1! }),
      new eqx.BatchNorm({ inputSize: width, axisName: "batch", mode: "batch" }),
      new eqx.Lambda(jnn.relu),
      new eqx.Dropout({ p: dropout }),
      new eqx.Linear(width, width, { key: k2! }),
      new eqx.BatchNorm({ inputSize: width, axisName: "batch", mode: "batch" }),
      new eqx.Lambda(jnn.relu),
      new eqx.Dropout({ p: dropout }),
      new eqx.Linear(width, 3, { key: k3! }),
    ]);
  }

  static callParameters = ["x", "state"]; // for Partial's keywords

  __call__(x: Array, state: eqx.State, opts: { key?: Array } = {}): [Array, eqx.State] {
    return this.layers(x, state, opts);
  }
}

function crossEntropy(logits: Array, labels: Array): Array {
  const logp = jnn.logSoftmax(logits, -1);
  return np.negative(np.mean(np.sum(np.multiply(logp, jnn.oneHot(labels, 3)), { axis: -1 })));
}

export function computeLoss(model: Classifier, state: eqx.State, xs: Array, ys: Array, key: Array): [Array, eqx.State] {
  const keys = jr.split(key, xs.shape[0]!);
  const batchModel = vmap((x: Array, s: eqx.State, k: Array) => model(x, s, { key: k }), {
    axisName: "batch",
    inAxes: [0, null, 0],
    outAxes: [0, null],
  });
  const [logits, state2] = batchModel(xs, state, keys) as [Array, eqx.State];
  return [crossEntropy(logits, ys), state2];
}

export function makeStepFor(optim: optax.GradientTransformation) {
  return eqx.filterJit(function makeStep(model: Classifier, state: eqx.State, optState: unknown, xs: Array, ys: Array, key: Array) {
    const [[loss, state2], grads] = eqx.filterValueAndGrad(computeLoss, { hasAux: true })(model, state, xs, ys, key) as [
      [Array, eqx.State],
      Classifier,
    ];
    const [updates, optState2] = optim.update(grads, optState);
    return [eqx.applyUpdates(model, updates), state2, optState2, loss] as const;
  });
}

/** Rows `idx` of a 2-D or 1-D array (host-side gather for batching). */
function rows(x: Array, idx: Int32Array): Array {
  const src = x.concreteValue()!.data;
  const w = x.ndim === 1 ? 1 : x.shape[1]!;
  const out = new (src.constructor as Float32ArrayConstructor)(idx.length * w);
  idx.forEach((r, i) => out.set(src.subarray(r * w, r * w + w), i * w));
  return array(out, { shape: x.ndim === 1 ? [idx.length] : [idx.length, w], dtype: x.dtype });
}

function progress(step: number, total: number, loss: number, out: (s: string) => void, tty: boolean): void {
  const width = 30;
  const done = Math.round((width * step) / total);
  const line = `[${"#".repeat(done)}${".".repeat(width - done)}] step ${String(step).padStart(3)}/${total}  loss ${loss.toFixed(4)}`;
  if (tty) out(`\r${line}${step === total ? "\n" : ""}`);
  else if (step % 50 === 0 || step === total) out(`${line}\n`);
}

export function main(opts: { steps?: number; batchSize?: number; log?: (s: string) => void; tty?: boolean } = {}) {
  const { steps = 300, batchSize = 64 } = opts;
  const write = opts.log ?? ((s: string) => process.stdout.write(s));
  const tty = opts.tty ?? Boolean(process.stdout.isTTY && !opts.log);
  const key = jr.PRNGKey(0);
  const [dkey, tkey, mkey, skey] = jr.split(key, 4);
  const train = spirals(dkey!, 300);
  const test = spirals(tkey!, 100);
  let [model, state] = eqx.makeWithState(Classifier)(mkey!);
  const optim = optax.adam(5e-3);
  let optState = optim.init(eqx.filter(model, eqx.isInexactArray));
  const makeStep = makeStepFor(optim);
  const batchesPerEpoch = Math.floor(train.xs.shape[0]! / batchSize);
  let order: Int32Array = new Int32Array(0);
  for (let step = 1; step <= steps; step++) {
    const b = (step - 1) % batchesPerEpoch;
    const [epochKey, dropoutKey] = jr.split(jr.foldIn(skey!, step));
    // A new epoch: shuffle (permutation runs eagerly, on the host).
    if (b === 0) order = jr.permutation(epochKey!, train.xs.shape[0]!).concreteValue()!.data as Int32Array;
    const idx = order.subarray(b * batchSize, (b + 1) * batchSize);
    let loss: Array;
    [model, state, optState, loss] = makeStep(model, state, optState, rows(train.xs, idx), rows(train.ys, idx), dropoutKey!);
    progress(step, steps, loss.item(), write, tty);
  }
  const inferenceModel = new eqx.Partial(eqx.inferenceMode(model), { state });
  const evaluate = eqx.filterJit((m: eqx.Module, xs: Array) => vmap(m)(xs)[0] as Array);
  const accuracy = (xs: Array, ys: Array) =>
    np.mean(np.equal(np.argmax(evaluate(inferenceModel, xs), { axis: -1 }), ys).astype("float32")).item();
  const trainAcc = accuracy(train.xs, train.ys);
  const testAcc = accuracy(test.xs, test.ys);
  write(`train accuracy ${(100 * trainAcc).toFixed(1)}%, test accuracy ${(100 * testAcc).toFixed(1)}% (chance: 33.3%)\n`);
  return { trainAcc, testAcc, makeStep };
}

if (import.meta.url === `file://${process.argv[1]}`) main();
