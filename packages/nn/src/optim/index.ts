/** Optax-like optimizers: gradient transformations, their chains, the common aliases and schedules. */
export {
  type GradientTransformation,
  type EmptyState,
  type CountState,
  type Schedule,
  type ScalarOrSchedule,
  identity,
  safeIncrement,
} from "./base";
export { chain, OptimizerStateError } from "./chain";
export { scale, scaleBySchedule, scaleByLearningRate } from "./scale";
export { scaleByAdam, type ScaleByAdamState, type ScaleByAdamOptions } from "./adam";
export { scaleByRms, type ScaleByRmsState, type ScaleByRmsOptions } from "./rms";
export { trace, type TraceState } from "./trace";
export { addDecayedWeights } from "./weight-decay";
export { clipByGlobalNorm, globalNorm } from "./clip";
export { sgd, adam, adamw, rmsprop, type SgdOptions, type AdamOptions, type AdamwOptions, type RmspropOptions } from "./alias";
export {
  constantSchedule,
  polynomialSchedule,
  linearSchedule,
  piecewiseConstantSchedule,
  exponentialDecay,
  cosineDecaySchedule,
  joinSchedules,
  warmupCosineDecaySchedule,
  type BuiltSchedule,
  type PolynomialScheduleOptions,
  type ExponentialDecayOptions,
  type CosineDecayOptions,
  type WarmupCosineDecayOptions,
} from "./schedules";
export { lion, scaleByLion, type LionOptions, type ScaleByLionOptions, type ScaleByLionState } from "./lion";
export { MultiSteps, type MultiStepsOptions, type MultiStepsState } from "./multi-steps";
export { injectHyperparams, type InjectHyperparamsState } from "./inject";
export {
  l2Loss,
  squaredError,
  huberLoss,
  sigmoidBinaryCrossEntropy,
  softmaxCrossEntropy,
  softmaxCrossEntropyWithIntegerLabels,
  type SoftmaxCrossEntropyOptions,
} from "./losses";
