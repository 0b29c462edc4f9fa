/**
 * `dot_general` operands whose dims do not merge into one (batch, m, k) / (batch, k, n) stride
 * each — a vmapped im2col, a transposed cotangent — are copied once into GEMM order and take
 * the packed GEMM, with the interpreter's values.
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
    const scale = [vmap((c: Array) => np.matmul(np.abs(w), np.abs(c)), { outAxes: 1 })(cols) as Array, np.einsum("obp,bkp->ok", np.abs(g), np.abs(cols))];
    want.forEach((wv, i) => expectClose(got[i], wv, (_, j) => 1e-5 * Math.abs(scale[i]!.data[j]!) + 8 * U, `output ${i}`));
    const compiled = compileJaxpr(jitted.lastJaxpr()!);
    const mm = matmuls(compiled.program.kernels);
    expect(mm).toHaveLength(2);
    for (const k of mm) expect(k.gemm).toBeDefined();
    expect(compiled.program.kernels.filter((k) => k.kind === "map" && k.label.includes("to GEMM order")).length).toBeGreaterThanOrEqual(2);
  });
});
