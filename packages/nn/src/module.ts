/**
 * `Module`: Equinox's immutable, callable pytree classes.
 *
 * A Module's fields are its pytree children, in the order they are declared (inherited
 * fields first, as dataclass fields); fields marked `@field({ static: true })` are part of the
 * treedef instead (compared by value, part of `filterJit`'s cache key), like Equinox's
 * `field(static=True)`. Every instance of a class has the same fields.
 *
 * Modules are callable like Python objects with `__call__`: an instance is a function object
 * whose prototype is the class's, so `model(x, state)` runs `model.__call__(x, state)`, and a
 * model can be passed wherever a function goes (`vmap(model, ...)`, `filterJit`, `Partial`).
 *
 * Construction and sealing (Equinox's metaclass `__call__`, which JS has no hook for): a
 * constructor works on a Proxy that records which declared fields it assigns. Each field may
 * be assigned once, an undeclared name never, and nothing may be deleted, so a Module accepts
 * no change once its constructor returns. It is then *finalised*: every declared field must
 * have been assigned ("field 'x' was not initialized"), static fields holding arrays warn, and
 * the instance is frozen. Finalising happens when the Module is stored in a field of the
 * Module under construction (so every sub-layer is checked before its parent's constructor
 * returns), and otherwise at its first use: a call, a flatten (`filterJit`, `vmap`, `treeAt`,
 * ...), `makeWithState`, printing.
 *
 * Rebuilt Modules (unflatten: `treeAt`, `filter`, `applyUpdates`, every `filterJit` output)
 * run no constructor and make no Proxy: a function object gets the fields and the class's
 * prototype, and is frozen. They have the same fields, class, callability and treedef as the
 * Module they were flattened from. Adding a field to one throws the same `ModuleError`;
 * reassigning a field throws the engine's `TypeError` for a frozen object.
 *
 * Declare fields in the class body (`weight: Array;`) and assign them in the constructor.
 * Use module-level functions rather than `#private` members: copies are rebuilt without the
 * constructor.
 */
import { Array as WaxArray, WaxError, registerPytreeNode, type KeyEntry } from "@wax/tracer";
import { Layout, anonymous, type Aux, type ModuleBody, type ModuleClass } from "./module-layout";

/** Misuse of a Module: mutation after construction, a missing `__call__`, a missing field. */
export class ModuleError extends WaxError {}

const staticNames = new WeakMap<ModuleClass, Set<string>>();

/**
 * Field decorator: `@field({ static: true }) inFeatures: number;` makes the field part of the
 * treedef (not a leaf), as Equinox's `eqx.field(static=True)`. Use it for hyper-parameters
 * (sizes, epsilons, names); keep arrays and flags you want to change with `treeAt` dynamic.
 */
export function field(opts: { static?: boolean } = {}) {
  return function (_value: undefined, ctx: ClassFieldDecoratorContext): void {
    if (!opts.static) return;
    const name = String(ctx.name);
    ctx.addInitializer(function (this: unknown) {
      const ctor = (this as object).constructor as ModuleClass;
      let set = staticNames.get(ctor);
      if (!set) staticNames.set(ctor, (set = new Set()));
      set.add(name);
    });
  };
}

// ---- layouts: the fields of a class --------------------------------------------------------

const layouts = new WeakMap<ModuleClass, Layout>();

/**
 * The layout of `ctor`, made from the first finalised instance. Later instances must have the
 * same fields: the treedef of every instance, and so every flatten plan, relies on it.
 */
function classLayout(ctor: ModuleClass, names: readonly string[], isStatic: readonly boolean[]): Layout {
  const known = layouts.get(ctor);
  if (known === undefined) {
    const layout = new Layout(ctor, names, isStatic);
    layouts.set(ctor, layout);
    return layout;
  }
  if (known.names.length !== names.length || known.names.some((n, i) => n !== names[i] || known.isStatic[i] !== isStatic[i])) {
    throw new ModuleError(
      `${ctor.name}: this instance has the fields (${names.join(", ")}) but an earlier one had (${known.names.join(", ")}) — every instance of a Module class has the same fields: declare each in the class body and assign it in every construction (null when there is no value)`,
    );
  }
  return known;
}

// ---- construction ---------------------------------------------------------------------------

function className(x: object): string {
  return (x as { constructor?: { name?: string } }).constructor?.name ?? "Module";
}

function mutationError(target: object, key: string | symbol, what: string): ModuleError {
  return new ModuleError(
    `${className(target)}.${String(key)}: ${what} — Modules are immutable; build a changed copy with treeAt(m => m.${String(key)}, model, value)`,
  );
}

function invoke(self: ModuleBody, args: unknown[]): unknown {
  const call = self.__call__;
  if (typeof call !== "function") throw new ModuleError(`${className(self)}: is not callable — define a __call__(...) method on the class`);
  return (call as (...a: unknown[]) => unknown).apply(self, args);
}

/**
 * The construction of one user-built Module: the Proxy handler its constructor assigns
 * through, and the record of what it assigned.
 */
class Construction implements ProxyHandler<ModuleBody> {
  done = false;
  readonly assigned = new Set<string>();
  body!: ModuleBody;
  /** The name an `in` test just found missing: transpiled class fields test `key in this` before assigning their initial value. */
  declaring: string | symbol | null = null;

  has(target: ModuleBody, key: string | symbol): boolean {
    const found = Reflect.has(target, key);
    this.declaring = found || this.done ? null : key;
    return found;
  }

  set(target: ModuleBody, key: string | symbol, value: unknown, receiver: unknown): boolean {
    if (this.done) throw mutationError(target, key, "cannot assign after construction");
    if (typeof key === "symbol") throw mutationError(target, key, "symbol-keyed properties are not Module fields");
    if (!Object.hasOwn(target, key)) {
      const desc = accessorUpChain(target, key);
      if (desc?.set) return Reflect.set(target, key, value, receiver);
      // A class field declared by assignment (esbuild's and Babel's class-field helpers): its
      // initial value, `undefined` when it has no initializer. Anything else adds a field.
      if (value !== undefined && this.declaring !== key) {
        throw mutationError(
          target,
          key,
          `is not a declared field, and fields cannot be added after construction — declare it in the class body (${key}: T;); Modules need ES2022 class fields (TypeScript's useDefineForClassFields, the default from target ES2022)`,
        );
      }
      this.declaring = null;
      return Reflect.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
    }
    if (this.assigned.has(key) && target[key] !== undefined) {
      throw mutationError(
        target,
        key,
        "is already set (assign each field once in the constructor; use a local variable for intermediate values)",
      );
    }
    target[key] = value;
    this.assigned.add(key);
    finaliseWithin(value, 0);
    return true;
  }

  defineProperty(target: ModuleBody, key: string | symbol, desc: PropertyDescriptor): boolean {
    // Class fields are defined (ES2022 [[Define]] semantics) as `undefined` or their initial value.
    if (this.done) throw mutationError(target, key, "cannot define a field after construction");
    if (typeof key === "symbol") throw mutationError(target, key, "symbol-keyed properties are not Module fields");
    if (this.assigned.has(key) && target[key] !== undefined) throw mutationError(target, key, "is already set");
    if (!("value" in desc)) throw mutationError(target, key, "accessor fields are not supported; declare a getter on the class instead");
    return Reflect.defineProperty(target, key, { value: desc.value, writable: true, enumerable: true, configurable: true });
  }

  deleteProperty(target: ModuleBody, key: string | symbol): boolean {
    throw mutationError(target, key, "cannot delete a field");
  }
}

function accessorUpChain(target: object, key: string): PropertyDescriptor | undefined {
  for (let p = Object.getPrototypeOf(target) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, key);
    if (d) return d.get || d.set ? d : undefined;
  }
  return undefined;
}

/** Constructed Modules (the Proxies their constructors returned), by Proxy. */
const constructions = new WeakMap<object, Construction>();
const warnedStatic = new WeakMap<ModuleClass, Set<string>>();

/**
 * Checks and freezes a constructed Module (see the file comment); idempotent. Throws a
 * ModuleError naming the first declared field its constructor did not assign.
 */
function finalise(c: Construction): void {
  if (c.done) return;
  const body = c.body;
  const names = Object.keys(body);
  for (const n of names) {
    if (body[n] === undefined && !c.assigned.has(n)) {
      throw new ModuleError(
        `${className(body)}: field '${n}' was not initialized — assign this.${n} in the constructor (null when there is no value)`,
      );
    }
  }
  const ctor = body.constructor as ModuleClass;
  const statics = staticNames.get(ctor);
  const layout = classLayout(
    ctor,
    names,
    names.map((n) => statics?.has(n) ?? false),
  );
  for (const n of layout.staticNames) {
    if (!containsArray(body[n], 0)) continue;
    let warned = warnedStatic.get(ctor);
    if (!warned) warnedStatic.set(ctor, (warned = new Set()));
    if (warned.has(n)) continue;
    warned.add(n);
    console.warn(
      `${ctor.name}.${n}: an array is set as a static field — static fields are part of the treedef (compared by value, baked into compiled code), so its values are not traced; make it an ordinary field`,
    );
  }
  c.done = true;
  Object.freeze(body);
}

function containsArray(v: unknown, depth: number): boolean {
  if (v instanceof WaxArray || ArrayBuffer.isView(v)) return true;
  if (depth > 8 || v === null || typeof v !== "object") return false;
  if (globalThis.Array.isArray(v)) return v.some((x) => containsArray(x, depth + 1));
  const proto = Object.getPrototypeOf(v) as object | null;
  return (proto === Object.prototype || proto === null) && Object.values(v).some((x) => containsArray(x, depth + 1));
}

/** Finalises the constructed Modules inside a value stored in a field (their constructors have returned). */
function finaliseWithin(v: unknown, depth: number): void {
  if (v === null || (typeof v !== "object" && typeof v !== "function") || depth > 32) return;
  const c = constructions.get(v);
  if (c !== undefined) {
    finalise(c);
    return;
  }
  if (globalThis.Array.isArray(v)) {
    for (const x of v) finaliseWithin(x, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto === Object.prototype || proto === null) for (const x of Object.values(v as object)) finaliseWithin(x, depth + 1);
}

/** The layout of a Module, finalising it first if it was constructed and not yet finalised. */
function layoutOfInstance(m: unknown): Layout {
  const c = constructions.get(m as object);
  if (c !== undefined) finalise(c);
  const ctor = (m as { constructor: ModuleClass }).constructor;
  const layout = layouts.get(ctor);
  if (layout === undefined)
    throw new ModuleError(`${ctor.name}: is not a constructed Module — build Modules with new, or rebuild them with treeUnflatten`);
  return layout;
}

/** Call signature of Modules: `model(...args)` runs `model.__call__(...args)`. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- adds the call signature to the class's instances, which are function objects (see the constructor)
export interface Module {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as in Equinox, a Module takes and returns whatever its __call__ does
  (...args: any[]): any;
}

/**
 * Base class of models and layers (Equinox's `eqx.Module`).
 *
 * @example
 * class Affine extends Module {
 *   @field({ static: true }) size: number;
 *   w: Array;
 *   constructor(size: number) { super(); this.size = size; this.w = np.ones([size]); }
 *   __call__(x: Array) { return x.mul(this.w); }
 * }
 * const m = new Affine(3);
 * m(np.ones([3]));                     // callable
 * treeAt((m: Affine) => m.w, m, np.zeros([3]));   // changed copy
 *
 * A class may declare the names of `__call__`'s parameters, `static callParameters = ["x",
 * "state"];`, so that `Partial` can bind them by keyword (Python reads them from the signature;
 * JS source is no reliable place to read them, as minifiers rename parameters).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export abstract class Module {
  constructor() {
    const c = new Construction();
    const body = anonymous(((...args: unknown[]) => {
      if (!c.done) finalise(c);
      return invoke(self, args);
    }) as ModuleBody);
    Object.setPrototypeOf(body, new.target.prototype as object);
    c.body = body;
    const self = new Proxy(body, c);
    constructions.set(self, c);
    return self as unknown as Module;
  }

  /** Readable form: `Linear(weight=f32[32,3], bias=f32[32], inFeatures=3, ...)`. */
  toString(): string {
    const self = this as unknown as ModuleBody;
    const parts = Object.keys(self).map((k) => `${k}=${describeValue(self[k])}`);
    return `${className(this)}(${parts.join(", ")})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
// Modules are function objects: keep `call`/`apply`/`bind` available on them. Between
// `Module.prototype` and `Function.prototype` sits a guard: assigning a name that a Module
// instance does not have reaches it (a frozen rebuilt Module has no trap of its own), and it
// throws the ModuleError that points to treeAt. Reads pass through it untouched.
Object.setPrototypeOf(
  Module.prototype,
  new Proxy(Function.prototype, {
    set(target, key, value, receiver) {
      if (typeof receiver === "function" && receiver instanceof Module)
        throw mutationError(receiver, key, "cannot add a field after construction");
      return Reflect.set(target, key, value, receiver);
    },
  }),
);

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object" && "aval" in (v as object)) return String((v as { aval: unknown }).aval);
  if (globalThis.Array.isArray(v)) return `[${v.map(describeValue).join(", ")}]`;
  if (typeof v === "function" && !(v instanceof Module)) return `<function ${v.name || "anonymous"}>`;
  if (typeof v === "string") return JSON.stringify(v);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a field value of any other type: numbers, flags, Modules and other classes with their toString()
  return String(v);
}

// ---- pytree registration --------------------------------------------------------------------

/**
 * A Module rebuilt from its treedef data and children: no constructor, no Proxy. The fields
 * are stored before the prototype is set, while the function's chain is still plain
 * `Function.prototype` (the Module chain ends in the guard above).
 */
function rebuild(aux: Aux, children: readonly unknown[], ctor: ModuleClass): ModuleBody {
  const body = anonymous(((...args: unknown[]) => invoke(body, args)) as ModuleBody);
  aux[0].store(body, children, aux[1]);
  Object.setPrototypeOf(body, ctor.prototype as object);
  return Object.freeze(body);
}

registerPytreeNode<Module>(Module, {
  flatten(m) {
    const layout = layoutOfInstance(m);
    const body = m as unknown as ModuleBody;
    return [layout.dynamicNames.map((n) => body[n]), layout.aux(layout.staticNames.map((n) => body[n]))];
  },
  childrenInto: (m, aux, out) => (aux as Aux)[0].read(m as unknown as ModuleBody, (aux as Aux)[1], out),
  immutable: true,
  reusableChildren: true,
  unflatten(aux, children, ctor) {
    const a = aux as Aux;
    if (a[0].ctor !== ctor) throw new ModuleError(`treeUnflatten: a ${a[0].ctor.name} treedef cannot rebuild a ${ctor.name}`);
    return rebuild(a, children, ctor) as unknown as Module;
  },
  describe(aux, children, name) {
    const [layout, staticValues] = aux as Aux;
    let c = 0;
    let s = 0;
    return `${name}(${layout.names
      .map((n, i) => {
        if (!layout.isStatic[i]) return `${n}=${children[c++]}`;
        const v = staticValues[s++];
        return `${n}=${JSON.stringify(v) ?? String(v)}`;
      })
      .join(", ")})`;
  },
  keys: (m) => layoutOfInstance(m).keys as KeyEntry[],
});

/** True for Module instances (they are function objects, so `typeof` says "function"). */
export function isModule(x: unknown): x is Module {
  return x instanceof Module;
}
