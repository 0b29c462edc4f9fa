import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ones, registerPytreeNode, treeFlatten, treeStructure, treeUnflatten } from "../index";

// A class with the plan fast paths (children read in place, immutable, children not kept) and
// one without them, so that plans are checked against treeFlatten/treeUnflatten both ways.

class Frozen {
  constructor(
    readonly a: unknown,
    readonly b: unknown,
    readonly tag: string,
  ) {
    Object.freeze(this);
  }
}
let frozenBuilt = 0;
registerPytreeNode<Frozen>(Frozen, {
  flatten: (f) => [[f.a, f.b], f.tag],
  unflatten: (tag, [a, b]) => {
    frozenBuilt++;
    return new Frozen(a, b, tag as string);
  },
  childrenInto: (f, tag, out) => {
    if (f.tag !== tag) return false;
    out[0] = f.a;
    out[1] = f.b;
    return true;
  },
  immutable: true,
  reusableChildren: true,
});

class Plain {
  constructor(
    readonly items: unknown[],
    readonly tag: string,
  ) {}
}
registerPytreeNode<Plain>(Plain, {
  flatten: (p) => [p.items, p.tag],
  unflatten: (tag, items) => new Plain(items, tag as string),
});

class Opaque {
  constructor(readonly value: number) {}
}

const key = fc.string({ unit: fc.constantFrom("a", "b", "c", "_"), minLength: 1, maxLength: 2 });
const leaf = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constant(ones([2])),
  fc.integer().map((v) => new Opaque(v)),
);
const { tree } = fc.letrec<{ tree: unknown; node: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { arbitrary: leaf, weight: 3 },
    { arbitrary: fc.constantFrom(null, undefined), weight: 1 },
    { arbitrary: tie("node"), weight: 4 },
  ),
  node: fc.oneof(
    fc.array(tie("tree"), { maxLength: 3 }),
    fc.dictionary(key, tie("tree"), { maxKeys: 3, noNullPrototype: true }),
    fc.tuple(tie("tree"), tie("tree"), fc.constantFrom("x", "y")).map(([a, b, t]) => new Frozen(a, b, t)),
    fc.tuple(fc.array(tie("tree"), { maxLength: 3 }), fc.constantFrom("x", "y")).map(([items, t]) => new Plain(items, t)),
  ),
}));

describe("TreePlan", () => {
  it("flattenInto agrees with treeFlatten + equals and writes the same leaves", () => {
    fc.assert(
      fc.property(tree, tree, (t1, t2) => {
        const d1 = treeStructure(t1);
        const out = new Array<unknown>(d1.numLeaves);
        const matched = d1.plan().flattenInto(t2, out);
        expect(matched).toBe(d1.equals(treeStructure(t2)));
        if (matched) expect(out).toEqual(treeFlatten(t2)[0]);
      }),
      { numRuns: 400 },
    );
  });

  it("unflatten rebuilds what treeUnflatten rebuilds, from the same leaves", () => {
    fc.assert(
      fc.property(tree, (t) => {
        const [leaves, def] = treeFlatten(t);
        const plan = def.plan();
        expect(plan.unflatten(leaves)).toStrictEqual(treeUnflatten(def, leaves));
        // And again: the plan keeps nothing from a previous call.
        expect(plan.unflatten(leaves)).toStrictEqual(t);
      }),
      { numRuns: 300 },
    );
  });

  it("is built once per treedef", () => {
    const def = treeStructure([1, { a: 2 }]);
    expect(def.plan()).toBe(def.plan());
  });

  it("readLeaves reads leaf positions without checking them; flattenInto refuses a node there", () => {
    const plan = treeStructure([1, 2]).plan();
    const out: unknown[] = [];
    expect(plan.readLeaves([1, [5]], out)).toBe(true);
    expect(out).toEqual([1, [5]]);
    expect(plan.flattenInto([1, [5]], out)).toBe(false);
  });

  it("shares a leafless subtree of immutable nodes between rebuilt trees, and builds the rest anew", () => {
    const t = { empty: new Frozen(null, new Frozen(undefined, null, "y"), "x"), full: new Frozen(ones([1]), 2, "x"), list: [3] };
    const [leaves, def] = treeFlatten(t);
    const plan = def.plan();
    const one = plan.unflatten(leaves) as typeof t;
    frozenBuilt = 0;
    const two = plan.unflatten(leaves) as typeof t;
    expect(two.empty).toBe(one.empty);
    expect(two.full).not.toBe(one.full);
    expect(two.list).not.toBe(one.list);
    expect(frozenBuilt).toBe(1);
    expect(two).toStrictEqual(t);
  });

  it("a static part that differs (by childrenInto or by flatten) is a mismatch", () => {
    const out: unknown[] = [];
    expect(
      treeStructure(new Frozen(1, 2, "x"))
        .plan()
        .flattenInto(new Frozen(1, 2, "y"), out),
    ).toBe(false);
    expect(
      treeStructure(new Plain([1], "x"))
        .plan()
        .flattenInto(new Plain([1], "y"), out),
    ).toBe(false);
    expect(
      treeStructure(new Plain([1], "x"))
        .plan()
        .flattenInto(new Plain([1, 2], "x"), out),
    ).toBe(false);
  });

  it("unflatten with too few leaves throws", () => {
    expect(() => treeStructure([1, 2]).plan().unflatten([1])).toThrow(/has 2 leaves but 1 were given/);
  });
});
