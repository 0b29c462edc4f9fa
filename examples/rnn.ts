/**
 * A GRU over a sequence with `lax.scan`, trained through one `filterJit` step.
 *
 * The task: read a sequence of 24 numbers in [-1, 1] and say whether their sum is positive.
 * The answer depends on every element, so the recurrent state must carry a running summary.
 * The cell is `eqx.GRUCell` (Equinox's gate equations and initialisation); `GRU.__call__`
 * runs it over the sequence with `lax.scan`, so the compiled step holds one loop whose body
 * is one cell, whatever the sequence length.
 *
 * Run: npx tsx --import ./scripts/register-hooks.mjs examples/rnn.ts
 */
import { Array, lax, nn as jnn, np, random as jr, vmap } from "@wax/tracer";
import * as eqx from "@wax/nn";
import * as optax from "@wax/nn/optim";

/** A GRU over a `[T, inputSize]` sequence, then a linear read-out of the last hidden state. */
export class GRU extends eqx.Module {
  cell: eqx.GRUCell;
  head: eqx.Linear;
  @eqx.field({ static: true }) hiddenSize: number;

  constructor(inputSize: number, hiddenSize: number, key: Array) {
    super();
    const [ckey, hkey] = jr.split(key);
    this.cell = new eqx.GRUCell(inputSize, hiddenSize, { key: ckey! });
    this.head = new eqx.Linear(hiddenSize, 1, { key: hkey! });
    this.hiddenSize = hiddenSize;
  }

  __call__(xs: Array): Array {
    const h0 = np.zeros([this.hiddenSize]);
    const [h] = lax.scan((h: Array, x: Array) => [this.cell(x, h), null], h0, xs);
    return np.reshape(this.head(h as Array), []);
  }
}

/** `n` sequences of length `length` (uniform in [-1, 1], shape `[n, length, 1]`) and labels `sum > 0` (float 0/1). */
export function sequences(key: Array, n: number, length: number): { xs: Array; ys: Array } {
  const xs = jr.uniform(key, [n, length, 1], { minval: -1, maxval: 1 });
  const ys = np.greater(np.sum(xs, { axis: [1, 2] }), 0).astype("float32");
  return { xs, ys };
}

/** Mean binary cross-entropy of logits against 0/1 labels: `softplus(l) − y·l`, stable for large |l|. */
export function computeLoss(model: GRU, xs: Array, ys: Array): Array {
  const logits = vmap(model)(xs) as Array;
  return np.mean(np.subtract(jnn.softplus(logits), np.multiply(ys, logits)));
}

export function makeStepFor(optim: optax.GradientTransformation) {
  return eqx.filterJit(function makeStep(model: GRU, optState: unknown, xs: Array, ys: Array) {
    const [loss, grads] = eqx.filterValueAndGrad(computeLoss)(model, xs, ys) as [Array, GRU];
    const [updates, optState2] = optim.update(grads, optState);
    return [eqx.applyUpdates(model, updates), optState2, loss] as const;
  });
}

export function main(opts: { steps?: number; length?: number; log?: (s: string) => void } = {}) {
  const { steps = 150, length = 24 } = opts;
  const write = opts.log ?? ((s: string) => process.stdout.write(s));
  const [dkey, tkey, mkey] = jr.split(jr.PRNGKey(0), 3);
  const train = sequences(dkey!, 256, length);
  const test = sequences(tkey!, 256, length);
  let model = new GRU(1, 16, mkey!);
  const optim = optax.adam(1e-2);
  let optState = optim.init(eqx.filter(model, eqx.isInexactArray));
  const makeStep = makeStepFor(optim);
  let loss: Array | null = null;
  for (let step = 1; step <= steps; step++) {
    [model, optState, loss] = makeStep(model, optState, train.xs, train.ys);
    if (step % 25 === 0 || step === 1) write(`step ${String(step).padStart(3)}: loss ${loss.item().toFixed(4)}\n`);
  }
  const evaluate = eqx.filterJit((m: GRU, xs: Array) => vmap(m)(xs) as Array);
  const accuracy = (xs: Array, ys: Array) =>
    np.mean(np.equal(np.greater(evaluate(model, xs), 0).astype("float32"), ys).astype("float32")).item();
  const trainAcc = accuracy(train.xs, train.ys);
  const testAcc = accuracy(test.xs, test.ys);
  write(`train accuracy ${(100 * trainAcc).toFixed(1)}%, test accuracy ${(100 * testAcc).toFixed(1)}% (chance: ~50%)\n`);
  return { trainAcc, testAcc, makeStep, finalLoss: loss!.item() };
}

if (import.meta.url === `file://${process.argv[1]}`) main();
