/**
 * Equinox's filters: predicates on leaves, and `filter` / `partition` / `combine`, which split
 * a pytree into parts (with `null` holes) and join them back.
 */
import { Array, ArgumentError, isFloat, treeFlatten, type IsLeaf } from "@wax/tracer";

/** True for wax arrays (concrete or traced). JS numbers and booleans are not arrays. */
export function isArray(x: unknown): x is Array {
  return x instanceof Array;
}

/** True for arrays and JS numbers/booleans (Equinox's `is_array_like`). */
export function isArrayLike(x: unknown): boolean {
  return x instanceof Array || typeof x === "number" || typeof x === "boolean";
}

/** True for floating-point arrays: the leaves `filterGrad` differentiates and optimizers update. */
export function isInexactArray(x: unknown): x is Array {
  return x instanceof Array && isFloat(x.dtype);
}

/** A filter spec: a prefix pytree whose leaves are booleans or predicates on leaves. */
export type FilterSpec = boolean | ((leaf: unknown) => boolean) | object;

export interface FilterOptions {
  /** Keep the leaves that fail the test instead. */
  inverse?: boolean;
  /** Value put in place of removed leaves (default `null`, an empty subtree). */
  replace?: unknown;
  /** Stop flattening at these subtrees and treat them as leaves. */
  isLeaf?: IsLeaf;
}

const isSpecLeaf = (x: unknown) => typeof x === "boolean" || typeof x === "function";

/**
 * Keeps the leaves of `tree` that pass `spec`, replacing the others by `replace` (`null`).
 *
 * @example
 * const params = filter(model, isInexactArray);   // arrays only, null elsewhere
 */
export function filter<T>(tree: T, spec: FilterSpec, opts: FilterOptions = {}): T {
  const { inverse = false, replace = null, isLeaf } = opts;
  const [specs, specDef] = treeFlatten(spec, isSpecLeaf);
  const subtrees = specDef.flattenUpTo(tree, "filter");
  const out = subtrees.map((sub, i) => {
    const s = specs[i];
    if (!isSpecLeaf(s)) {
      throw new ArgumentError(
        `filter: the filter spec must hold booleans or predicates, got ${typeof s} at leaf ${i} — pass e.g. isInexactArray or true/false`,
      );
    }
    const [leaves, def] = treeFlatten(sub, isLeaf);
    return def.unflatten(
      leaves.map((l) => {
        const keep = typeof s === "boolean" ? s : (s as (x: unknown) => unknown)(l);
        if (typeof keep !== "boolean") {
          throw new ArgumentError(
            `filter: a filter predicate must return a boolean, got ${String(keep)} — predicates must not depend on traced values`,
          );
        }
        return keep !== inverse ? l : replace;
      }),
    );
  });
  return specDef.unflatten(out) as T;
}

/** `[filter(tree, spec), filter(tree, spec, {inverse: true})]`: two trees with `null` holes. */
export function partition<T>(tree: T, spec: FilterSpec, opts: Omit<FilterOptions, "inverse"> = {}): [T, T] {
  return [filter(tree, spec, opts), filter(tree, spec, { ...opts, inverse: true })];
}

const isHole = (x: unknown) => x === null || x === undefined;

/**
 * Joins trees of the same structure whose holes are `null`: each leaf is the first non-null
 * value among the trees, in argument order (so order matters where several have a value).
 */
export function combine<T>(...trees: T[]): T {
  if (trees.length === 0) throw new ArgumentError("combine: needs at least one tree");
  const [first, def] = treeFlatten(trees[0], isHole);
  const others = trees.slice(1).map((t) => def.flattenUpTo(t, "combine"));
  return def.unflatten(
    first.map((l, i) => {
      if (!isHole(l)) return l;
      for (const o of others) if (!isHole(o[i])) return o[i];
      return l;
    }),
  ) as T;
}
