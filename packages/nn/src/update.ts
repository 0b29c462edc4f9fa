/** `applyUpdates`: adds optimizer updates to a model's leaves. */
import { Array, ArgumentError, np, treeFlatten } from "@wax/tracer";

/**
 * `model + updates` leaf by leaf (Equinox's `apply_updates`). `updates` is a prefix of
 * `model`; where an update is `null` (a non-differentiated leaf) the model's value is kept.
 * No dtype cast is applied.
 */
export function applyUpdates<T>(model: T, updates: unknown): T {
  const [us, def] = treeFlatten(updates, (x) => x === null || x === undefined);
  const ps = def.flattenUpTo(model, "applyUpdates");
  return def.unflatten(
    us.map((u, i) => {
      if (u === null || u === undefined) return ps[i];
      if (!(ps[i] instanceof Array)) {
        throw new ArgumentError(
          `applyUpdates: leaf ${i} has an update but the model value is ${typeof ps[i]} — updates must be null where the model has no array`,
        );
      }
      return np.add(ps[i] as Array, u as Array);
    }),
  ) as T;
}
