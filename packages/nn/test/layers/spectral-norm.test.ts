import { describe, expect, test } from "vitest";
import { Array, array, random } from "@wax/tracer";
import { Linear, SpectralNorm, State, filterGrad, filterJit, inferenceMode, makeWithState } from "@wax/nn";

const rows = (a: Array) => a.tolist() as number[][];
const vec = (a: Array) => a.tolist() as number[];

/** Largest singular value in float64 by power iteration on WᵀW (independent of the layer). */
function sigmaMax(w: number[][]): number {
  const n = w[0]!.length;
  let v = globalThis.Array.from({ length: n }, (_, i) => 1 + i * 0.1);
  let s = 0;
  for (let it = 0; it < 2000; it++) {
    const wv = w.map((r) => r.reduce((acc, x, j) => acc + x * v[j]!, 0));
    const wtwv = v.map((_, j) => w.reduce((acc, r, i) => acc + r[j]! * wv[i]!, 0));
    const norm = Math.hypot(...wtwv);
    v = wtwv.map((x) => x / norm);
    s = Math.sqrt(norm);
  }
  return s;
}

function sigmaOf(w: Array, u: Array, v: Array): number {
  const W = rows(w);
  const U = vec(u);
  const V = vec(v);
  return W.reduce((acc, r, i) => acc + U[i]! * r.reduce((a, x, j) => a + x * V[j]!, 0), 0);
}

describe("SpectralNorm", () => {
  test("15 warm-up power iterations make u·W·v close to the largest singular value", () => {
    const [sn, state] = makeWithState(SpectralNorm<Linear>)({
      layer: new Linear(6, 5, { key: random.PRNGKey(1) }),
      weightName: "weight",
      key: random.PRNGKey(2),
    });
    const [u, v] = state.get(sn.uvIndex);
    expect(u.shape).toEqual([5]);
    expect(v.shape).toEqual([6]);
    expect(Math.abs(Math.hypot(...vec(u)) - 1)).toBeLessThan(1e-5);
    const want = sigmaMax(rows(sn.layer.weight));
    expect(Math.abs(sigmaOf(sn.layer.weight, u, v) - want) / want).toBeLessThan(2e-2);
  });

  test("after many training calls the normalised weight has spectral norm 1; inference leaves u, v alone", () => {
    const [sn, s0] = makeWithState(SpectralNorm<Linear>)({
      layer: new Linear(4, 7, { key: random.PRNGKey(3) }),
      weightName: "weight",
      key: random.PRNGKey(4),
    });
    const x = array([1, -1, 0.5, 2]);
    let state = s0;
    const call = filterJit((m: SpectralNorm<Linear>, x: Array, s: State) => m(x, s));
    for (let i = 0; i < 100; i++) state = call(sn, x, state)[1];
    const [u, v] = state.get(sn.uvIndex);
    const sigma = sigmaOf(sn.layer.weight, u, v);
    const w = rows(sn.layer.weight).map((r) => r.map((a) => a / sigma));
    expect(Math.abs(sigmaMax(w) - 1)).toBeLessThan(1e-4);
    // Output = (W/σ) x + b.
    const [y] = sn(x, state.substate(sn));
    const b = vec(sn.layer.bias!);
    const want = w.map((r, i) => r.reduce((a, wij, j) => a + wij * vec(x)[j]!, 0) + b[i]!);
    vec(y).forEach((yi, i) => expect(Math.abs(yi - want[i]!)).toBeLessThan(1e-5));
    const inf = inferenceMode(sn);
    const [, s2] = inf(x, state);
    expect(vec(s2.get(sn.uvIndex)[0])).toEqual(vec(u));
  });

  test("gradients flow through sigma = u·W·v into W, not through the power iteration", () => {
    const [sn, s0] = makeWithState(SpectralNorm<Linear>)({
      layer: new Linear(3, 4, { key: random.PRNGKey(5) }),
      weightName: "weight",
      key: random.PRNGKey(6),
    });
    const x = array([0.3, -1.2, 2]);
    const loss = (m: SpectralNorm<Linear>, s: State) => {
      const [y, s2] = m(x, s);
      return [y.sum(), s2] as [Array, State];
    };
    const [g, s1] = filterGrad(loss, { hasAux: true })(sn, s0) as [SpectralNorm<Linear>, State];
    const [u, v] = s1.get(sn.uvIndex);
    const W = rows(sn.layer.weight);
    const X = vec(x);
    const U = vec(u);
    const V = vec(v);
    const sigma = sigmaOf(sn.layer.weight, u, v);
    const total = W.reduce((acc, r) => acc + r.reduce((a, wij, j) => a + wij * X[j]!, 0), 0);
    // d/dW [Σ_i (W x)_i / σ] with σ = uᵀWv: 1 xᵀ/σ − (Σ W x)/σ² · u vᵀ.
    const want = W.map((r, i) => r.map((_, j) => X[j]! / sigma - (total / sigma ** 2) * U[i]! * V[j]!));
    rows(g.layer.weight).forEach((r, i) => r.forEach((gij, j) => expect(Math.abs(gij - want[i]![j]!)).toBeLessThan(1e-4)));
    expect(vec(g.layer.bias!)).toEqual([1, 1, 1, 1]);
    expect(g.inference).toBeNull();
  });

  test("errors: a missing or 1-D weight", () => {
    const l = new Linear(3, 4, { key: random.PRNGKey(0) });
    expect(() => new SpectralNorm({ layer: l, weightName: "nope", key: random.PRNGKey(1) })).toThrow(/no array field 'nope'/);
    expect(() => new SpectralNorm({ layer: l, weightName: "bias", key: random.PRNGKey(1) })).toThrow(/at least 2 dimensions, got f32\[4\]/);
  });
});
