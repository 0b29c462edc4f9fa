/**
 * JAX's gradient conventions where its activations have custom rules (or formulas chosen for
 * their gradient): the values at the kinks are JAX's, away from them the gradients match
 * float64 central differences, and the rules hold under vmap and in compiled code.
 */
import { describe, expect, test } from "vitest";
import { array, grad, lax, nn, vmap, WaxArray } from "../../index";

const f64 = (x: number[]) => array(x, { dtype: "float64" });
/** Elementwise derivative of `f` at each point, by grad of the sum. */
const d = (f: (x: WaxArray) => WaxArray, xs: number[]) => grad((x: WaxArray) => f(x).sum())(f64(xs)).tolist() as number[];
const fd = (f: (x: WaxArray) => WaxArray, xs: number[], h = 1e-6) =>
  xs.map((x) => ((f(f64([x + h])).tolist() as number[])[0]! - (f(f64([x - h])).tolist() as number[])[0]!) / (2 * h));
function expectClose(got: number[], want: number[], tol = 1e-7) {
  got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!))));
}

describe("derivatives at the kinks are JAX's", () => {
  test("relu6: 0 at 0 and at 6, 1 between", () => {
    expect(d(nn.relu6, [-1, 0, 3, 6, 7])).toEqual([0, 0, 1, 0, 0]);
  });
  test("softplus: 0.5 at 0 (logaddexp's rule), σ(x) elsewhere, finite at ±inf (JAX's replace_inf gives 1 at -inf too)", () => {
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    expectClose(d(nn.softplus, [0, -3, 2.5, 40]), [0.5, sig(-3), sig(2.5), 1], 1e-12);
    expect(d(nn.softplus, [-Infinity, Infinity])).toEqual([1, 1]);
  });
  test("elu: 1 at 0 (alpha at 0 for alpha 2); selu's slope at 0 is scale · alpha", () => {
    expect(d(nn.elu, [0])).toEqual([1]);
    expect(d((x) => nn.elu(x, 2), [0])).toEqual([2]);
    expectClose(d(nn.selu, [0]), [1.0507009873554804934193349852946 * 1.6732632423543772848170429916717], 1e-12);
  });
  test("relu 0 at 0; leakyRelu 1 at 0; hardTanh 1 at ±1", () => {
    expect(d(nn.relu, [0])).toEqual([0]);
    expect(d(nn.leakyRelu, [0, -1])).toEqual([1, 0.01]);
    expect(d(nn.hardTanh, [-1, 1, 1.5])).toEqual([1, 1, 0]);
  });
  test("lax.clamp: 0 at both bounds; the bounds' tangents flow where they bind", () => {
    expect(d((x) => lax.clamp(0, x, 6), [-1, 0, 3, 6, 7])).toEqual([0, 0, 1, 0, 0]);
    const x = f64([-2, 0.5, 5]);
    const gLo = grad((lo: WaxArray) => lax.clamp(lo, x, f64([1, 1, 1])).sum())(f64([-1, -1, -1])).tolist();
    expect(gLo).toEqual([1, 0, 0]);
    const gHi = grad((hi: WaxArray) => lax.clamp(f64([-1, -1, -1]), x, hi).sum())(f64([1, 1, 1])).tolist();
    expect(gHi).toEqual([0, 0, 1]);
    expect(lax.clamp(0, array([-1, 0.5, 9]), 6).tolist()).toEqual([0, 0.5, 6]);
  });
});

describe("away from the kinks the gradients match central differences", () => {
  const pts = [-2.3, -0.7, 0.4, 1.9, 5.5];
  for (const [name, f] of [
    ["relu6", nn.relu6],
    ["softplus", nn.softplus],
    ["elu", (x: WaxArray) => nn.elu(x)],
    ["selu", nn.selu],
    ["celu", (x: WaxArray) => nn.celu(x, 1.5)],
    ["logSigmoid", nn.logSigmoid],
    ["hardSigmoid", nn.hardSigmoid],
    ["hardSilu", nn.hardSilu],
  ] as [string, (x: WaxArray) => WaxArray][]) {
    test(name, () => expectClose(d(f, pts), fd(f, pts), 1e-6));
  }
});

test("the rules batch under vmap and give the same values per lane", () => {
  const xs = f64([0, 6, 3]);
  const g = vmap(grad((x: WaxArray) => nn.relu6(x).add(nn.softplus(x))))(xs).tolist();
  expectClose(g as number[], [0 + 0.5, 0 + 1 / (1 + Math.exp(-6)), 1 + 1 / (1 + Math.exp(-3))], 1e-12);
});
