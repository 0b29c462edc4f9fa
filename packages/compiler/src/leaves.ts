/**
 * The leaves `filterJit` traces (wax arrays and TypedArrays) and a structural match of
 * arguments against a cached treedef, the cache's fast path for nested pytrees.
 */
import { Array, Aval, treeFlatten, treeStructure, type DType, type TreeDef, type TypedArray } from "@wax/tracer";
import { typedArrayDtype as typedDtype } from "@wax/runtime";

export { typedDtype };

/** Whether a leaf is traced (an array) rather than static. */
export function isDynamic(x: unknown): boolean {
  return x instanceof Array || typedDtype(x) !== null;
}

/** Shape and dtype of a traced leaf (a TypedArray is one-dimensional). */
export function avalOf(x: unknown): Aval {
  if (x instanceof Array) return x.aval;
  return new Aval([(x as TypedArray).length], typedDtype(x)!);
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Appends the leaves of `x` to `out` if `x` has the structure `def` (kinds, lengths, object
 * keys, registered classes and their static parts), else returns false. Equivalent to
 * `treeFlatten(x)` followed by `treedef.equals(def)`, without allocating a treedef.
 */
export function matchLeaves(def: TreeDef, x: unknown, out: unknown[]): boolean {
  switch (def.kind) {
    case "leaf":
      // A value that is a node (array, plain object, null, registered class) is not a leaf.
      if (x === null || x === undefined || globalThis.Array.isArray(x)) return false;
      if (typeof x === "object" || typeof x === "function") {
        const proto = Object.getPrototypeOf(x);
        if (proto === Object.prototype || proto === null) return false;
        if (!(x instanceof Array) && typedDtype(x) === null && treeStructure(x).kind !== "leaf") return false;
      }
      out.push(x);
      return true;
    case "null":
      return x === null;
    case "undefined":
      return x === undefined;
    case "array": {
      if (!globalThis.Array.isArray(x) || x.length !== def.children.length) return false;
      for (let i = 0; i < x.length; i++) if (!matchLeaves(def.children[i]!, x[i], out)) return false;
      return true;
    }
    case "object": {
      if (x === null || typeof x !== "object") return false;
      const proto = Object.getPrototypeOf(x);
      if (proto !== Object.prototype && proto !== null) return false;
      const keys = def.aux as string[];
      let n = 0;
      for (const k in x) if (hasOwn.call(x, k)) n++;
      if (n !== keys.length) return false;
      for (let i = 0; i < keys.length; i++) {
        if (!hasOwn.call(x, keys[i]!)) return false;
        if (!matchLeaves(def.children[i]!, (x as Record<string, unknown>)[keys[i]!], out)) return false;
      }
      return true;
    }
    case "custom": {
      const [leaves, d] = treeFlatten(x);
      if (!d.equals(def)) return false;
      for (const l of leaves) out.push(l);
      return true;
    }
  }
}
