/**
 * Scaling transformations: by a constant (`scale`), by a schedule of the step count
 * (`scaleBySchedule`) and by the negated learning rate (`scaleByLearningRate`), as Optax.
 */
import { Array, np } from "@wax/tracer";
import {
  emptyState,
  identity,
  safeIncrement,
  zeroCount,
  type CountState,
  type EmptyState,
  type GradientTransformation,
  type ScalarOrSchedule,
  type Schedule,
} from "./base";
import { mapUpdates } from "./tree";

/** `u -> stepSize * u` for every update leaf (`null` updates stay `null`); empty state. */
export function scale(stepSize: number | Array): GradientTransformation<EmptyState> {
  return {
    init: () => emptyState(),
    update: (updates, state) => [mapUpdates("scale", (g) => np.multiply(stepSize, g), updates) as typeof updates, state],
  };
}

/**
 * `u -> stepSizeFn(count) * u`, with `count` the number of previous updates (so the first
 * step uses `stepSizeFn(0)`); the step size is cast to each update's dtype. State `{count}`.
 */
export function scaleBySchedule(stepSizeFn: Schedule): GradientTransformation<CountState> {
  return {
    init: () => ({ count: zeroCount() }),
    update: (updates, state) => {
      const step = stepSizeFn(state.count);
      const out = mapUpdates("scaleBySchedule", (g) => np.multiply(np.astype(step, g.dtype), g), updates);
      return [out as typeof updates, { count: safeIncrement(state.count) }];
    },
  };
}

/**
 * Scales by `-learningRate` (or `+learningRate` with `flipSign: false`), a constant or a
 * schedule; `null` gives `identity()`. A constant has an empty state, a schedule a count.
 */
export function scaleByLearningRate(
  learningRate: ScalarOrSchedule | null,
  opts: { flipSign?: boolean } = {},
): GradientTransformation<EmptyState | CountState> {
  if (learningRate === null) return identity();
  const m = opts.flipSign === false ? 1 : -1;
  if (typeof learningRate === "function") return scaleBySchedule((count) => np.multiply(m, learningRate(count)));
  return scale(typeof learningRate === "number" ? m * learningRate : np.multiply(m, learningRate));
}
