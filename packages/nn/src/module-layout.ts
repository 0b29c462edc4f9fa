/**
 * The field layout of a Module class (names in order, which are static), shared by its
 * instances and held by their treedefs, with the generated code that stores the fields of a
 * rebuilt instance and reads an instance's fields for a flatten plan.
 */
import { staticEqual, type KeyEntry } from "@wax/tracer";

export type ModuleBody = ((...args: unknown[]) => unknown) & Record<string, unknown>;

/** A Module class (the constructor of a Module instance). */
export type ModuleClass = abstract new (...args: never[]) => unknown;

/** The static part of a Module in its treedef: its class's layout and its static field values. */
export type Aux = readonly [layout: Layout, staticValues: readonly unknown[]];

/** Returns its argument: a function made as an argument gets no inferred `name`. */
export const anonymous = <F>(f: F): F => f;

type FieldStore = (body: ModuleBody, children: readonly unknown[], staticValues: readonly unknown[]) => void;
type FieldRead = (m: ModuleBody, staticValues: readonly unknown[], out: unknown[]) => boolean;

/**
 * The field names of a Module class, in order, and which are static. One per class, so a
 * treedef's aux holds it and compares it by identity.
 */
export class Layout {
  readonly dynamicNames: readonly string[];
  readonly staticNames: readonly string[];
  /** Key-path entries of the dynamic fields. */
  readonly keys: readonly KeyEntry[];
  /** Whether a rebuilt instance can take the field by plain assignment (a fresh function has no property of that name). */
  readonly assignable: readonly boolean[];
  readonly #auxes: Aux[] = [];
  #store: FieldStore | null = null;
  #read: FieldRead | null = null;

  constructor(
    readonly ctor: ModuleClass,
    readonly names: readonly string[],
    readonly isStatic: readonly boolean[],
  ) {
    this.dynamicNames = names.filter((_, i) => !isStatic[i]);
    this.staticNames = names.filter((_, i) => isStatic[i]);
    this.keys = this.dynamicNames.map((name): KeyEntry => ({ kind: "attr", name }));
    // Rebuilding stores fields on a fresh arrow function before giving it the class's prototype.
    this.assignable = names.map((n) => !(n in Function.prototype) && n !== "name" && n !== "length");
  }

  /**
   * The treedef aux of an instance with these static values, shared by every instance with
   * equal ones (up to a bound), so that treedefs and flatten plans compare it by identity.
   */
  aux(staticValues: readonly unknown[]): Aux {
    for (const a of this.#auxes) if (staticEqual(a[1], staticValues)) return a;
    const a: Aux = [this, staticValues];
    if (this.#auxes.length < 64) this.#auxes.push(a);
    return a;
  }

  /** Stores the fields of a rebuilt instance. */
  get store(): FieldStore {
    if (this.#store === null) {
      this.#store = generated(this, "store") ?? this.storeLoop();
      // One throwaway instance with object values in every field: V8 then keeps these fields
      // as tagged pointers, rather than unboxed doubles that it copies (allocating) when the
      // prototype is set after the fields.
      const dummy = anonymous(() => undefined) as unknown as ModuleBody;
      const objects = this.names.map(() => ({}));
      this.#store(dummy, objects, objects);
      Object.setPrototypeOf(dummy, this.ctor.prototype as object);
      Object.freeze(dummy);
    }
    return this.#store;
  }

  /** Compares an instance's static fields with `staticValues` and reads its dynamic fields into `out`. */
  get read(): FieldRead {
    return (this.#read ??= generated(this, "read") ?? this.readLoop());
  }

  private storeLoop(): FieldStore {
    const { names, isStatic, assignable } = this;
    return (body, children, staticValues) => {
      let c = 0;
      let s = 0;
      for (let i = 0; i < names.length; i++) {
        const v = isStatic[i] ? staticValues[s++] : children[c++];
        if (assignable[i]) body[names[i]!] = v;
        else Object.defineProperty(body, names[i]!, { value: v, writable: true, enumerable: true, configurable: true });
      }
    };
  }

  private readLoop(): FieldRead {
    const { dynamicNames, staticNames } = this;
    return (m, staticValues, out) => {
      for (let i = 0; i < staticNames.length; i++) {
        const v = m[staticNames[i]!];
        if (!Object.is(v, staticValues[i]) && !staticEqual(v, staticValues[i])) return false;
      }
      for (let i = 0; i < dynamicNames.length; i++) out[i] = m[dynamicNames[i]!];
      return true;
    };
  }
}

/**
 * A layout's field store or read as straight-line code over constant names, which V8 caches
 * per site (a loop over names takes its megamorphic path on every field of every class), or
 * null where code generation is not allowed (a Content-Security-Policy without
 * 'unsafe-eval'); the names are JSON string literals.
 */
function generated(layout: Layout, what: "store"): FieldStore | null;
function generated(layout: Layout, what: "read"): FieldRead | null;
function generated(layout: Layout, what: "store" | "read"): FieldStore | FieldRead | null {
  const { names, isStatic, assignable, dynamicNames, staticNames } = layout;
  const q = JSON.stringify;
  let body: string;
  if (what === "store") {
    if (!assignable.every(Boolean)) return null;
    let c = 0;
    let s = 0;
    body = names.map((n, i) => `b[${q(n)}] = ${isStatic[i] ? `s[${s++}]` : `c[${c++}]`};`).join("\n");
  } else {
    body = [
      "let v;",
      ...staticNames.map((n, i) => `v = m[${q(n)}]; if (!Object.is(v, s[${i}]) && !eq(v, s[${i}])) return false;`),
      ...dynamicNames.map((n, i) => `o[${i}] = m[${q(n)}];`),
      "return true;",
    ].join("\n");
  }
  try {
    const params = what === "store" ? "b, c, s" : "m, s, o";
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- deliberate code generation from JSON-quoted field names (see above), with a fallback where it is not allowed
    const make = new Function("eq", `return function (${params}) {\n${body}\n};`) as (eq: typeof staticEqual) => FieldStore | FieldRead;
    return make(staticEqual);
  } catch {
    return null;
  }
}
