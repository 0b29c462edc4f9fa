/**
 * Pytrees: nested JS arrays, plain objects (keys sorted, as JAX sorts dict keys), `null`,
 * `undefined` and registered classes are nodes; every other value is a leaf.
 *
 * A registered class flattens to children plus static "aux" data; the aux data is part of
 * the treedef and compared by value. Treedefs hash and compare in O(size).
 */
import { PytreeError } from "./errors";
import { TreePlan } from "./pytree-plan";

/** How a registered class flattens and unflattens. */
export interface PytreeNodeDef<T = unknown> {
  /** Children (subtrees) in a fixed order, and the static part (compared by value). */
  flatten(node: T): [children: unknown[], aux: unknown];
  /** Rebuilds a node of class `ctor` from the static part and the children. */
  unflatten(aux: unknown, children: unknown[], ctor: abstract new (...args: never[]) => T): T;
  /** Name used when printing treedefs (defaults to the class name). */
  name?: string;
  /** Key of each child for key paths (e.g. field names); defaults to positions `[i]`. */
  keys?(node: T): KeyEntry[];
  /** Treedef printing: the node from its static part and its children's printed forms. */
  describe?(aux: unknown, children: string[], name: string): string;
  /**
   * Fast path of plans (optional): if `node`'s static part equals `aux` (what `flatten` would
   * return, compared with `staticEqual`), writes its children to `out[0..)` and returns true;
   * otherwise returns false. Must not allocate: a plan calls it on every call.
   */
  childrenInto?(node: T, aux: unknown, out: unknown[]): boolean;
  /**
   * Nodes of this class never change after construction, so a plan may build a subtree of
   * them without leaves once and return that same object on every unflatten.
   */
  immutable?: boolean;
  /** `unflatten` only reads its `children` array (keeps no reference), so a plan may reuse one. */
  reusableChildren?: boolean;
}

/**
 * One step of a key path, as JAX's `GetAttrKey` / `DictKey` / `SequenceKey`: `attr` prints
 * `.name`, `key` prints `['name']`, `index` prints `[i]`.
 */
export type KeyEntry = { kind: "attr"; name: string } | { kind: "key"; name: string } | { kind: "index"; index: number };

/** JAX's `keystr`: `.norm1.weight`, `['a'][0]`. */
export function keystr(path: readonly KeyEntry[]): string {
  return path.map((k) => (k.kind === "attr" ? `.${k.name}` : k.kind === "key" ? `['${k.name}']` : `[${k.index}]`)).join("");
}

type Ctor = abstract new (...args: never[]) => unknown;
const registry = new Map<Ctor, PytreeNodeDef<never>>();

/**
 * Registers a class as a pytree node. Subclasses inherit the registration (lookup walks the
 * prototype chain), and `unflatten` receives the concrete class, so a base class such as
 * `Module` registers once for all its subclasses.
 */
export function registerPytreeNode<T>(ctor: Ctor, def: PytreeNodeDef<T>): void {
  if (registry.has(ctor)) throw new PytreeError(`registerPytreeNode: ${ctor.name} is already registered — register each class once`);
  registry.set(ctor, def as PytreeNodeDef<never>);
  byProto = new WeakMap();
}

// Registration lookup per immediate prototype (flattening asks for every leaf and node).
let byProto = new WeakMap<object, PytreeNodeDef<never> | null>();

function lookupNode(x: object): PytreeNodeDef<never> | undefined {
  const first = Object.getPrototypeOf(x) as { constructor?: Ctor } | null;
  if (first === null) return undefined;
  const cached = byProto.get(first);
  if (cached !== undefined) return cached ?? undefined;
  let found: PytreeNodeDef<never> | null = null;
  let proto: { constructor?: Ctor } | null = first;
  while (proto !== null && proto !== Object.prototype) {
    const def = proto.constructor ? registry.get(proto.constructor) : undefined;
    if (def) {
      found = def;
      break;
    }
    proto = Object.getPrototypeOf(proto) as { constructor?: Ctor } | null;
  }
  byProto.set(first, found);
  return found ?? undefined;
}

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/** Whether `x` flattens to itself (is not a node), decided without allocating. */
export function isLeafValue(x: unknown): boolean {
  if (x === null || x === undefined) return false;
  if (typeof x !== "object" && typeof x !== "function") return true;
  if (globalThis.Array.isArray(x) || (typeof x === "object" && isPlainObject(x))) return false;
  return lookupNode(x) === undefined;
}

export function isPlainObject(x: object): boolean {
  const proto = Object.getPrototypeOf(x) as object | null;
  return proto === Object.prototype || proto === null;
}

export type NodeKind = "leaf" | "null" | "undefined" | "array" | "object" | "custom";

// ---- value equality and hashing of static data -------------------------------------------

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;
function objectId(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(o, id);
  }
  return id;
}

function hashString(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x01000193) >>> 0;
}

/**
 * Hash of a static value, consistent with `staticEqual`: primitives and plain
 * objects/arrays by value, functions and other objects by identity.
 */
export function staticHash(v: unknown, h = 0x811c9dc5): number {
  switch (typeof v) {
    case "number":
      return hashString(Object.is(v, -0) ? "-0" : String(v), mix(h, 1));
    case "string":
      return hashString(v, mix(h, 2));
    case "boolean":
      return mix(h, v ? 3 : 4);
    case "undefined":
      return mix(h, 5);
    case "bigint":
      return hashString(v.toString(), mix(h, 6));
    case "symbol":
    case "function":
      return mix(h, objectId(v as object));
    case "object": {
      if (v === null) return mix(h, 7);
      if (globalThis.Array.isArray(v)) {
        h = mix(h, 8 + v.length);
        for (const x of v) h = staticHash(x, h);
        return h;
      }
      if (isPlainObject(v)) {
        const keys = Object.keys(v).sort();
        h = mix(h, 9 + keys.length);
        for (const k of keys) h = staticHash((v as Record<string, unknown>)[k], hashString(k, h));
        return h;
      }
      return mix(h, objectId(v));
    }
  }
}

/** Equality of static values: `Object.is` for primitives (NaN equals NaN, 0 differs from -0), deep for plain arrays/objects, identity otherwise. */
export function staticEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (globalThis.Array.isArray(a)) {
    if (!globalThis.Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!staticEqual(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a) && !globalThis.Array.isArray(b) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
      if (!staticEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    }
    return true;
  }
  return false;
}

function staticStr(v: unknown): string {
  if (typeof v === "function") return v.name ? `<function ${v.name}>` : "<function>";
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "undefined";
  if (typeof v === "object" && v !== null && !globalThis.Array.isArray(v) && !isPlainObject(v)) {
    return `<${v.constructor?.name ?? "object"}>`;
  }
  if (typeof v === "bigint" || typeof v === "symbol") return String(v);
  try {
    return JSON.stringify(v) ?? "undefined";
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// ---- treedefs -----------------------------------------------------------------------------

/** The structure of a pytree: everything but its leaves. Immutable; hashed at construction. */
export class TreeDef {
  readonly numLeaves: number;
  readonly numNodes: number;
  readonly hash: number;
  constructor(
    readonly kind: NodeKind,
    readonly children: readonly TreeDef[],
    /** Sorted keys for objects; the static part for registered classes. */
    readonly aux: unknown = undefined,
    /** The concrete class of a registered node. */
    readonly ctor: Ctor | null = null,
  ) {
    let leaves = kind === "leaf" ? 1 : 0;
    let nodes = 1;
    let h = mix(0x811c9dc5, KIND_CODE[kind]);
    if (ctor) h = mix(h, objectId(ctor));
    if (aux !== undefined) h = staticHash(aux, h);
    h = mix(h, children.length);
    for (const c of children) {
      leaves += c.numLeaves;
      nodes += c.numNodes;
      h = mix(h, c.hash);
    }
    this.numLeaves = leaves;
    this.numNodes = nodes;
    this.hash = h;
  }

  #plan: TreePlan | null = null;

  /**
   * The flatten/unflatten plan of this structure, built on first use and kept: callers that
   * see the same structure on every call (a `filterJit` cache entry) flatten and rebuild
   * through it without building treedefs or intermediate lists.
   */
  plan(): TreePlan {
    return (this.#plan ??= new TreePlan(this));
  }

  /** Structural equality, including static parts (by value). */
  equals(other: TreeDef): boolean {
    if (this === other) return true;
    if (this.hash !== other.hash || this.kind !== other.kind || this.ctor !== other.ctor) return false;
    if (this.children.length !== other.children.length) return false;
    if (!staticEqual(this.aux, other.aux)) return false;
    for (let i = 0; i < this.children.length; i++) {
      if (!this.children[i]!.equals(other.children[i]!)) return false;
    }
    return true;
  }

  /** Readable form, e.g. `PyTreeDef({a: *, b: [*, null]})`. */
  toString(): string {
    return `PyTreeDef(${this.str()})`;
  }

  private str(): string {
    switch (this.kind) {
      case "leaf":
        return "*";
      case "null":
        return "null";
      case "undefined":
        return "undefined";
      case "array":
        return `[${this.children.map((c) => c.str()).join(", ")}]`;
      case "object": {
        const keys = this.aux as string[];
        return `{${keys.map((k, i) => `${k}: ${this.children[i]!.str()}`).join(", ")}}`;
      }
      case "custom": {
        // A registration's name applies to the registered class itself; subclasses print their own.
        const own = registry.get(this.ctor!);
        const name = own?.name ?? this.ctor!.name;
        const def = lookupNodeByCtor(this.ctor!);
        if (def?.describe)
          return def.describe(
            this.aux,
            this.children.map((c) => c.str()),
            name,
          );
        const aux = this.aux === undefined || this.aux === null ? "" : `[${staticStr(this.aux)}]`;
        return `${name}${aux}(${this.children.map((c) => c.str()).join(", ")})`;
      }
    }
  }

  /** Rebuilds a tree from leaves in flattening order. */
  unflatten(leaves: readonly unknown[]): unknown {
    if (leaves.length !== this.numLeaves) {
      throw new PytreeError(
        `treeUnflatten: ${this} has ${this.numLeaves} leaves but ${leaves.length} were given — pass exactly one value per leaf`,
      );
    }
    let i = 0;
    const build = (t: TreeDef): unknown => {
      switch (t.kind) {
        case "leaf":
          return leaves[i++];
        case "null":
          return null;
        case "undefined":
          return undefined;
        case "array":
          return t.children.map(build);
        case "object": {
          // fromEntries defines own keys, so even a "__proto__" key round-trips.
          const keys = t.aux as string[];
          return Object.fromEntries(keys.map((k, j) => [k, build(t.children[j]!)]));
        }
        case "custom": {
          const def = lookupNodeByCtor(t.ctor!)!;
          return def.unflatten(t.aux, t.children.map(build), t.ctor as never);
        }
      }
    };
    return build(this);
  }

  /**
   * Appends the leaves of `x` to `out` if `x` has exactly this structure (kinds, lengths, keys,
   * classes and their static parts) and returns true; else returns false. The same as
   * `treeFlatten(x)` then `equals`, without building a treedef: the `filterJit` cache's fast path.
   */
  matchLeaves(x: unknown, out: unknown[]): boolean {
    switch (this.kind) {
      case "leaf":
        if (!isLeafValue(x)) return false;
        out.push(x);
        return true;
      case "null":
        return x === null;
      case "undefined":
        return x === undefined;
      case "array": {
        if (!globalThis.Array.isArray(x) || x.length !== this.children.length) return false;
        for (let i = 0; i < x.length; i++) if (!this.children[i]!.matchLeaves(x[i], out)) return false;
        return true;
      }
      case "object": {
        if (x === null || typeof x !== "object" || globalThis.Array.isArray(x) || !isPlainObject(x)) return false;
        const keys = this.aux as string[];
        let n = 0;
        for (const k in x) if (hasOwn(x, k)) n++;
        if (n !== keys.length) return false;
        for (let i = 0; i < keys.length; i++) {
          if (!hasOwn(x, keys[i]!)) return false;
          if (!this.children[i]!.matchLeaves((x as Record<string, unknown>)[keys[i]!], out)) return false;
        }
        return true;
      }
      case "custom": {
        if (x === null || (typeof x !== "object" && typeof x !== "function") || (x as object).constructor !== this.ctor) return false;
        const [children, aux] = lookupNode(x as object)!.flatten(x as never);
        if (children.length !== this.children.length || !staticEqual(aux, this.aux)) return false;
        for (let i = 0; i < children.length; i++) if (!this.children[i]!.matchLeaves(children[i], out)) return false;
        return true;
      }
    }
  }

  /**
   * Splits `tree` into the subtrees sitting at this treedef's leaves; `tree` must have this
   * treedef as a prefix (used for vmap's `inAxes` and similar prefix specs).
   */
  flattenUpTo(tree: unknown, what = "tree"): unknown[] {
    const out: unknown[] = [];
    const rec = (t: TreeDef, x: unknown, path: string): void => {
      if (t.kind === "leaf") {
        out.push(x);
        return;
      }
      const [kind, children, aux, ctor] = nodeOf(x);
      if (kind !== t.kind || ctor !== t.ctor || !staticEqual(aux, t.aux) || children.length !== t.children.length) {
        throw new PytreeError(
          `${what}: expected ${new TreeDef(t.kind, t.children, t.aux, t.ctor)} at ${path || "the root"} but got ${describe(x)} — the structures must match`,
        );
      }
      const keys = kind === "object" ? (aux as string[]) : null;
      children.forEach((c, i) => rec(t.children[i]!, c, `${path}${keys ? `.${keys[i]}` : `[${i}]`}`));
    };
    rec(this, tree, "");
    return out;
  }
}

const KIND_CODE: Record<NodeKind, number> = { leaf: 1, null: 2, undefined: 3, array: 4, object: 5, custom: 6 };

export function lookupNodeByCtor(ctor: Ctor): PytreeNodeDef<never> | undefined {
  return lookupNode(Object.create(ctor.prototype as object) as object);
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x !== "object") return typeof x;
  if (globalThis.Array.isArray(x)) return `an array of length ${x.length}`;
  return isPlainObject(x) ? `an object with keys {${Object.keys(x).sort().join(", ")}}` : `a ${x.constructor?.name ?? "object"}`;
}

/** Node decomposition of one value (leaves report kind "leaf"). */
function nodeOf(x: unknown): [NodeKind, unknown[], unknown, Ctor | null] {
  if (x === null) return ["null", [], undefined, null];
  if (x === undefined) return ["undefined", [], undefined, null];
  if (typeof x === "function") {
    // Callable registered nodes (e.g. nn Modules, which are function objects so that `model(x)` works).
    const def = lookupNode(x);
    if (!def) return ["leaf", [], undefined, null];
    const [children, aux] = def.flatten(x as never);
    return ["custom", children, aux, (x as object).constructor as Ctor];
  }
  if (typeof x !== "object") return ["leaf", [], undefined, null];
  if (globalThis.Array.isArray(x)) return ["array", x, undefined, null];
  if (isPlainObject(x)) {
    const keys = Object.keys(x).sort();
    return ["object", keys.map((k) => (x as Record<string, unknown>)[k]), keys, null];
  }
  const def = lookupNode(x);
  if (def) {
    const [children, aux] = def.flatten(x as never);
    return ["custom", children, aux, (x as object).constructor as Ctor];
  }
  return ["leaf", [], undefined, null];
}

/** Past this nesting depth a walk checks its path for cycles; past `MAX_DEPTH` it stops. */
const CYCLE_CHECK_DEPTH = 64;
const MAX_DEPTH = 4000;

/**
 * Guards a recursive walk against cyclic pytrees (an object that contains itself), which would
 * otherwise overflow the stack. `path` holds the nodes being visited; the check only runs on
 * deep paths, so ordinary trees pay a push and a pop per node.
 */
function enterNode(op: string, path: unknown[], x: unknown): void {
  if (path.length >= CYCLE_CHECK_DEPTH) {
    const at = path.indexOf(x);
    if (at >= 0) {
      throw new PytreeError(
        `${op}: the pytree contains a cycle (${describe(x)} at depth ${at} contains itself at depth ${path.length}) — pytrees must be trees: break the cycle, or keep the back-reference out of the tree (a static field or a WeakMap)`,
      );
    }
    if (path.length >= MAX_DEPTH) {
      throw new PytreeError(
        `${op}: the pytree is nested more than ${MAX_DEPTH} levels deep — flatten the structure (use a list of nodes instead of a chain)`,
      );
    }
  }
  path.push(x);
}

/** `isLeaf` lets a caller stop flattening at chosen subtrees (as JAX's `is_leaf`). */
export type IsLeaf = (x: unknown) => boolean;

/** Flattens a pytree into its leaves (depth-first, keys sorted) and its treedef. */
export function treeFlatten(tree: unknown, isLeaf?: IsLeaf): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const path: unknown[] = [];
  const rec = (x: unknown): TreeDef => {
    if (isLeaf?.(x)) {
      leaves.push(x);
      return LEAF;
    }
    const [kind, children, aux, ctor] = nodeOf(x);
    if (kind === "leaf") {
      leaves.push(x);
      return LEAF;
    }
    if (kind === "null") return NULL_DEF;
    if (kind === "undefined") return UNDEFINED_DEF;
    enterNode("treeFlatten", path, x);
    const def = new TreeDef(kind, children.map(rec), aux, ctor);
    path.pop();
    return def;
  };
  const def = rec(tree);
  return [leaves, def];
}

const LEAF = new TreeDef("leaf", []);
const NULL_DEF = new TreeDef("null", []);
const UNDEFINED_DEF = new TreeDef("undefined", []);

/** The inverse of `treeFlatten`. */
export function treeUnflatten(treedef: TreeDef, leaves: readonly unknown[]): unknown {
  return treedef.unflatten(leaves);
}

export function treeLeaves(tree: unknown, isLeaf?: IsLeaf): unknown[] {
  return treeFlatten(tree, isLeaf)[0];
}

export function treeStructure(tree: unknown, isLeaf?: IsLeaf): TreeDef {
  return treeFlatten(tree, isLeaf)[1];
}

/**
 * Maps `f` over the leaves of `tree`; each of `rest` must have `tree`'s structure as a
 * prefix, and `f` receives the corresponding subtrees.
 */
export function treeMap(f: (...xs: never[]) => unknown, tree: unknown, ...rest: unknown[]): unknown {
  const g = f as (...xs: unknown[]) => unknown;
  const [leaves, def] = treeFlatten(tree);
  const others = rest.map((r) => def.flattenUpTo(r, "treeMap"));
  return def.unflatten(leaves.map((l, i) => g(l, ...others.map((o) => o[i]))));
}

/**
 * Flattens with the key path of every leaf (JAX's `tree_flatten_with_path`): arrays give
 * `index` entries, plain objects `key` entries, registered classes their `keys()` (or
 * positions).
 */
export function treeFlattenWithPath(tree: unknown, isLeaf?: IsLeaf): [[KeyEntry[], unknown][], TreeDef] {
  const out: [KeyEntry[], unknown][] = [];
  const nodes: unknown[] = [];
  const rec = (x: unknown, path: KeyEntry[]): void => {
    if (isLeaf?.(x)) {
      out.push([path, x]);
      return;
    }
    const [kind, children, aux] = nodeOf(x);
    if (kind === "leaf") {
      out.push([path, x]);
      return;
    }
    let keys: KeyEntry[];
    if (kind === "object") keys = (aux as string[]).map((name) => ({ kind: "key", name }));
    else if (kind === "custom")
      keys = lookupNode(x as object)!.keys?.(x as never) ?? children.map((_, index) => ({ kind: "index", index }));
    else keys = children.map((_, index) => ({ kind: "index", index }));
    enterNode("treeFlattenWithPath", nodes, x);
    children.forEach((c, i) => rec(c, [...path, keys[i]!]));
    nodes.pop();
  };
  rec(tree, []);
  return [out, treeStructure(tree, isLeaf)];
}

/** A treedef with `n` leaves in a JS array: `[*, *, ...]`. */
export function treeDefOfLeaves(n: number): TreeDef {
  return new TreeDef(
    "array",
    globalThis.Array.from({ length: n }, () => LEAF),
  );
}
