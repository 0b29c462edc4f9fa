/**
 * @wax/compiler — Jaxpr passes (and, next, kernel lowering, memory planning, Binaryen codegen
 * and `filterJit`).
 */
export { optimize, type PassStats } from "./src/passes/pipeline";
export { inline } from "./src/passes/inline";
export { dce } from "./src/passes/dce";
export { cse } from "./src/passes/cse";
export { fold } from "./src/passes/fold";
export { simplify } from "./src/passes/simplify";
