/** `nn.dotProductAttention` against a float64 reference of JAX's XLA implementation. */
import { describe, expect, test } from "vitest";
import { array, grad, nn, np, vmap, type Array } from "../index";
import { mulberry32 } from "../../../test/support/seeded";

function rand(shape: number[], seed: number, dtype: "float32" | "float64" = "float64"): Array {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return array(
    Float64Array.from({ length: n }, () => 2 * r() - 1),
    { shape, dtype },
  );
}
const data = (a: Array) => Float64Array.from(a.data as ArrayLike<number>);

/**
 * JAX's semantics written out loop by loop: query [B,T,N,H], key/value [B,S,K,H], head n uses
 * key/value head floor(n / (N/K)); masked logits become -0.7·finfo(f32).max.
 */
function reference(q: Array, k: Array, v: Array, o: { bias?: Array; mask?: Array; isCausal?: boolean; scale?: number } = {}): Float64Array {
  const [B, T, N, H] = q.shape as number[];
  const [, S, K] = k.shape as number[];
  const G = N! / K!;
  const scale = o.scale ?? 1 / Math.sqrt(H!);
  const qd = data(q),
    kd = data(k),
    vd = data(v);
  const at4 = (a: Array | undefined, b: number, n: number, t: number, s: number): number => {
    if (!a) return 0;
    const sh = [...globalThis.Array<number>(4 - a.ndim).fill(1), ...a.shape];
    const idx = [b, n, t, s].map((i, d) => (sh[d] === 1 ? 0 : i));
    const st = [sh[1]! * sh[2]! * sh[3]!, sh[2]! * sh[3]!, sh[3]!, 1];
    return Number((a.data as ArrayLike<number>)[idx.reduce((acc, i, d) => acc + i * st[d]!, 0)]);
  };
  const out = new Float64Array(B! * T! * N! * H!);
  for (let b = 0; b < B!; b++)
    for (let n = 0; n < N!; n++) {
      const kh = Math.floor(n / G);
      for (let t = 0; t < T!; t++) {
        const logits: number[] = [];
        for (let s = 0; s < S!; s++) {
          let dot = 0;
          for (let h = 0; h < H!; h++) dot += qd[((b * T! + t) * N! + n) * H! + h]! * kd[((b * S! + s) * K! + kh) * H! + h]!;
          let l = dot * scale + at4(o.bias, b, n, t, s);
          const keep = (o.mask ? at4(o.mask, b, n, t, s) !== 0 : true) && (!o.isCausal || s <= t);
          if (!keep) l = -0.7 * 3.4028234663852886e38;
          logits.push(l);
        }
        const m = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let h = 0; h < H!; h++) {
          let acc = 0;
          for (let s = 0; s < S!; s++) acc += (e[s]! / z) * vd[((b * S! + s) * K! + kh) * H! + h]!;
          out[((b * T! + t) * N! + n) * H! + h] = acc;
        }
      }
    }
  return out;
}

function expectNear(a: Array, e: Float64Array, tol: number) {
  const got = data(a);
  expect(got.length).toBe(e.length);
  const worst = got.reduce((w, g, i) => Math.max(w, Math.abs(g - e[i]!)), 0);
  expect(worst).toBeLessThan(tol);
}

describe("nn.dotProductAttention", () => {
  test("multi-head attention [B, T, N, H] matches the reference, with the default scale 1/sqrt(H)", () => {
    const q = rand([2, 3, 2, 4], 1),
      k = rand([2, 5, 2, 4], 2),
      v = rand([2, 5, 2, 4], 3);
    const out = nn.dotProductAttention(q, k, v);
    expect(out.shape).toEqual([2, 3, 2, 4]);
    expectNear(out, reference(q, k, v), 1e-6);
  });

  test("grouped-query attention: 4 query heads share 2 key/value heads (head n uses n // 2)", () => {
    const q = rand([1, 3, 4, 2], 4),
      k = rand([1, 4, 2, 2], 5),
      v = rand([1, 4, 2, 2], 6);
    expectNear(nn.dotProductAttention(q, k, v), reference(q, k, v), 1e-6);
  });

  test("causal, a boolean mask, an additive bias and an explicit scale combine as JAX's", () => {
    // float32: a row the mask and causality leave empty gets -0.7·finfo.max everywhere, i.e. uniform weights.
    const q = rand([2, 4, 2, 3], 7, "float32"),
      k = rand([2, 4, 2, 3], 8, "float32"),
      v = rand([2, 4, 2, 3], 9, "float32");
    const bias = rand([1, 2, 4, 4], 10, "float32");
    const mask = np.greater(rand([2, 1, 4, 4], 11), -0.5);
    expectNear(nn.dotProductAttention(q, k, v, { isCausal: true }), reference(q, k, v, { isCausal: true }), 1e-5);
    const o = { bias, mask, isCausal: true, scale: 0.7 };
    expectNear(nn.dotProductAttention(q, k, v, o), reference(q, k, v, o), 1e-5);
  });

  test("3-d inputs [T, N, H] are one batch; output has query's shape; a fully masked row averages the values", () => {
    const q = rand([3, 2, 4], 12, "float32"),
      k = rand([5, 2, 4], 13, "float32"),
      v = rand([5, 2, 4], 14, "float32");
    const out = nn.dotProductAttention(q, k, v);
    expect(out.shape).toEqual([3, 2, 4]);
    expectNear(out, reference(np.reshape(q, [1, 3, 2, 4]), np.reshape(k, [1, 5, 2, 4]), np.reshape(v, [1, 5, 2, 4])), 1e-5);
    const none = nn.dotProductAttention(q, k, v, { mask: np.zeros([3, 5], "bool") });
    expectNear(
      none,
      reference(np.reshape(q, [1, 3, 2, 4]), np.reshape(k, [1, 5, 2, 4]), np.reshape(v, [1, 5, 2, 4]), { mask: np.zeros([3, 5], "bool") }),
      1e-5,
    );
    expect(Number.isFinite(data(none)[0]!)).toBe(true);
  });

  test("errors name the shapes and the fix", () => {
    const q = rand([3, 2, 4], 1),
      k = rand([5, 2, 4], 2);
    expect(() => nn.dotProductAttention(q, k, rand([4, 2, 4], 3))).toThrow(/dotProductAttention: value must have key's shape and dtype/);
    expect(() => nn.dotProductAttention(rand([3, 3, 4], 1), k, k)).toThrow(
      /dotProductAttention: the number of query heads must be a multiple of key\/value heads, got 3 vs 2/,
    );
    expect(() => nn.dotProductAttention(q, k, k, { mask: np.ones([3, 4]) })).toThrow(
      /dotProductAttention: mask .* is not broadcastable to the logits \[1, 2, 3, 5\]/,
    );
    expect(() => nn.dotProductAttention(q, k, k, { mask: np.ones([3, 5]) })).toThrow(
      /dotProductAttention: mask must be boolean, got float32/,
    );
    expect(() => nn.dotProductAttention(q, k, k, { causal: true } as never)).toThrow(/dotProductAttention: unknown option "causal"/);
    expect(() => nn.dotProductAttention(rand([4], 1), k, k)).toThrow(/dotProductAttention: query must be \[B, T, N, H\] or \[T, N, H\]/);
  });

  test("vmap over a leading axis equals the 4-d batch; gradients match finite differences (softmax runs in float32, as JAX)", () => {
    const q = rand([2, 3, 2, 4], 21),
      k = rand([2, 3, 2, 4], 22),
      v = rand([2, 3, 2, 4], 23);
    const f = (a: Array, b: Array, c: Array) => nn.dotProductAttention(a, b, c, { isCausal: true });
    expectNear(vmap(f)(q, k, v) as Array, data(f(q, k, v)), 1e-12);
    const loss = (a: Array) => np.sum(np.multiply(f(q, a, v), rand([2, 3, 2, 4], 24)));
    const g = data(grad(loss)(k) as Array);
    const base = data(k);
    for (const i of [0, 5, 17, 30]) {
      const plus = Float64Array.from(base),
        minus = Float64Array.from(base);
      plus[i]! += 1e-3;
      minus[i]! -= 1e-3;
      const fd =
        ((loss(array(plus, { shape: k.shape as number[], dtype: "float64" })).item() as number) -
          (loss(array(minus, { shape: k.shape as number[], dtype: "float64" })).item() as number)) /
        2e-3;
      expect(Math.abs(g[i]! - fd)).toBeLessThan(1e-3);
    }
  });

  test("float32 inputs give float32 results close to the float64 reference", () => {
    const q = rand([1, 3, 2, 4], 31, "float32"),
      k = rand([1, 4, 2, 4], 32, "float32"),
      v = rand([1, 4, 2, 4], 33, "float32");
    const out = nn.dotProductAttention(q, k, v, { isCausal: false });
    expect(out.dtype).toBe("float32");
    expectNear(out, reference(q, k, v), 1e-5);
  });
});
