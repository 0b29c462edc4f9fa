/** `clipByGlobalNorm`: rescales all updates together when their joint norm is too large (Pascanu et al. 2012). */
import { Array, np } from "@wax/tracer";
import { emptyState, type EmptyState, type GradientTransformation } from "./base";
import { arrayLeaves, mapUpdates } from "./tree";

/** `sqrt(Σ_leaves Σ u²)` over the array leaves of a tree (Optax's `tree.norm`); 0 for no leaves. */
export function globalNorm(updates: unknown): Array {
  let sq: Array | number = 0;
  for (const u of arrayLeaves(updates)) sq = np.add(sq, np.sum(np.square(u)));
  return np.sqrt(sq);
}

/**
 * Leaves updates unchanged when their global norm is strictly below `maxNorm`; otherwise each
 * becomes `(u / norm) * maxNorm`. A select, not a `min` formula, as Optax. Empty state.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  return {
    init: () => emptyState(),
    update: (updates, state) => {
      const norm = globalNorm(updates);
      const keep = np.less(norm, maxNorm);
      const out = mapUpdates(
        "clipByGlobalNorm",
        (u) => np.where(keep, u, np.multiply(np.divide(u, np.astype(norm, u.dtype)), maxNorm)),
        updates,
      );
      return [out as typeof updates, state];
    },
  };
}
