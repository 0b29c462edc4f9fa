import { describe, expect, test } from "vitest";
import { grad, np, vmap, type Array } from "@wax/tracer";
import { RotaryPositionalEmbedding, filterJit } from "@wax/nn";
import { expectClose, finiteDifferences, randomArray } from "./support";

/** RoFormer's rotation in float64, "half" layout: channel j pairs with j + d/2, angle t·theta^(-2j/d). */
function reference(x: number[][], theta: number): number[] {
  const d = x[0]!.length;
  const half = d / 2;
  return x.flatMap((row, t) =>
    row.map((v, j) => {
      const i = j % half;
      const angle = t * Math.pow(theta, -(2 * i) / d);
      const partner = j < half ? -row[j + half]! : row[j - half]!;
      return v * Math.cos(angle) + partner * Math.sin(angle);
    }),
  );
}

describe("RotaryPositionalEmbedding", () => {
  test("rotates channel pairs (j, j + d/2) by position · theta^(-2j/d), matching float64 within float32 rounding", () => {
    for (const [d, theta, seq] of [
      [8, 10_000, 6],
      [4, 100, 9],
      [2, 10_000, 3],
    ] as const) {
      const x = randomArray([seq, d], d + seq);
      const y = new RotaryPositionalEmbedding({ embeddingSize: d, theta })(x);
      expect(y.shape).toEqual([seq, d]);
      expectClose(y, reference(x.tolist() as number[][], theta), { rtol: 1e-5, atol: 5e-6 });
    }
  });

  test("Equinox's value test (HuggingFace's Llama RoPE on arange(32).reshape(8, 4)) agrees to 1e-6 relative", () => {
    const expected = [
      [0.0, 1.0, 2.0, 3.0],
      [-2.887617, 4.9297514, 6.6076975, 7.0496492],
      [-12.422148, 8.778215, 3.1129112, 11.177788],
      [-13.85559, 12.544218, -12.166454, 15.383192],
      [3.1641474, 16.226604, -23.874424, 19.664621],
      [26.769577, 19.824234, -12.937918, 24.020819],
      [30.30889, 23.335985, 18.258457, 28.450514],
      [1.3996639, 26.760752, 41.01269, 32.952423],
    ];
    const y = new RotaryPositionalEmbedding({ embeddingSize: 4 })(np.reshape(np.arange(0, 32, 1, "float32"), [8, 4]));
    // Equinox asserts allclose(atol=1e-6) with numpy's default rtol=1e-5
    expectClose(y, expected.flat(), { rtol: 1e-5, atol: 1e-6 });
  });

  test("position 0 is the identity, and every position preserves the norm", () => {
    const x = randomArray([5, 6], 1);
    const y = new RotaryPositionalEmbedding({ embeddingSize: 6 })(x);
    expectClose(y.get(0), x.get(0), { atol: 0 });
    expectClose(np.sum(np.square(y), { axis: 1 }), np.sum(np.square(x), { axis: 1 }), { rtol: 1e-5 });
  });

  test("attention scores depend only on relative position: <rope(q)_m, rope(k)_n> is unchanged by a common shift", () => {
    const rope = new RotaryPositionalEmbedding({ embeddingSize: 4 });
    const q = randomArray([4], 2);
    const k = randomArray([4], 3);
    const score = (m: number, n: number) => {
      const seq = Math.max(m, n) + 1;
      const qs = np.broadcastTo(q, [seq, 4]);
      const ks = np.broadcastTo(k, [seq, 4]);
      return np.sum(np.multiply(rope(qs).get(m), rope(ks).get(n))).item() as number;
    };
    expect(score(5, 2)).toBeCloseTo(score(3, 0), 5);
    expect(score(1, 4)).toBeCloseTo(score(6, 9), 5);
  });

  test("the result has x's dtype; static fields only, so it has no parameters", () => {
    const rope = new RotaryPositionalEmbedding({ embeddingSize: 4, theta: 500 });
    expect(rope(randomArray([3, 4], 4, "float64")).dtype).toBe("float64");
    expect([rope.embeddingSize, rope.theta, rope.dtype]).toEqual([4, 500, "float32"]);
  });

  test("errors: odd or negative sizes, and inputs that are not [seq, embeddingSize]", () => {
    expect(() => new RotaryPositionalEmbedding({ embeddingSize: 5 })).toThrow(
      /RotaryPositionalEmbedding: embeddingSize must be even, got 5/,
    );
    expect(() => new RotaryPositionalEmbedding({ embeddingSize: -2 })).toThrow(
      /RotaryPositionalEmbedding: embeddingSize must be a non-negative integer, got -2/,
    );
    const rope = new RotaryPositionalEmbedding({ embeddingSize: 4 });
    expect(() => rope(randomArray([3, 2, 4], 1))).toThrow(
      /RotaryPositionalEmbedding: expected x of shape \[seqLength, 4\], got f32\[3,2,4\] — .*vmap\(rope, \{ inAxes: 1, outAxes: 1 \}\)/,
    );
  });

  test("vmap over the head axis of [seq, heads, size]; filterJit matches eager; gradients are the transposed rotation", () => {
    const rope = new RotaryPositionalEmbedding({ embeddingSize: 4 });
    const heads = randomArray([5, 3, 4], 5);
    const ys = vmap(rope, { inAxes: 1, outAxes: 1 })(heads) as Array;
    for (let h = 0; h < 3; h++) expectClose(np.take(ys, h, { axis: 1 }), rope(np.take(heads, h, { axis: 1 })), { atol: 1e-6 });
    const seq = randomArray([6, 4], 8);
    expectClose(filterJit((r: RotaryPositionalEmbedding, v: Array) => r(v))(rope, seq), rope(seq), { rtol: 1e-5, atol: 1e-6 });
    const x = randomArray([4, 4], 6, "float64");
    const w = randomArray([4, 4], 7, "float64");
    const loss = (v: Array) => np.sum(np.multiply(rope(v), w));
    expectClose(grad(loss)(x) as Array, finiteDifferences(loss, x), { rtol: 1e-6, atol: 1e-8 });
  });
});
