/**
 * Compositions of `grad`, `vmap` and `jvp` give JAX's answers. The oracle is plain JS in
 * float64: closed-form derivatives and central finite differences of host re-implementations
 * of the same functions (no wax op), so a wrong rule cannot agree with itself. Inputs are
 * float64, which makes the comparisons tight (finite differences with h = 1e-5 are accurate to
 * ~1e-9 here). Every composition is also staged with `makeJaxpr`: the printed program holds
 * the backward pass, and `evalJaxpr` of it reproduces the direct call.
 */
import { describe, expect, it } from "vitest";
import {
  array,
  ConcretizationError,
  evalJaxpr,
  grad,
  jvp,
  makeJaxpr,
  np,
  TransformError,
  treeLeaves,
  valueAndGrad,
  vmap,
  type Array as WaxArray,
} from "../../index";
import { thrown as thrownAs } from "../support/thrown";

// ---- host-side float64 math -----------------------------------------------------------------

type Vec = number[];
type Mat = number[][];

const f64 = (x: Vec | Mat | number) => array(x, { dtype: "float64" });
const range = (n: number) => [...globalThis.Array(n).keys()];
const dotV = (a: Vec, b: Vec) => a.reduce((s, v, k) => s + v * b[k]!, 0);
/** x (row) times W [n, m]. */
const vecMat = (x: Vec, w: Mat) => range(w[0]!.length).map((j) => x.reduce((s, v, k) => s + v * w[k]![j]!, 0));

/** Central differences of `f` at `x` along every coordinate (flat). */
function fdGrad(f: (x: Vec) => number, x: Vec, h = 1e-5): Vec {
  return x.map((_, k) => {
    const p = [...x];
    const m = [...x];
    p[k]! += h;
    m[k]! -= h;
    return (f(p) - f(m)) / (2 * h);
  });
}
const flatten = (m: Mat) => m.flat();
const unflatten = (v: Vec, cols: number): Mat => range(v.length / cols).map((i) => v.slice(i * cols, (i + 1) * cols));

const values = (a: unknown): Vec => globalThis.Array.from((a as WaxArray).data, Number);

function expectClose(got: Vec, want: Vec, what: string, rtol = 1e-7, atol = 1e-9): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  got.forEach((g, k) => {
    if (!(Math.abs(g - want[k]!) <= atol + rtol * Math.abs(want[k]!))) {
      expect.fail(`${what}: element ${k} is ${g}, expected ${want[k]}\n got  ${got.join(", ")}\n want ${want.join(", ")}`);
    }
  });
}

/** Asserts evalJaxpr of the staged program equals the direct call, leaf by leaf. */
function expectReplays(jaxpr: ReturnType<ReturnType<typeof makeJaxpr>>, args: WaxArray[], direct: unknown, what: string): void {
  const replay = evalJaxpr(jaxpr, args);
  const leaves = treeLeaves(direct) as WaxArray[];
  expect(replay.length, `${what}: number of outputs`).toBe(leaves.length);
  leaves.forEach((l, k) => {
    expect(replay[k]!.shape, `${what}: output ${k} shape`).toEqual(l.shape);
    expectClose(values(replay[k]), values(l), `${what}: output ${k}`, 1e-12, 1e-14);
  });
}

const eqnNames = (j: ReturnType<ReturnType<typeof makeJaxpr>>) => j.jaxpr.eqns.map((e) => e.prim.name);
const count = (names: string[], n: string) => names.filter((m) => m === n).length;

// ---- data: a tiny regression problem ------------------------------------------------------

const Xh: Mat = [
  [1, 2, 3],
  [0.5, -1, 2],
  [-0.3, 0.2, 0.1],
  [2, 0, -1],
];
const Yh: Vec = [0.5, -0.25, 1, 0.1];
const Wh: Mat = [
  [0.1, -0.2],
  [0.3, 0.05],
  [-0.1, 0.2],
];
const wh: Vec = [0.2, -0.4, 0.3];
const X = f64(Xh);
const Y = f64(Yh);
const W = f64(Wh);
const w = f64(wh);

/** Per-example loss of a one-layer tanh model with a matrix weight: Σ_j tanh(x·W)_j². */
const perExampleW = (W_: WaxArray, x: WaxArray) => np.tanh(x.matmul(W_)).square().sum();
const hostPerExampleW = (W_: Mat, x: Vec) => vecMat(x, W_).reduce((s, z) => s + Math.tanh(z) ** 2, 0);
/** Closed form: ∂/∂W_kj = x_k · 2 tanh(z_j)(1 − tanh²(z_j)). */
const hostGradPerExampleW = (W_: Mat, x: Vec): Mat => {
  const t = vecMat(x, W_).map(Math.tanh);
  return x.map((xk) => t.map((tj) => xk * 2 * tj * (1 - tj * tj)));
};

/** Per-example squared error of a linear model with a tanh link: (tanh(x·w) − y)². */
const perExample = (w_: WaxArray, x: WaxArray, y: WaxArray) => np.tanh(np.dot(x, w_)).sub(y).square();
const hostPerExample = (w_: Vec, x: Vec, y: number) => (Math.tanh(dotV(x, w_)) - y) ** 2;
const hostGradPerExample = (w_: Vec, x: Vec, y: number): Vec => {
  const t = Math.tanh(dotV(x, w_));
  return x.map((xk) => 2 * (t - y) * (1 - t * t) * xk);
};

// ---- compositions ---------------------------------------------------------------------------

describe("grad(vmap)", () => {
  const loss = (W_: WaxArray) => vmap((x: WaxArray) => perExampleW(W_, x))(X).sum();
  const hostLoss = (flat: Vec) => Xh.reduce((s, x) => s + hostPerExampleW(unflatten(flat, 2), x), 0);

  it("the gradient of a vmapped loss is the sum of the per-example gradients (closed form and finite differences)", () => {
    const g = grad(loss)(W) as WaxArray;
    expect(g.shape).toEqual([3, 2]);
    const closed = Xh.map((x) => flatten(hostGradPerExampleW(Wh, x))).reduce((a, b) => a.map((v, k) => v + b[k]!));
    expectClose(values(g), closed, "closed form", 1e-12, 1e-14);
    expectClose(values(g), fdGrad(hostLoss, flatten(Wh)), "finite differences", 1e-7, 1e-9);
  });

  it("under makeJaxpr, the program holds the backward matmul (dot_general + transpose) and replays to the same gradient", () => {
    const j = makeJaxpr(grad(loss))(W);
    const text = String(j);
    const names = eqnNames(j);
    expect(count(names, "dot_general"), text).toBe(2); // forward x·W, backward ctᵀ·x
    expect(names, text).toContain("transpose");
    expect(names, text).toContain("tanh");
    expect(text).toMatch(/in \(\w+,\) \}$/);
    expect(j.jaxpr.outvars.map((v) => String(v.aval))).toEqual(["f64[3,2]"]);
    expectReplays(j, [W], grad(loss)(W), "grad(vmap)");
  });

  it("closes over the outer tracer: grad w.r.t. a weight captured by the vmapped function", () => {
    // d/dw Σ_i (x_i · w) = Σ_i x_i, with w a grad tracer captured by the vmapped closure
    const g = grad((w_: WaxArray) => vmap((x: WaxArray) => np.dot(x, w_))(X).sum())(w) as WaxArray;
    expectClose(
      values(g),
      range(3).map((k) => Xh.reduce((s, x) => s + x[k]!, 0)),
      "Σ x_i",
    );
  });
});

describe("vmap(grad)", () => {
  const perExampleGrads = vmap(grad(perExample), { inAxes: [null, 0, 0] });

  it("per-example gradients equal the gradient of each example, and the closed form", () => {
    const g = perExampleGrads(w, X, Y) as WaxArray;
    expect(g.shape).toEqual([4, 3]);
    for (let i = 0; i < 4; i++) {
      const one = grad(perExample)(w, X.get(i), Y.get(i)) as WaxArray;
      expectClose(values(g.get(i)), values(one), `example ${i}: vmap vs loop`, 1e-12, 1e-14);
      expectClose(values(g.get(i)), hostGradPerExample(wh, Xh[i]!, Yh[i]!), `example ${i}: closed form`, 1e-12, 1e-14);
      expectClose(
        values(g.get(i)),
        fdGrad((v) => hostPerExample(v, Xh[i]!, Yh[i]!), wh),
        `example ${i}: finite differences`,
      );
    }
  });

  it("with the batch on another axis and outAxes 1, the gradients come out transposed", () => {
    const g = vmap(grad(perExample), { inAxes: [null, 1, 0], outAxes: 1 })(w, X.T, Y) as WaxArray;
    expect(g.shape).toEqual([3, 4]);
    const want = Xh.map((x, i) => hostGradPerExample(wh, x, Yh[i]!));
    expectClose(
      values(g),
      range(3).flatMap((k) => want.map((row) => row[k]!)),
      "transposed per-example grads",
      1e-12,
      1e-14,
    );
  });

  it("under makeJaxpr: a batched backward program that replays to the same per-example gradients", () => {
    const j = makeJaxpr(perExampleGrads)(w, X, Y);
    expect(count(eqnNames(j), "dot_general"), String(j)).toBe(2);
    expect(j.jaxpr.outvars.map((v) => String(v.aval))).toEqual(["f64[4,3]"]);
    expectReplays(j, [w, X, Y], perExampleGrads(w, X, Y), "vmap(grad)");
  });

  it("vmap(grad) of a matrix-weight loss stages a batched dot_general and a transpose", () => {
    const f = vmap(grad(perExampleW), { inAxes: [null, 0] });
    const j = makeJaxpr(f)(W, X);
    const names = eqnNames(j);
    expect(names, String(j)).toContain("transpose");
    // the backward contraction keeps the example axis as a dot_general batch dimension
    const batchDims = (e: (typeof j.jaxpr.eqns)[number]) =>
      "dimension_numbers" in e.params ? (e.params.dimension_numbers as readonly (readonly (readonly number[])[])[])[1]![0]! : [];
    expect(
      j.jaxpr.eqns.some((e) => e.prim.name === "dot_general" && batchDims(e).length === 1),
      String(j),
    ).toBe(true);
    const g = f(W, X) as WaxArray;
    for (let i = 0; i < 4; i++) expectClose(values(g.get(i)), flatten(hostGradPerExampleW(Wh, Xh[i]!)), `example ${i}`, 1e-12, 1e-14);
    expectReplays(j, [W, X], g, "vmap(grad) matrix");
  });
});

describe("grad(vmap(grad)): a penalty on per-example gradient norms", () => {
  it("matches finite differences of the host penalty Σ_i ‖∂L_i/∂w‖²", () => {
    const penalty = (v: WaxArray) => (vmap(grad(perExample), { inAxes: [null, 0, 0] })(v, X, Y) as WaxArray).square().sum();
    const host = (v: Vec) => Xh.reduce((s, x, i) => s + hostGradPerExample(v, x, Yh[i]!).reduce((a, g) => a + g * g, 0), 0);
    expectClose(values(grad(penalty)(w)), fdGrad(host, wh), "∂/∂w Σ‖g_i‖²", 1e-6, 1e-8);
    const j = makeJaxpr(grad(penalty))(w);
    expectReplays(j, [w], grad(penalty)(w), "grad(vmap(grad))");
  });
});

describe("grad(grad)", () => {
  // f(x) = x³ sin x: f' = 3x² sin x + x³ cos x, f'' = 6x sin x + 6x² cos x − x³ sin x
  const f = (x: WaxArray) => x.pow(3).mul(np.sin(x));
  const d2 = (x: number) => 6 * x * Math.sin(x) + 6 * x * x * Math.cos(x) - x ** 3 * Math.sin(x);

  it("is the second derivative (closed form)", () => {
    for (const x of [0.7, -1.3, 0, 2.5]) {
      expect((grad(grad(f))(f64(x)) as WaxArray).item()).toBeCloseTo(d2(x), 12);
    }
  });

  it("grad(grad(f)) of a vector function: ∇(Σ ∂f) is the row sums of the Hessian (finite differences of the gradient)", () => {
    const loss = (v: WaxArray) => vmap((x: WaxArray, y: WaxArray) => perExample(v, x, y))(X, Y).sum();
    const g2 = grad((v: WaxArray) => (grad(loss)(v) as WaxArray).sum())(w) as WaxArray;
    const hostGrad = (v: Vec) => Xh.map((x, i) => hostGradPerExample(v, x, Yh[i]!)).reduce((a, b) => a.map((t, k) => t + b[k]!));
    expectClose(
      values(g2),
      fdGrad((v) => hostGrad(v).reduce((a, b) => a + b, 0), wh),
      "row sums of the Hessian",
      1e-6,
      1e-8,
    );
  });

  it("under makeJaxpr: replays to the same second derivative", () => {
    const j = makeJaxpr(grad(grad(f)))(f64(0.7));
    expect(eqnNames(j)).toContain("cos");
    expect(eqnNames(j)).toContain("sin");
    expectReplays(j, [f64(0.7)], grad(grad(f))(f64(0.7)), "grad(grad)");
    expect(evalJaxpr(j, [f64(-1.3)])[0]!.item()).toBeCloseTo(d2(-1.3), 12);
  });
});

describe("vmap(vmap)", () => {
  // Pairwise squared distances between the rows of X and the rows of Z.
  const Zh: Mat = [
    [0, 1, 0],
    [1, 1, 1],
  ];
  const Z = f64(Zh);
  const dist = (a: WaxArray, b: WaxArray) => a.sub(b).square().sum();
  const pairwise = vmap(vmap(dist, { inAxes: [null, 0] }), { inAxes: [0, null] });
  const want = Xh.flatMap((x) => Zh.map((z) => x.reduce((s, v, k) => s + (v - z[k]!) ** 2, 0)));

  it("maps over both operands: out[i][j] = dist(X[i], Z[j])", () => {
    const d = pairwise(X, Z) as WaxArray;
    expect(d.shape).toEqual([4, 2]);
    expectClose(values(d), want, "pairwise distances", 1e-14, 1e-14);
  });

  it("under makeJaxpr: no loop, one program over [4, 2, 3], replaying to the same matrix", () => {
    const j = makeJaxpr(pairwise)(X, Z);
    const text = String(j);
    expect(text).toMatch(/f64\[4,2,3\]/);
    expect(j.jaxpr.eqns.length, text).toBeLessThan(10);
    expectReplays(j, [X, Z], pairwise(X, Z), "vmap(vmap)");
  });

  it("grad of a loss over vmap(vmap) matches finite differences", () => {
    const g = grad((z: WaxArray) => (pairwise(X, z) as WaxArray).sqrt().sum())(Z) as WaxArray;
    const host = (flat: Vec) => {
      const zz = unflatten(flat, 3);
      return Xh.reduce((s, x) => s + zz.reduce((t, z) => t + Math.sqrt(x.reduce((u, v, k) => u + (v - z[k]!) ** 2, 0)), 0), 0);
    };
    expectClose(values(g), fdGrad(host, flatten(Zh)), "∂/∂Z Σ‖x − z‖", 1e-7, 1e-9);
  });
});

describe("jvp(grad): Hessian-vector products", () => {
  // f(w) = Σ_i (tanh(x_i·w) − y_i)² + 0.1 ‖w‖⁴
  const tenth = f64(0.1);
  const loss = (v: WaxArray) =>
    vmap((x: WaxArray, y: WaxArray) => perExample(v, x, y))(X, Y)
      .sum()
      .add(v.square().sum().square().mul(tenth));
  const hostGrad = (v: Vec) => {
    const data = Xh.map((x, i) => hostGradPerExample(v, x, Yh[i]!)).reduce((a, b) => a.map((t, k) => t + b[k]!));
    const n2 = dotV(v, v);
    return data.map((t, k) => t + 0.4 * n2 * v[k]!);
  };
  const dir: Vec = [1, -0.5, 2];

  it("jvp of grad along v equals finite differences of the gradient along v", () => {
    const [g, hv] = jvp(grad(loss), [w], [f64(dir)]) as [WaxArray, WaxArray];
    expectClose(values(g), hostGrad(wh), "the primal output is the gradient", 1e-12, 1e-14);
    const h = 1e-5;
    const plus = hostGrad(wh.map((v, k) => v + h * dir[k]!));
    const minus = hostGrad(wh.map((v, k) => v - h * dir[k]!));
    expectClose(
      values(hv),
      plus.map((p, k) => (p - minus[k]!) / (2 * h)),
      "H·v",
      1e-7,
      1e-9,
    );
  });

  it("HVPs along the unit vectors are the Hessian's columns: a symmetric matrix", () => {
    const cols = range(3).map((k) =>
      values((jvp(grad(loss), [w], [f64(range(3).map((j) => (j === k ? 1 : 0)))]) as [WaxArray, WaxArray])[1]),
    );
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) expect(cols[i]![k]).toBeCloseTo(cols[k]![i]!, 12);
  });

  it("under makeJaxpr: replays to the same gradient and HVP", () => {
    const hvp = (v: WaxArray, t: WaxArray) => jvp(grad(loss), [v], [t]);
    const j = makeJaxpr(hvp)(w, f64(dir));
    expect(eqnNames(j)).toContain("dot_general");
    expect(j.jaxpr.outvars.length).toBe(2);
    expectReplays(j, [w, f64(dir)], hvp(w, f64(dir)), "jvp(grad)");
  });
});

// ---- grad options ---------------------------------------------------------------------------

describe("grad options", () => {
  // g(a, b, c) = Σ a·b² + sin(c)·Σ a
  const g3 = (a: WaxArray, b: WaxArray, c: WaxArray) => a.mul(b.square()).sum().add(np.sin(c).mul(a.sum()));
  const a = f64([1, 2]);
  const b = f64([-0.5, 3]);
  const c = f64(0.3);
  const sumA = 3;

  it("argnums as a number differentiates that argument only", () => {
    expectClose(values(grad(g3, { argnums: 1 })(a, b, c)), [2 * 1 * -0.5, 2 * 2 * 3], "∂/∂b = 2ab");
    expectClose(values(grad(g3, { argnums: 2 })(a, b, c)), [Math.cos(0.3) * sumA], "∂/∂c = cos(c) Σa");
  });

  it("argnums as a list returns a list of gradients in that order", () => {
    const [gc, ga] = grad(g3, { argnums: [2, 0] })(a, b, c) as [WaxArray, WaxArray];
    expectClose(values(gc), [Math.cos(0.3) * sumA], "∂/∂c");
    expectClose(values(ga), [0.25 + Math.sin(0.3), 9 + Math.sin(0.3)], "∂/∂a = b² + sin c");
  });

  it("argnums out of range is a TransformError naming the count", () => {
    expect(() => grad(g3, { argnums: 3 })(a, b, c)).toThrow(/argnums 3 is out of range for a call with 3 arguments/);
  });

  it("hasAux returns [gradient, aux] with aux as concrete values, not tracers", () => {
    const [ga, aux] = grad((x: WaxArray) => [x.square().sum(), { doubled: x.mul(2), n: x.sum() }], { hasAux: true })(a) as [
      WaxArray,
      { doubled: WaxArray; n: WaxArray },
    ];
    expectClose(values(ga), [2, 4], "2x");
    expectClose(values(aux.doubled), [2, 4], "aux.doubled");
    expect(aux.n.item()).toBe(3);
  });

  it("valueAndGrad returns [value, gradient]; with hasAux, [[value, aux], gradient]", () => {
    const [v, gv] = valueAndGrad(g3, { argnums: [0, 1] })(a, b, c) as [WaxArray, WaxArray[]];
    expect(v.item()).toBeCloseTo(1 * 0.25 + 2 * 9 + Math.sin(0.3) * 3, 12);
    expectClose(values(gv[1]), [-1, 12], "∂/∂b");
    const [[v2, aux], g2] = valueAndGrad((x: WaxArray) => [x.square().sum(), x.max()], { hasAux: true })(b) as [
      [WaxArray, WaxArray],
      WaxArray,
    ];
    expect(v2.item()).toBe(9.25);
    expect(aux.item()).toBe(3);
    expectClose(values(g2), [-1, 6], "2x");
  });

  it("pytree inputs give gradients with the same structure", () => {
    const params = { layer: { w, b: f64(0.1) }, scale: [f64(2), f64(-1)] };
    type P = typeof params;
    const loss = (p: P) => np.tanh(X.matmul(p.layer.w).add(p.layer.b)).mul(p.scale[0]!).add(p.scale[1]!).square().sum();
    const host = (v: Vec) => Xh.reduce((s, x) => s + (Math.tanh(dotV(x, v.slice(0, 3)) + v[3]!) * v[4]! + v[5]!) ** 2, 0);
    const g = grad(loss)(params) as P;
    expect(Object.keys(g).sort()).toEqual(["layer", "scale"]);
    expect(Object.keys(g.layer).sort()).toEqual(["b", "w"]);
    expect(g.scale.length).toBe(2);
    expect(g.layer.w.shape).toEqual([3]);
    expect(g.layer.b.shape).toEqual([]);
    const flat = [...values(g.layer.w), ...values(g.layer.b), ...values(g.scale[0]), ...values(g.scale[1])];
    expectClose(flat, fdGrad(host, [...wh, 0.1, 2, -1]), "pytree gradient");
  });

  it("JS control flow on concrete values works inside grad outside of staging", () => {
    const f = (x: WaxArray) => (x.sum().item() > 0 ? x.square().sum() : x.sum().mul(-3));
    expectClose(values(grad(f)(f64([1, 2]))), [2, 4], "positive branch: 2x");
    expectClose(values(grad(f)(f64([1, -2]))), [-3, -3], "negative branch: −3");
  });

  it("the same control flow under makeJaxpr(grad(f)) is a ConcretizationError that says what to do", () => {
    const f = (x: WaxArray) => (x.sum().item() > 0 ? x.square().sum() : x.sum().mul(-3));
    let caught: unknown = null;
    try {
      makeJaxpr(grad(f))(f64([1, 2]));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConcretizationError);
    expect((caught as Error).message).toMatch(/^item\(\): the value of traced f64\[\] .* is not known while tracing/);
    expect((caught as Error).message).toMatch(/np\.where|lax\.selectN/);
  });
});

describe("float64 and JS numbers", () => {
  it("a JS number in a float64 computation keeps its float64 value, in the value and the gradient (JAX with x64)", () => {
    // JAX: a Python float is weakly typed and converts to float64 exactly; 0.1 must not become float32(0.1).
    const x = f64([1, 2]);
    const [v, g] = valueAndGrad((t: WaxArray) => t.mul(0.1).sum())(x) as [WaxArray, WaxArray];
    expect(v.item()).toBe(0.1 * 1 + 0.1 * 2);
    expect(values(g)).toEqual([0.1, 0.1]);
  });
});

// ---- errors ---------------------------------------------------------------------------------

const thrown = (f: () => unknown) => thrownAs(TransformError, f);

describe("grad errors", () => {
  it("grad of a non-scalar output says to reduce it or use vjp", () => {
    const msg = thrown(() => grad((x: WaxArray) => x.mul(2))(w));
    expect(msg).toBe(
      "grad: the function must return a float scalar, but it returned f64[3] — reduce it (e.g. .sum() or .mean()), or use vjp for non-scalar outputs",
    );
  });

  it("grad w.r.t. an int32 input says to convert it or leave it out of argnums", () => {
    const msg = thrown(() => grad((x: WaxArray) => x.astype("float32").sum())(array([1, 2], { dtype: "int32" })));
    expect(msg).toMatch(/^grad: argument 0 leaf 0 of .* has dtype int32, but grad requires float inputs — /);
    expect(msg).toMatch(/astype\('float32'\)/);
    expect(msg).toMatch(/argnums/);
  });

  it("an int32 argument that is not differentiated is fine", () => {
    const g = grad((x: WaxArray, k: WaxArray) => x.get(k).square(), { argnums: 0 })(w, array(1, { dtype: "int32" })) as WaxArray;
    expectClose(values(g), [0, 2 * wh[1]!, 0], "one-hot 2x_k");
  });

  it("grad under vmap reports the non-scalar per-example output", () => {
    const msg = thrown(() => vmap(grad((x: WaxArray) => x.mul(2)))(X));
    expect(msg).toMatch(/returned f64\[3\]/);
  });
});

// ---- tracing cost ---------------------------------------------------------------------------

describe("tracing a deep MLP", () => {
  it("makeJaxpr(grad(loss)) of a 20-layer MLP has one forward and two backward dot_generals per layer, less one", () => {
    const L = 20;
    const width = 64;
    const batch = 8;
    const layers = range(L).map((l) => ({ w: np.full([width, width], 0.01 * ((l % 3) - 1), "float32"), b: np.zeros([width]) }));
    const xs = np.ones([batch, width]);
    type Layer = (typeof layers)[number];
    const loss = (ps: Layer[], x: WaxArray) => {
      let h = x;
      for (const p of ps) h = np.tanh(h.matmul(p.w).add(p.b));
      return h.square().mean();
    };
    const t0 = performance.now();
    const j = makeJaxpr(grad(loss))(layers, xs);
    const ms = performance.now() - t0;
    console.log(
      `makeJaxpr(grad(loss)) of a ${L}-layer MLP (width ${width}, batch ${batch}): ${ms.toFixed(1)} ms, ${j.jaxpr.eqns.length} equations`,
    );
    // forward: L; backward: ∂W for every layer, ∂h for every layer but the first (x is not differentiated)
    expect(count(eqnNames(j), "dot_general")).toBe(L + L + (L - 1));
    expect(j.jaxpr.outvars.length).toBe(2 * L);
    expect(j.jaxpr.invars.length).toBe(2 * L + 1);
    // and it computes the gradient: replay equals the direct call
    expectReplays(j, [...layers.flatMap((p) => [p.b, p.w]), xs], grad(loss)(layers, xs), "20-layer MLP");
  });
});
