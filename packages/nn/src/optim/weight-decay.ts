/** `addDecayedWeights`: decoupled weight decay (Optax's `add_decayed_weights`), used by `adamw`. */
import { ArgumentError, np } from "@wax/tracer";
import {
  emptyState,
  safeIncrement,
  zeroCount,
  type CountState,
  type EmptyState,
  type GradientTransformation,
  type ScalarOrSchedule,
} from "./base";
import { mapUpdates } from "./tree";

/**
 * `u -> u + weightDecay * param` for every non-null update. Needs `params` in `update`. A
 * schedule is evaluated at the count of previous steps (state `{count}`); a constant has an
 * empty state, and a constant 0 leaves the updates untouched.
 */
export function addDecayedWeights(weightDecay: ScalarOrSchedule = 0): GradientTransformation<EmptyState | CountState> {
  const scheduled = typeof weightDecay === "function";
  return {
    init: () => (scheduled ? { count: zeroCount() } : emptyState()),
    update: (updates, state, params) => {
      if (params === undefined || params === null) {
        throw new ArgumentError(
          "addDecayedWeights.update: params is required to decay the weights — call update(grads, state, filter(model, isInexactArray))",
        );
      }
      const count = scheduled ? (state as CountState).count : undefined;
      const next = count ? { count: safeIncrement(count) } : state;
      if (weightDecay === 0) return [updates, next];
      const s = typeof weightDecay === "function" ? weightDecay(count!) : weightDecay;
      const out = mapUpdates("addDecayedWeights", (g, p) => np.add(g, np.multiply(s, p!)), updates, params);
      return [out as typeof updates, next];
    },
  };
}
