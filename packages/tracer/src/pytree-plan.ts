/**
 * Flatten/unflatten plans: a treedef compiled once into closures, for callers that see the same
 * structure on every call (a `filterJit` cache entry). See `TreeDef.plan()`.
 */
import { PytreeError } from "./errors";
import { isLeafValue, isPlainObject, lookupNodeByCtor, staticEqual, type TreeDef } from "./pytree";

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

type Reader = (x: unknown, out: unknown[]) => boolean;
type Builder = (leaves: readonly unknown[]) => unknown;

/**
 * A treedef compiled once into closures: `flattenInto` checks that a value has exactly this
 * structure while writing its leaves to fixed positions, and `unflatten` rebuilds it from
 * leaves, both without building treedefs, key lists or intermediate arrays. Registered
 * classes with `childrenInto` are read without allocating; leafless subtrees of
 * `immutable` classes are built once and shared by every rebuilt tree.
 */
export class TreePlan {
  readonly numLeaves: number;
  readonly #read: Reader;
  readonly #build: Builder;

  constructor(readonly treedef: TreeDef) {
    this.numLeaves = treedef.numLeaves;
    let next = 0;
    const reader = (t: TreeDef): Reader => {
      switch (t.kind) {
        case "leaf": {
          const k = next++;
          return (x, out) => {
            out[k] = x;
            return true;
          };
        }
        case "null":
          return (x) => x === null;
        case "undefined":
          return (x) => x === undefined;
        case "array": {
          const kids = t.children.map(reader);
          const n = kids.length;
          return (x, out) => {
            if (!globalThis.Array.isArray(x) || x.length !== n) return false;
            for (let i = 0; i < n; i++) if (!kids[i]!(x[i], out)) return false;
            return true;
          };
        }
        case "object": {
          const keys = t.aux as string[];
          const kids = t.children.map(reader);
          const n = kids.length;
          return (x, out) => {
            if (x === null || typeof x !== "object" || globalThis.Array.isArray(x) || !isPlainObject(x)) return false;
            let count = 0;
            for (const k in x) if (hasOwn(x, k)) count++;
            if (count !== n) return false;
            for (let i = 0; i < n; i++) {
              const key = keys[i]!;
              if (!hasOwn(x, key) || !kids[i]!((x as Record<string, unknown>)[key], out)) return false;
            }
            return true;
          };
        }
        case "custom": {
          const ctor = t.ctor!;
          const def = lookupNodeByCtor(ctor)!;
          const aux = t.aux;
          const kids = t.children.map(reader);
          const n = kids.length;
          const childrenInto = def.childrenInto?.bind(def);
          // The children of one node, read in place (a plan is not re-entrant: it calls no user code).
          const scratch = new globalThis.Array<unknown>(n);
          return (x, out) => {
            if (x === null || (typeof x !== "object" && typeof x !== "function") || (x as object).constructor !== ctor) return false;
            let children: readonly unknown[];
            if (childrenInto) {
              if (!childrenInto(x as never, aux, scratch)) return false;
              children = scratch;
            } else {
              const [c, a] = def.flatten(x as never);
              if (c.length !== n || !staticEqual(a, aux)) return false;
              children = c;
            }
            for (let i = 0; i < n; i++) if (!kids[i]!(children[i], out)) return false;
            return true;
          };
        }
      }
    };
    let at = 0;
    const builder = (t: TreeDef): Builder => {
      if (t.numLeaves === 0 && t.kind === "custom" && shareable(t)) {
        let shared: { value: unknown } | null = null;
        const make = t.unflatten.bind(t, []);
        return () => (shared ??= { value: make() }).value;
      }
      switch (t.kind) {
        case "leaf": {
          const k = at++;
          return (leaves) => leaves[k];
        }
        case "null":
          return () => null;
        case "undefined":
          return () => undefined;
        case "array": {
          const kids = t.children.map(builder);
          const n = kids.length;
          return (leaves) => {
            const a = new globalThis.Array<unknown>(n);
            for (let i = 0; i < n; i++) a[i] = kids[i]!(leaves);
            return a;
          };
        }
        case "object": {
          const keys = t.aux as string[];
          const kids = t.children.map(builder);
          const n = kids.length;
          const plain = !keys.includes("__proto__");
          return (leaves) => {
            const o: Record<string, unknown> = {};
            for (let i = 0; i < n; i++) {
              if (plain) o[keys[i]!] = kids[i]!(leaves);
              else Object.defineProperty(o, keys[i]!, { value: kids[i]!(leaves), writable: true, enumerable: true, configurable: true });
            }
            return o;
          };
        }
        case "custom": {
          const ctor = t.ctor!;
          const def = lookupNodeByCtor(ctor)!;
          const aux = t.aux;
          const kids = t.children.map(builder);
          const n = kids.length;
          if (def.reusableChildren) {
            // Filled and read before any other use of this plan node (children are built first).
            const scratch = new globalThis.Array<unknown>(n);
            return (leaves) => {
              for (let i = 0; i < n; i++) scratch[i] = kids[i]!(leaves);
              const node = def.unflatten(aux, scratch, ctor as never);
              scratch.fill(undefined);
              return node;
            };
          }
          return (leaves) => {
            const children = new globalThis.Array<unknown>(n);
            for (let i = 0; i < n; i++) children[i] = kids[i]!(leaves);
            return def.unflatten(aux, children, ctor as never);
          };
        }
      }
    };
    this.#read = reader(treedef);
    this.#build = builder(treedef);
  }

  /**
   * Writes the leaves of `x` to `out[0..numLeaves)` and returns true if `x` has exactly this
   * structure (what `treeFlatten(x)` then `equals` decides); returns false otherwise, with
   * `out` partly written.
   */
  flattenInto(x: unknown, out: unknown[]): boolean {
    if (!this.#read(x, out)) return false;
    for (let k = 0; k < this.numLeaves; k++) if (!isLeafValue(out[k])) return false;
    return true;
  }

  /**
   * `flattenInto` without checking that the values at leaf positions are leaves (not nodes):
   * for callers that check every leaf themselves, e.g. against the previous call's leaves by
   * identity or by array type.
   */
  readLeaves(x: unknown, out: unknown[]): boolean {
    return this.#read(x, out);
  }

  /** Rebuilds a tree of this structure from `leaves` (read, not kept). */
  unflatten(leaves: readonly unknown[]): unknown {
    if (leaves.length < this.numLeaves) {
      throw new PytreeError(
        `treeUnflatten: ${this.treedef} has ${this.numLeaves} leaves but ${leaves.length} were given — pass exactly one value per leaf`,
      );
    }
    return this.#build(leaves);
  }
}

/** A subtree without leaves made only of immutable registered nodes, `null` and `undefined`. */
function shareable(t: TreeDef): boolean {
  if (t.kind === "null" || t.kind === "undefined") return true;
  if (t.kind !== "custom" || lookupNodeByCtor(t.ctor!)?.immutable !== true) return false;
  return t.children.every(shareable);
}
