import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ones,
  PytreeError,
  registerPytreeNode,
  treeFlatten,
  treeLeaves,
  treeMap,
  treeStructure,
  treeUnflatten,
  type TreeDef,
} from "../index";

// ---- a registered class (children + static aux) and a subclass inheriting the registration --

class Pair {
  constructor(
    readonly left: unknown,
    readonly right: unknown,
    readonly tag: string,
  ) {}
}
class LabelledPair extends Pair {}

registerPytreeNode<Pair>(Pair, {
  flatten: (p) => [[p.left, p.right], p.tag],
  unflatten: (tag, [left, right], ctor) => new (ctor as unknown as typeof Pair)(left, right, tag as string),
});

/** A class with a variable number of children and a structured (plain object) aux part. */
class Bag {
  constructor(
    readonly items: unknown[],
    readonly meta: { unit: string; scale: number },
  ) {}
}
registerPytreeNode<Bag>(Bag, {
  flatten: (b) => [b.items, b.meta],
  unflatten: (meta, items, ctor) => new (ctor as unknown as typeof Bag)(items, meta as Bag["meta"]),
});

/** A class that is not registered: a leaf. */
class Opaque {
  constructor(readonly value: number) {}
}

// ---- generators -----------------------------------------------------------------------------

// "__proto__" is left out here: it has its own (currently failing) test below.
const key = fc.string({ unit: fc.constantFrom("a", "b", "c", "x", "_", "1"), minLength: 1, maxLength: 3 });

const leaf = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.constant(ones([2])),
  fc.integer().map((v) => new Opaque(v)),
);

const { tree, node } = fc.letrec<{ tree: unknown; node: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { arbitrary: leaf, weight: 3 },
    { arbitrary: fc.constantFrom(null, undefined), weight: 1 },
    { arbitrary: tie("node"), weight: 4 },
  ),
  node: fc.oneof(
    fc.array(tie("tree"), { maxLength: 4 }),
    fc.dictionary(key, tie("tree"), { maxKeys: 4, noNullPrototype: true }),
    fc.tuple(tie("tree"), tie("tree"), fc.string({ maxLength: 2 })).map(([l, r, t]) => new Pair(l, r, t)),
    fc.tuple(tie("tree"), tie("tree"), fc.string({ maxLength: 2 })).map(([l, r, t]) => new LabelledPair(l, r, t)),
    fc
      .tuple(fc.array(tie("tree"), { maxLength: 3 }), fc.constantFrom("m", "s"), fc.constantFrom(1, 2))
      .map(([items, unit, scale]) => new Bag(items, { unit, scale })),
  ),
}));

// ---- round trips ------------------------------------------------------------------------------

describe("treeFlatten / treeUnflatten", () => {
  it("unflattening the flattened leaves rebuilds the tree (deep, with classes and key order)", () => {
    fc.assert(
      fc.property(node, (t) => {
        const [leaves, def] = treeFlatten(t);
        const back = treeUnflatten(def, leaves);
        expect(back).toStrictEqual(t);
        expect(def.numLeaves).toBe(leaves.length);
      }),
      { numRuns: 300 },
    );
  });

  it("leaves come back as the same objects, and reflattening gives an equal treedef", () => {
    fc.assert(
      fc.property(node, (t) => {
        const [leaves, def] = treeFlatten(t);
        const [leaves2, def2] = treeFlatten(treeUnflatten(def, leaves));
        expect(leaves2.length).toBe(leaves.length);
        leaves2.forEach((l, i) => expect(Object.is(l, leaves[i])).toBe(true));
        expect(def2.equals(def)).toBe(true);
        expect(def2.hash).toBe(def.hash);
      }),
      { numRuns: 200 },
    );
  });

  it("flattens depth first with object keys sorted, and null/undefined are nodes without leaves", () => {
    const x = ones([1]);
    const [leaves, def] = treeFlatten({ b: [1, null, "s"], a: new Pair(x, undefined, "t"), c: new Opaque(3) });
    expect(leaves).toStrictEqual([x, 1, "s", new Opaque(3)]);
    expect(leaves[0]).toBe(x);
    expect(def.numLeaves).toBe(4);
  });

  it("rebuilds a subclass of a registered class as the subclass", () => {
    const t = new LabelledPair(1, [2, 3], "l");
    const [leaves, def] = treeFlatten(t);
    expect(leaves).toStrictEqual([1, 2, 3]);
    const back = treeUnflatten(def, [10, 20, 30]);
    expect(back).toBeInstanceOf(LabelledPair);
    expect(back).toStrictEqual(new LabelledPair(10, [20, 30], "l"));
  });

  it("a null-prototype object flattens like the plain object with the same keys", () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 });
    const [leaves, def] = treeFlatten(bare);
    expect(leaves).toStrictEqual([1, 2]);
    expect(def.equals(treeStructure({ a: 0, b: 0 }))).toBe(true);
  });

  it("treeUnflatten with the wrong number of leaves throws a PytreeError naming both counts", () => {
    const def = treeStructure([1, { a: 2 }]);
    expect(() => treeUnflatten(def, [1, 2, 3])).toThrow(PytreeError);
    expect(() => treeUnflatten(def, [1, 2, 3])).toThrow(
      "treeUnflatten: PyTreeDef([*, {a: *}]) has 2 leaves but 3 were given — pass exactly one value per leaf",
    );
    expect(() => treeUnflatten(def, [1])).toThrow(/has 2 leaves but 1 were given/);
    expect(() => treeUnflatten(treeStructure(null), [1])).toThrow(PytreeError);
  });

  it("registering a class twice throws a PytreeError", () => {
    expect(() => registerPytreeNode<Pair>(Pair, { flatten: (p) => [[p.left], null], unflatten: () => new Pair(0, 0, "") })).toThrow(
      PytreeError,
    );
    expect(() => registerPytreeNode<Pair>(Pair, { flatten: (p) => [[p.left], null], unflatten: () => new Pair(0, 0, "") })).toThrow(
      /Pair is already registered/,
    );
  });

  // Assigning `out[key] = child` would set the prototype for the key "__proto__".
  it("keeps an own '__proto__' key of a plain object", () => {
    const t = JSON.parse('{"__proto__": 1, "b": 2}') as Record<string, unknown>;
    const [leaves, def] = treeFlatten(t);
    expect(leaves).toStrictEqual([1, 2]);
    const back = treeUnflatten(def, leaves) as Record<string, unknown>;
    expect(Object.keys(back)).toStrictEqual(["__proto__", "b"]);
  });
});

// ---- treedef equality and hashing ----------------------------------------------------------

function def(t: unknown): TreeDef {
  return treeStructure(t);
}

describe("TreeDef equals and hash", () => {
  it("equal treedefs have equal hashes, and equality matches the printed structure", () => {
    fc.assert(
      fc.property(tree, tree, (t1, t2) => {
        const d1 = def(t1);
        const d2 = def(t2);
        expect(d1.equals(d2)).toBe(d2.equals(d1));
        if (d1.equals(d2)) expect(d1.hash).toBe(d2.hash);
        // Keys and tags here print unambiguously, so the printed form identifies the structure.
        expect(d1.equals(d2)).toBe(String(d1) === String(d2));
      }),
      { numRuns: 300 },
    );
  });

  it("matchLeaves agrees with treeFlatten + equals, and collects the same leaves", () => {
    fc.assert(
      fc.property(tree, tree, (t1, t2) => {
        const out: unknown[] = [];
        const matched = def(t1).matchLeaves(t2, out);
        expect(matched).toBe(def(t1).equals(def(t2)));
        if (matched) expect(out).toEqual(treeFlatten(t2)[0]);
      }),
      { numRuns: 300 },
    );
    const out: unknown[] = [];
    expect(def(base).matchLeaves(base, out)).toBe(true);
    for (const [, v] of variants) expect(def(base).matchLeaves(v, [])).toBe(false);
  });

  it("a tree with other leaves has an equal treedef and hash", () => {
    fc.assert(
      fc.property(node, (t) => {
        const relabelled = treeMap(() => "other", t);
        expect(def(relabelled).equals(def(t))).toBe(true);
        expect(def(relabelled).hash).toBe(def(t).hash);
      }),
      { numRuns: 200 },
    );
  });

  const base = { a: [1, 2], b: new Pair(1, null, "t"), c: new Bag([1], { unit: "m", scale: 1 }) };
  const variants: [string, unknown][] = [
    ["a renamed key", { a: [1, 2], bb: new Pair(1, null, "t"), c: new Bag([1], { unit: "m", scale: 1 }) }],
    ["a different static aux string", { a: [1, 2], b: new Pair(1, null, "u"), c: new Bag([1], { unit: "m", scale: 1 }) }],
    ["a different static aux object", { a: [1, 2], b: new Pair(1, null, "t"), c: new Bag([1], { unit: "m", scale: 2 }) }],
    ["a subclass instead of the class", { a: [1, 2], b: new LabelledPair(1, null, "t"), c: new Bag([1], { unit: "m", scale: 1 }) }],
    ["one more child in an array", { a: [1, 2, 3], b: new Pair(1, null, "t"), c: new Bag([1], { unit: "m", scale: 1 }) }],
    ["one more child of a class", { a: [1, 2], b: new Pair(1, null, "t"), c: new Bag([1, 2], { unit: "m", scale: 1 }) }],
    ["null replaced by undefined", { a: [1, 2], b: new Pair(1, undefined, "t"), c: new Bag([1], { unit: "m", scale: 1 }) }],
    ["a leaf replaced by a node", { a: [1, [2]], b: new Pair(1, null, "t"), c: new Bag([1], { unit: "m", scale: 1 }) }],
    ["an array replaced by an object", { a: { 0: 1, 1: 2 }, b: new Pair(1, null, "t"), c: new Bag([1], { unit: "m", scale: 1 }) }],
  ];

  it("a copy with the same structure is equal, with the same hash", () => {
    const copy = { c: new Bag(["x"], { scale: 1, unit: "m" }), b: new Pair("y", null, "t"), a: ["z", "w"] };
    expect(def(copy).equals(def(base))).toBe(true);
    expect(def(copy).hash).toBe(def(base).hash);
  });

  it.each(variants)("%s makes the treedef unequal (both ways) and changes the hash", (_, other) => {
    const d1 = def(base);
    const d2 = def(other);
    expect(d1.equals(d2)).toBe(false);
    expect(d2.equals(d1)).toBe(false);
    // Not a contract of hashing in general, but these small edits must not collide.
    expect(d1.hash).not.toBe(d2.hash);
  });

  it("static aux parts compare by value: NaN equals NaN, 0 differs from -0", () => {
    const withAux = (scale: number) => def(new Bag([], { unit: "m", scale }));
    expect(withAux(NaN).equals(withAux(NaN))).toBe(true);
    expect(withAux(NaN).hash).toBe(withAux(NaN).hash);
    expect(withAux(0).equals(withAux(-0))).toBe(false);
    expect(withAux(0).hash).not.toBe(withAux(-0).hash);
  });
});

// ---- printing ---------------------------------------------------------------------------------

describe("TreeDef.toString", () => {
  it("prints objects with sorted keys, arrays, null/undefined and leaves as *", () => {
    expect(String(def({ b: [1, null], a: 2 }))).toBe("PyTreeDef({a: *, b: [*, null]})");
    expect(String(def([undefined, [], {}]))).toBe("PyTreeDef([undefined, [], {}])");
    expect(String(def(3))).toBe("PyTreeDef(*)");
    expect(String(def(null))).toBe("PyTreeDef(null)");
  });

  it("prints registered classes with their static part and their children", () => {
    expect(String(def(new Pair(1, [2, null], "t")))).toBe('PyTreeDef(Pair["t"](*, [*, null]))');
    expect(String(def(new LabelledPair(1, 2, "t")))).toBe('PyTreeDef(LabelledPair["t"](*, *))');
    expect(String(def({ k: new Bag([1, 2], { unit: "m", scale: 2 }) }))).toBe('PyTreeDef({k: Bag[{"unit":"m","scale":2}](*, *)})');
  });
});

// ---- treeMap, isLeaf, prefixes -----------------------------------------------------------------

describe("treeMap", () => {
  it("maps over several trees of one structure, leaf by leaf", () => {
    const t1 = { w: [1, 2], b: new Pair(3, null, "p") };
    const t2 = { w: [10, 20], b: new Pair(30, null, "p") };
    const t3 = { w: [100, 200], b: new Pair(300, null, "p") };
    const out = treeMap((a: number, b: number, c: number) => a + b + c, t1, t2, t3);
    expect(out).toStrictEqual({ b: new Pair(333, null, "p"), w: [111, 222] });
  });

  it("passes the corresponding leaves of each tree (property)", () => {
    fc.assert(
      fc.property(node, (t) => {
        const indexed = treeUnflatten(
          def(t),
          treeLeaves(t).map((_, i) => i),
        );
        const out = treeMap((l: unknown, i: number) => [i, l], t, indexed);
        expect(treeLeaves(out)).toStrictEqual(treeLeaves(t).flatMap((l, i) => [i, l]));
      }),
      { numRuns: 200 },
    );
  });

  it("accepts trees that have the first tree's structure as a prefix, passing whole subtrees", () => {
    const out = treeMap((axis: number | null, x: unknown) => ({ axis, x }), { a: 0, b: null }, { a: [1, { z: 2 }], b: null });
    expect(out).toStrictEqual({ a: { axis: 0, x: [1, { z: 2 }] }, b: null });
  });

  it("rejects a tree whose structure differs, naming the path and what was found", () => {
    const f = (x: unknown) => x;
    expect(() => treeMap(f, { a: 1, b: 2 }, { a: 1 })).toThrow(PytreeError);
    expect(() => treeMap(f, { a: 1, b: 2 }, { a: 1 })).toThrow(
      "treeMap: expected PyTreeDef({a: *, b: *}) at the root but got an object with keys {a} — the structures must match",
    );
    expect(() => treeMap(f, { a: [1, 2] }, { a: [1] })).toThrow(
      "treeMap: expected PyTreeDef([*, *]) at .a but got an array of length 1 — the structures must match",
    );
    expect(() => treeMap(f, [new Pair(1, 2, "t")], [new Pair(1, 2, "u")])).toThrow(
      /expected PyTreeDef\(Pair\["t"\]\(\*, \*\)\) at \[0\] but got a Pair/,
    );
    expect(() => treeMap(f, [new Pair(1, 2, "t")], [new LabelledPair(1, 2, "t")])).toThrow(/at \[0\] but got a LabelledPair/);
    expect(() => treeMap(f, [null], [1])).toThrow(/expected PyTreeDef\(null\) at \[0\] but got number/);
    expect(() => treeMap(f, { a: [1] }, { a: null })).toThrow(/at \.a but got null/);
  });
});

describe("TreeDef.flattenUpTo", () => {
  it("splits a tree into the subtrees at the prefix's leaves", () => {
    const prefix = def([0, { k: 0 }]);
    expect(prefix.flattenUpTo([[1, 2], { k: { deep: 3 } }])).toStrictEqual([[1, 2], { deep: 3 }]);
  });

  it("names the caller in its error", () => {
    expect(() => def([0, 0]).flattenUpTo([1], "vmap inAxes")).toThrow(
      "vmap inAxes: expected PyTreeDef([*, *]) at the root but got an array of length 1 — the structures must match",
    );
  });
});

describe("isLeaf", () => {
  it("stops flattening at the chosen subtrees, and unflatten puts them back whole", () => {
    const isPoint = (x: unknown) => typeof x === "object" && x !== null && "px" in x;
    const t = {
      pts: [
        { px: 1, py: 2 },
        { px: 3, py: 4 },
      ],
      n: 5,
    };
    const [leaves, d] = treeFlatten(t, isPoint);
    expect(leaves).toStrictEqual([5, { px: 1, py: 2 }, { px: 3, py: 4 }]);
    expect(String(d)).toBe("PyTreeDef({n: *, pts: [*, *]})");
    expect(treeUnflatten(d, leaves)).toStrictEqual(t);
    expect(treeLeaves(t)).toStrictEqual([5, 1, 2, 3, 4]);
  });

  it("is asked before a value is classified, so it can make null or a registered class a leaf", () => {
    const p = new Pair(1, 2, "t");
    expect(treeLeaves([null, p], (x) => x === null)).toStrictEqual([null, 1, 2]);
    expect(treeLeaves([null, p], (x) => x instanceof Pair)).toStrictEqual([p]);
    expect(String(treeStructure([null, p], (x) => x instanceof Pair))).toBe("PyTreeDef([null, *])");
  });
});
