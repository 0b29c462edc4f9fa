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
export { Dropout, type DropoutOptions } from "./src/layers/dropout";
export { LayerNorm, type LayerNormOptions } from "./src/layers/layer-norm";
export { StatefulLayer, isStatefulLayer } from "./src/layers/stateful-layer";
export { Sequential } from "./src/layers/sequential";
export { Lambda } from "./src/layers/lambda";
export { MLP, identity, type MLPOptions, type Activation } from "./src/layers/mlp";
export { Embedding, type EmbeddingOptions } from "./src/layers/embedding";
export { Conv, Conv1d, Conv2d, type ConvOptions, type ConvPadding, type PaddingMode } from "./src/layers/conv";
export { treeSerialiseLeaves, treeDeserialiseLeaves, serialiseLeaves, deserialiseLeaves, tensorName, SerialisationError } from "./src/serialise";
