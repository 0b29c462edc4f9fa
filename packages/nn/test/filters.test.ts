import { describe, expect, test } from "vitest";
import { Array, array, treeLeaves, zeros } from "@wax/tracer";
import { applyUpdates, combine, filter, isArray, isArrayLike, isInexactArray, partition, treeAt } from "@wax/nn";

const tree = () => ({ w: array([1, 2]), n: array([1, 2], { dtype: "int32" }), flag: true, rate: 0.5, name: "x", sub: [array(3), null] });

describe("filters", () => {
  test("predicates", () => {
    expect(isArray(array(1))).toBe(true);
    expect(isArray(1)).toBe(false);
    expect(isArrayLike(1)).toBe(true);
    expect(isArrayLike("a")).toBe(false);
    expect(isInexactArray(array(1))).toBe(true);
    expect(isInexactArray(array(1, { dtype: "int32" }))).toBe(false);
    expect(isInexactArray(0.5)).toBe(false);
  });

  test("filter keeps passing leaves and puts null elsewhere, keeping containers", () => {
    const t = tree();
    const f = filter(t, isInexactArray);
    expect(f.w).toBe(t.w);
    expect(f.n).toBeNull();
    expect(f.flag).toBeNull();
    expect(f.rate).toBeNull();
    expect(f.sub[0]).toBe(t.sub[0]);
    const inv = filter(t, isInexactArray, { inverse: true });
    expect(inv.w).toBeNull();
    expect(inv.n).toBe(t.n);
  });

  test("a prefix spec of booleans and predicates", () => {
    const t = tree();
    const f = filter(t, { w: false, n: true, flag: true, rate: isArrayLike, name: false, sub: isArray });
    expect(f.w).toBeNull();
    expect(f.n).toBe(t.n);
    expect(f.rate).toBe(0.5);
    expect(f.name).toBeNull();
    expect(() => filter(t, { w: 1, n: true, flag: true, rate: true, name: true, sub: true } as never)).toThrow(/filter/);
  });

  test("partition then combine restores the tree; combine takes the first non-null", () => {
    const t = tree();
    const [a, b] = partition(t, isInexactArray);
    const c = combine(a, b);
    const [lc, lt] = [treeLeaves(c), treeLeaves(t)];
    expect(lc.length).toBe(lt.length);
    lc.forEach((l, i) => expect(l).toBe(lt[i]));
    expect(combine({ x: 1 }, { x: 2 }).x).toBe(1);
    expect(combine({ x: null as number | null }, { x: 2 }).x).toBe(2);
  });

  test("applyUpdates adds updates and skips null", () => {
    const m = { w: array([1, 2]), flag: true, n: array([5], { dtype: "int32" }) };
    const out = applyUpdates(m, { w: array([0.5, 0.5]), flag: null, n: null });
    expect(out.w.tolist()).toEqual([1.5, 2.5]);
    expect(out.flag).toBe(true);
    expect(out.n).toBe(m.n);
    expect(() => applyUpdates({ a: "s" }, { a: array(1) })).toThrow(/applyUpdates: leaf 0/);
  });
});

describe("treeAt", () => {
  test("replaces one node, many nodes, or via replaceFn, without touching the original", () => {
    const t = { a: array([1]), b: { c: 2, d: [3, 4] } };
    const t2 = treeAt((x: typeof t) => x.b.c, t, 20);
    expect(t2.b.c).toBe(20);
    expect(t.b.c).toBe(2);
    expect(t2.a).toBe(t.a);
    const t3 = treeAt((x: typeof t) => [x.b.d, x.a], t, [[7], zeros([2])]);
    expect(t3.b.d).toEqual([7]);
    expect((t3.a as Array).shape).toEqual([2]);
    const t4 = treeAt((x: typeof t) => x.b.d[1], t, { replaceFn: (v: unknown) => (v as number) * 10 });
    expect(t4.b.d).toEqual([3, 40]);
  });

  test("errors: same leaf value twice is fine (identity), a non-node or count mismatch is not", () => {
    const t = { a: 1, b: 1 };
    expect(treeAt((x: typeof t) => x.b, t, 5)).toEqual({ a: 1, b: 5 });
    expect(() => treeAt((x: typeof t) => [x.a, x.b], t, [1])).toThrow(/2 nodes but replace has 1/);
    expect(() => treeAt(() => ({}), t, 1)).toThrow(/does not specify an element/);
    const n = { a: null as number | null };
    expect(() => treeAt((x: typeof n) => x.a, n, 1)).toThrow(/isLeaf/);
    expect(treeAt((x: typeof n) => x.a, n, 1, { isLeaf: (x) => x === null }).a).toBe(1);
  });
});
