import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { array, evalJaxpr, grad, lax, makeJaxpr, nn, np, type Array } from "@wax/tracer";
import { cse, dce, fold, inline, optimize, simplify, type PassStats } from "../../index";

const prims = (j: { jaxpr: { eqns: readonly { prim: { name: string } }[] } }) => j.jaxpr.eqns.map((e) => e.prim.name);

describe("jaxpr passes", () => {
  it("DCE removes the primal leftovers of grad", () => {
    const j = makeJaxpr(grad((x: Array) => np.sin(np.cos(x))))(array(3));
    expect(String(j)).toContain("_:f32[] = sin b");
    const d = dce(j);
    expect(prims(d)).toEqual(["cos", "sin", "cos", "mul", "neg", "mul"]);
    expect(evalJaxpr(d, [array(3)])[0]!.item()).toBe(evalJaxpr(j, [array(3)])[0]!.item());
  });

  it("CSE merges equal equations", () => {
    const j = makeJaxpr((x: Array) => np.exp(x).add(np.exp(x)))(np.ones([3]));
    expect(prims(cse(j))).toEqual(["exp", "add"]);
  });

  it("inline replaces custom_jvp_call by its body", () => {
    const j = makeJaxpr((x: Array) => nn.relu(nn.relu(x)))(np.ones([3]));
    expect(prims(j)).toEqual(["custom_jvp_call", "custom_jvp_call"]);
    const k = inline(j);
    expect(prims(k)).toEqual(["max", "max"]);
    const x = array([-1, 0.5, 2]);
    expect(evalJaxpr(k, [x])[0]!.toArray()).toEqual(evalJaxpr(j, [x])[0]!.toArray());
  });

  it("fold evaluates scalar constant subexpressions but keeps fills as broadcasts", () => {
    const c = array([1, 2, 3]);
    const j = makeJaxpr((x: Array) =>
      x
        .mul(lax.add(2, 3))
        .add(c.mul(2))
        .add(np.zeros([3])),
    )(np.ones([3]));
    const f = dce(fold(j));
    expect(prims(f)).toEqual(["mul", "add", "broadcast_in_dim", "add"]);
    expect(String(f)).toContain("mul b 5.0:f32[]");
    expect(f.consts.map((k) => k.toArray())).toEqual([[2, 4, 6]]);
    const x = array([1, -1, 0.5]);
    expect(evalJaxpr(f, [x])[0]!.toArray()).toEqual(evalJaxpr(j, [x])[0]!.toArray());
  });

  it("simplify removes identities and composes transposes and reshapes", () => {
    const j = makeJaxpr((x: Array) =>
      lax
        .neg(
          lax.neg(
            lax
              .transpose(lax.transpose(x, [1, 2, 0]), [2, 0, 1])
              .mul(1)
              .div(1)
              .sub(0),
          ),
        )
        .reshape([6, 4])
        .reshape([24]),
    )(np.ones([2, 3, 4]));
    const s = dce(simplify(j));
    expect(prims(s)).toEqual(["reshape"]);
    const x = np.arange(24).astype("float32").reshape([2, 3, 4]);
    expect(evalJaxpr(s, [x])[0]!.toArray()).toEqual(evalJaxpr(j, [x])[0]!.toArray());
  });

  it("simplify keeps x + 0 and x * 0 (IEEE: -0 and NaN)", () => {
    const j = makeJaxpr((x: Array) => x.add(0).mul(0))(np.ones([2]));
    expect(prims(simplify(j))).toEqual(["add", "mul"]);
  });

  it("optimize records per-pass statistics and reaches a fixpoint", () => {
    const stats: PassStats = { steps: [] };
    const j = makeJaxpr(grad((w: Array) => nn.relu(np.ones([4, 3]).matmul(w)).sum()))(np.ones([3, 2]));
    const o = optimize(j, stats);
    expect(stats.steps[0]!.pass).toBe("inline");
    expect(o.jaxpr.eqns.length).toBeLessThan(j.jaxpr.eqns.length);
    const w = array([
      [1, -2],
      [0.5, 3],
      [-1, 1],
    ]);
    expect(evalJaxpr(o, [w])[0]!.toArray()).toEqual(evalJaxpr(j, [w])[0]!.toArray());
  });
});

// Random programs: optimize must not change any value, bit for bit.
type Op = (a: Array, b: Array) => Array;
const OPS: [string, Op][] = [
  ["add", (a, b) => a.add(b)],
  ["mul1", (a) => a.mul(1)],
  ["sub0", (a) => a.sub(0)],
  ["exp", (a) => np.exp(a.mul(0.1))],
  ["negneg", (a) => lax.neg(lax.neg(a))],
  ["dupexp", (a) => np.tanh(a).add(np.tanh(a))],
  ["T.T", (a) => a.T.T],
  ["sumkeep", (a) => a.sum({ axis: 1, keepdims: true }).add(a)],
  ["relu", (a) => nn.relu(a)],
  ["const", (a) => a.add(lax.mul(array(2), array(3)))],
  ["where", (a, b) => np.where(a.gt(b), a, b)],
  ["max", (a) => a.max({ axis: 0, keepdims: true }).mul(a)],
];

describe("optimize preserves semantics", () => {
  it("on random programs (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: OPS.length - 1 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.float({ min: -3, max: 3, noNaN: true }), { minLength: 6, maxLength: 6 }),
        (ops, vals) => {
          const f = (x: Array, y: Array) => {
            let a = x;
            for (const k of ops) a = OPS[k]![1](a, y);
            return a;
          };
          const x = array(vals, { shape: [2, 3] });
          const y = array(
            vals.map((v) => -v),
            { shape: [2, 3] },
          );
          const j = makeJaxpr(f)(x, y);
          const o = optimize(j);
          expect(o.jaxpr.eqns.length).toBeLessThanOrEqual(inline(j).jaxpr.eqns.length);
          expect(globalThis.Array.from(evalJaxpr(o, [x, y])[0]!.data)).toEqual(globalThis.Array.from(evalJaxpr(j, [x, y])[0]!.data));
        },
      ),
      { numRuns: 60 },
    );
  });
});
