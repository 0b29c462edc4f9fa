/** `chain`: composes gradient transformations in sequence (Optax's `optax.chain`). */
import { ArgumentError } from "@wax/tracer";
import type { GradientTransformation } from "./base";

/**
 * Applies `transforms` one after another. The state is a JS array (Optax's tuple) holding
 * each transformation's state in order; `params` is passed to every `update`.
 *
 * @example
 * const optim = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3));
 */
export function chain(...transforms: GradientTransformation<unknown>[]): GradientTransformation<unknown[]> {
  return {
    init: (params) => transforms.map((t) => t.init(params)),
    update: (updates, state, params) => {
      if (!globalThis.Array.isArray(state) || state.length !== transforms.length) {
        const got = globalThis.Array.isArray(state) ? `${state.length} states` : typeof state;
        throw new ArgumentError(
          `chain.update: ${transforms.length} transformations but the state holds ${got} — pass the state returned by this optimizer's init (or its last update)`,
        );
      }
      let u: unknown = updates;
      const next = transforms.map((t, i) => {
        const [u2, s2] = t.update(u, state[i], params);
        u = u2;
        return s2;
      });
      return [u as typeof updates, next];
    },
  };
}
