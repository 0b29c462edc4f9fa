/**
 * @wax/compiler — Jaxpr passes, kernel lowering with fusion, memory planning, Binaryen
 * codegen (one WebAssembly SIMD module per compiled function) and `filterJit`.
 */
export { optimize, type PassStats } from "./src/passes/pipeline";
export { inline } from "./src/passes/inline";
export { dce } from "./src/passes/dce";
export { cse } from "./src/passes/cse";
export { fold } from "./src/passes/fold";
export { simplify } from "./src/passes/simplify";
export { lower, loweringRules } from "./src/lower/lower";
export type { Program, Kernel, LeafKernel, ControlKernel, Expr, BufferInfo, Affine, Epilogue } from "./src/lower/kernel-ir";
export { fuseEpilogues } from "./src/lower/fuse-epilogues";
export { planMemory, schedule, type MemoryPlan } from "./src/memory/plan";
export { codegen, type CodegenOptions, type CodegenResult } from "./src/codegen/module";
export { compileJaxpr, type Compiled } from "./src/compile";
export { filterJit, jitMethod, type Jitted, type JitOptions, type CacheStats, type CacheEntryInfo } from "./src/jit";
export { eagerKernelStats, setEagerKernelThreshold, type EagerKernelStats } from "./src/eager";
export { CompileError } from "./src/errors";
export { exportCompiled, exportNamed, traceWithPaths, type Artifact, type Traced, type TracedLeaf } from "./src/export";
export { WAX_VERSION } from "./src/version";
