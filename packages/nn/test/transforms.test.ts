import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { Array, array, np, random } from "@wax/tracer";
import { Linear, filterGrad, filterValueAndGrad, filterVmap } from "@wax/nn";

describe("filterGrad / filterValueAndGrad", () => {
  const model = () => ({ w: array([1, 2]), steps: array(3, { dtype: "int32" }), scale: 2.5, name: "m", on: true });
  const f = (m: ReturnType<typeof model>, x: Array) => m.w.mul(x).mul(m.scale).sum().add(m.steps.astype("float32"));

  test("differentiates the float arrays of the first argument only; null elsewhere", () => {
    const g = filterGrad(f)(model(), array([3, 4]));
    expect(g.w.tolist()).toEqual([7.5, 10]);
    expect([g.steps, g.scale, g.name, g.on]).toEqual([null, null, null, null]);
  });

  test("value, aux, and later arguments are not differentiated", () => {
    const [[v, aux], g] = filterValueAndGrad((m: ReturnType<typeof model>, x: Array) => [f(m, x), x.mul(2)], { hasAux: true })(
      model(),
      array([3, 4]),
    ) as [[Array, Array], { w: Array }];
    expect((v as Array).item()).toBe(2.5 * 11 + 3);
    expect((aux as Array).tolist()).toEqual([6, 8]);
    expect(g.w.tolist()).toEqual([7.5, 10]);
    const [g2, aux2] = filterGrad((m: ReturnType<typeof model>, x: Array) => [f(m, x), 1], { hasAux: true })(model(), array([1, 1]));
    expect(g2.w.tolist()).toEqual([2.5, 2.5]);
    expect(aux2).toBe(1);
    expect(() => (filterGrad(f) as (...args: unknown[]) => unknown)()).toThrow(/at least one argument/);
  });

  test("gradients of a Linear match central finite differences (fast-check over inputs)", () => {
    const lin = new Linear(3, 2, { key: random.PRNGKey(0) });
    const loss = (m: Linear, x: Array) => np.tanh(m(x)).sum();
    fc.assert(
      fc.property(fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }), (xs) => {
        const x = array(xs);
        const g = filterGrad(loss)(lin, x) as Linear;
        const w = lin.weight.tolist() as number[][];
        const b = lin.bias!.tolist() as number[];
        const h = 1e-3;
        const l64 = (ww: number[][], bb: number[]) =>
          ww.reduce((acc, r, i) => acc + Math.tanh(r.reduce((a, wij, j) => a + wij * xs[j]!, 0) + bb[i]!), 0);
        (g.weight.tolist() as number[][]).forEach((r, i) =>
          r.forEach((gij, j) => {
            const up = w.map((rr, a) => rr.map((v, c) => (a === i && c === j ? v + h : v)));
            const dn = w.map((rr, a) => rr.map((v, c) => (a === i && c === j ? v - h : v)));
            expect(Math.abs(gij - (l64(up, b) - l64(dn, b)) / (2 * h))).toBeLessThan(1e-4);
          }),
        );
        expect(g.inFeatures).toBe(3); // static fields survive in the gradient tree
      }),
      { numRuns: 20 },
    );
  });
});

describe("filterVmap", () => {
  test("maps arrays on axis 0 by default and passes other leaves through", () => {
    const f = (cfg: { w: Array; mode: string; k: number }, x: Array) => ({ y: x.mul(cfg.w).add(cfg.k), tag: cfg.mode });
    const xs = array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const out = filterVmap(f, { inAxes: [null, 0] })({ w: array([10, 100]), mode: "train", k: 1 }, xs);
    expect(out.tag).toBe("train");
    expect((out.y as Array).tolist()).toEqual([
      [11, 201],
      [31, 401],
      [51, 601],
    ]);
  });

  test("vmap(f)(xs)[i] equals f(xs[i]) for a batch of models (ensemble)", () => {
    const keys = random.split(random.PRNGKey(7), 4);
    const ensemble = filterVmap((k: Array) => new Linear(3, 2, { key: k }))(keys) as Linear;
    expect(ensemble.weight.shape).toEqual([4, 2, 3]);
    expect(ensemble.inFeatures).toBe(3);
    const x = array([1, 2, 3]);
    const ys = filterVmap((m: Linear) => m(x))(ensemble) as Array;
    [...keys].forEach((k, i) => {
      const single = new Linear(3, 2, { key: k });
      const want = single(x).tolist() as number[];
      (ys.get(i).tolist() as number[]).forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(1e-6));
    });
  });

  test("errors name the leaf kind", () => {
    expect(() => filterVmap((x: unknown) => x, { inAxes: [0] })("s")).toThrow(/maps a non-array leaf \(string\)/);
  });
});
