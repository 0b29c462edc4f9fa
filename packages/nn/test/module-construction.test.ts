import { afterEach, describe, expect, test, vi } from "vitest";
import { Array, array, np, treeFlatten, treeFlattenWithPath, treeStructure, keystr, zeros } from "@wax/tracer";
import { BatchNorm, Linear, Module, ModuleError, State, StateIndex, field, filterJit, makeWithState, treeAt } from "@wax/nn";
import { random } from "@wax/tracer";

class Scale extends Module {
  w: Array;
  @field({ static: true }) size: number;
  label: string;
  constructor(size: number) {
    super();
    this.w = np.ones([size]);
    this.size = size;
    this.label = "scale";
  }
  __call__(x: Array): Array {
    return x.mul(this.w);
  }
}

class Net extends Module {
  first: Scale;
  rest: [Scale, { inner: Scale }];
  flag: boolean;
  constructor() {
    super();
    this.first = new Scale(2);
    this.rest = [new Scale(2), { inner: new Scale(2) }];
    this.flag = true;
  }
  __call__(x: Array): Array {
    return this.rest[1].inner(this.rest[0](this.first(x)));
  }
}

class MissingB extends Module {
  a: Array;
  b!: Array; // declared, never assigned: the error under test
  constructor() {
    super();
    this.a = zeros([1]);
  }
}

afterEach(() => vi.restoreAllMocks());

describe("Module construction", () => {
  test("a Module refuses every change as soon as its constructor returns, before any use", () => {
    const m = new Scale(2);
    expect(() => ((m as { w: unknown }).w = zeros([2]))).toThrow(ModuleError);
    expect(() => ((m as { w: unknown }).w = zeros([2]))).toThrow(/Scale\.w: is already set.*treeAt/);
    expect(() => ((m as unknown as { extra: number }).extra = 1)).toThrow(
      /Scale\.extra: is not a declared field, and fields cannot be added after construction/,
    );
    expect(() => delete (m as { label?: string }).label).toThrow(/Scale\.label: cannot delete a field/);
    expect(() => Object.defineProperty(m, "w", { value: 1 })).toThrow(ModuleError);
    expect(m.w.tolist()).toEqual([1, 1]);
  });

  test("a sub-Module is finalised when its parent stores it, inside the parent's constructor", () => {
    let seen: boolean[] = [];
    class Outer extends Module {
      a: Scale;
      b: Scale[];
      constructor() {
        super();
        const s = new Scale(1);
        const t = new Scale(1);
        seen.push(Object.isFrozen(s));
        this.a = s;
        this.b = [t];
        seen.push(Object.isFrozen(s), Object.isFrozen(t));
      }
    }
    const o = new Outer();
    expect(seen).toEqual([false, true, true]);
    expect(() => ((o.a as { w: unknown }).w = zeros([1]))).toThrow(/cannot assign after construction.*treeAt/);
    seen = [];
  });

  test("first use finalises a top-level Module: it is frozen and refuses changes after construction", () => {
    const m = new Scale(3);
    m(np.ones([3]));
    expect(Object.isFrozen(m)).toBe(true);
    expect(() => ((m as { label: unknown }).label = "x")).toThrow(/Scale\.label: cannot assign after construction — .*treeAt/);
  });

  test("a declared field the constructor does not assign is an error, naming it", () => {
    class Holder extends Module {
      inner: MissingB;
      constructor() {
        super();
        this.inner = new MissingB();
      }
    }
    // Stored in a field: reported before the parent's constructor returns.
    expect(() => new Holder()).toThrow(ModuleError);
    expect(() => new Holder()).toThrow(
      "MissingB: field 'b' was not initialized — assign this.b in the constructor (null when there is no value)",
    );
    // At top level: reported at the first use.
    const m = new MissingB();
    expect(() => treeFlatten(m)).toThrow(/field 'b' was not initialized/);
    expect(() => filterJit((x: MissingB) => x.a)(m)).toThrow(/field 'b' was not initialized/);
    expect(() => makeWithState(MissingB)()).toThrow(/field 'b' was not initialized/);
  });

  test("a field assigned null or undefined on purpose is initialized", () => {
    class Optional extends Module {
      a: Array | null;
      b: Array | undefined;
      constructor() {
        super();
        this.a = null;
        this.b = undefined;
      }
    }
    const [leaves, def] = treeFlatten(new Optional());
    expect(leaves).toEqual([]);
    expect(String(def)).toBe("PyTreeDef(Optional(a=null, b=undefined))");
  });

  test("an array in a static field warns once per class and field", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    class Bad extends Module {
      @field({ static: true }) table: Array;
      constructor() {
        super();
        this.table = zeros([2]);
      }
    }
    treeFlatten(new Bad());
    treeFlatten(new Bad());
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/Bad\.table: an array is set as a static field/);
  });

  test("instances of one class must have the same fields", () => {
    class Shifty extends Module {
      constructor(extra: boolean) {
        super();
        if (extra) Object.defineProperty(this, "x", { value: 1 });
      }
    }
    treeFlatten(new Shifty(false));
    expect(() => treeFlatten(new Shifty(true))).toThrow(/Shifty: this instance has the fields \(x\) but an earlier one had \(\)/);
  });
});

describe("rebuilt Modules", () => {
  const rebuilt = <T>(m: T): T => {
    const [leaves, def] = treeFlatten(m);
    return def.unflatten(leaves) as T;
  };

  test("are indistinguishable from constructed ones: fields, class, callability, treedef, printing", () => {
    const m = new Net();
    const r = rebuilt(m);
    expect(r).not.toBe(m);
    expect(r instanceof Net && r instanceof Module).toBe(true);
    expect(Object.getPrototypeOf(r)).toBe(Object.getPrototypeOf(m));
    expect(typeof r).toBe("function");
    expect(Object.keys(r)).toEqual(Object.keys(m));
    expect(Object.keys(r.first)).toEqual(["w", "size", "label"]);
    expect(r.first.w).toBe(m.first.w);
    expect(r.first.size).toBe(2);
    expect(r.rest[1].inner instanceof Scale).toBe(true);
    expect(r.flag).toBe(true);
    expect(treeStructure(r).equals(treeStructure(m))).toBe(true);
    expect(treeStructure(r).hash).toBe(treeStructure(m).hash);
    expect(String(treeStructure(r))).toBe(String(treeStructure(m)));
    expect(String(r)).toBe(String(m));
    const x = array([1, 2]);
    expect(r(x).tolist()).toEqual(m(x).tolist());
    expect(treeFlattenWithPath(r)[0].map(([p]) => keystr(p))).toEqual(treeFlattenWithPath(m)[0].map(([p]) => keystr(p)));
    // A rebuilt Module of a rebuilt Module: the same again.
    expect(treeStructure(rebuilt(r)).equals(treeStructure(m))).toBe(true);
  });

  test("are frozen: adding a field is a ModuleError pointing to treeAt, reassigning the engine's TypeError", () => {
    const r = rebuilt(new Scale(2));
    expect(Object.isFrozen(r)).toBe(true);
    expect(() => ((r as unknown as { extra: number }).extra = 1)).toThrow(/Scale\.extra: cannot add a field after construction — .*treeAt/);
    expect(() => ((r as { label: string }).label = "x")).toThrow(TypeError);
    expect(r.label).toBe("scale");
  });

  test("filterJit outputs are rebuilt Modules and States, equal in structure to the inputs", () => {
    const [model, state] = makeWithState(() => new BatchNorm({ inputSize: 2, axisName: "b" }))();
    const step = filterJit((m: BatchNorm, s: State) => [m, s] as const);
    const [m2, s2] = step(model, state);
    expect(m2 instanceof BatchNorm && s2 instanceof State).toBe(true);
    expect(treeStructure([m2, s2]).equals(treeStructure([model, state]))).toBe(true);
    // Leafless sub-Modules (the named StateIndexes) are shared between outputs, not rebuilt.
    const [m3] = step(m2, s2);
    expect(m3.emaStateIndex).toBe(m2.emaStateIndex);
    expect(m3.emaStateIndex instanceof StateIndex).toBe(true);
    expect(m3.weight).not.toBe(m2.weight);
    expect(step.stats().misses).toBe(1);
  });

  test("treeAt on a rebuilt Module rebuilds it with the replacement", () => {
    const lin = rebuilt(new Linear(2, 3, { key: random.PRNGKey(0) }));
    const zeroed = treeAt((l: Linear) => l.bias, lin, zeros([3]));
    expect(zeroed.bias!.tolist()).toEqual([0, 0, 0]);
    expect(zeroed.weight).toBe(lin.weight);
    expect(lin.bias!.tolist()).not.toEqual([0, 0, 0]);
  });
});
