/**
 * A small causal transformer, trained through one `filterJit` step.
 *
 * The task: read a sequence of random digits and, at every position, give the sum (mod 10) of
 * the current digit and the one `LAG` positions earlier. Each prediction needs attention to one
 * earlier position chosen by relative distance (the causal mask keeps later tokens out of
 * reach; rotary positional embeddings on the query and key heads make "three steps back" easy
 * to express) and then a non-linear combination of two digits (the MLP).
 *
 * The model is Equinox's building blocks end to end: `Embedding`, a pre-norm block of
 * `RMSNorm` → `MultiheadAttention` (causal mask, RoPE through `processHeads`) → `RMSNorm` →
 * `MLP`, a final `RMSNorm` and a `Linear` read-out, trained with Adam on the cross-entropy of
 * every position that has an answer.
 *
 * Run: npx tsx --import ./scripts/register-hooks.mjs examples/transformer.ts
 */
import { Array, lax, nn as jnn, np, random as jr, vmap } from "@wax/tracer";
import * as eqx from "@wax/nn";
import * as optax from "@wax/nn/optim";

export const VOCAB = 10;
export const LENGTH = 16;
export const LAG = 3;

/** One pre-norm transformer block: `x + attn(norm(x))`, then `x + mlp(norm(x))`. */
export class Block extends eqx.Module {
  attnNorm: eqx.RMSNorm;
  attention: eqx.MultiheadAttention;
  rope: eqx.RotaryPositionalEmbedding;
  mlpNorm: eqx.RMSNorm;
  mlp: eqx.MLP;

  constructor(size: number, numHeads: number, key: Array) {
    super();
    const [akey, mkey] = jr.split(key);
    this.attnNorm = new eqx.RMSNorm(size);
    this.attention = new eqx.MultiheadAttention({ numHeads, querySize: size, key: akey! });
    this.rope = new eqx.RotaryPositionalEmbedding({ embeddingSize: size / numHeads });
    this.mlpNorm = new eqx.RMSNorm(size);
    this.mlp = new eqx.MLP({ inSize: size, outSize: size, widthSize: 4 * size, depth: 1, activation: jnn.gelu, key: mkey! });
  }

  __call__(x: Array, mask: Array): Array {
    // RoPE on every query and key head ([seq, heads, size]: map over the head axis).
    const rope = vmap(this.rope, { inAxes: 1, outAxes: 1 });
    const processHeads: eqx.ProcessHeads = (q, k, v) => [rope(q) as Array, rope(k) as Array, v];
    const h = vmap(this.attnNorm)(x) as Array;
    x = np.add(x, this.attention(h, h, h, { mask, processHeads }));
    return np.add(x, vmap(this.mlp)(vmap(this.mlpNorm)(x)) as Array);
  }
}

/** Token ids `[seq]` → next-token logits `[seq, vocab]`. */
export class Transformer extends eqx.Module {
  embedding: eqx.Embedding;
  block: Block;
  norm: eqx.RMSNorm;
  head: eqx.Linear;

  constructor(opts: { vocab: number; size: number; numHeads: number; key: Array }) {
    super();
    const [ekey, bkey, hkey] = jr.split(opts.key, 3);
    this.embedding = new eqx.Embedding(opts.vocab, opts.size, { key: ekey! });
    this.block = new Block(opts.size, opts.numHeads, bkey!);
    this.norm = new eqx.RMSNorm(opts.size);
    this.head = new eqx.Linear(opts.size, opts.vocab, { key: hkey! });
  }

  __call__(ids: Array): Array {
    const seq = ids.shape[0]!;
    // Causal: position i attends to positions j <= i.
    const mask = np.greaterEqual(lax.iota("int32", [seq, seq], 0), lax.iota("int32", [seq, seq], 1));
    const x = this.block(vmap(this.embedding)(ids) as Array, mask);
    return vmap((v: Array) => this.head(this.norm(v)))(x) as Array;
  }
}

/** `n` digit sequences `[n, LENGTH]` and their targets `(x[t] + x[t - LAG]) mod VOCAB` (-1 for the first `LAG` positions, which have none). */
export function sequences(key: Array, n: number): { ids: Array; targets: Array } {
  const ids = jr.randint(key, [n, LENGTH], 0, VOCAB);
  const back = lax.slice(ids, [0, 0], [n, LENGTH - LAG]);
  const sum = np.remainder(np.add(back, lax.slice(ids, [0, LAG], [n, LENGTH])), VOCAB);
  return { ids, targets: lax.concatenate([np.full([n, LAG], -1, "int32"), sum], 1) };
}

/** Mean cross-entropy over the positions that have a target. */
export function computeLoss(model: Transformer, ids: Array, targets: Array): Array {
  const logits = vmap(model)(ids) as Array;
  const logp = jnn.logSoftmax(logits, -1);
  const valid = np.greaterEqual(targets, 0);
  const picked = np.sum(np.multiply(logp, jnn.oneHot(np.maximum(targets, 0), VOCAB)), { axis: -1 });
  const count = np.sum(valid.astype("float32"));
  return np.negative(np.divide(np.sum(np.where(valid, picked, 0)), count));
}

export function makeStepFor(optim: optax.GradientTransformation) {
  return eqx.filterJit(function makeStep(model: Transformer, optState: unknown, ids: Array, targets: Array) {
    const [loss, grads] = eqx.filterValueAndGrad(computeLoss)(model, ids, targets) as [Array, Transformer];
    const [updates, optState2] = optim.update(grads, optState);
    return [eqx.applyUpdates(model, updates), optState2, loss] as const;
  });
}

export function main(opts: { steps?: number; log?: (s: string) => void } = {}) {
  const { steps = 200 } = opts;
  const write = opts.log ?? ((s: string) => process.stdout.write(s));
  const [dkey, tkey, mkey] = jr.split(jr.PRNGKey(0), 3);
  const train = sequences(dkey!, 128);
  const test = sequences(tkey!, 256);
  let model = new Transformer({ vocab: VOCAB, size: 32, numHeads: 4, key: mkey! });
  const optim = optax.adam(3e-3);
  let optState = optim.init(eqx.filter(model, eqx.isInexactArray));
  const makeStep = makeStepFor(optim);
  let loss: Array | null = null;
  for (let step = 1; step <= steps; step++) {
    [model, optState, loss] = makeStep(model, optState, train.ids, train.targets);
    if (step % 25 === 0 || step === 1) write(`step ${String(step).padStart(3)}: loss ${loss.item().toFixed(4)}\n`);
  }
  const predict = eqx.filterJit((m: Transformer, ids: Array) => np.argmax(vmap(m)(ids) as Array, { axis: -1 }));
  const accuracy = ({ ids, targets }: { ids: Array; targets: Array }) => {
    const valid = np.greaterEqual(targets, 0);
    const right = np.logicalAnd(valid, np.equal(predict(model, ids), targets));
    return (np.sum(right.astype("float32")).item() as number) / (np.sum(valid.astype("float32")).item() as number);
  };
  const trainAcc = accuracy(train);
  const testAcc = accuracy(test);
  write(
    `train accuracy ${(100 * trainAcc).toFixed(1)}%, test accuracy ${(100 * testAcc).toFixed(1)}% (chance: ${(100 / VOCAB).toFixed(1)}%)\n`,
  );
  return { trainAcc, testAcc, makeStep, finalLoss: loss!.item() };
}

if (import.meta.url === `file://${process.argv[1]}`) main();
