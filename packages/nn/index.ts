/**
 * @wax/nn — Equinox-like Modules, filtered transforms, the stateful API, layers and
 * Optax-like optimizers.
 */
export { Module, ModuleError, field, isModule } from "./src/module";
export { isArray, isArrayLike, isInexactArray, filter, partition, combine, type FilterSpec, type FilterOptions } from "./src/filters";
export { treeAt, type TreeAtOptions } from "./src/tree-at";
export { applyUpdates } from "./src/update";
export { Partial } from "./src/partial";
export { State, StateIndex, StateError, makeWithState, deleteInitState } from "./src/stateful";
export { inferenceMode } from "./src/inference";
export { filterGrad, filterValueAndGrad, type FilterGradOptions } from "./src/ad";
export { filterVmap, ifArray, type FilterVmapOptions } from "./src/vmap";
export { filterJit, jitMethod } from "@wax/compiler";
export { Linear, type LinearOptions } from "./src/layers/linear";
export { BatchNorm, type BatchNormOptions } from "./src/layers/batch-norm";
export { SpectralNorm, type SpectralNormOptions } from "./src/layers/spectral-norm";
