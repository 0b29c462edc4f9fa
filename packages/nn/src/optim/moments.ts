/** Moment updates and bias correction shared by Adam and RMSProp (Optax's `tree_utils`). */
import { Array, np } from "@wax/tracer";
import { mapUpdates } from "./tree";

/**
 * `(1 - decay) * g**order + decay * moment` per leaf (`order` 1 or 2); `null` updates give
 * `null` moments (Optax's `update_moment` / `update_moment_per_elem_norm` for real inputs).
 */
export function updateMoment(op: string, updates: unknown, moments: unknown, decay: number | Array, order: 1 | 2): unknown {
  return mapUpdates(
    op,
    (g, m) => np.add(np.multiply(oneMinus(decay), order === 2 ? np.square(g) : g), np.multiply(decay, m!)),
    updates,
    moments,
  );
}

/** `1 - decay`: JS arithmetic for a number (as before), an array op for an injected hyperparameter. */
export function oneMinus(decay: number | Array): number | Array {
  return typeof decay === "number" ? 1 - decay : np.subtract(1, decay);
}

/**
 * `moment / (1 - decay**count)`. The factor is computed first (in float32 from the int32
 * count) and then cast to the leaf dtype, as Optax does, so low-precision moments never see
 * `decay**count` rounded to 1.
 */
export function biasCorrection(op: string, moments: unknown, decay: number | Array, count: Array): unknown {
  const factor = np.subtract(1, np.power(decay, count));
  return mapUpdates(op, (m) => np.divide(m, np.astype(factor, m.dtype)), moments);
}
