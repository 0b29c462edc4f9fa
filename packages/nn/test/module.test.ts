import { describe, expect, test } from "vitest";
import { Array, array, grad, np, treeFlatten, treeFlattenWithPath, keystr, vmap, zeros } from "@wax/tracer";
import { Module, ModuleError, field, filterGrad, filterJit, isModule, treeAt } from "@wax/nn";

class Affine extends Module {
  w: Array;
  b: Array;
  @field({ static: true }) size: number;
  label: string;
  constructor(size: number, scale = 1) {
    super();
    this.w = np.multiply(np.ones([size]), scale);
    this.b = zeros([size]);
    this.size = size;
    this.label = "affine";
  }
  __call__(x: Array): Array {
    return np.add(np.multiply(x, this.w), this.b);
  }
}

class Pair extends Module {
  first: Affine;
  second: Affine;
  constructor() {
    super();
    this.first = new Affine(2, 2);
    this.second = new Affine(2, 3);
  }
  __call__(x: Array) {
    return this.second(this.first(x));
  }
}

describe("Module", () => {
  test("instances are callable and run __call__", () => {
    const m = new Affine(3, 2);
    expect(m(array([1, 2, 3])).tolist()).toEqual([2, 4, 6]);
    expect(m instanceof Affine && isModule(m)).toBe(true);
  });

  test("fields are leaves in declaration order; static fields are in the treedef", () => {
    const m = new Affine(3);
    const [leaves, def] = treeFlatten(m);
    expect(leaves).toHaveLength(3);
    expect(leaves[0]).toBe(m.w);
    expect(leaves[1]).toBe(m.b);
    expect(leaves[2]).toBe("affine");
    const other = treeFlatten(new Affine(4))[1];
    expect(def.equals(other)).toBe(false); // size 3 vs 4 differs in the treedef
    expect(def.equals(treeFlatten(new Affine(3, 5))[1])).toBe(true);
    const rebuilt = def.unflatten(leaves) as Affine;
    expect(rebuilt).not.toBe(m);
    expect(rebuilt instanceof Affine).toBe(true);
    expect(rebuilt.size).toBe(3);
    expect(rebuilt(array([1, 1, 1])).tolist()).toEqual([1, 1, 1]);
  });

  test("key paths name the fields", () => {
    const [paths] = treeFlattenWithPath(new Pair());
    expect(paths.map(([p]) => keystr(p))).toEqual([".first.w", ".first.b", ".first.label", ".second.w", ".second.b", ".second.label"]);
  });

  test("mutation after construction throws, naming the field and treeAt", async () => {
    const m = new Affine(2);
    expect(() => ((m as { w: unknown }).w = zeros([2]))).toThrow(ModuleError);
    expect(() => ((m as { w: unknown }).w = zeros([2]))).toThrow(/Affine\.w.*treeAt/);
    expect(() => delete (m as { label?: string }).label).toThrow(ModuleError);
    await Promise.resolve();
    expect(() => ((m as unknown as { extra: number }).extra = 1)).toThrow(/after construction/);
    const copy = treeFlatten(m)[1].unflatten(treeFlatten(m)[0]) as Affine;
    expect(() => ((copy as unknown as { extra: number }).extra = 1)).toThrow(ModuleError);
  });

  test("a module without __call__ says so when called", () => {
    class Holder extends Module {
      x: Array;
      constructor() {
        super();
        this.x = zeros([1]);
      }
    }
    expect(() => (new Holder() as unknown as () => void)()).toThrow(/Holder: is not callable — define a __call__/);
  });

  test("modules work as functions under grad, vmap and filterJit", () => {
    const m = new Pair();
    const f = (mod: Pair, x: Array) => mod(x).sum();
    expect(() => grad(f)(m, array([1, 2]))).toThrow(/is a string, not an array.*use filterGrad/);
    const g = filterGrad(f)(m, array([1, 2])) as Pair;
    expect(g.first.label).toBeNull();
    expect(g instanceof Pair).toBe(true);
    // d/dw1 of sum(w2*(w1*x+b1)+b2) = w2*x = 3*x
    expect(g.first.w.tolist()).toEqual([3, 6]);
    expect(g.second.b.tolist()).toEqual([1, 1]);
    expect(
      vmap(m)(
        array([
          [1, 1],
          [2, 2],
        ]),
      ).tolist(),
    ).toEqual([
      [6, 6],
      [12, 12],
    ]);
    const jf = filterJit((mod: Pair, x: Array) => mod(x));
    expect(jf(m, array([1, 2])).tolist()).toEqual([6, 12]);
    const m2 = treeAt((p: Pair) => p.second.w, m, array([1, 1]));
    expect(jf(m2, array([1, 2])).tolist()).toEqual([2, 4]);
    expect(jf.stats().misses).toBe(1); // same structure and shapes: one compilation
  });

  test("toString shows fields with avals", () => {
    expect(String(new Affine(2))).toBe('Affine(w=f32[2], b=f32[2], size=2, label="affine")');
  });
});
