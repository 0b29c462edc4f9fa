/** `treeAt`: model surgery, returning a copy of a pytree with some nodes replaced. */
import { ArgumentError, treeFlatten, treeMap, type IsLeaf } from "@wax/tracer";

class LeafWrapper {
  constructor(readonly value: unknown) {}
}

export interface TreeAtOptions {
  /** Treat these subtrees as leaves (e.g. `x => x === null` to replace a `null`). */
  isLeaf?: IsLeaf;
}

/**
 * Returns a copy of `tree` where the node(s) selected by `where` are replaced (Equinox's
 * `tree_at`). `where` receives the tree and returns a node or an array of nodes; nodes are
 * matched by identity, so `where` must select parts of the tree without looking at values.
 * `replace` is the new value (an array of values when `where` returns an array), or pass
 * `{ replaceFn }` to compute it from the old one. Constructors are not re-run.
 *
 * @example
 * treeAt((m: Linear) => m.bias, linear, np.zeros([3]));
 * treeAt((m) => [m.a, m.b], model, [a2, b2]);
 */
export function treeAt<T>(where: (tree: T) => unknown, tree: T, replace: unknown, opts?: TreeAtOptions): T;
export function treeAt<T>(where: (tree: T) => unknown, tree: T, replace: { replaceFn: (old: unknown) => unknown }, opts?: TreeAtOptions): T;
export function treeAt<T>(where: (tree: T) => unknown, tree: T, replace: unknown, opts: TreeAtOptions = {}): T {
  const isLeaf = opts.isLeaf;
  const [leaves, def] = treeFlatten(tree, isLeaf);
  // Wrap every leaf in a fresh object so that leaves (numbers, shared arrays) have identities.
  const wrapped = def.unflatten(leaves.map((l) => new LeafWrapper(l))) as T;
  const selected = where(wrapped);
  const nodes = globalThis.Array.isArray(selected) ? selected : [selected];
  const many = globalThis.Array.isArray(selected);
  const replaceFn =
    replace !== null && typeof replace === "object" && "replaceFn" in (replace as object) && Object.keys(replace as object).length === 1
      ? (replace as { replaceFn: (old: unknown) => unknown }).replaceFn
      : null;
  const values = replaceFn ? null : many ? (replace as unknown[]) : [replace];
  if (values && (!globalThis.Array.isArray(values) || values.length !== nodes.length)) {
    throw new ArgumentError(
      `treeAt: where selected ${nodes.length} nodes but replace has ${globalThis.Array.isArray(values) ? values.length : "no"} values — give one value per node`,
    );
  }
  const index = new Map<unknown, number>();
  nodes.forEach((n, i) => {
    if (n === null || n === undefined || (typeof n !== "object" && typeof n !== "function")) {
      throw new ArgumentError(
        `treeAt: where returned ${String(n)}, which is not a node of the tree — select fields (m => m.weight), not values; to replace a null, pass { isLeaf: x => x === null }`,
      );
    }
    if (index.has(n)) throw new ArgumentError(`treeAt: where selects the same node twice — it does not uniquely identify a node`);
    index.set(n, i);
  });
  const found = new Set<number>();
  const [parts, partsDef] = treeFlatten(wrapped, (x) => index.has(x) || x instanceof LeafWrapper);
  const out = parts.map((p) => {
    const i = index.get(p);
    if (i === undefined) return (p as LeafWrapper).value;
    if (found.has(i))
      throw new ArgumentError("treeAt: where selects a node that appears twice in the tree — it does not uniquely identify a node");
    found.add(i);
    const old = unwrap(p);
    return replaceFn ? replaceFn(old) : values![i];
  });
  if (found.size !== nodes.length) {
    throw new ArgumentError(
      `treeAt: where returned ${nodes.length - found.size} node(s) that are not in the tree — it does not specify an element of the tree`,
    );
  }
  return partsDef.unflatten(out) as T;
}

function unwrap(x: unknown): unknown {
  return treeMap((l: unknown) => (l instanceof LeafWrapper ? l.value : l), x);
}
