/**
 * Transforms return typed results: `grad(loss)(w).mul(1)` type-checks (no `unknown` to cast),
 * `valueAndGrad`/`vjp`/`vmap` keep the structure of their arguments and outputs. The type
 * assertions run under `tsc --noEmit` (part of `npm test`); the values under vitest.
 */
import { describe, expect, expectTypeOf, test } from "vitest";
import { array, grad, np, valueAndGrad, vjp, vjpWithAux, vmap, WaxArray, Array as WaxArrayClass } from "../../index";

const w = array([1, 2, 3]);
const b = array(0.5);
const loss = (w: WaxArray, b: WaxArray) => w.mul(w).sum().add(b);

describe("typed transform results", () => {
  test("grad of an Array argument is an Array, usable without a cast", () => {
    const g = grad(loss)(w, b);
    expectTypeOf(g).toEqualTypeOf<WaxArray>();
    expect(g.mul(1).tolist()).toEqual([2, 4, 6]);
  });
  test("argnums as a list gives a tuple; hasAux gives [grads, aux] with the aux's type", () => {
    const [gw, gb] = grad(loss, { argnums: [0, 1] })(w, b);
    expectTypeOf(gw).toEqualTypeOf<WaxArray>();
    expect(gb.item()).toBe(1);
    const [g, aux] = grad((p: { w: WaxArray }) => [p.w.sum(), "note"] as [WaxArray, string], { hasAux: true })({ w });
    expectTypeOf(g).toEqualTypeOf<{ w: WaxArray }>();
    expectTypeOf(aux).toEqualTypeOf<string>();
    expect(g.w.tolist()).toEqual([1, 1, 1]);
  });
  test("valueAndGrad returns [Array, grads], and [[Array, aux], grads] with hasAux", () => {
    const [v, g] = valueAndGrad(loss, { argnums: 1 })(w, b);
    expectTypeOf(v).toEqualTypeOf<WaxArray>();
    expect([v.item(), g.item()]).toEqual([14.5, 1]);
    const [[v2, n], g2] = valueAndGrad((x: WaxArray) => [x.sum(), 3] as [WaxArray, number], { hasAux: true })(w);
    expectTypeOf(n).toEqualTypeOf<number>();
    expect([v2.item(), n, g2.tolist()]).toEqual([6, 3, [1, 1, 1]]);
  });
  test("a JS number argument has an Array gradient; a tuple of arrays maps element-wise", () => {
    const g = grad((x: number) => np.sin(x))(0);
    expectTypeOf(g).toEqualTypeOf<WaxArray>();
    const gs = grad((xs: [WaxArray, WaxArray]) => xs[0].mul(xs[1]).sum())([w, w]);
    expectTypeOf(gs).toEqualTypeOf<[WaxArray, WaxArray]>();
  });
  test("vjp's output and cotangents have the primals' types", () => {
    const [out, pullback] = vjp((x: WaxArray) => x.mul(2), w);
    expectTypeOf(out).toEqualTypeOf<WaxArray>();
    const [ct] = pullback(np.onesLike(out));
    expectTypeOf(ct).toEqualTypeOf<WaxArray>();
    expect(ct.tolist()).toEqual([2, 2, 2]);
    const [, , aux] = vjpWithAux((x: WaxArray) => [x.sum(), { n: 1 }] as const, w);
    expectTypeOf(aux).toEqualTypeOf<{ readonly n: 1 }>();
  });
  test("vmap keeps the function's result type", () => {
    const [s, p] = vmap((x: WaxArray) => [x.sum(), x.prod()] as [WaxArray, WaxArray])(np.ones([4, 3]));
    expectTypeOf(s).toEqualTypeOf<WaxArray>();
    expect(p.shape).toEqual([4]);
  });
  test("WaxArray is Array under a name that does not shadow the global Array", () => {
    expect(WaxArray).toBe(WaxArrayClass);
    expect(w).toBeInstanceOf(WaxArray);
    expect(globalThis.Array.isArray([w])).toBe(true);
  });
});
