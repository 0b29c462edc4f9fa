/**
 * jacfwd, jacrev and hessian against closed forms and float64 central differences, with
 * argnums, pytrees of inputs and outputs, and hasAux; forward and reverse mode agree.
 */
import { describe, expect, test } from "vitest";
import { array, hessian, jacfwd, jacrev, np, TransformError, WaxArray } from "../../index";

const f64 = (x: number | number[] | number[][]) => array(x, { dtype: "float64" });
const list = (a: unknown) => (a as WaxArray).tolist();
function expectClose(got: unknown, want: unknown, tol = 1e-9) {
  const g = (got as WaxArray).ravel().tolist() as number[];
  const w = (want as WaxArray).ravel().tolist() as number[];
  expect((got as WaxArray).shape).toEqual((want as WaxArray).shape);
  g.forEach((v, i) => expect(Math.abs(v - w[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(w[i]!))));
}

/** Central differences of a float64 function R^n → R^m (flattened), as [...outShape, ...inShape]. */
function fdJacobian(f: (x: WaxArray) => WaxArray, x: WaxArray, h = 1e-6): WaxArray {
  const xs = x.ravel().tolist() as number[];
  const out = f(x);
  const cols = xs.map((_, j) => {
    const plus = xs.slice();
    const minus = xs.slice();
    plus[j]! += h;
    minus[j]! -= h;
    const fp = f(f64(plus).reshape(x.shape)).ravel().tolist() as number[];
    const fm = f(f64(minus).reshape(x.shape)).ravel().tolist() as number[];
    return fp.map((v, i) => (v - fm[i]!) / (2 * h));
  });
  const rows = (out.ravel().tolist() as number[]).map((_, i) => cols.map((c) => c[i]!));
  return f64(rows).reshape([...out.shape, ...x.shape]);
}

const g = (x: WaxArray) => np.stack([x.get(0).mul(x.get(1)), np.sin(x.get(2)), x.sum().square()]);

describe("jacfwd and jacrev", () => {
  test("R^3 → R^3: both match central differences and each other", () => {
    const x = f64([0.3, -1.2, 2.0]);
    const want = fdJacobian(g, x);
    expectClose(jacrev(g)(x), want, 1e-7);
    expectClose(jacfwd(g)(x), want, 1e-7);
  });
  test("elementwise x² has the diagonal Jacobian 2x; a matrix input gives out.shape + in.shape", () => {
    expect(list(jacrev((x: WaxArray) => x.mul(x))(array([1, 2])))).toEqual([
      [2, 0],
      [0, 4],
    ]);
    const x = f64([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const f = (m: WaxArray) => m.sum(0).mul(np.arange(3).astype("float64"));
    const jf = jacfwd(f)(x);
    expect(jf.shape).toEqual([3, 2, 3]);
    expectClose(jf, fdJacobian(f, x), 1e-7);
    expectClose(jacrev(f)(x), jf);
  });
  test("argnums as a list gives one Jacobian per argument", () => {
    const f = (a: WaxArray, b: WaxArray) => a.mul(b);
    const [ja, jb] = jacrev(f, { argnums: [0, 1] })(f64([1, 2]), f64([3, 4]));
    expect([list(ja), list(jb)]).toEqual([
      [
        [3, 0],
        [0, 4],
      ],
      [
        [1, 0],
        [0, 2],
      ],
    ]);
    const jb2 = jacfwd(f, { argnums: 1 })(f64([1, 2]), f64([3, 4]));
    expect(list(jb2)).toEqual([
      [1, 0],
      [0, 2],
    ]);
  });
  test("pytree input and output: the result is the output's structure of the input's structure", () => {
    const f = (p: { w: WaxArray; b: WaxArray }) => ({ y: p.w.mul(p.b), s: p.w.sum() });
    const p = { w: f64([1, 2]), b: f64(3) as WaxArray };
    for (const jac of [jacrev, jacfwd]) {
      const J = jac(f)(p) as { y: { w: WaxArray; b: WaxArray }; s: { w: WaxArray; b: WaxArray } };
      expect(list(J.y.w)).toEqual([
        [3, 0],
        [0, 3],
      ]);
      expect(list(J.y.b)).toEqual([1, 2]);
      expect(list(J.s.w)).toEqual([1, 1]);
      expect(list(J.s.b)).toEqual(0);
    }
  });
  test("hasAux returns [jacobian, aux]", () => {
    for (const jac of [jacrev, jacfwd]) {
      const [J, aux] = jac((x: WaxArray) => [x.mul(2), x.sum()] as [WaxArray, WaxArray], { hasAux: true })(f64([1, 2]));
      expect(list(J)).toEqual([
        [2, 0],
        [0, 2],
      ]);
      expect(list(aux)).toBe(3);
    }
  });
  test("integer inputs are refused", () => {
    expect(() => jacrev((x: WaxArray) => x)(array([1, 2], { dtype: "int32" }))).toThrow(TransformError);
    expect(() => jacfwd((x: WaxArray) => x)(array([1, 2], { dtype: "int32" }))).toThrow(/jacfwd: input leaf 0 has dtype int32/);
  });
});

describe("hessian", () => {
  test("of xᵀAx is A + Aᵀ", () => {
    const A = f64([
      [1, 2, 0],
      [-1, 3, 4],
      [0.5, 0, 2],
    ]);
    const H = hessian((x: WaxArray) => x.matmul(A.matmul(x)))(f64([0.1, 0.2, 0.3]));
    expectClose(H, A.add(A.T));
  });
  test("of Σ sin(x) x₀ matches central differences of its gradient", () => {
    const f = (x: WaxArray) => np.sin(x).sum().mul(x.get(0));
    const x = f64([0.4, -0.7, 1.1]);
    const gradF = (y: WaxArray) => jacrev(f)(y);
    expectClose(hessian(f)(x), fdJacobian(gradF, x), 1e-7);
  });
  test("with argnums: the Hessian block of the second argument", () => {
    const H = hessian((a: WaxArray, b: WaxArray) => a.mul(b.square()).sum(), { argnums: 1 })(f64([1, 2]), f64([3, 4]));
    expect(list(H)).toEqual([
      [2, 0],
      [0, 4],
    ]);
  });
});
