/** Learning-rate schedules at chosen counts (Optax's formulas), eagerly and as optimizer rates. */
import { describe, expect, it } from "vitest";
import { Array, array, makeJaxpr } from "@wax/tracer";
import {
  adam,
  constantSchedule,
  cosineDecaySchedule,
  exponentialDecay,
  joinSchedules,
  linearSchedule,
  piecewiseConstantSchedule,
  polynomialSchedule,
  sgd,
  warmupCosineDecaySchedule,
  type BuiltSchedule,
} from "../../src/optim/index";

/** Evaluates at int32 counts (the dtype of the optimizer's count) and at JS numbers. */
function expectAt(s: BuiltSchedule, table: [number, number][]) {
  for (const [count, want] of table) {
    const got = s(array(count, { dtype: "int32" }));
    expect(got.ndim).toBe(0);
    expect(got.item()).toBeCloseTo(want, 6);
    expect(s(count).item()).toBeCloseTo(want, 6);
  }
}

describe("schedules", () => {
  it("constantSchedule", () =>
    expectAt(constantSchedule(0.3), [
      [0, 0.3],
      [1000, 0.3],
    ]));

  it("linearSchedule holds, interpolates, then holds", () =>
    expectAt(linearSchedule({ initValue: 1, endValue: 0.1, transitionSteps: 10, transitionBegin: 5 }), [
      [0, 1],
      [5, 1],
      [10, 0.55],
      [15, 0.1],
      [20, 0.1],
    ]));

  it("polynomialSchedule with power 2, and a constant when transitionSteps <= 0", () => {
    expectAt(polynomialSchedule({ initValue: 1, endValue: 0, power: 2, transitionSteps: 10 }), [
      [0, 1],
      [5, 0.25],
      [10, 0],
    ]);
    expectAt(polynomialSchedule({ initValue: 2, endValue: 0, power: 2, transitionSteps: 0 }), [[7, 2]]);
  });

  it("piecewiseConstantSchedule multiplies by each scale from its boundary on", () =>
    expectAt(piecewiseConstantSchedule(0.1, { 200: 0.5, 100: 0.1 }), [
      [0, 0.1],
      [99, 0.1],
      [100, 0.01],
      [199, 0.01],
      [200, 0.005],
      [10_000, 0.005],
    ]));

  it("piecewiseConstantSchedule rejects negative scales", () => {
    expect(() => piecewiseConstantSchedule(1, { 10: -1 })).toThrow(/piecewiseConstantSchedule: the scale at boundary 10 is -1/);
  });

  it("exponentialDecay: smooth, staircase, transitionBegin and endValue", () => {
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5 }), [
      [0, 1],
      [10, 0.5],
      [15, 0.5 ** 1.5],
    ]);
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, staircase: true }), [
      [15, 0.5],
      [20, 0.25],
    ]);
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, transitionBegin: 5, endValue: 0.3 }), [
      [3, 1],
      [15, 0.5],
      [45, 0.3],
    ]);
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 2, endValue: 3 }), [
      [10, 2],
      [30, 3],
    ]);
  });

  it("cosineDecaySchedule decays to alpha * init and stays there", () =>
    expectAt(cosineDecaySchedule({ initValue: 2, decaySteps: 10, alpha: 0.1 }), [
      [0, 2],
      [5, 2 * (0.9 * 0.5 + 0.1)],
      [10, 0.2],
      [20, 0.2],
    ]));

  it("cosineDecaySchedule with an exponent, and decaySteps must be positive", () => {
    const c = 0.5 * (1 + Math.cos((Math.PI * 3) / 10));
    expectAt(cosineDecaySchedule({ initValue: 1, decaySteps: 10, exponent: 2 }), [[3, c * c]]);
    expect(() => cosineDecaySchedule({ initValue: 1, decaySteps: 0 })).toThrow(/decaySteps is 0/);
  });

  it("warmupCosineDecaySchedule warms up linearly, then decays to endValue", () =>
    expectAt(warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 110, endValue: 0.1 }), [
      [0, 0],
      [5, 0.5],
      [10, 1],
      [60, 0.9 * 0.5 + 0.1],
      [110, 0.1],
      [200, 0.1],
    ]));

  it("joinSchedules passes the steps since the boundary to the next schedule", () =>
    expectAt(joinSchedules([constantSchedule(5), linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 4 })], [3]), [
      [2, 5],
      [3, 1],
      [5, 0.5],
    ]));

  it("a schedule traces (no JS branching on the count)", () => {
    const s = warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 110 });
    const text = String(makeJaxpr((c: Array) => s(c))(array(0, { dtype: "int32" })));
    expect(text).toContain("cos");
    expect(text).toContain("select_n");
  });
});

describe("schedules as learning rates", () => {
  it("sgd with a schedule uses lr(count) with count starting at 0", () => {
    const optim = sgd(linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 4 }));
    let state = optim.init(array([0]));
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [u, s] = optim.update(array([2]), state);
      seen.push((u as Array).item());
      state = s;
    }
    expect(seen).toEqual([-2, -1.5, -1, -0.5, -0]);
    const [, lrState] = state as [unknown, { count: Array }];
    expect(lrState.count.item()).toBe(5);
  });

  it("adam with a constant schedule equals adam with the constant", () => {
    const a = adam(constantSchedule(0.01));
    const b = adam(0.01);
    const g = array([0.5, -3]);
    expect((a.update(g, a.init(g))[0] as Array).toArray()).toEqual((b.update(g, b.init(g))[0] as Array).toArray());
  });
});
