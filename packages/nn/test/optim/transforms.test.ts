/**
 * Each gradient transformation against hand-computed values: the formulas, the state
 * layout (plain objects / JS arrays), `null` holes from Equinox-style filters, and errors.
 */
import { describe, expect, it } from "vitest";
import { Array, array, np, registerPytreeNode, treeLeaves, treeStructure } from "@wax/tracer";
import {
  addDecayedWeights,
  adam,
  chain,
  clipByGlobalNorm,
  globalNorm,
  identity,
  safeIncrement,
  scale,
  scaleByAdam,
  scaleByLearningRate,
  scaleByRms,
  scaleBySchedule,
  sgd,
  trace,
  type GradientTransformation,
} from "../../src/optim/index";

const f32 = Math.fround;
const vals = (x: unknown) => [...(x as Array).data];

function step<S>(t: GradientTransformation<S>, grads: unknown, params?: unknown, state?: S): [unknown, S] {
  return t.update(grads, state ?? t.init(params ?? grads), params);
}

describe("scaling", () => {
  it("scale multiplies every update by the step size and keeps an empty state", () => {
    const [u, s] = step(scale(2), { a: array([1, -2]), b: [array(0.5)] });
    expect(vals((u as { a: Array }).a)).toEqual([2, -4]);
    expect(vals((u as { b: Array[] }).b[0])).toEqual([1]);
    expect(treeLeaves(s)).toEqual([]);
  });

  it("scaleByLearningRate negates a constant rate; null is the identity", () => {
    const [u] = step(scaleByLearningRate(0.5), array([2, 4]));
    expect(vals(u)).toEqual([-1, -2]);
    const [v] = step(scaleByLearningRate(0.5, { flipSign: false }), array([2, 4]));
    expect(vals(v)).toEqual([1, 2]);
    const [w] = step(scaleByLearningRate(null), array([2, 4]));
    expect(vals(w)).toEqual([2, 4]);
  });

  it("scaleBySchedule uses the count before the increment, so the first step uses schedule(0)", () => {
    const t = scaleBySchedule((c) => np.add(1, c));
    let state = t.init(null);
    expect(state.count.dtype).toBe("int32");
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [u, s] = t.update(array([10]), state);
      seen.push(vals(u)[0]!);
      state = s;
    }
    expect(seen).toEqual([10, 20, 30]);
    expect(state.count.item()).toBe(3);
  });

  it("safeIncrement saturates at the int32 maximum", () => {
    expect(safeIncrement(array(41, { dtype: "int32" })).item()).toBe(42);
    expect(safeIncrement(array(2147483647, { dtype: "int32" })).item()).toBe(2147483647);
  });
});

describe("scaleByAdam", () => {
  it("the brief's worked example: lr 0.1, one step with g = 1 gives -0.1", () => {
    const optim = adam(0.1);
    const [u, state] = optim.update(array([1]), optim.init(array([0])));
    expect(Math.abs(vals(u)[0]! + 0.1)).toBeLessThan(1e-6);
    const [adamState, lrState] = state as [{ count: Array; mu: Array; nu: Array }, object];
    expect(adamState.count.item()).toBe(1);
    expect(vals(adamState.mu)[0]).toBeCloseTo(0.1, 7);
    expect(vals(adamState.nu)[0]).toBeCloseTo(0.001, 9);
    expect(lrState).toEqual({});
  });

  it("two steps by hand: bias correction with t = count + 1, eps outside and epsRoot inside the sqrt", () => {
    const t = scaleByAdam({ b1: 0.5, b2: 0.75, eps: 0.1, epsRoot: 0.2 });
    let s = t.init(array([0]));
    let u: unknown;
    [u, s] = t.update(array([2]), s);
    // mu = 1, nu = 1; mu_hat = 1/0.5 = 2, nu_hat = 1/0.25 = 4; u = 2 / (sqrt(4.2) + 0.1)
    expect(vals(u)[0]).toBeCloseTo(2 / (Math.sqrt(4.2) + 0.1), 6);
    [u, s] = t.update(array([4]), s);
    // mu = 0.5*4 + 0.5*1 = 2.5, nu = 0.25*16 + 0.75*1 = 4.75; t = 2
    const muHat = 2.5 / (1 - 0.25);
    const nuHat = 4.75 / (1 - 0.5625);
    expect(vals(u)[0]).toBeCloseTo(muHat / (Math.sqrt(nuHat + 0.2) + 0.1), 6);
    expect(s.count.item()).toBe(2);
  });

  it("nesterov uses b1 * mu/(1-b1^(t+1)) + (1-b1) * g/(1-b1^t)", () => {
    const t = scaleByAdam({ b1: 0.5, b2: 0.75, eps: 0, nesterov: true });
    const [u] = t.update(array([2]), t.init(array([0])));
    const muHat = 0.5 * (1 / (1 - 0.25)) + 0.5 * (2 / 0.5);
    expect(vals(u)[0]).toBeCloseTo(muHat / Math.sqrt(1 / 0.25), 6);
  });
});

describe("trace (momentum)", () => {
  it("accumulates t = g + decay * t and outputs t, or g + decay * t with nesterov", () => {
    for (const nesterov of [false, true]) {
      const t = trace({ decay: 0.9, nesterov });
      let s = t.init(array([0]));
      let u: unknown;
      [u, s] = t.update(array([1]), s);
      expect(vals(u)[0]).toBeCloseTo(nesterov ? 1.9 : 1, 6);
      [u, s] = t.update(array([2]), s);
      expect(vals(s.trace)[0]).toBeCloseTo(2.9, 6);
      expect(vals(u)[0]).toBeCloseTo(nesterov ? 2 + 0.9 * 2.9 : 2.9, 5);
    }
  });
});

describe("scaleByRms", () => {
  it("divides by sqrt(nu + eps) with nu = (1 - decay) g² + decay nu", () => {
    const t = scaleByRms();
    const [u, s] = t.update(array([2]), t.init(array([0])));
    expect(vals(s.nu)[0]).toBeCloseTo(0.4, 6);
    expect(vals(u)[0]).toBeCloseTo(2 / Math.sqrt(0.4 + 1e-8), 5);
    expect(s.count).toBeUndefined();
  });

  it("eps outside the root, initial scale and bias correction", () => {
    const t = scaleByRms({ decay: 0.5, eps: 0.5, initialScale: 1, epsInSqrt: false });
    const [u] = t.update(array([2]), t.init(array([0])));
    expect(vals(u)[0]).toBeCloseTo(2 / (Math.sqrt(0.5 * 4 + 0.5 * 1) + 0.5), 6);
    const b = scaleByRms({ biasCorrection: true, eps: 0 });
    const [v, s] = b.update(array([2]), b.init(array([0])));
    expect(vals(v)[0]).toBeCloseTo(1, 5); // nu_hat = 0.4 / (1 - 0.9) = 4
    expect(s.count!.item()).toBe(1);
  });
});

describe("addDecayedWeights", () => {
  it("adds weightDecay * param, and needs the params", () => {
    const t = addDecayedWeights(0.5);
    const [u] = t.update({ w: array([1, 1]) }, t.init(null), { w: array([4, -2]) });
    expect(vals((u as { w: Array }).w)).toEqual([3, 0]);
    expect(() => t.update({ w: array([1]) }, t.init(null))).toThrow(/addDecayedWeights\.update: params is required/);
  });

  it("a scheduled decay is evaluated at the previous count", () => {
    const t = addDecayedWeights((c) => np.multiply(c, 0.5));
    let s = t.init(null);
    let u: unknown;
    [u, s] = t.update(array([1]), s, array([2]));
    expect(vals(u)).toEqual([1]);
    [u, s] = t.update(array([1]), s, array([2]));
    expect(vals(u)).toEqual([2]);
  });
});

describe("clipByGlobalNorm", () => {
  it("rescales by maxNorm / norm over all leaves together", () => {
    const g = { a: array([3]), b: [array([[4]])] };
    expect(globalNorm(g).item()).toBe(5);
    const [u] = step(clipByGlobalNorm(1), g);
    expect(vals((u as { a: Array }).a)[0]).toBeCloseTo(0.6, 6);
    expect(vals((u as { b: Array[] }).b[0])[0]).toBeCloseTo(0.8, 6);
    const [v] = step(clipByGlobalNorm(10), g);
    expect(vals((v as { a: Array }).a)).toEqual([3]);
  });

  it("passes updates unchanged only when norm < maxNorm (strict): a zero update with maxNorm 0 becomes 0/0", () => {
    const [u] = step(clipByGlobalNorm(0), array([0, 0]));
    expect(vals(u).every(Number.isNaN)).toBe(true);
    const [v] = step(clipByGlobalNorm(1e-30), array([0, 0]));
    expect(vals(v)).toEqual([0, 0]);
  });
});

describe("chain", () => {
  it("threads updates through each transformation and keeps a JS array of their states", () => {
    const t = chain(clipByGlobalNorm(1), scale(3), scaleByAdam(), scaleByLearningRate(0.1));
    const s = t.init({ w: array([0, 0]) });
    expect(globalThis.Array.isArray(s)).toBe(true);
    expect(s.length).toBe(4);
    expect(s[0]).toEqual({});
    const [u, s2] = t.update({ w: array([3, 4]) }, s);
    // clipped to [0.6, 0.8], scaled to [1.8, 2.4]; Adam's first step gives ≈ sign; lr -0.1
    const w = vals((u as { w: Array }).w);
    expect(w[0]).toBeCloseTo(-0.1, 5);
    expect(w[1]).toBeCloseTo(-0.1, 5);
    expect(treeStructure(s2).equals(treeStructure(s))).toBe(true);
  });

  it("rejects a state of the wrong length", () => {
    const t = chain(identity(), scale(2));
    expect(() => t.update(array([1]), [{}] as never)).toThrow(/chain\.update: 2 transformations but the state holds 1 states/);
  });
});

describe("null leaves (Equinox filters)", () => {
  const params = { w: array([1, 2]), act: null, layers: [{ weight: array([[1]]), bias: null }] };
  const grads = { w: array([0.5, -0.5]), act: null, layers: [{ weight: array([[2]]), bias: null }] };

  it.each([
    ["adam", adam(0.1)],
    ["sgd with nesterov momentum", sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
    ["rms + decay + clip", chain(clipByGlobalNorm(0.1), scaleByRms(), addDecayedWeights(0.1), scaleByLearningRate(0.1))],
  ] as [string, GradientTransformation][])("%s: init keeps holes, null gradients stay null through every step", (_, optim) => {
    let state = optim.init(params);
    const before = treeStructure(state);
    for (let i = 0; i < 3; i++) {
      const [u, s] = optim.update(grads, state, params);
      const up = u as typeof grads;
      expect(up.act).toBeNull();
      expect(up.layers[0]!.bias).toBeNull();
      expect(up.w).toBeInstanceOf(Array);
      expect(up.layers[0]!.weight.shape).toEqual([1, 1]);
      state = s;
    }
    expect(treeStructure(state).equals(before)).toBe(true);
  });

  it("registered classes with static parts (as Modules) keep their class and static data in the state and updates", () => {
    class Layer {
      constructor(
        readonly weight: unknown,
        readonly bias: unknown,
        readonly activation: string,
      ) {}
    }
    registerPytreeNode(Layer, {
      flatten: (l: Layer) => [[l.weight, l.bias], l.activation],
      unflatten: (act, [w, b]) => new Layer(w, b, act as string),
    });
    const p = new Layer(array([1, 2]), null, "relu");
    const optim = chain(scaleByAdam(), addDecayedWeights(0.1), scaleByLearningRate(0.5));
    const state = optim.init(p);
    const [adamState] = state as unknown as [{ mu: Layer }];
    expect(adamState.mu).toBeInstanceOf(Layer);
    expect(adamState.mu.activation).toBe("relu");
    expect(adamState.mu.bias).toBeNull();
    const [u, s] = optim.update(new Layer(array([1, -1]), null, "relu"), state, p);
    expect(u).toBeInstanceOf(Layer);
    expect(u.bias).toBeNull();
    expect(treeStructure(s).equals(treeStructure(state))).toBe(true);
    // Adam's first step is ±1; the decay adds 0.1 * p; the rate -0.5
    expect(vals(u.weight)[0]).toBeCloseTo(-0.5 * (1 + 0.1), 5);
    expect(vals(u.weight)[1]).toBeCloseTo(-0.5 * (-1 + 0.2), 5);
  });

  it("init rejects a non-array leaf with advice, and a gradient where the state has a hole names the path", () => {
    expect(() => adam(0.1).init({ f: (x: number) => x })).toThrow(
      /scaleByAdam\.init: the parameter at \['f'\] is a function.*filter\(model, isInexactArray\)/,
    );
    const optim = adam(0.1);
    const state = optim.init({ a: array([1]), b: null });
    expect(() => optim.update({ a: array([1]), b: array([1]) }, state)).toThrow(
      /scaleByAdam: the update at \['b'\] is f32\[1\] but the optimizer state \/ params hold null/,
    );
  });
});

describe("aliases accept a number or an options object", () => {
  it("adam(lr) equals adam({learningRate: lr}) and sgd(lr) is -lr * g", () => {
    const g = array([0.3, -1.2]);
    const a = adam(0.01);
    const b = adam({ learningRate: 0.01 });
    expect(vals(a.update(g, a.init(g))[0])).toEqual(vals(b.update(g, b.init(g))[0]));
    const s = sgd(0.5);
    expect(vals(s.update(g, s.init(g))[0])).toEqual([f32(-0.15), f32(0.6)]);
  });
});
