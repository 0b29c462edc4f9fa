import { describe, expect, test } from "vitest";
import { Array, array, np, treeFlatten, treeLeaves, vmap, zeros } from "@wax/tracer";
import {
  BatchNorm,
  Module,
  Partial,
  State,
  StateError,
  StateIndex,
  deleteInitState,
  filterJit,
  inferenceMode,
  makeWithState,
  withCallParameters,
} from "@wax/nn";

class Counter extends Module {
  index: StateIndex<Array>;
  inner: { index: StateIndex<[Array, Array]> };
  inference: boolean;
  constructor(start = 0) {
    super();
    this.index = new StateIndex(array(start));
    this.inner = { index: new StateIndex<[Array, Array]>([zeros([2]), np.ones([3])]) };
    this.inference = false;
  }
  static callParameters = ["x", "state"];
  __call__(x: Array, state: State): [Array, State] {
    const c = state.get(this.index);
    if (!this.inference) state = state.set(this.index, c.add(1));
    return [x.add(c), state];
  }
}

describe("State and StateIndex", () => {
  test("makeWithState moves initial values into the state under key-path markers", () => {
    const [model, state] = makeWithState(Counter)(5);
    expect(model.index.marker).toBe("Counter.index");
    expect(model.inner.index.marker).toBe("Counter.inner['index']");
    expect(treeLeaves(model)).toEqual([false]); // only the inference flag: no state in the model
    expect(state.get(model.index).item()).toBe(5);
    expect(state.get(model.inner.index)[1].shape).toEqual([3]);
    expect(state.entries().map(([k]) => k)).toEqual(["Counter.index", "Counter.inner['index']"]);
    // Deterministic markers: two calls give interchangeable models and states.
    const [model2, state2] = makeWithState(Counter)(7);
    expect(state2.get(model.index).item()).toBe(7);
    expect(treeFlatten(model)[1].equals(treeFlatten(model2)[1])).toBe(true);
    expect(() => new State(model)).toThrow(/already moved out by makeWithState/);
  });

  test("State(model) directly keeps the model's initial values", () => {
    const m = new Counter(1);
    const s = new State(m);
    expect(s.get(m.index).item()).toBe(1);
    expect(treeLeaves(deleteInitState(m))).toEqual([false]);
  });

  test("set returns a new state and invalidates the old one; shapes must not change", () => {
    const [model, state] = makeWithState(Counter)(0);
    const [, s1] = model(array(1), state);
    expect(s1.get(model.index).item()).toBe(1);
    expect(() => state.get(model.index)).toThrow(/Attempted to use old state/);
    expect(() => s1.set(model.index, array([1, 2]))).toThrow(StateError);
    expect(() => s1.set(model.index, array([1, 2]))).toThrow(
      /different structures\/shapes\/dtypes for Counter.index: .*\[f32\[\]\] vs .*\[f32\[2\]\]/,
    );
    expect(() => s1.get(array(0) as never)).toThrow(/expected a StateIndex/);
  });

  test("substate and update", () => {
    const [model, state] = makeWithState(Counter)(0);
    const sub = state.substate(model.inner);
    expect(sub.entries()).toHaveLength(1);
    const sub2 = sub.set(model.inner.index, [np.ones([2]), np.ones([3])]);
    const s2 = state.update(sub2);
    expect(s2.get(model.inner.index)[0].tolist()).toEqual([1, 1]);
    expect(s2.get(model.index).item()).toBe(0);
    expect(() => state.get(model.index)).toThrow(/old state/);
    const foreign = new State(new Counter(3));
    expect(() => s2.update(foreign)).toThrow(/lacks/);
  });

  test("a state is a pytree: it crosses filterJit and comes back fresh and valid", () => {
    const [model, state] = makeWithState(Counter)(0);
    const step = filterJit((m: Counter, x: Array, s: State) => m(x, s));
    let s = state;
    let out: Array;
    for (let i = 0; i < 3; i++) [out, s] = step(model, array(10), s);
    expect(out!.item()).toBe(12);
    expect(s.get(model.index).item()).toBe(3);
    expect(step.stats().misses).toBe(1);
  });

  test("inferenceMode flips every inference flag, Partial binds the state", () => {
    const [model, state] = makeWithState(Counter)(2);
    const inf = inferenceMode(model);
    expect(inf.inference).toBe(true);
    expect(model.inference).toBe(false);
    expect(inferenceMode(inf, false).inference).toBe(false);
    const p = new Partial(inf, { state });
    const [y, s2] = p(array(1)) as [Array, State];
    expect(y.item()).toBe(3);
    expect(s2.get(model.index).item()).toBe(2); // inference: not incremented
    // Nested layers too.
    const bn = { a: new BatchNorm({ inputSize: 2, axisName: "b" }), b: [new BatchNorm({ inputSize: 2, axisName: "b" })] };
    const bnInf = inferenceMode(bn);
    expect([bnInf.a.inference, bnInf.b[0]!.inference]).toEqual([true, true]);
  });

  test("StateIndex refuses a function as init", () => {
    expect(() => new StateIndex(() => 1)).toThrow(/not a function/);
  });

  test("state stays unbatched under vmap with inAxes [0, null]", () => {
    const [model, state] = makeWithState(Counter)(0);
    const [ys, s] = vmap((x: Array, st: State) => model(x, st), { inAxes: [0, null], outAxes: [0, null] })(array([1, 2, 3]), state);
    expect(ys.tolist()).toEqual([1, 2, 3]);
    expect(s.get(model.index).item()).toBe(1);
  });
});

describe("Partial", () => {
  test("binds keywords by parameter name and positional args in front", () => {
    const f = withCallParameters((a: number, b: number, c: number) => a * 100 + b * 10 + c, ["a", "b", "c"]);
    expect(new Partial(f, { c: 3 })(1, 2)).toBe(123);
    expect(new Partial(f, { b: 2 }, [1])(undefined, 3)).toBe(123);
    expect(new Partial(f, {}, [1, 2])(3)).toBe(123);
    expect(() => new Partial(f, { d: 1 })).toThrow(/cannot bind keyword 'd'.*\(a, b, c\)/);
    expect(() => new Partial(f, { a: 1 })(5, 2, 3)).toThrow(/multiple values for argument 'a'/);
  });

  test("its arrays are pytree leaves, traced by filterJit rather than baked in", () => {
    const scale = withCallParameters((x: Array, w: Array) => x.mul(w), ["x", "w"]);
    const run = filterJit((p: Partial, x: Array) => p(x) as Array);
    expect(run(new Partial(scale, { w: array([2, 3]) }), array([1, 1])).tolist()).toEqual([2, 3]);
    expect(run(new Partial(scale, { w: array([4, 5]) }), array([1, 1])).tolist()).toEqual([4, 5]);
    expect(run.stats().misses).toBe(1);
    expect(treeLeaves(new Partial(scale, { w: array([2, 3]) }))).toHaveLength(2); // the function (static) and w
  });
});
