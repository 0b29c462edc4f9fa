/**
 * Epilogue fusion, differentially: each program is compiled (and its kernel list inspected:
 * the fused consumer must be gone, its work done by the matmul or reduction) and run against
 * the reference interpreter.
 *
 * Tolerances. A matmul accumulates in float32 (the interpreter in float64), so a fused
 * product differs by at most (K + 2)·2⁻²⁴·Σ_k|a||b|; the epilogue's exact ops (+, max, select)
 * add one rounding of the result, tanh and logistic 4 ulp (`codegen/simd-math.ts`), both
 * 1-Lipschitz. Bound used per element: 1e-5·(Σ_k|a||b| + Σ|other addends|) + 8·2⁻²⁴·|want|,
 * with K ≤ 48 here so (K + 2)·2⁻²⁴ < 1e-5. Reductions: sums in float32 over n terms,
 * (n + 2)·2⁻²⁴·Σ|x| (see `codegen/reduce.test.ts`), then the epilogue's ops as above.
 */
import { describe, expect, it } from "vitest";
import { lax, nn, np, type Array } from "@wax/tracer";
import { compileJaxpr, filterJit, type Kernel } from "../../index";
import { QUIET, U, expectClose, randomArray } from "../support";

/** Compiles `f` at `args`, returns its kernels, and checks its values against the interpreter. */
function check(
  f: (...xs: Array[]) => Array | Array[],
  args: Array[],
  scale: (...xs: Array[]) => Array | Array[],
  what: string,
): readonly Kernel[] {
  const jitted = filterJit(f, QUIET);
  const got = jitted(...args);
  const want = f(...args);
  const s = scale(...args);
  const scales = (globalThis.Array.isArray(s) ? s : [s]).map((x) => x.data);
  const wants = (globalThis.Array.isArray(want) ? want : [want]).map((x) => x.data);
  expectClose(got, want, (leaf, i) => 1e-5 * Math.abs(scales[leaf]![i]!) + 8 * U * Math.abs(wants[leaf]![i]!), what);
  return compileJaxpr(jitted.lastJaxpr()!).program.kernels;
}

const abs = np.abs;
const acts: [string, (x: Array) => Array][] = [
  ["relu", nn.relu],
  ["tanh", np.tanh],
  ["logistic", lax.logistic],
  ["leaky relu (reads the product twice)", (h) => np.where(np.greater(h, 0), h, np.multiply(h, 0.1))],
];

describe("matmul epilogue fusion", () => {
  it("Linear + bias + relu is one kernel on the unpacked path (epilogue per output row)", () => {
    const x = randomArray([10, 3], 1);
    const w = randomArray([3, 32], 2);
    const b = randomArray([32], 3);
    const kernels = check(
      (x, w, b) => nn.relu(np.add(np.matmul(x, w), b)),
      [x, w, b],
      (x, w, b) => np.add(np.matmul(abs(x), abs(w)), abs(b)),
      "relu(x@w + b)",
    );
    expect(kernels.map((k) => k.kind)).toEqual(["matmul"]);
    const k = kernels[0] as Kernel & { kind: "matmul" };
    expect(k.gemm).toBeUndefined();
    expect(k.epilogue).toBeDefined();
  });

  for (const [M, N, K] of [
    [64, 48, 40],
    [66, 45, 37],
    [35, 44, 33],
  ] as const) {
    for (const [name, act] of acts) {
      it(`packed GEMM ${M}×${K} @ ${K}×${N}: bias + ${name} + a residual add run in the tile store (one kernel)`, () => {
        const x = randomArray([M, K], M + K);
        const w = randomArray([K, N], N);
        const b = randomArray([N], 7);
        const r = randomArray([M, N], 8);
        const f = (x: Array, w: Array, b: Array, r: Array) => np.add(act(np.add(np.matmul(x, w), b)), np.multiply(r, 0.5));
        const kernels = check(
          f,
          [x, w, b, r],
          (x, w, b, r) => np.add(np.add(np.matmul(abs(x), abs(w)), abs(b)), abs(r)),
          `${name}(x@w + b) + r/2`,
        );
        expect(kernels.map((k) => k.kind)).toEqual(["matmul"]);
        const k = kernels[0] as Kernel & { kind: "matmul" };
        expect(k.gemm).toBeDefined();
        expect(k.epilogue).toBeDefined();
      });
    }
  }

  it("a batched GEMM with a per-batch bias and a transposed right operand fuses too", () => {
    const x = randomArray([2, 40, 36], 11);
    const w = randomArray([2, 33, 36], 12);
    const b = randomArray([2, 1, 33], 13);
    const f = (x: Array, w: Array, b: Array) => np.tanh(np.add(np.matmul(x, np.transpose(w, [0, 2, 1])), b));
    const kernels = check(
      f,
      [x, w, b],
      (x, w, b) => np.add(np.matmul(abs(x), np.transpose(abs(w), [0, 2, 1])), abs(b)),
      "tanh(x@wᵀ + b) batched",
    );
    expect(kernels.map((k) => k.kind)).toEqual(["matmul"]);
    expect((kernels[0] as Kernel & { kind: "matmul" }).gemm).toBeDefined();
  });

  it("an epilogue writing a transposed output is fused and stored lane by lane", () => {
    const x = randomArray([36, 40], 14);
    const w = randomArray([40, 37], 15);
    const b = randomArray([37], 16);
    // The output copy reads the product transposed: not the identity, so it stays a map; the
    // bias add before it is the fused epilogue, written through a transposed target.
    const f = (x: Array, w: Array, b: Array) => np.transpose(nn.relu(np.add(np.matmul(x, w), b)));
    const kernels = check(f, [x, w, b], (x, w, b) => np.transpose(np.add(np.matmul(abs(x), abs(w)), abs(b))), "relu(x@w + b)ᵀ");
    expect(kernels.filter((k) => k.kind === "matmul").length).toBe(1);
  });

  it("a product with two consumers is not fused, and both consumers see it", () => {
    const x = randomArray([40, 36], 17);
    const w = randomArray([36, 40], 18);
    const f = (x: Array, w: Array) => {
      const h = np.matmul(x, w);
      return [nn.relu(h), np.sum(h, { axis: 0 })];
    };
    const kernels = check(
      f,
      [x, w],
      (x, w) => [np.matmul(abs(x), abs(w)), np.sum(np.matmul(abs(x), abs(w)), { axis: 0 })],
      "relu(h), sum(h)",
    );
    const mm = kernels.find((k) => k.kind === "matmul") as Kernel & { kind: "matmul" };
    expect(mm.epilogue).toBeUndefined();
  });

  it("every layer of an MLP forward is one matmul kernel (bias and tanh fused, no separate passes)", () => {
    const x = randomArray([16, 20], 19);
    const ws = [randomArray([20, 32], 20), randomArray([32, 32], 21), randomArray([32, 5], 22)];
    const bs = [randomArray([32], 23), randomArray([32], 24), randomArray([5], 25)];
    const mlp = (x: Array, w0: Array, w1: Array, w2: Array, b0: Array, b1: Array, b2: Array) => {
      const h0 = np.tanh(np.add(np.matmul(x, w0), b0));
      const h1 = np.tanh(np.add(np.matmul(h0, w1), b1));
      return np.add(np.matmul(h1, w2), b2);
    };
    const jitted = filterJit(mlp, QUIET);
    const args: [Array, Array, Array, Array, Array, Array, Array] = [x, ws[0]!, ws[1]!, ws[2]!, bs[0]!, bs[1]!, bs[2]!];
    // tanh is 1-Lipschitz, so each layer's bound carries through: a loose normwise check suffices here.
    const want = mlp(...args);
    const tol = 1e-4 * Math.max(...globalThis.Array.from(want.data, Math.abs));
    expectClose(jitted(...args), want, () => tol, "MLP forward");
    const kernels = compileJaxpr(jitted.lastJaxpr()!).program.kernels;
    expect(kernels.map((k) => k.kind)).toEqual(["matmul", "matmul", "matmul"]);
    expect(kernels.every((k) => k.kind === "matmul" && k.epilogue !== undefined)).toBe(true);
  });
});

describe("reduction epilogue fusion", () => {
  it("mean is one kernel: the division by n runs right after each sum", () => {
    const x = randomArray([7, 50], 30);
    const kernels = check(
      (x) => np.mean(x, { axis: 1 }),
      [x],
      (x) => np.mean(abs(x), { axis: 1 }),
      "mean(x, 1)",
    );
    expect(kernels.map((k) => k.kind)).toEqual(["reduce"]);
    expect((kernels[0] as Kernel & { kind: "reduce" }).epilogue).toBeDefined();
  });

  it("logsumexp: exp(x − max) is the sum's prologue and log(·) + max its epilogue (two kernels in all)", () => {
    const x = randomArray([9, 37], 31, { lo: -20, hi: 20 });
    const f = (x: Array) => {
      const m = lax.reduceMax(x, [1]);
      const s = lax.reduceSum(lax.exp(lax.sub(x, lax.broadcastInDim(m, [9, 37], [0]))), [1]);
      return lax.add(lax.log(s), m);
    };
    // Σ exp(x − max) ≥ 1, so its log's absolute error is the sum's relative error (+ 4 ulp).
    const kernels = check(f, [x], (x) => lax.add(lax.reduceMax(abs(x), [1]), np.ones([9])), "logsumexp");
    expect(kernels.map((k) => k.kind)).toEqual(["reduce", "reduce"]);
    expect((kernels[1] as Kernel & { kind: "reduce" }).epilogue).toBeDefined();
  });

  it("a reduction over the kept contiguous axis (bias gradient) with a fused scaling epilogue", () => {
    const g = randomArray([33, 21], 32);
    const kernels = check(
      (g) => np.multiply(np.sum(g, { axis: 0 }), 0.25),
      [g],
      (g) => np.multiply(np.sum(abs(g), { axis: 0 }), 0.25),
      "sum(g, 0)/4",
    );
    expect(kernels.map((k) => k.kind)).toEqual(["reduce"]);
  });

  it("an int32 sum with an epilogue comparison (exact)", () => {
    const x = lax.convertElementType(randomArray([5, 40], 33, { lo: -100, hi: 100 }), "int32");
    const f = (x: Array) => lax.gt(lax.reduceSum(x, [1]), 0);
    const jitted = filterJit(f, QUIET);
    expectClose(jitted(x), f(x), () => 0, "sum(x) > 0");
    expect(compileJaxpr(jitted.lastJaxpr()!).program.kernels.map((k) => k.kind)).toEqual(["reduce"]);
  });
});
