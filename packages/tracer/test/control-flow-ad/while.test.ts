/**
 * Differentiating `lax.whileLoop` (and `foriLoop` with traced bounds, which is a while):
 * forward mode against central differences in float64, the fixpoint that gives a carry a
 * tangent only once the body mixes a tangent into it, and JAX's error for reverse mode.
 */
import { describe, expect, test } from "vitest";
import { grad, jvp, lax, makeJaxpr, np, TransformError, vjp, type Array as WaxArray } from "../../index";
import { thrown } from "../support/thrown";
import { checkJvp, f64 } from "./check";

/** Newton's iteration for √a, stopped by a tolerance: a data-dependent trip count. */
type Pair = [WaxArray, WaxArray];

const newtonSqrt = (a: WaxArray) =>
  lax.whileLoop<Pair>(
    ([x, prev]) => np.abs(x.sub(prev)).gt(1e-12),
    ([x]) => [x.add(a.div(x)).mul(0.5), x],
    [a, a.add(1)],
  )[0];

const REVERSE_MODE = "Reverse-mode differentiation does not work for lax.whileLoop or lax.foriLoop with dynamic start/stop values";

describe("while: forward mode", () => {
  test("jvp of Newton's square root is the derivative of √a (the loop's tangent converges too)", () => {
    for (const a of [2, 0.3, 9]) {
      const [y, t] = jvp(newtonSqrt, [f64(a)], [f64(1)]) as [WaxArray, WaxArray];
      expect(y.toArray()).toBeCloseTo(Math.sqrt(a), 12);
      expect(t.toArray()).toBeCloseTo(0.5 / Math.sqrt(a), 10);
    }
  });

  test("jvp with respect to the init and to closed-over values (body consts) matches central differences", () => {
    const f = (x: WaxArray, w: WaxArray) =>
      lax.whileLoop<Pair>(
        ([i]) => i.lt(4),
        ([i, v]) => [i.add(1), np.sin(v.mul(w)).add(v.mul(0.5))],
        [np.zeros([], "int32"), x],
      )[1];
    checkJvp(f, [f64([0.3, -1.1, 0.8]), f64([1.5, 0.2, -0.7])]);
  });

  test("a carry with a zero initial tangent gets one once the body feeds a tangent into it (fixpoint)", () => {
    const f = (a: WaxArray) =>
      lax.whileLoop<[WaxArray, WaxArray, WaxArray]>(
        ([, , i]) => i.lt(5),
        ([u, v, i]) => [u.mul(1.1), v.add(u.mul(u)), i.add(1)],
        [a, f64(0), np.zeros([], "int32")],
      );
    checkJvp((a: WaxArray) => f(a).slice(0, 2), [f64(0.7)]);
    const [, ts] = jvp(f, [f64(0.7)], [f64(1)]) as [unknown, WaxArray[]];
    expect(ts[1]!.toArray()).not.toBe(0);
  });

  test("foriLoop with traced bounds is a while, forward-differentiable", () => {
    const f = (x: WaxArray, n: WaxArray) =>
      lax.foriLoop(np.zeros([], "int32"), n, (i, x) => np.cos(x).add(i.astype("float64").mul(0.1)), x);
    const n = np.full([], 3, "int32");
    // Under makeJaxpr the bound is traced, so the loop is a while.
    expect(makeJaxpr(f)(f64(0.4), n).jaxpr.eqns.map((e) => e.prim.name)).toContain("while");
    checkJvp((x: WaxArray) => f(x, n), [f64(0.4)]);
  });
});

describe("while: reverse mode is JAX's error", () => {
  test("grad of whileLoop raises JAX's error with its advice", () => {
    const msg = thrown(TransformError, () => grad(newtonSqrt)(f64(2)));
    expect(msg).toContain(REVERSE_MODE);
    expect(msg).toContain("lax.scan");
  });

  test("vjp linearizes a while (its value is right); only the backward pass refuses", () => {
    const [y, back] = vjp(newtonSqrt, f64(2)) as [WaxArray, (ct: unknown) => unknown[]];
    expect(y.toArray()).toBeCloseTo(Math.SQRT2, 12);
    expect(thrown(TransformError, () => back(f64(1)))).toContain(REVERSE_MODE);
  });

  test("grad of foriLoop with traced bounds raises it too; with static bounds it works", () => {
    const body = (_i: WaxArray, x: WaxArray) => np.sin(x);
    const traced = (n: WaxArray) => grad((x: WaxArray) => lax.foriLoop(np.zeros([], "int32"), n, body, x))(f64(0.5));
    expect(thrown(TransformError, () => makeJaxpr(traced)(np.full([], 3, "int32")))).toContain(REVERSE_MODE);
    const g = grad((x: WaxArray) => lax.foriLoop(0, 3, body, x))(f64(0.5)) as WaxArray;
    const s1 = Math.sin(0.5);
    const s2 = Math.sin(s1);
    expect(g.toArray()).toBeCloseTo(Math.cos(s2) * Math.cos(s1) * Math.cos(0.5), 14);
  });
});
