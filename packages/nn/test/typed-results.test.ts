/**
 * Equinox-style transforms and optimizer chains return typed results: `filterGrad` gives the
 * model's type, `filterVmap` the function's result type, `chain` a tuple of its states, and
 * `@wax/runtime`'s `load` the output type it is asked for. Checked by `tsc` and by values.
 */
import { describe, expect, expectTypeOf, test } from "vitest";
import { array, np, random, WaxArray } from "@wax/tracer";
import type { LoadedFunction, RuntimeArray, RuntimeTree } from "@wax/runtime";
import { filterGrad, filterValueAndGrad, filterVmap, Linear } from "../index";
import { chain, scale, scaleByAdam, type EmptyState, type ScaleByAdamState } from "../src/optim/index";

describe("typed results of the filtered transforms", () => {
  const lin = new Linear(3, 2, { key: random.key(0) });
  const lossFn = (m: Linear, x: WaxArray) => m(x).sum();
  test("filterGrad of a Linear is a Linear; its fields are arrays", () => {
    const g = filterGrad(lossFn)(lin, np.ones([3]));
    expectTypeOf(g).toEqualTypeOf<Linear>();
    expect(g.weight.shape).toEqual([2, 3]);
  });
  test("filterValueAndGrad with hasAux types the value, the aux and the gradient", () => {
    const [[v, aux], g] = filterValueAndGrad((m: Linear, x: WaxArray) => [lossFn(m, x), x.shape.length] as [WaxArray, number], {
      hasAux: true,
    })(lin, np.ones([3]));
    expectTypeOf(v).toEqualTypeOf<WaxArray>();
    expectTypeOf(aux).toEqualTypeOf<number>();
    expectTypeOf(g).toEqualTypeOf<Linear>();
    expect(v.mul(1).shape).toEqual([]);
  });
  test("filterVmap keeps the function's result type", () => {
    const ys = filterVmap((x: WaxArray) => x.mul(2))(
      array([
        [1, 2],
        [3, 4],
      ]),
    );
    expectTypeOf(ys).toEqualTypeOf<WaxArray>();
    expect(ys.tolist()).toEqual([
      [2, 4],
      [6, 8],
    ]);
  });
  test("chain's state is a tuple of its transformations' states", () => {
    const optim = chain(scaleByAdam(), scale(-0.1));
    const state = optim.init({ w: array([1, 2]) });
    expectTypeOf(state).toEqualTypeOf<[ScaleByAdamState, EmptyState]>();
    const [updates] = optim.update({ w: array([1, 1]) as WaxArray }, state);
    expectTypeOf(updates).toEqualTypeOf<{ w: WaxArray }>();
    expect(state[0].count.item()).toBe(0);
  });
  test("load's function is typed by the output it is asked for", () => {
    expectTypeOf<ReturnType<LoadedFunction>>().toEqualTypeOf<RuntimeTree>();
    expectTypeOf<ReturnType<LoadedFunction<RuntimeArray>>>().toEqualTypeOf<RuntimeArray>();
  });
});
