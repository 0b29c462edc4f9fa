/**
 * Relaxed SIMD in the GEMM microkernel: emitted only where the engine validates the probe
 * module (`relaxedSimdAvailable` in `@wax/runtime`), else the f32x4 mul + add fallback.
 * Node 20's V8 refuses relaxed SIMD without a flag, so here the fallback is what runs; the
 * forced path is still built and validated by Binaryen, and the engine's verdict on it must
 * agree with the probe's.
 *
 * Tolerance: the GEMM accumulates in float32 (an FMA rounds once instead of twice), so against
 * the interpreter's float64 sums the bound is 1e-5·Σ_k|a||b| for K ≤ 64 here.
 */
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { array, makeJaxpr, np, type Array } from "@wax/tracer";
import { Executable, RELAXED_SIMD_PROBE, relaxedSimdAvailable } from "@wax/runtime";
import { codegen, compileJaxpr, lower, optimize, planMemory } from "../../index";
import { expectClose, randomArray } from "../support";

const matmulBias = (a: Array, b: Array, c: Array) => np.add(np.matmul(a, b), c);
const a = randomArray([40, 64], 1);
const b = randomArray([64, 44], 2);
const c = randomArray([44], 3);
const scale = np.add(np.matmul(np.abs(a), np.abs(b)), np.abs(c)).data;
const bound = (_: number, i: number) => 1e-5 * scale[i]!;

describe("relaxed SIMD detection", () => {
  it("the probe is a valid relaxed-SIMD module for Binaryen, and detection is the engine's verdict on it", () => {
    const mod = binaryen.readBinary(RELAXED_SIMD_PROBE);
    try {
      mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.RelaxedSIMD);
      expect(mod.validate()).toBeTruthy();
      expect(mod.emitText()).toContain("f32x4.relaxed_madd");
    } finally {
      mod.dispose();
    }
    expect(relaxedSimdAvailable()).toBe(WebAssembly.validate(RELAXED_SIMD_PROBE));
    // V8 ships relaxed SIMD from 11.4 (Node 22); Node 20 (V8 11.3) needs a flag.
    const major = Number(process.versions.v8.split(".")[0]) * 100 + Number(process.versions.v8.split(".")[1]);
    if (major < 1104 && !process.execArgv.some((f) => f.includes("relaxed-simd"))) expect(relaxedSimdAvailable()).toBe(false);
  });

  it("by default a GEMM module uses relaxed_madd exactly when the engine has it, and matches the interpreter", () => {
    const compiled = compileJaxpr(makeJaxpr(matmulBias)(a, b, c), { text: true });
    expect(compiled.program.kernels.some((k) => k.kind === "matmul" && k.gemm)).toBe(true);
    expect(compiled.relaxedSimd).toBe(relaxedSimdAvailable());
    expect(compiled.features).toEqual(relaxedSimdAvailable() ? ["simd128", "relaxed-simd"] : ["simd128"]);
    expect(compiled.text!.includes("f32x4.relaxed_madd")).toBe(relaxedSimdAvailable());
    if (!relaxedSimdAvailable()) expect(compiled.text).toContain("f32x4.mul");
    const [out] = compiled.executable.call([a.data as Float32Array, b.data as Float32Array, c.data as Float32Array]);
    const want = matmulBias(a, b, c);
    expectClose(array(out as Float32Array, { shape: want.shape }), want, bound, "fallback GEMM");
  });

  it("forced on, the module is built with relaxed_madd, Binaryen validates it, and the engine accepts it iff the probe validates", () => {
    const program = lower(optimize(makeJaxpr(matmulBias)(a, b, c)));
    const plan = planMemory(program);
    const forced = codegen(program, plan, { relaxedSimd: true, text: true });
    expect(forced.relaxedSimd).toBe(true);
    expect(forced.text).toContain("f32x4.relaxed_madd");
    expect(forced.text).not.toContain("f32x4.mul");
    expect(WebAssembly.validate(forced.binary as Uint8Array<ArrayBuffer>)).toBe(relaxedSimdAvailable());
    const fallback = codegen(program, plan, { relaxedSimd: false, text: true });
    expect(fallback.relaxedSimd).toBe(false);
    expect(fallback.text).not.toContain("relaxed");
    expect(WebAssembly.validate(fallback.binary as Uint8Array<ArrayBuffer>)).toBe(true);
    if (relaxedSimdAvailable()) {
      const layout = compileJaxpr(makeJaxpr(matmulBias)(a, b, c)).layout;
      const [out] = Executable.createSync(forced.binary as Uint8Array<ArrayBuffer>, layout).call([
        a.data as Float32Array,
        b.data as Float32Array,
        c.data as Float32Array,
      ]);
      const want = matmulBias(a, b, c);
      expectClose(array(out as Float32Array, { shape: want.shape }), want, bound, "relaxed GEMM");
    }
  });
});
