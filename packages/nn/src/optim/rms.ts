/** `scaleByRms`: RMSProp's preconditioning (Optax's `scale_by_rms`). */
import { Array, lax, np } from "@wax/tracer";
import { safeIncrement, zeroCount, type GradientTransformation } from "./base";
import { biasCorrection, updateMoment } from "./moments";
import { fullLikeTree, mapUpdates } from "./tree";

/** RMSProp's state: the EMA of squared updates, and a count when bias correction is on. */
export interface ScaleByRmsState {
  nu: unknown;
  count?: Array;
}

export interface ScaleByRmsOptions {
  /** Decay of the squared-gradient EMA. Default 0.9. */
  decay?: number;
  /** Stabiliser in the denominator. Default 1e-8. */
  eps?: number;
  /** Initial value of the EMA. Default 0. */
  initialScale?: number;
  /** `rsqrt(nu + eps)` (true, the default) or `1 / (sqrt(nu) + eps)`. */
  epsInSqrt?: boolean;
  /** Divide the EMA by `1 - decay^t` (t = count + 1). Default false. */
  biasCorrection?: boolean;
}

/**
 * `nu = (1-decay) g² + decay nu`, then `u = g * rsqrt(nu + eps)` (or `g / (sqrt(nu) + eps)`
 * when `epsInSqrt` is false), with `nu` bias-corrected if asked. `null` updates stay `null`.
 */
export function scaleByRms(opts: ScaleByRmsOptions = {}): GradientTransformation<ScaleByRmsState> {
  const { decay = 0.9, eps = 1e-8, initialScale = 0, epsInSqrt = true, biasCorrection: correct = false } = opts;
  return {
    init: (params) => {
      const nu = fullLikeTree("scaleByRms.init", params, initialScale);
      return correct ? { count: zeroCount(), nu } : { nu };
    },
    update: (updates, state) => {
      const nu = updateMoment("scaleByRms", updates, state.nu, decay, 2);
      const count = correct ? safeIncrement(state.count!) : undefined;
      const nuHat = count ? biasCorrection("scaleByRms", nu, decay, count) : nu;
      const out = mapUpdates(
        "scaleByRms",
        (g, n) => np.multiply(epsInSqrt ? lax.rsqrt(np.add(n!, eps)) : np.divide(1, np.add(np.sqrt(n!), eps)), g),
        updates,
        nuHat,
      );
      return [out as typeof updates, count ? { count, nu } : { nu }];
    },
  };
}
