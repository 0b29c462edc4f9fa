import { describe, expect, test } from "vitest";
import { Array, ArgumentError, array, treeStructure } from "@wax/tracer";
import { Module, Partial, State, StateIndex, callParameters, filterJit, makeWithState, withCallParameters } from "@wax/nn";

class Shift extends Module {
  index: StateIndex<Array>;
  constructor() {
    super();
    this.index = new StateIndex(array(10));
  }
  static callParameters = ["x", "state"];
  __call__(x: Array, state: State): [Array, State] {
    return [x.add(state.get(this.index)), state];
  }
}

class Undeclared extends Module {
  constructor() {
    super();
  }
  __call__(x: number, y: number): number {
    return x - y;
  }
}

describe("Partial binds keywords by declared parameter names", () => {
  test("a Module's static callParameters name its __call__ parameters", () => {
    const [model, state] = makeWithState(Shift)();
    const p = new Partial(model, { state });
    const [y] = p(array(1)) as [Array, State];
    expect(y.item()).toBe(11);
    expect(callParameters(model)).toEqual(["x", "state"]);
    expect(callParameters(p)).toEqual(["x"]);
  });

  test("withCallParameters names a plain function's parameters", () => {
    const sub = withCallParameters((a: number, b: number) => a - b, ["a", "b"]);
    expect(new Partial(sub, { a: 10 })(undefined, 3)).toBe(7);
    expect(new Partial(sub, { b: 10 })(3)).toBe(-7);
    expect(callParameters(sub)).toEqual(["a", "b"]);
  });

  test("a Partial of a Partial binds the parameters the inner one leaves", () => {
    const f = withCallParameters((a: number, b: number, c: number) => a * 100 + b * 10 + c, ["a", "b", "c"]);
    const inner = new Partial(f, { c: 3 }, [1]);
    expect(callParameters(inner)).toEqual(["b"]);
    expect(new Partial(inner, { b: 2 })()).toBe(123);
  });

  test("without declared names, binding a keyword is an error that says how to declare them (the source is not read)", () => {
    expect(() => new Partial(new Undeclared(), { y: 1 })).toThrow(ArgumentError);
    expect(() => new Partial(new Undeclared(), { y: 1 })).toThrow(
      /Partial: cannot bind keyword 'y': Undeclared does not declare its parameter names — give the class `static callParameters = \["x", "y", \.\.\.\]`.*withCallParameters/,
    );
    // The arrow's source says (a, b), but source text is not a reliable place to read names.
    expect(() => new Partial((a: number, b: number) => a + b, { b: 1 })).toThrow(/does not declare its parameter names/);
    // Positional binding needs no names.
    expect(new Partial(new Undeclared(), {}, [5])(2)).toBe(3);
  });

  test("an unknown keyword lists the declared names", () => {
    const [model] = makeWithState(Shift)();
    expect(() => new Partial(model, { z: 1 })).toThrow(
      "Partial: cannot bind keyword 'z': the parameters of Shift are (x, state) — use one of these names, or bind leading arguments positionally with new Partial(f, {}, [args])",
    );
  });

  test("a Partial of a Module with its state is one jitted function of the weights and the state", () => {
    const [model, state] = makeWithState(Shift)();
    const run = filterJit((p: Partial, x: Array) => (p(x) as [Array, State])[0]);
    expect(run(new Partial(model, { state }), array(2)).item()).toBe(12);
    expect(run(new Partial(model, { state }), array(3)).item()).toBe(13);
    expect(run.stats().misses).toBe(1);
    expect(String(treeStructure(new Partial(model, { state })))).toMatch(/^PyTreeDef\(Partial\(func=Shift\(index=StateIndex/);
  });
});
