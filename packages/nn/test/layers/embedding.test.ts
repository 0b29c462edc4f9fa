import { describe, expect, test } from "vitest";
import { array, random, vmap, type Array } from "@wax/tracer";
import { filterGrad, filterJit } from "@wax/nn";
import { Embedding } from "../../src/layers/embedding";
import { expectClose, randomArray } from "./support";

const rows = (a: Array) => a.tolist() as number[][];

describe("Embedding", () => {
  test("the table is normal(key, [num, size]): JAX's normal(split(key(0))[0], (4, 4)) row 0", () => {
    const k1 = random.split(random.key(0)).get(0);
    const emb = new Embedding(4, 4, { key: k1 });
    expect(emb.weight.shape).toEqual([4, 4]);
    // jax.random.normal(k1, (4, 4))[0] (published, rtol 1e-4)
    expectClose(emb(0), [1.0040143, -0.9063372, -0.7481722, -1.1713669], { rtol: 1e-4 });
    expect(emb.weight.tolist()).toEqual(random.normal(k1, [4, 4]).tolist());
  });

  test("an integer scalar (number or int array, negative from the end) picks a row", () => {
    const emb = new Embedding(5, 3, { key: random.key(1) });
    const w = rows(emb.weight);
    expect(emb(2).tolist()).toEqual(w[2]);
    expect(emb(array(4, { dtype: "int32" })).tolist()).toEqual(w[4]);
    expect(emb(array(1, { dtype: "uint32" })).tolist()).toEqual(w[1]);
    expect(emb(-1).tolist()).toEqual(w[4]);
  });

  test("a given weight is used as the table", () => {
    const weight = randomArray([3, 2], 2);
    const emb = new Embedding(3, 2, { weight });
    expect(emb.weight).toBe(weight);
    expect(emb(1).tolist()).toEqual(rows(weight)[1]);
    expect(() => new Embedding(3, 3, { weight })).toThrow(/Embedding: weight must have shape \[3, 3\], got f32\[3,2\]/);
    expect(() => new Embedding(3, 3, {})).toThrow(/Embedding: a PRNG key is required/);
  });

  test("vmap embeds a sequence of ids", () => {
    const emb = new Embedding(6, 2, { key: random.key(3) });
    const w = rows(emb.weight);
    const ys = vmap(emb)(array([5, 0, 2, 2], { dtype: "int32" }));
    expect(ys.tolist()).toEqual([w[5], w[0], w[2], w[2]]);
  });

  test("the gradient with respect to the table is one-hot in the picked row", () => {
    const emb = new Embedding(3, 2, { key: random.key(4) });
    const g = filterGrad((m: Embedding, i: Array) => m(i).sum())(emb, array(1, { dtype: "int32" })) as Embedding;
    expect(g.weight.tolist()).toEqual([
      [0, 0],
      [1, 1],
      [0, 0],
    ]);
  });

  test("filterJit (compiled WebAssembly) with a traced index matches eager", () => {
    const emb = new Embedding(7, 4, { key: random.key(5) });
    const jf = filterJit((m: Embedding, i: Array) => m(i));
    for (const i of [0, 3, 6]) expect(jf(emb, array(i, { dtype: "int32" })).tolist()).toEqual(emb(i).tolist());
    expect(jf.stats().misses).toBe(1);
  });

  test("vmap(vmap(embedding)) over a [128, 64] batch of ids is one gather, compiled and eager alike", () => {
    const emb = new Embedding(1000, 16, { key: random.key(7) });
    const ids = array(
      Int32Array.from({ length: 128 * 64 }, (_, k) => ((k * 7919) % 1100) - 50),
      { dtype: "int32", shape: [128, 64] },
    );
    const jf = filterJit((m: Embedding, i: Array) => vmap(vmap(m))(i));
    const out = jf(emb, ids);
    expect(jf.lastJaxpr()!.jaxpr.eqns.filter((e) => e.prim.name === "gather").length).toBe(1);
    expect(out.shape).toEqual([128, 64, 16]);
    expect(out.tolist()).toEqual((vmap(vmap(emb))(ids) as Array).tolist());
  });

  test("non-scalar or non-integer indices are rejected, naming the layer and the shape", () => {
    const emb = new Embedding(4, 2, { key: random.key(6) });
    expect(() => emb(array([1, 2], { dtype: "int32" }))).toThrow(
      /Embedding: expected one integer index of shape \[\], got i32\[2\] — .*vmap/,
    );
    expect(() => emb(array(1.5))).toThrow(/Embedding: expected one integer index of shape \[\], got f32\[\]/);
  });
});
