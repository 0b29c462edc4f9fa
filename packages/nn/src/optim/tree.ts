/**
 * Tree helpers shared by the optimizers: Optax's `tree.map(..., is_leaf=lambda x: x is None)`
 * idiom, where a `null` gradient is a leaf that maps to `null`, so the structures of updates
 * and optimizer state line up even where Equinox's `filter` left holes.
 */
import { Array, ArgumentError, asArray, keystr, np, treeFlatten, treeFlattenWithPath, zerosLike } from "@wax/tracer";

/** `null` or `undefined`: a hole left by `filter` / `filterGrad` (JAX's `None`). */
export const isHole = (x: unknown): x is null | undefined => x === null || x === undefined;

function pathOf(tree: unknown, i: number): string {
  const [paths] = treeFlattenWithPath(tree, isHole);
  const p = paths[i];
  return p === undefined || p[0].length === 0 ? "the root" : keystr(p[0]);
}

/**
 * Maps `f` over the array leaves of `updates`; holes stay holes. Each of `rest` must have
 * `updates`' structure (holes included) as a prefix, and `f` receives the matching subtrees.
 * Throws when `updates` holds an array where a state tree holds a hole, naming the leaf.
 */
export function mapUpdates(op: string, f: (g: Array, ...rest: Array[]) => Array, updates: unknown, ...rest: unknown[]): unknown {
  const [gs, def] = treeFlatten(updates, isHole);
  const others = rest.map((r) => def.flattenUpTo(r, op));
  return def.unflatten(
    gs.map((g, i) => {
      if (isHole(g)) return g;
      if (!(g instanceof Array)) {
        throw new ArgumentError(
          `${op}: the update at ${pathOf(updates, i)} is a ${typeof g}, not an array — gradients must be arrays or null (filter the model with isInexactArray)`,
        );
      }
      const xs = others.map((o) => o[i]);
      xs.forEach((x) => {
        if (!(x instanceof Array)) {
          throw new ArgumentError(
            `${op}: the update at ${pathOf(updates, i)} is ${g.aval} but the optimizer state / params hold ${x === null ? "null" : typeof x} there — init the optimizer with the same filter as the gradients (e.g. filter(model, isInexactArray))`,
          );
        }
      });
      return f(g, ...(xs as Array[]));
    }),
  );
}

/**
 * `optax.tree.full_like`: a tree of `params`' structure with every array replaced by an array
 * of `value` of the same shape and dtype. Holes stay holes; JS numbers and booleans become
 * arrays (as `jnp.zeros_like(1.0)`); other leaves are an error.
 */
export function fullLikeTree(op: string, params: unknown, value: number): unknown {
  const [leaves, def] = treeFlatten(params, isHole);
  return def.unflatten(
    leaves.map((p, i) => {
      if (isHole(p)) return p;
      if (p instanceof Array) return value === 0 ? zerosLike(p) : np.fullLike(p, value);
      if (typeof p === "number" || typeof p === "boolean") return np.fullLike(asArray(p), value);
      throw new ArgumentError(
        `${op}: the parameter at ${pathOf(params, i)} is a ${typeof p}, which has no zeros — pass filter(model, isInexactArray) to init, not the model itself`,
      );
    }),
  );
}

/** The array leaves of a tree (holes skipped). */
export function arrayLeaves(tree: unknown): Array[] {
  return treeFlatten(tree)[0].filter((x): x is Array => x instanceof Array);
}
