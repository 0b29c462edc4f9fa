/**
 * `Module`: Equinox's immutable, callable pytree classes.
 *
 * A Module's fields are its pytree children, in the order they were first defined (inherited
 * fields first, as dataclass fields); fields marked `@field({ static: true })` are part of the
 * treedef instead (compared by value, part of `filterJit`'s cache key), like Equinox's
 * `field(static=True)`.
 *
 * Modules are callable like Python objects with `__call__`: an instance is a function object
 * whose prototype is the class's, so `model(x, state)` runs `model.__call__(x, state)`, and a
 * model can be passed wherever a function goes (`vmap(model, ...)`, `filterJit`, `Partial`).
 *
 * Use module-level functions rather than `#private` members: a Module is a Proxy, and
 * copies made by `treeAt`/`filterJit` are rebuilt without running the constructor.
 *
 * Immutability: each field is assigned once, in the constructor. Reassigning a field, adding
 * a field or deleting one throws a `ModuleError` — build changed copies with `treeAt`. A
 * Module is sealed completely (no new fields either) when it is first flattened or called, or
 * at the end of the current task, whichever comes first.
 */
import { WaxError, registerPytreeNode, type KeyEntry } from "@wax/tracer";

/** Misuse of a Module: mutation after construction, a missing `__call__`, a bad field. */
export class ModuleError extends WaxError {}

const staticNames = new WeakMap<Function, Set<string>>();
const sealed = new WeakSet<object>();
const targets = new WeakMap<object, ModuleBody>();

type ModuleBody = ((...args: unknown[]) => unknown) & Record<string, unknown>;

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
      const ctor = (this as object).constructor;
      let set = staticNames.get(ctor);
      if (!set) staticNames.set(ctor, (set = new Set()));
      set.add(name);
    });
  };
}

function className(x: object): string {
  return (x as { constructor?: { name?: string } }).constructor?.name ?? "Module";
}

function mutationError(target: object, key: string | symbol, what: string): ModuleError {
  return new ModuleError(
    `${className(target)}.${String(key)}: ${what} — Modules are immutable; build a changed copy with treeAt(m => m.${String(key)}, model, value)`,
  );
}

const handler: ProxyHandler<ModuleBody> = {
  set(target, key, value) {
    if (sealed.has(target)) throw mutationError(target, key, "cannot assign after construction");
    if (Object.hasOwn(target, key) && target[key as string] !== undefined) {
      throw mutationError(target, key, "is already set (assign each field once in the constructor; use a local variable for intermediate values)");
    }
    if (Object.hasOwn(target, key)) target[key as string] = value;
    else Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
    return true;
  },
  defineProperty(target, key, desc) {
    if (sealed.has(target)) throw mutationError(target, key, "cannot define a field after construction");
    if (Object.hasOwn(target, key) && target[key as string] !== undefined) throw mutationError(target, key, "is already set");
    return Reflect.defineProperty(target, key, { ...desc, writable: true, enumerable: true, configurable: true });
  },
  deleteProperty(target, key) {
    throw mutationError(target, key, "cannot delete a field");
  },
};

function seal(target: object): void {
  sealed.add(target);
}

function makeBody(proto: object): [ModuleBody, ModuleBody] {
  // An arrow function: no own `prototype`; `name` and `length` are removed so fields may use them.
  const body = ((...args: unknown[]) => {
    seal(body);
    const call = (proxy as unknown as { __call__?: (...a: unknown[]) => unknown }).__call__;
    if (typeof call !== "function") {
      throw new ModuleError(`${className(body)}: is not callable — define a __call__(...) method on the class`);
    }
    return call.apply(proxy, args);
  }) as ModuleBody;
  delete (body as { name?: string }).name;
  delete (body as { length?: number }).length;
  Object.setPrototypeOf(body, proto);
  const proxy = new Proxy(body, handler);
  targets.set(proxy, body);
  return [body, proxy];
}

/** Call signature of Modules: `model(...args)` runs `model.__call__(...args)`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Module {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
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
 */
export abstract class Module {
  constructor() {
    const [body, proxy] = makeBody(new.target.prototype as object);
    queueMicrotask(() => seal(body));
    return proxy as unknown as Module;
  }

  /** Readable form: `Linear(weight=f32[32,3], bias=f32[32], inFeatures=3, ...)`. */
  toString(): string {
    const body = targets.get(this) ?? (this as unknown as ModuleBody);
    const parts = Object.keys(body).map((k) => `${k}=${describeValue(body[k])}`);
    return `${className(this)}(${parts.join(", ")})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
// Modules are function objects: keep `call`/`apply`/`bind` available on them.
Object.setPrototypeOf(Module.prototype, Function.prototype);

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object" && "aval" in (v as object)) return String((v as { aval: unknown }).aval);
  if (globalThis.Array.isArray(v)) return `[${v.map(describeValue).join(", ")}]`;
  if (typeof v === "function" && !(v instanceof Module)) return `<function ${v.name || "anonymous"}>`;
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

/** Static field names declared on `ctor` or its ancestors. */
function staticSet(ctor: Function): Set<string> | undefined {
  return staticNames.get(ctor);
}

type Aux = [names: string[], isStatic: boolean[], staticValues: unknown[]];

registerPytreeNode<Module>(Module, {
  flatten(m) {
    const body = targets.get(m) ?? (m as unknown as ModuleBody);
    seal(body);
    const statics = staticSet(body.constructor);
    const names = Object.keys(body);
    const isStatic = names.map((n) => statics?.has(n) ?? false);
    const children: unknown[] = [];
    const staticValues: unknown[] = [];
    names.forEach((n, i) => (isStatic[i] ? staticValues : children).push(body[n]));
    return [children, [names, isStatic, staticValues] satisfies Aux];
  },
  unflatten(aux, children, ctor) {
    const [names, isStatic, staticValues] = aux as Aux;
    const [body, proxy] = makeBody(ctor.prototype as object);
    let c = 0;
    let s = 0;
    names.forEach((n, i) => {
      Object.defineProperty(body, n, { value: isStatic[i] ? staticValues[s++] : children[c++], writable: true, enumerable: true, configurable: true });
    });
    seal(body);
    return proxy as unknown as Module;
  },
  describe(aux, children, name) {
    const [names, isStatic, staticValues] = aux as Aux;
    let c = 0;
    let s = 0;
    return `${name}(${names.map((n, i) => `${n}=${isStatic[i] ? JSON.stringify(staticValues[s++]) ?? String(staticValues[s - 1]) : children[c++]}`).join(", ")})`;
  },
  keys(m) {
    const body = targets.get(m) ?? (m as unknown as ModuleBody);
    const statics = staticSet(body.constructor);
    return Object.keys(body)
      .filter((n) => !statics?.has(n))
      .map((name): KeyEntry => ({ kind: "attr", name }));
  },
});

/** True for Module instances (they are function objects, so `typeof` says "function"). */
export function isModule(x: unknown): x is Module {
  return x instanceof Module;
}
