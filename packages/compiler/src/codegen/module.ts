/**
 * Codegen: a kernel program and its memory plan → one WebAssembly module (Binaryen) that
 * imports the arena memory and exports `run`, which calls one function per leaf kernel in
 * order, inside the loops and branches of the program's control flow.
 */
import binaryen from "binaryen";
import { relaxedSimdAvailable } from "@wax/runtime";
import { isControl, regionsOf, type Affine, type Kernel, type LeafKernel, type Program } from "../lower/kernel-ir";
import type { MemoryPlan } from "../memory/plan";
import { CompileError } from "../errors";
import { FnBuilder, type ExprRef, type GenContext } from "./builder";
import { genControl } from "./control-flow";
import { byteAddr, genScalar } from "./expr";
import "./simd-math-registry";
import { genGemm } from "./gemm";
import { genMatmul } from "./matmul";
import { genReduce } from "./reduce";
import { genSort } from "./sort";
import { contiguousStrides, elementwise, loopNest } from "./loops";

/** The emitted module. */
export interface CodegenResult {
  binary: Uint8Array;
  /** Binaryen's text of the module (for `wax ir --stage wat`), when asked for. */
  text?: string;
  /** Whether the module uses relaxed SIMD (`f32x4.relaxed_madd` in the GEMM microkernel). */
  relaxedSimd: boolean;
}

/** Options of `codegen`. */
export interface CodegenOptions {
  text?: boolean;
  name?: string;
  /**
   * Emit relaxed SIMD (fused multiply-add in the GEMM microkernel). Defaults to what this
   * engine validates (`relaxedSimdAvailable()`); forcing it on elsewhere gives a module the
   * engine may refuse.
   */
  relaxedSimd?: boolean;
  /**
   * Run Binaryen's clean-up passes (smaller modules: what exported artifacts want). Off for
   * `filterJit`: V8's TurboFan does the same work, the kernels run as fast without them, and
   * the passes are most of a first call's compile time while Binaryen's own code is cold.
   */
  optimize?: boolean;
}

const PAGE = 65536;

const SAFE_PASSES = ["simplify-locals", "vacuum", "merge-blocks", "remove-unused-brs", "coalesce-locals", "vacuum"];

function genMap(ctx: GenContext, k: LeafKernel & { kind: "map" }): ExprRef {
  return elementwise(ctx, k.shape, { dims: [] }, k.expr, k.out);
}

function genScan(ctx: GenContext, k: LeafKernel & { kind: "scan" }): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  const isF = k.dtype === "float32";
  const type = isF ? binaryen.f32 : binaryen.i32;
  const outBase = ctx.offsets[k.out]!;
  const outMap: Affine = { strides: contiguousStrides(k.shape), offset: 0, dyn: [] };
  const others = k.shape.map((_, i) => i).filter((i) => i !== k.axis);
  const n = k.shape[k.axis]!;
  if (n === 0) return m.nop();
  return loopNest(
    b,
    others.map((i) => k.shape[i]!),
    (oIdx) => {
      const acc = b.local(type);
      const j = b.local(binaryen.i32);
      const pos = () => (k.reverse ? m.i32.sub(m.i32.const(n - 1), m.local.get(j, binaryen.i32)) : m.local.get(j, binaryen.i32));
      const dims = k.shape.map((_, d) => (d === k.axis ? pos : oIdx.dims[others.indexOf(d)]!));
      const idx = { dims };
      const v = genScalar(ctx, k.expr, idx);
      const sum = isF ? m.f32.add(m.local.get(acc, type), v) : m.i32.add(m.local.get(acc, type), v);
      const label = `C${j}`;
      const addr = byteAddr(ctx, outMap, idx);
      return m.block(null, [
        m.local.set(acc, isF ? m.f32.const(0) : m.i32.const(0)),
        m.local.set(j, m.i32.const(0)),
        m.loop(
          label,
          m.block(null, [
            m.local.set(acc, sum),
            isF ? m.f32.store(outBase, 4, addr, m.local.get(acc, type)) : m.i32.store(outBase, 4, addr, m.local.get(acc, type)),
            m.local.set(j, m.i32.add(m.local.get(j, binaryen.i32), m.i32.const(1))),
            m.br(label, m.i32.lt_s(m.local.get(j, binaryen.i32), m.i32.const(n))),
          ]),
        ),
      ]);
    },
  );
}

/** The function body of a leaf kernel. */
function genLeaf(ctx: GenContext, k: LeafKernel, relaxedSimd: boolean): ExprRef {
  switch (k.kind) {
    case "map":
      return genMap(ctx, k);
    case "reduce":
      return genReduce(ctx, k);
    case "scan":
      return genScan(ctx, k);
    case "matmul":
      return k.gemm ? genGemm(ctx, k, k.gemm.plan, k.gemm, { relaxedSimd }) : genMatmul(ctx, k);
    case "sort":
      return genSort(ctx, k);
  }
}

/** Whether some leaf kernel of the tree satisfies `f`. */
function someLeaf(kernels: readonly Kernel[], f: (k: LeafKernel) => boolean): boolean {
  return kernels.some((k) => (isControl(k) ? regionsOf(k).some((r) => someLeaf(r, f)) : f(k)));
}

/** The WebAssembly module of `prog` with its buffers where `plan` puts them. */
export function codegen(prog: Program, plan: MemoryPlan, opts: CodegenOptions = {}): CodegenResult {
  const m = new binaryen.Module();
  const relaxedSimd =
    (opts.relaxedSimd ?? relaxedSimdAvailable()) && someLeaf(prog.kernels, (k) => k.kind === "matmul" && k.gemm !== undefined);
  try {
    m.setFeatures(
      binaryen.Features.MVP |
        binaryen.Features.SIMD128 |
        binaryen.Features.NontrappingFPToInt |
        (relaxedSimd ? binaryen.Features.RelaxedSIMD : 0),
    );
    const pages = Math.max(1, Math.ceil(plan.arenaBytes / PAGE));
    m.setMemory(pages, pages, null);
    m.addMemoryImport("0", "env", "memory");
    const imports = new Map<string, number>();
    const run = new FnBuilder(m, 0);
    let functions = 0;
    const emit = (kernels: readonly Kernel[]): ExprRef[] =>
      kernels.map((k) => {
        if (isControl(k)) return genControl(run, plan.offsets, k, emit);
        const b = new FnBuilder(m, 0);
        const name = `k${functions++}`;
        const body = genLeaf({ b, offsets: plan.offsets, imports }, k, relaxedSimd);
        m.addFunction(name, binaryen.none, binaryen.none, b.vars, body);
        return m.call(name, [], binaryen.none);
      });
    const calls = emit(prog.kernels);
    for (const [name, arity] of imports) {
      m.addFunctionImport(`host_${name}`, "env", name, binaryen.createType(globalThis.Array(arity).fill(binaryen.f64)), binaryen.f64);
    }
    m.addFunction("run", binaryen.none, binaryen.none, run.vars, m.block(null, calls.length ? calls : [m.nop()]));
    m.addFunctionExport("run", "run");
    if (!m.validate()) {
      throw new CompileError(
        `${opts.name ?? "fn"}: Binaryen rejected the generated module — this is a wax bug; please report it with the jaxpr`,
      );
    }
    // Binaryen v132's -O1 pipeline (its coalesce-locals + reorder-locals pair) gives i32x4
    // shifts an i32 local in threefry's rotations; this subset cleans up our code safely
    // (TurboFan does the rest: Binaryen's optimizer brings no kernel speed here).
    if (opts.optimize) m.runPasses(SAFE_PASSES);
    const binary = m.emitBinary();
    return { binary, text: opts.text ? m.emitText() : undefined, relaxedSimd };
  } finally {
    m.dispose();
  }
}
