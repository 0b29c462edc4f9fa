import { describe, expect, test } from "vitest";
import { grad, lax, nn, np, random, vmap, type Array } from "@wax/tracer";
import { MultiheadAttention, RotaryPositionalEmbedding, filterJit, inferenceMode, treeAt, type ProcessHeads } from "@wax/nn";
import { expectClose, finiteDifferences, randomArray, toFloat64 } from "./support";

type M = number[][];
const mat = (a: Array) => a.tolist() as M;
const linear = (w: Array, b: Array | null, x: M): M =>
  x.map((row) => mat(w).map((wr, o) => wr.reduce((s, v, i) => s + v * row[i]!, 0) + (b ? (b.tolist() as number[])[o]! : 0)));

/**
 * Equinox's MultiheadAttention in plain float64 JS: project, split heads, softmax(q·k/sqrt(d))
 * with masked logits at the lowest float, optional per-head multiplicative dropout, concat, project.
 */
function reference(
  m: MultiheadAttention,
  q: M,
  k: M,
  v: M,
  mask?: (h: number, t: number, s: number) => boolean,
  drop?: (h: number, t: number, s: number) => number,
): M {
  const [qp, kp, vp] = [
    linear(m.queryProj.weight, m.queryProj.bias, q),
    linear(m.keyProj.weight, m.keyProj.bias, k),
    linear(m.valueProj.weight, m.valueProj.bias, v),
  ];
  const { numHeads: N, qkSize: D, voSize: V } = m;
  const concat: M = q.map(() => []);
  for (let h = 0; h < N; h++) {
    for (let t = 0; t < q.length; t++) {
      const logits = k.map((_, s) => {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += (qp[t]![h * D + d]! / Math.sqrt(D)) * kp[s]![h * D + d]!;
        return mask && !mask(h, t, s) ? -3.4028234663852886e38 : dot;
      });
      const mx = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - mx));
      const z = e.reduce((a, b) => a + b, 0);
      const w = e.map((x, s) => (x / z) * (drop ? drop(h, t, s) : 1));
      for (let d = 0; d < V; d++) concat[t]!.push(w.reduce((acc, ws, s) => acc + ws * vp[s]![h * V + d]!, 0));
    }
  }
  return linear(m.outputProj.weight, m.outputProj.bias, concat);
}

const flat = (x: M) => x.flat();

describe("MultiheadAttention", () => {
  test("initialisation is JAX's for the same key: split(key, 4) → query, key, value, output projections", () => {
    const m = new MultiheadAttention({ numHeads: 2, querySize: 4, key: random.PRNGKey(2) });
    // values from an independent threefry implementation (Linear(4, 4) with uniform(±1/2))
    expect((np.ravel(m.keyProj.weight).tolist() as number[]).slice(0, 4)).toEqual([
      0.00447690486907959, -0.14302706718444824, -0.3352140188217163, 0.35048341751098633,
    ]);
    expect((np.ravel(m.outputProj.weight).tolist() as number[]).slice(0, 4)).toEqual([
      -0.1467071771621704, -0.40848731994628906, 0.09819912910461426, 0.15222012996673584,
    ]);
    expect([m.queryProj.bias, m.keyProj.bias, m.valueProj.bias, m.outputProj.bias]).toEqual([null, null, null, null]);
    expect([m.qkSize, m.voSize, m.keySize, m.valueSize, m.outputSize]).toEqual([2, 2, 4, 4, 4]);
  });

  test("all the sizes and biases are options: projections get the right shapes", () => {
    const m = new MultiheadAttention({
      numHeads: 3,
      querySize: 5,
      keySize: 6,
      valueSize: 7,
      outputSize: 2,
      qkSize: 4,
      voSize: 3,
      useQueryBias: true,
      useKeyBias: true,
      useValueBias: true,
      useOutputBias: true,
      key: random.PRNGKey(0),
    });
    expect([m.queryProj.weight.shape, m.keyProj.weight.shape, m.valueProj.weight.shape, m.outputProj.weight.shape]).toEqual([
      [12, 5],
      [12, 6],
      [9, 7],
      [2, 9],
    ]);
    expect([m.queryProj.bias!.shape, m.outputProj.bias!.shape]).toEqual([[12], [2]]);
    const out = m(randomArray([4, 5], 1), randomArray([6, 6], 2), randomArray([6, 7], 3));
    expect(out.shape).toEqual([4, 2]);
  });

  test("Equinox's tests: odd sizes give [19, 11]; arange weights give its hand-computed values, also under [q, kv] and [heads, q, kv] masks", () => {
    const odd = new MultiheadAttention({
      numHeads: 2,
      querySize: 3,
      keySize: 5,
      valueSize: 7,
      outputSize: 11,
      qkSize: 13,
      voSize: 17,
      key: random.PRNGKey(0),
    });
    expect(odd(randomArray([19, 3], 1), randomArray([23, 5], 2), randomArray([23, 7], 3)).shape).toEqual([19, 11]);
    const w = np.reshape(np.arange(0, 16, 1, "float32"), [4, 4]);
    const m = treeAt(
      (a: MultiheadAttention) => [a.queryProj.weight, a.keyProj.weight, a.valueProj.weight, a.outputProj.weight],
      new MultiheadAttention({ numHeads: 2, querySize: 4, key: random.PRNGKey(1) }),
      [w, w, w, w],
    );
    const x1 = np.asarray([[1, 2, 3, 4]]).astype("float32");
    expectClose(m(x1, x1, x1), [680, 1960, 3240, 4520], { rtol: 1e-5 });
    const x = np.reshape(np.arange(1, 13, 1, "float32"), [3, 4]);
    const row = np.asarray([true, false, false]);
    const expected = [0, 1, 2].flatMap(() => [680, 1960, 3240, 4520]);
    expectClose(m(x, x, x, np.broadcastTo(row, [2, 3, 3])), expected, { rtol: 1e-5 });
    expectClose(m(x, x, x, np.broadcastTo(row, [3, 3])), expected, { rtol: 1e-5 });
  });

  test("forward matches a float64 reference, with cross-attention lengths and biases", () => {
    const m = toFloat64(
      new MultiheadAttention({
        numHeads: 2,
        querySize: 4,
        keySize: 3,
        valueSize: 5,
        outputSize: 6,
        qkSize: 3,
        voSize: 2,
        useQueryBias: true,
        useOutputBias: true,
        key: random.PRNGKey(5),
      }),
    );
    const [q, k, v] = [randomArray([3, 4], 6, "float64"), randomArray([5, 3], 7, "float64"), randomArray([5, 5], 8, "float64")];
    // The softmax runs in float64 for float64 inputs (Equinox: result_type(logits, float32)).
    expectClose(m(q, k, v), flat(reference(m, mat(q), mat(k), mat(v))), { rtol: 1e-10, atol: 1e-12 });
  });

  test("a [q, kv] mask applies to every head, a [heads, q, kv] mask per head; masked keys get zero weight", () => {
    const m = toFloat64(new MultiheadAttention({ numHeads: 2, querySize: 4, key: random.PRNGKey(9) }));
    const x = randomArray([4, 4], 10, "float64");
    const causal = np.greaterEqual(lax.iota("int32", [4, 4], 0), lax.iota("int32", [4, 4], 1));
    expectClose(m(x, x, x, { mask: causal }), flat(reference(m, mat(x), mat(x), mat(x), (_h, t, s) => s <= t)), {
      rtol: 1e-10,
      atol: 1e-12,
    });
    expectClose(m(x, x, x, causal), m(x, x, x, { mask: causal }), { atol: 0 }); // Equinox's positional mask
    expect(() => m(x, x, x, causal, { mask: causal })).toThrow(/MultiheadAttention: the mask was given twice/);
    const perHead = np.stack([causal, np.logicalNot(causal)]);
    const ref = reference(m, mat(x), mat(x), mat(x), (h, t, s) => (h === 0 ? s <= t : s > t));
    expectClose(m(x, x, x, { mask: perHead }), flat(ref), { rtol: 1e-10, atol: 1e-12 });
    // changing a masked-out (future) key leaves the first query's output unchanged
    const later = np.add(x, np.multiply(np.greaterEqual(lax.iota("int32", [4, 4], 0), 1).astype("float64"), 3));
    expectClose(m(x, later, later, { mask: causal }).get(0), m(x, x, x, { mask: causal }).get(0), { rtol: 1e-12, atol: 1e-12 });
  });

  test("dropout on the attention weights uses one key per head (split(key, numHeads)), as Equinox; inference turns it off", () => {
    const m = toFloat64(new MultiheadAttention({ numHeads: 2, querySize: 4, dropoutP: 0.5, key: random.PRNGKey(11) }));
    const x = randomArray([3, 4], 12, "float64");
    const key = random.PRNGKey(13);
    const keys = random.split(key, 2);
    const masks = [0, 1].map((h) => random.bernoulli(keys.get(h), 0.5, [3, 3]).tolist() as boolean[][]);
    const ref = reference(m, mat(x), mat(x), mat(x), undefined, (h, t, s) => (masks[h]![t]![s] ? 2 : 0));
    expectClose(m(x, x, x, { key }), flat(ref), { rtol: 1e-10, atol: 1e-12 });
    const plain = flat(reference(m, mat(x), mat(x), mat(x)));
    expectClose(m(x, x, x, { key, inference: true }), plain, { rtol: 1e-10, atol: 1e-12 });
    expectClose(inferenceMode(m)(x, x, x), plain, { rtol: 1e-10, atol: 1e-12 });
    expect(() => m(x, x, x)).toThrow(/Dropout: a key is required in training mode/);
  });

  test("processHeads rewrites the heads before attention (RoPE on queries and keys), and may not change their shapes", () => {
    const m = new MultiheadAttention({ numHeads: 2, querySize: 8, key: random.PRNGKey(14) });
    const rope = new RotaryPositionalEmbedding({ embeddingSize: 4 });
    const x = randomArray([5, 8], 15);
    const r = vmap(rope, { inAxes: 1, outAxes: 1 });
    const processHeads: ProcessHeads = (q, k, v) => [r(q) as Array, r(k) as Array, v];
    const withRope = m(x, x, x, { processHeads });
    // the same computation by hand: project, rotate, attend per head, concat, project
    const heads = (p: typeof m.queryProj) => np.reshape(vmap(p)(x) as Array, [5, 2, 4]);
    const attn = nn.dotProductAttention(r(heads(m.queryProj)) as Array, r(heads(m.keyProj)) as Array, heads(m.valueProj));
    expectClose(withRope, vmap(m.outputProj)(np.reshape(attn, [5, 8])) as Array, { rtol: 1e-5, atol: 1e-6 });
    expect(() => m(x, x, x, { processHeads: ((q, k, v) => [np.reshape(q, [5, 4, 2]), k, v]) as ProcessHeads })).toThrow(
      /MultiheadAttention: processHeads must not change the shape of the heads/,
    );
  });

  test("errors: shapes of inputs and masks, key/value lengths, options", () => {
    const m = new MultiheadAttention({ numHeads: 2, querySize: 4, key: random.PRNGKey(0) });
    const x = randomArray([3, 4], 1);
    expect(() => m(randomArray([2, 3, 4], 1), x, x)).toThrow(
      /MultiheadAttention: expected query of shape \[seq, 4\], got f32\[2,3,4\] — .*vmap/,
    );
    expect(() => m(x, x, randomArray([2, 4], 2))).toThrow(
      /MultiheadAttention: key_ f32\[3,4\] and value f32\[2,4\] must have the same sequence length/,
    );
    expect(() => m(x, x, x, { mask: np.ones([3, 2], "bool") })).toThrow(
      /MultiheadAttention: mask must have shape \[3, 3\] \(query length, key length\) or \[2, 3, 3\] per head, got bool\[3,2\]/,
    );
    expect(() => new MultiheadAttention({ numHeads: 0, querySize: 4, key: random.PRNGKey(0) })).toThrow(
      /MultiheadAttention: numHeads must be a positive integer, got 0/,
    );
    expect(() => new MultiheadAttention({ numHeads: 8, querySize: 4, key: random.PRNGKey(0) })).toThrow(
      /MultiheadAttention: qkSize must be a positive integer, got 0/,
    );
    expect(() => new MultiheadAttention({ numHeads: 2, querySize: 4 } as never)).toThrow(/MultiheadAttention: a PRNG key is required/);
  });

  test("vmap over a batch equals per-example calls; filterJit matches eager", () => {
    const m = new MultiheadAttention({ numHeads: 2, querySize: 6, useValueBias: true, key: random.PRNGKey(20) });
    const xs = randomArray([3, 4, 6], 21);
    const mask = np.greaterEqual(lax.iota("int32", [4, 4], 0), lax.iota("int32", [4, 4], 1));
    const ys = vmap((x: Array) => m(x, x, x, { mask }))(xs) as Array;
    for (let i = 0; i < 3; i++) expectClose(ys.get(i), m(xs.get(i), xs.get(i), xs.get(i), { mask }), { rtol: 1e-5, atol: 1e-6 });
    const jf = filterJit((mm: MultiheadAttention, x: Array, msk: Array) => vmap((e: Array) => mm(e, e, e, { mask: msk }))(x) as Array);
    expectClose(jf(m, xs, mask), ys, { rtol: 1e-5, atol: 1e-6 });
  });

  test("gradients with respect to a projection weight match central finite differences (float64)", () => {
    const m = toFloat64(new MultiheadAttention({ numHeads: 2, querySize: 4, key: random.PRNGKey(30) }));
    const x = randomArray([3, 4], 31, "float64");
    const r = randomArray([3, 4], 32, "float64");
    const mask = np.greaterEqual(lax.iota("int32", [3, 3], 0), lax.iota("int32", [3, 3], 1));
    const loss = (w: Array) => np.sum(np.multiply(treeAt((mm: MultiheadAttention) => mm.keyProj.weight, m, w)(x, x, x, { mask }), r));
    expectClose(grad(loss)(m.keyProj.weight) as Array, finiteDifferences(loss, m.keyProj.weight), { rtol: 1e-6, atol: 1e-9 });
  });

  test("nn.dotProductAttention (grouped heads, bias, causal) compiles: filterJit matches eager", () => {
    const q = randomArray([2, 5, 4, 3], 40),
      k = randomArray([2, 5, 2, 3], 41),
      v = randomArray([2, 5, 2, 3], 42);
    const bias = randomArray([1, 4, 5, 5], 43);
    const f = (a: Array, b: Array, c: Array, d: Array) => nn.dotProductAttention(a, b, c, { bias: d, isCausal: true });
    expectClose(filterJit(f)(q, k, v, bias), f(q, k, v, bias), { rtol: 1e-5, atol: 1e-6 });
  });
});
