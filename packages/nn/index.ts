/**
 * @wax/nn — Equinox-like Modules, filtered transforms, the stateful API, layers and
 * Optax-like optimizers.
 */
export { Module, ModuleError, field, isModule } from "./src/module";
export { isArray, isArrayLike, isInexactArray, filter, partition, combine, type FilterSpec, type FilterOptions } from "./src/filters";
export { treeAt, type TreeAtOptions } from "./src/tree-at";
export { applyUpdates } from "./src/update";
export { Partial, withCallParameters, callParameters } from "./src/partial";
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
export { RMSNorm, type RMSNormOptions } from "./src/layers/rms-norm";
export { GroupNorm, type GroupNormOptions } from "./src/layers/group-norm";
export { GRUCell, type GRUCellOptions } from "./src/layers/gru-cell";
export { LSTMCell, type LSTMCellOptions } from "./src/layers/lstm-cell";
export {
  MultiheadAttention,
  type MultiheadAttentionOptions,
  type MultiheadAttentionCallOptions,
  type ProcessHeads,
} from "./src/layers/multihead-attention";
export { RotaryPositionalEmbedding, type RotaryPositionalEmbeddingOptions } from "./src/layers/rotary-positional-embedding";
export { ConvTranspose, ConvTranspose1d, ConvTranspose2d, type ConvTransposeOptions } from "./src/layers/conv-transpose";
export {
  Pool,
  MaxPool,
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
  AvgPool,
  AvgPool1d,
  AvgPool2d,
  AvgPool3d,
  AdaptivePool,
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AdaptiveAvgPool3d,
  AdaptiveMaxPool1d,
  AdaptiveMaxPool2d,
  AdaptiveMaxPool3d,
  type PoolOptions,
} from "./src/layers/pool";
export {
  treeSerialiseLeaves,
  treeDeserialiseLeaves,
  serialiseLeaves,
  deserialiseLeaves,
  tensorName,
  SerialisationError,
} from "./src/serialise";
