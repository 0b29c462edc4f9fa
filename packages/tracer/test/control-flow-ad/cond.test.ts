/**
 * Differentiating `lax.cond` and `lax.switch`: `jvp` and `grad` against central differences
 * in float64 on both sides of the branch, branches whose tangents differ in which outputs
 * are zero, nesting with `scan`, second order, and the shape of the reverse-mode program (a
 * primal `cond` returning residuals and a `cond` over the transposed branches).
 */
import { describe, expect, test } from "vitest";
import { evalJaxpr, grad, lax, makeJaxpr, np, type Array as WaxArray } from "../../index";
import { checkGrad, checkJvp, f64, randomF64 } from "./check";

/** Branches with different derivatives and different residuals (sin/cos vs products). */
const piecewise = (x: WaxArray, a: WaxArray) =>
  lax
    .cond(
      x.sum().gt(0),
      (x, a) => np.sin(x).mul(a),
      (x, a) => x.mul(x).mul(a.mul(a)),
      x,
      a,
    )
    .sum();

describe("cond: forward and reverse mode against central differences", () => {
  test("either branch: jvp and grad with respect to every operand", () => {
    for (const x of [f64([0.4, 1.2]), f64([-0.9, 0.3])]) {
      checkJvp(piecewise, [x, f64(1.7)]);
      checkGrad(piecewise, [x, f64(1.7)]);
    }
  });

  test("a branch that ignores an operand or returns a constant gives zero tangents there", () => {
    const f = (x: WaxArray, y: WaxArray) => {
      const [u, v] = lax.cond(
        x.gt(0),
        (x: WaxArray, y: WaxArray) => [x.mul(3), np.exp(y)] as const,
        (_x: WaxArray, y: WaxArray) => [f64(2), y.mul(y)] as const,
        x,
        y,
      );
      return u.mul(v);
    };
    for (const x of [0.5, -0.5]) {
      checkJvp(f, [f64(x), f64(0.3)]);
      checkGrad(f, [f64(x), f64(0.3)]);
    }
    const g = grad(f)(f64(-0.5), f64(0.3)) as WaxArray;
    expect(g.toArray()).toBe(0);
  });

  test("pytree operands and outputs, with an integer operand carried through", () => {
    const f = (p: { w: WaxArray; b: WaxArray }, x: WaxArray) => {
      const out = lax.cond(
        x.sum().lt(1),
        (q: { w: WaxArray; b: WaxArray }, n: WaxArray, x: WaxArray) => ({ y: np.tanh(q.w.mul(x).add(q.b)), n: n.add(1) }),
        (q: { w: WaxArray; b: WaxArray }, n: WaxArray, x: WaxArray) => ({ y: q.w.mul(q.b).sub(x), n }),
        p,
        np.zeros([], "int32"),
        x,
      );
      return out.y.sum().mul(out.n.astype("float64").add(1));
    };
    const p = { w: f64([0.5, -1.5]), b: f64([0.2, 0.1]) };
    for (const x of [f64([0.1, 0.2]), f64([1.5, 0.2])]) {
      checkJvp(f, [p, x]);
      checkGrad(f, [p, x]);
    }
  });

  test("switch: three branches and an index clamped to the ends, as JAX", () => {
    const branches = [(x: WaxArray) => np.sin(x), (x: WaxArray) => x.mul(x).mul(x), (x: WaxArray) => np.exp(x.neg())];
    for (const k of [-4, 0, 1, 2, 9]) {
      const f = (x: WaxArray) => lax.switch(k, branches, x).sum();
      const x = f64([0.3, -0.7]);
      checkJvp(f, [x]);
      checkGrad(f, [x]);
      const want = branches[Math.min(Math.max(k, 0), 2)]!(x).sum();
      expect((f(x) as WaxArray).toArray()).toBe(want.toArray());
    }
  });

  test("cond inside scan and scan inside cond", () => {
    const condInScan = (c0: WaxArray, xs: WaxArray) => {
      const [c, ys] = lax.scan(
        (c, x) =>
          [
            lax.cond(
              x.gt(0),
              (c, x) => np.sin(c).mul(x),
              (c, x) => c.mul(c).mul(x),
              c,
              x,
            ),
            c.mul(c),
          ] as const,
        c0,
        xs,
        { reverse: true },
      );
      return c.add(ys.sum());
    };
    const xs = f64([0.5, -1.0, 2.0, 0.3, -0.4]);
    checkJvp(condInScan, [f64(0.7), xs]);
    checkGrad(condInScan, [f64(0.7), xs]);

    const scanInCond = (x: WaxArray, xs: WaxArray) =>
      lax.cond(
        x.gt(0),
        (x, xs) => lax.scan((c, v) => [np.sin(c.add(v)), c] as const, x, xs)[0],
        (x, xs) => x.mul(xs.sum()),
        x,
        xs,
      );
    for (const x of [0.6, -0.6]) {
      checkJvp(scanInCond, [f64(x), xs]);
      checkGrad(scanInCond, [f64(x), xs]);
    }
  });

  test("second order: grad of grad", () => {
    const g = (x: WaxArray) => (grad(piecewise)(x, f64(1.3)) as WaxArray).sum();
    for (const x of [f64([0.4, 1.2]), f64([-0.9, 0.3])]) checkGrad(g, [x]);
  });
});

describe("cond: the reverse-mode program", () => {
  test("grad stages a primal cond returning residuals and a cond over the transposed branches, no select", () => {
    const j = makeJaxpr(grad(piecewise))(f64([0.4, 1.2]), f64(1.7));
    const names = j.jaxpr.eqns.map((e) => e.prim.name);
    expect(names.filter((n) => n === "cond")).toHaveLength(2);
    expect(names).not.toContain("select_n");
    const [primal] = j.jaxpr.eqns.filter((e) => e.prim.name === "cond");
    // One output plus residual slots shared by both branches.
    expect(primal!.outputs.length).toBeGreaterThan(1);
    expect(String(j)).toContain("branches=(");
    // The staged program computes the gradient at other points too (on either side).
    for (const x of [randomF64([2], 3), f64([-1, 0.5])]) {
      expect(evalJaxpr(j, [x, f64(1.7)])[0]!.toArray()).toEqual((grad(piecewise)(x, f64(1.7)) as WaxArray).toArray());
    }
  });
});
