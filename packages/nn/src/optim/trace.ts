/** `trace`: heavy-ball momentum (Optax's `optax.trace`), the accumulator behind `sgd`'s momentum. */
import { Array, np } from "@wax/tracer";
import type { GradientTransformation } from "./base";
import { fullLikeTree, mapUpdates } from "./tree";

/** The momentum accumulator, with the structure of the parameters. */
export interface TraceState {
  trace: unknown;
}

/**
 * `t = g + decay * t` (a sum, not an EMA) and the update is `t`, or `g + decay * t` with
 * `nesterov`. `null` updates stay `null`.
 */
export function trace(opts: { decay: number; nesterov?: boolean }): GradientTransformation<TraceState> {
  const { decay, nesterov = false } = opts;
  const f = (g: Array, t: Array) => np.add(g, np.multiply(decay, t));
  return {
    init: (params) => ({ trace: fullLikeTree("trace.init", params, 0) }),
    update: (updates, state) => {
      const next = mapUpdates("trace", (g, t) => f(g, t), updates, state.trace);
      const out = nesterov ? mapUpdates("trace", (g, t) => f(g, t), updates, next) : next;
      return [out as typeof updates, { trace: next }];
    },
  };
}
