/**
 * The unpacked matmul (problems below the packed GEMM's size) against the interpreter: rows of
 * up to 64 columns accumulated in registers, longer rows updated in memory 4 lanes at a time,
 * the k-contiguous dot-product loop (A @ Bᵀ, as in a backward pass's dh @ Wᵀ), and the scalar
 * loop, each with and without a fused epilogue.
 *
 * Tolerance: float32 accumulation against the interpreter's float64,
 * 1e-5·(Σ_k|a||b| + |bias|) for K ≤ 40 ((K + 2)·2⁻²⁴ < 1e-5).
 */
import { describe, expect, it } from "vitest";
import { lax, nn, np, type Array } from "@wax/tracer";
import { compileJaxpr, filterJit, type Kernel } from "../../index";
import { QUIET, U, expectClose, randomArray } from "../support";

function check(
  f: (a: Array, b: Array, c: Array) => Array,
  scale: (a: Array, b: Array, c: Array) => Array,
  args: [Array, Array, Array],
  what: string,
): string {
  const jitted = filterJit(f, QUIET);
  const want = f(...args);
  const s = scale(...args).data;
  const w = want.data;
  expectClose(jitted(...args), want, (_, i) => 1e-5 * Math.abs(s[i]!) + 8 * U * Math.abs(w[i]!), what);
  const compiled = compileJaxpr(jitted.lastJaxpr()!, { text: true });
  const mm = compiled.program.kernels.filter((k): k is Kernel & { kind: "matmul" } => k.kind === "matmul");
  expect(mm.length).toBe(1);
  expect(mm[0]!.gemm).toBeUndefined();
  return compiled.text!;
}

describe("unpacked matmul = interpreter", () => {
  for (const [M, N, K] of [
    [10, 32, 32],
    [7, 5, 13],
    [3, 9, 8],
    [1, 6, 37],
  ] as const) {
    it(`A @ Bᵀ ${M}×${K} @ (${N}×${K})ᵀ: dot products along contiguous k (K mod 4 = ${K % 4}), plain and with a fused bias + tanh`, () => {
      const a = randomArray([M, K], M * 100 + K);
      const b = randomArray([N, K], N * 100 + K);
      const c = randomArray([N], N);
      const scale = (a: Array, b: Array, c: Array) => np.add(np.matmul(np.abs(a), np.transpose(np.abs(b))), np.abs(c));
      const plain = check(
        (a, b) => np.matmul(a, np.transpose(b)),
        (a, b) => np.matmul(np.abs(a), np.transpose(np.abs(b))),
        [a, b, c],
        "a @ bᵀ",
      );
      // The dot-product loop multiplies 4 k at a time (the i-k-j loop splats one A element).
      expect(plain).toContain("f32x4.mul");
      expect(plain).not.toContain("f32x4.splat");
      check((a, b, c) => np.tanh(np.add(np.matmul(a, np.transpose(b)), c)), scale, [a, b, c], "tanh(a @ bᵀ + c)");
    });
  }

  for (const [M, N, K] of [
    [10, 30, 3],
    [10, 3, 32],
    [6, 64, 5],
    [5, 70, 4],
    [9, 33, 7],
  ] as const) {
    it(`A @ B ${M}×${K} @ ${K}×${N}: ${N <= 64 ? "the row accumulated in registers" : "rows updated in memory"} (4 lanes, splatted A; N mod 4 columns as scalar sums), with a relu epilogue`, () => {
      const a = randomArray([M, K], M * 10 + K);
      const b = randomArray([K, N], N);
      const c = randomArray([N], 3);
      const text = check(
        (a, b, c) => nn.relu(np.add(np.matmul(a, b), c)),
        (a, b, c) => np.add(np.matmul(np.abs(a), np.abs(b)), np.abs(c)),
        [a, b, c],
        "relu(a @ b + c)",
      );
      if (N >= 4) expect(text).toContain("f32x4.splat");
      check(
        (a, b) => np.matmul(a, b),
        (a, b) => np.matmul(np.abs(a), np.abs(b)),
        [a, b, c],
        "a @ b",
      );
    });
  }

  it("a batched A @ B (batch 3) with rows in registers", () => {
    const a = randomArray([3, 4, 6], 40);
    const b = randomArray([3, 6, 21], 41);
    const c = randomArray([21], 42);
    check(
      (a, b, c) => np.add(np.matmul(a, b), c),
      (a, b, c) => np.add(np.matmul(np.abs(a), np.abs(b)), np.abs(c)),
      [a, b, c],
      "batched a @ b + c",
    );
  });

  it("strided operands (every other column) take the scalar loop, with an epilogue", () => {
    const a = randomArray([6, 20], 4);
    const b = randomArray([10, 14], 5);
    const c = randomArray([7], 6);
    const even = (x: Array) => lax.slice(x, [0, 0], x.shape, [1, 2]);
    check(
      (a, b, c) => np.add(np.matmul(even(a), even(b)), c),
      (a, b, c) => np.add(np.matmul(np.abs(even(a)), np.abs(even(b))), np.abs(c)),
      [a, b, c],
      "a[:, ::2] @ b[:, ::2] + c",
    );
  });
});
