/** `scaleByAdam`: Adam's preconditioning (Kingma & Ba 2014, Algorithm 1), as Optax's `scale_by_adam`. */
import { Array, np } from "@wax/tracer";
import { safeIncrement, zeroCount, type GradientTransformation } from "./base";
import { biasCorrection, oneMinus, updateMoment } from "./moments";
import { fullLikeTree, mapUpdates } from "./tree";

/** Adam's state: the step count (int32 scalar) and the first and second moments. */
export interface ScaleByAdamState {
  count: Array;
  mu: unknown;
  nu: unknown;
}

export interface ScaleByAdamOptions {
  /** Decay of the first moment. Default 0.9. (Numbers or scalar arrays, as `injectHyperparams` passes.) */
  b1?: number | Array;
  /** Decay of the second moment. Default 0.999. */
  b2?: number | Array;
  /** Added to the denominator outside the square root. Default 1e-8. */
  eps?: number | Array;
  /** Added inside the square root (for differentiating through the update). Default 0. */
  epsRoot?: number | Array;
  /** Nesterov momentum (Dozat 2016, NAdam). Default false. */
  nesterov?: boolean;
}

/**
 * Rescales updates by Adam's bias-corrected moments: with `t = count + 1`,
 * `mu = (1-b1) g + b1 mu`, `nu = (1-b2) g² + b2 nu`,
 * `u = (mu / (1-b1^t)) / (sqrt(nu / (1-b2^t) + epsRoot) + eps)`.
 * `null` updates stay `null` (and so do the moments there).
 */
export function scaleByAdam(opts: ScaleByAdamOptions = {}): GradientTransformation<ScaleByAdamState> {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, nesterov = false } = opts;
  return {
    init: (params) => ({
      count: zeroCount(),
      mu: fullLikeTree("scaleByAdam.init", params, 0),
      nu: fullLikeTree("scaleByAdam.init", params, 0),
    }),
    update: (updates, state) => {
      const mu = updateMoment("scaleByAdam", updates, state.mu, b1, 1);
      const nu = updateMoment("scaleByAdam", updates, state.nu, b2, 2);
      const count = safeIncrement(state.count);
      let muHat: unknown;
      if (nesterov) {
        const ahead = biasCorrection("scaleByAdam", mu, b1, safeIncrement(count));
        const now = biasCorrection("scaleByAdam", updates, b1, count);
        muHat = mapUpdates("scaleByAdam", (m, g) => np.add(np.multiply(b1, m), np.multiply(oneMinus(b1), g!)), ahead, now);
      } else {
        muHat = biasCorrection("scaleByAdam", mu, b1, count);
      }
      const nuHat = biasCorrection("scaleByAdam", nu, b2, count);
      const out = mapUpdates("scaleByAdam", (m, v) => np.divide(m, np.add(np.sqrt(np.add(v!, epsRoot)), eps)), muHat, nuHat);
      return [out as typeof updates, { count, mu, nu }];
    },
  };
}
