/** examples/transformer.ts: a causal transformer (Embedding, RoPE, MultiheadAttention, RMSNorm) trained with one compiled step. */
import { describe, expect, it } from "vitest";
import { np, random as jr, vmap, type Array } from "@wax/tracer";
import { LAG, LENGTH, Transformer, VOCAB, main, sequences } from "../examples/transformer";

describe("examples/transformer.ts", () => {
  it("learns (x[t] + x[t-3]) mod 10 past 95% held-out accuracy with one compilation of the training step", () => {
    const lines: string[] = [];
    const res = main({ log: (s) => lines.push(s) });
    expect(res.testAcc).toBeGreaterThan(0.95);
    expect(res.trainAcc).toBeGreaterThan(0.95);
    expect(res.makeStep.stats().misses).toBe(1);
    expect(lines[0]).toMatch(/^step {3}1: loss \d+\.\d{4}\n$/);
    expect(lines.at(-1)).toMatch(/^train accuracy \d+\.\d%, test accuracy \d+\.\d% \(chance: 10\.0%\)/);
  });

  it("the targets are the sums mod 10, and -1 where there is no earlier digit", () => {
    const { ids, targets } = sequences(jr.PRNGKey(3), 4);
    const x = ids.tolist() as number[][];
    const y = targets.tolist() as number[][];
    for (let b = 0; b < 4; b++) {
      for (let t = 0; t < LENGTH; t++) expect(y[b]![t]).toBe(t < LAG ? -1 : (x[b]![t]! + x[b]![t - LAG]!) % VOCAB);
    }
  });

  it("the model is causal: changing a later token leaves earlier logits unchanged", () => {
    const model = new Transformer({ vocab: VOCAB, size: 16, numHeads: 2, key: jr.PRNGKey(1) });
    const { ids } = sequences(jr.PRNGKey(2), 1);
    const a = model(ids.get(0)) as Array;
    const changed = np.remainder(np.add(ids, np.greaterEqual(np.arange(LENGTH), 10).astype("int32")), VOCAB);
    const b = vmap(model)(changed) as Array;
    expect(np.max(np.abs(np.subtract(a, b.get(0)))).item()).toBeGreaterThan(0);
    const early = (t: Array) => (t.tolist() as number[][]).slice(0, 10);
    expect(early(b.get(0))).toEqual(early(a));
  });
});
