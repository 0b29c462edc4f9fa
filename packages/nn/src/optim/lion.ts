/** Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), as Optax's `scale_by_lion` and `lion`. */
import { Array, np } from "@wax/tracer";
import { safeIncrement, zeroCount, type GradientTransformation, type ScalarOrSchedule } from "./base";
import { chain } from "./chain";
import { oneMinus, updateMoment } from "./moments";
import { scaleByLearningRate } from "./scale";
import { fullLikeTree, mapUpdates } from "./tree";
import { addDecayedWeights } from "./weight-decay";

/** Lion's state: the step count and the momentum `mu`. */
export interface ScaleByLionState {
  count: Array;
  mu: unknown;
}

export interface ScaleByLionOptions {
  /** Interpolation between the gradient and the momentum for the update's sign. Default 0.9. */
  b1?: number | Array;
  /** Decay of the momentum. Default 0.99. */
  b2?: number | Array;
}

/**
 * `u = sign((1 - b1) g + b1 mu)`, then `mu = (1 - b2) g + b2 mu` (Optax's `scale_by_lion`).
 */
export function scaleByLion(opts: ScaleByLionOptions = {}): GradientTransformation<ScaleByLionState> {
  const { b1 = 0.9, b2 = 0.99 } = opts;
  return {
    init: (params) => ({ count: zeroCount(), mu: fullLikeTree("scaleByLion.init", params, 0) }),
    update: (updates, state) => {
      const out = mapUpdates(
        "scaleByLion",
        (g, m) => np.sign(np.add(np.multiply(oneMinus(b1), g), np.multiply(b1, m!))),
        updates,
        state.mu,
      );
      const mu = updateMoment("scaleByLion", updates, state.mu, b2, 1);
      return [out as typeof updates, { count: safeIncrement(state.count), mu }];
    },
  };
}

export interface LionOptions extends ScaleByLionOptions {
  learningRate: ScalarOrSchedule;
  /** Decoupled weight decay, multiplied by the learning rate. Default 1e-3 (Optax's). */
  weightDecay?: ScalarOrSchedule;
}

/**
 * Lion: `chain(scaleByLion({b1, b2}), addDecayedWeights(weightDecay), scaleByLearningRate(lr))`
 * with Optax's defaults b1 = 0.9, b2 = 0.99, weightDecay = 1e-3. The update needs the
 * parameters (for the weight decay): `optim.update(grads, state, params)`.
 *
 * @example
 * const optim = lion({ learningRate: 1e-4 });
 */
export function lion(arg: ScalarOrSchedule | LionOptions): GradientTransformation {
  const o: LionOptions = typeof arg === "object" && arg !== null && "learningRate" in arg ? arg : { learningRate: arg };
  const { learningRate, weightDecay = 1e-3, b1, b2 } = o;
  return chain(scaleByLion({ b1, b2 }), addDecayedWeights(weightDecay), scaleByLearningRate(learningRate));
}
