/**
 * `dot_general` operands whose dims do not merge into one (batch, m, k) / (batch, k, n) stride
 * each — a vmapped im2col, a transposed cotangent — are copied once into GEMM order and take
 * the packed GEMM, with the interpreter's values; a contraction much longer than the output
 * is split into a batch of GEMMs and a sum.
 */
import { describe, expect, it } from "vitest";
import { np, vmap, type Array } from "@wax/tracer";
import { compileJaxpr, filterJit, type Kernel } from "../../index";
import { QUIET, U, expectClose, randomArray } from "../support";

const matmuls = (ks: readonly Kernel[]) => ks.filter((k): k is Kernel & { kind: "matmul" } => k.kind === "matmul");

describe("non-mergeable GEMM operands are copied to GEMM order", () => {
  it("vmap of w @ cols (the batch lands between k and n) and its weight gradient", () => {
    const w = randomArray([24, 36], 1);
    const cols = randomArray([8, 36, 50], 2);
    const g = randomArray([24, 8, 50], 3);
    const f = (w: Array, cols: Array, g: Array): Array[] => [
      vmap((c: Array) => np.matmul(w, c), { outAxes: 1 })(cols) as Array,
      // Σ_b g[:, b] @ cols[b]ᵀ: contracts (b, p), which do not merge for either operand.
      np.einsum("obp,bkp->ok", g, cols),
    ];
    const jitted = filterJit(f, QUIET);
    const want = f(w, cols, g);
    const got = jitted(w, cols, g);
    const scale = [
      vmap((c: Array) => np.matmul(np.abs(w), np.abs(c)), { outAxes: 1 })(cols) as Array,
      np.einsum("obp,bkp->ok", np.abs(g), np.abs(cols)),
    ];
    want.forEach((wv, i) => expectClose(got[i], wv, (_, j) => 1e-5 * Math.abs(scale[i]!.data[j]!) + 8 * U, `output ${i}`));
    const compiled = compileJaxpr(jitted.lastJaxpr()!);
    const mm = matmuls(compiled.program.kernels);
    expect(mm).toHaveLength(2);
    for (const k of mm) expect(k.gemm).toBeDefined();
    expect(compiled.program.kernels.filter((k) => k.kind === "map" && k.label.includes("to GEMM order")).length).toBeGreaterThanOrEqual(2);
  });

  it("a contraction much longer than the output is split into batched GEMMs and a sum", () => {
    // A weight gradient's shape: Σ over (batch, positions) = 16·300 into a 12×20 matrix.
    const g = randomArray([12, 16, 300], 4);
    const cols = randomArray([16, 300, 20], 5);
    const f = (g: Array, cols: Array): Array => np.einsum("obp,bpk->ok", g, cols);
    const jitted = filterJit(f, QUIET);
    const scale = np.einsum("obp,bpk->ok", np.abs(g), np.abs(cols));
    expectClose(jitted(g, cols), f(g, cols), (_, j) => 1e-5 * Math.abs(scale.data[j]!) + 8 * U, "k split");
    const kernels = compileJaxpr(jitted.lastJaxpr()!).program.kernels;
    const split = matmuls(kernels).filter((k) => k.label === "dot_general (k split)");
    expect(split).toHaveLength(1);
    expect(split[0]!.batch).toEqual([16]);
    expect(split[0]!.gemm).toBeDefined();
    expect(kernels.some((k) => k.kind === "reduce" && k.label === "dot_general (k split sum)")).toBe(true);
  });

  for (const [M, N] of [
    [1003, 13],
    [6, 301],
  ] as const) {
    it(`a skinny ${M}×37 @ 37×${N} GEMM (panels of the larger side packed as used) with ragged edges and a fused epilogue`, () => {
      const a = randomArray([M, 37], 6);
      const b = randomArray([37, N], 7);
      const c = randomArray([N], 8);
      const f = (a: Array, b: Array, c: Array): Array => np.tanh(np.add(np.matmul(a, b), c));
      const jitted = filterJit(f, QUIET);
      const want = f(a, b, c);
      const scale = np.add(np.matmul(np.abs(a), np.abs(b)), np.abs(c));
      expectClose(jitted(a, b, c), want, (_, j) => 1e-5 * Math.abs(scale.data[j]!) + 8 * U, "tall");
      expect(matmuls(compileJaxpr(jitted.lastJaxpr()!).program.kernels)[0]!.gemm).toBeDefined();
    });
  }
});
