/**
 * filterJit's per-entry flatten/unflatten plans: calls whose arguments have the entry's
 * structure go through the plans (no treedef is built), and must behave exactly as the
 * general path: same results, misses on any structural or static change.
 */
import { describe, expect, it } from "vitest";
import { Array, array, np, registerPytreeNode, treeStructure } from "@wax/tracer";
import { filterJit } from "../index";

/** A registered node with the plan fast paths, as nn Modules have them. */
class Layer {
  constructor(
    readonly w: Array,
    readonly b: Array | null,
    readonly scale: number,
  ) {
    Object.freeze(this);
  }
}
registerPytreeNode<Layer>(Layer, {
  flatten: (l) => [[l.w, l.b], l.scale],
  unflatten: (scale, [w, b]) => new Layer(w as Array, b as Array | null, scale as number),
  childrenInto: (l, scale, out) => {
    if (!Object.is(l.scale, scale)) return false;
    out[0] = l.w;
    out[1] = l.b;
    return true;
  },
  immutable: true,
  reusableChildren: true,
});

type Params = { layers: Layer[]; step: Array; name: string };

function update(p: Params, x: Array): [Params, Array] {
  let h = x;
  for (const l of p.layers) h = np.add(np.multiply(h, l.w), l.b ?? 0).mul(l.scale);
  const layers = p.layers.map((l) => new Layer(l.w.sub(h.mean()), l.b, l.scale));
  return [{ layers, step: p.step.add(1), name: p.name }, h.sum()];
}

const start = (): Params => ({
  layers: [new Layer(array([1, 2]), array([0.5, 0]), 2), new Layer(array([3, 1]), null, 1)],
  step: array(0),
  name: "p",
});

describe("filterJit plans", () => {
  it("feeding outputs back in hits the cache and matches the eager computation step by step", () => {
    const step = filterJit(update);
    let p = start();
    let q = start();
    for (let i = 0; i < 5; i++) {
      const [p2, y] = step(p, array([1, -1]));
      const [q2, z] = update(q, array([1, -1]));
      expect(y.item()).toBeCloseTo(z.item(), 5);
      expect(p2.layers[0]!.w.data[0]).toBeCloseTo(q2.layers[0]!.w.data[0]!, 5);
      expect(p2.step.item()).toBe(i + 1);
      expect(p2.layers[1]!.b).toBeNull();
      expect(treeStructure(p2).equals(treeStructure(p))).toBe(true);
      [p, q] = [p2, q2];
    }
    expect(step.stats()).toMatchObject({ misses: 1, hits: 4 });
  });

  it("every call returns new containers and nodes", () => {
    const step = filterJit(update);
    const x = array([1, 1]);
    const [a] = step(start(), x);
    const [b] = step(start(), x);
    expect(b).not.toBe(a);
    expect(b.layers).not.toBe(a.layers);
    expect(b.layers[0]).not.toBe(a.layers[0]);
    expect(b.layers[0]!.w).not.toBe(a.layers[0]!.w);
  });

  it("a changed static value inside a node, a changed static leaf, or a changed structure misses", () => {
    const step = filterJit(update);
    const x = array([1, 1]);
    step(start(), x);
    const scaled = start();
    scaled.layers[0] = new Layer(array([1, 2]), array([0.5, 0]), 3);
    step(scaled, x);
    expect(step.stats().misses).toBe(2);
    expect(step.explainLastMiss()).toMatch(/argument structure changed/);
    step(start(), x);
    expect(step.stats().misses).toBe(2);
    step({ ...start(), name: "q" }, x);
    expect(step.stats().misses).toBe(3);
    expect(step.explainLastMiss()).toMatch(/static \(non-array\) leaf 0 changed from "p" to "q"/);
    step({ ...start(), layers: start().layers.slice(0, 1) }, x);
    expect(step.stats().misses).toBe(4);
    expect(step.stats().hits).toBe(1);
  });

  it("0 and -0 as static values inside a node are different (as treedef equality says)", () => {
    const f = filterJit((l: Layer) => l.w.mul(l.scale));
    expect(f(new Layer(array([1]), null, 0)).tolist()).toEqual([0]);
    expect(Object.is(f(new Layer(array([1]), null, -0)).data[0], -0)).toBe(true);
    expect(f.stats().misses).toBe(2);
  });

  it("an array where a static leaf was, or a static where an array was, misses", () => {
    const f = filterJit((a: unknown, b: Array) => (a instanceof Array ? b.add(a) : b));
    f(1, array([1]));
    expect(f(array([2]), array([1])).tolist()).toEqual([3]);
    expect(f(1, array([1])).tolist()).toEqual([1]);
    expect(f.stats().misses).toBe(2);
  });
});
