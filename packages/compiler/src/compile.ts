/**
 * The compile pipeline for one traced program: passes → kernels (lowering, epilogue fusion)
 * → memory plan → Binaryen → an instantiated `Executable`. Each stage hands the next data it
 * does not modify. Also what `wax ir` shows stage by stage.
 */
import { Executable, type Layout } from "@wax/runtime";
import type { ClosedJaxpr } from "@wax/tracer";
import { codegen, type CodegenOptions } from "./codegen/module";
import { lower } from "./lower/lower";
import { isControl, regionsOf, type Kernel, type Program } from "./lower/kernel-ir";
import { planMemory, type MemoryPlan } from "./memory/plan";
import { optimize } from "./passes/pipeline";
import { CompileError } from "./errors";

/** Everything one compilation produced, stage by stage. */
export interface Compiled {
  optimized: ClosedJaxpr;
  program: Program;
  plan: MemoryPlan;
  wasm: Uint8Array;
  layout: Layout;
  executable: Executable;
  /** Milliseconds spent in passes + lowering + codegen + instantiation. */
  compileMs: number;
  text?: string;
  /** Whether the module uses relaxed SIMD (only where this engine validates it, unless forced). */
  relaxedSimd: boolean;
  /** WebAssembly features the module needs (what an exported artifact's manifest lists). */
  features: ("simd128" | "relaxed-simd")[];
}

/**
 * Compiles a closed jaxpr to an instantiated WebAssembly module (see the module comment).
 * Throws a CompileError for a program that cannot be compiled (float64, collectives outside
 * vmap, an arena over 2 GiB).
 */
export function compileJaxpr(jaxpr: ClosedJaxpr, opts: CodegenOptions = {}): Compiled {
  const t0 = performance.now();
  const optimized = optimize(jaxpr);
  const program = lower(optimized, opts.name);
  checkLoopSizes(program.kernels, opts.name ?? "fn");
  const plan = planMemory(program);
  const MAX_ARENA = 2 ** 31;
  if (plan.arenaBytes > MAX_ARENA) {
    const big = [...program.buffers].sort((a, b) => b.size - a.size)[0]!;
    throw new CompileError(
      `${opts.name ?? "fn"}: the program needs a ${(plan.arenaBytes / 2 ** 20).toFixed(0)} MiB arena (largest buffer: ${big.size} ${big.dtype} elements, a ${big.kind}), more than the 2 GiB a WebAssembly memory can hold here — use smaller batches or split the function`,
    );
  }
  const { binary, text, relaxedSimd } = codegen(program, plan, opts);
  const layout: Layout = {
    arenaBytes: plan.arenaBytes,
    inputs: program.inputs.map((id, i) => {
      const b = program.buffers[id]!;
      return { offset: plan.offsets[id]!, size: b.size, dtype: b.dtype, shape: program.inputShapes[i]! };
    }),
    outputs: program.outputs.map((o) => {
      const b = program.buffers[o.buf]!;
      return { offset: plan.offsets[o.buf]!, size: b.size, dtype: o.dtype, shape: o.shape };
    }),
    constants: program.buffers.filter((b) => b.kind === "const").map((b) => ({ offset: plan.offsets[b.id]!, bytes: b.data! })),
  };
  const executable = Executable.createSync(binary, layout);
  return {
    optimized,
    program,
    plan,
    wasm: binary,
    layout,
    executable,
    compileMs: performance.now() - t0,
    text,
    relaxedSimd,
    features: relaxedSimd ? ["simd128", "relaxed-simd"] : ["simd128"],
  };
}

/** Loop nests index elements with i32 arithmetic: one that spans 2³¹ elements or more would wrap. */
const MAX_LOOP_ELEMENTS = 2 ** 31 - 1;

/**
 * Throws a CompileError for a fused loop over more elements than i32 indices reach (a fused
 * `iota(…).sum()` has no buffer for the arena check to catch).
 */
function checkLoopSizes(kernels: readonly Kernel[], name: string): void {
  for (const k of kernels) {
    if (isControl(k)) {
      for (const region of regionsOf(k)) checkLoopSizes(region, name);
      continue;
    }
    if (k.kind === "matmul") continue; // its operands and output are buffers, bounded by the arena check
    const size = k.shape.reduce((a, d) => a * d, 1);
    if (size > MAX_LOOP_ELEMENTS) {
      throw new CompileError(
        `${name}: ${k.label} loops over ${size} elements (shape [${k.shape.join(", ")}]), more than the 2^31 − 1 that compiled code indexes with 32-bit integers — split the computation into chunks (e.g. lax.scan or lax.map over slices) or run it eagerly`,
      );
    }
  }
}
