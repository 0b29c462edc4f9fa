/**
 * `lax.cond` and `lax.switch`: the branch taken (eagerly, and through the traced jaxpr run by
 * the interpreter), JAX's jaxpr text, pytree/int/bool operands and outputs, static leaves,
 * weak types, closed-over values hoisted into operands, and every bad input.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  array,
  bind,
  DTypeError,
  evalJaxpr,
  lax,
  makeJaxpr,
  np,
  primitives,
  PytreeError,
  ShapeError,
  type Array as WaxArray,
} from "../../index";
import { Aval } from "../../src/aval";
import { thrown } from "../support/thrown";

const vals = (a: unknown) => globalThis.Array.from((a as WaxArray).data, Number);

describe("lax.cond", () => {
  const f = (p: unknown, x: WaxArray) =>
    lax.cond(
      p as boolean,
      (y) => y.mul(2),
      (y) => y.neg(),
      x,
    );

  it("runs the branch the predicate picks, eagerly and through its jaxpr", () => {
    const x = array([1, -2, 3]);
    for (const p of [true, false]) {
      const want = [1, -2, 3].map((v) => (p ? 2 * v : -v));
      expect(vals(f(p, x))).toEqual(want);
      expect(vals(evalJaxpr(makeJaxpr(f)(p, x), [array(p), x])[0])).toEqual(want);
    }
  });

  it("compares a numeric predicate with zero, as JAX", () => {
    const x = array([5]);
    expect(vals(f(2, x))).toEqual([10]);
    expect(vals(f(-0.5, x))).toEqual([10]);
    expect(vals(f(0, x))).toEqual([-5]);
    expect(vals(f(array(0, { dtype: "int32" }), x))).toEqual([-5]);
    expect(vals(f(array(3, { dtype: "uint32" }), x))).toEqual([10]);
  });

  it("prints as JAX: the bool converted to an int32 index, branches (false, true)", () => {
    expect(makeJaxpr(f)(true, array([1, 2, 3])).toString()).toBe(
      [
        "{ lambda ; a:bool[] b:f32[3]. let",
        "    c:i32[] = convert_element_type[new_dtype=int32 weak_type=False] a",
        "    d:f32[3] = cond[",
        "      branches=(",
        "        { lambda ; e:f32[3]. let f:f32[3] = neg e in (f,) }",
        "        { lambda ; g:f32[3]. let h:f32[3] = mul g 2.0:f32[] in (h,) }",
        "      )",
        "    ] c b",
        "  in (d,) }",
      ].join("\n"),
    );
  });

  it("hoists closed-over values into leading operands shared by both branches", () => {
    const w = array([10, 20, 30]);
    const g = (p: WaxArray, x: WaxArray, y: WaxArray) =>
      lax.cond(
        p,
        (v) => v.mul(w),
        (v) => v.add(y),
        x,
      );
    const jaxpr = makeJaxpr(g)(array(true), array([1, 2, 3]), array([1, 1, 1]));
    expect(jaxpr.toString()).toBe(
      [
        "{ lambda a:f32[3]; b:bool[] c:f32[3] d:f32[3]. let",
        "    e:i32[] = convert_element_type[new_dtype=int32 weak_type=False] b",
        "    f:f32[3] = cond[",
        "      branches=(",
        "        { lambda ; g:f32[3] h:f32[3] i:f32[3]. let j:f32[3] = add i h in (j,) }",
        "        { lambda ; k:f32[3] l:f32[3] m:f32[3]. let n:f32[3] = mul m k in (n,) }",
        "      )",
        "    ] e a d c",
        "  in (f,) }",
      ].join("\n"),
    );
    expect(vals(g(array(true), array([1, 2, 3]), array([1, 1, 1])))).toEqual([10, 40, 90]);
    expect(vals(g(array(false), array([1, 2, 3]), array([1, 1, 1])))).toEqual([2, 3, 4]);
  });

  it("returns an operand every branch passes through directly, not as a cond output (as JAX)", () => {
    const g = (p: WaxArray, x: WaxArray, y: WaxArray) =>
      lax.cond(
        p,
        (a, b) => [a, b.add(1)],
        (a, b) => [a, b.mul(2)],
        x,
        y,
      );
    expect(makeJaxpr(g)(array(true), array([1, 2]), array(3)).toString()).toBe(
      [
        "{ lambda ; a:bool[] b:f32[2] c:f32[]. let",
        "    d:i32[] = convert_element_type[new_dtype=int32 weak_type=False] a",
        "    e:f32[] = cond[",
        "      branches=(",
        "        { lambda ; f:f32[2] g:f32[]. let h:f32[] = mul g 2.0:f32[] in (h,) }",
        "        { lambda ; i:f32[2] j:f32[]. let k:f32[] = add j 1.0:f32[] in (k,) }",
        "      )",
        "    ] d b c",
        "  in (b, e) }",
      ].join("\n"),
    );
    const [a, b] = g(array(false), array([1, 2]), array(3));
    expect([vals(a), vals(b)]).toEqual([[1, 2], [6]]);
  });

  it("takes and returns pytrees, with int and bool leaves", () => {
    const g = (p: boolean, ops: { a: WaxArray; b: [WaxArray, WaxArray] }) =>
      lax.cond(
        p,
        ({ a, b: [i, m] }) => ({ s: a.sum(), i: i.add(1), m: np.logicalNot(m) }),
        ({ a, b: [i, m] }) => ({ s: a.max(), i: i.sub(1), m }),
        ops,
      );
    const ops = { a: array([1, 4, 2]), b: [array([7, 8], { dtype: "int32" }), array([true, false])] as [WaxArray, WaxArray] };
    const t = g(true, ops);
    expect([vals(t.s), vals(t.i), t.m.toArray()]).toEqual([[7], [8, 9], [false, true]]);
    expect(t.i.dtype).toBe("int32");
    const e = g(false, ops);
    expect([vals(e.s), vals(e.i), e.m.toArray()]).toEqual([[4], [6, 7], [true, false]]);
  });

  it("passes static leaves through and joins weak types as JAX (weak only if weak in every branch)", () => {
    const [tag, y] = lax.cond(
      true,
      (name, x) => [name, x.add(1)],
      (name, x) => [name, x],
      "label",
      array(1, { dtype: "int32" }),
    );
    expect(tag).toBe("label");
    expect(vals(y)).toEqual([2]);
    const mixed = lax.cond(
      false,
      (): number | WaxArray => 1,
      () => array(2, { dtype: "int32" }),
    );
    expect(mixed.weakType).toBe(false);
    expect(vals(mixed)).toEqual([2]);
    const bothWeak = lax.cond(
      false,
      () => 1,
      () => 2,
    );
    expect(bothWeak.weakType).toBe(true);
    expect(bothWeak.dtype).toBe("int32");
  });

  it("runs only the branch taken (the other's values are never computed)", () => {
    let calls = 0;
    const x = array([4]);
    // Tracing runs each function once; the interpreter then evaluates one branch's jaxpr.
    const y = lax.cond(
      false,
      (v) => (calls++, v.log()),
      (v) => (calls++, v.sqrt()),
      x,
    );
    expect(calls).toBe(2);
    expect(vals(y)).toEqual([2]);
  });

  it("refuses a non-scalar predicate", () => {
    const msg = thrown(ShapeError, () =>
      lax.cond(
        array([true, false]),
        (x) => x,
        (x) => x,
        array([1, 2]),
      ),
    );
    expect(msg).toBe(
      "cond: the predicate must be a scalar, got bool[2] — reduce it to one value (e.g. np.all or np.any), or use np.where to choose elementwise",
    );
  });

  it("refuses branches whose outputs differ in shape, dtype or structure, naming the leaf", () => {
    const x = array([1, 2, 3]);
    expect(
      thrown(ShapeError, () =>
        lax.cond(
          true,
          (v) => v,
          (v) => v.sum(),
          x,
        ),
      ),
    ).toBe(
      "cond: trueFun output and falseFun output must have identical types, but output is float32[3] in trueFun and float32[] in falseFun — return the same shapes and dtypes from every branch (broadcast or astype one of them)",
    );
    expect(
      thrown(DTypeError, () =>
        lax.cond(
          true,
          (v) => ({ a: v, b: [v, v] }),
          (v) => ({ a: v, b: [v, v.astype("int32")] }),
          x,
        ),
      ),
    ).toContain("but output['b'][1] is float32[3] in trueFun and int32[3] in falseFun");
    expect(
      thrown(PytreeError, () =>
        lax.cond(
          true,
          (v) => [v, v] as never,
          (v) => v,
          x,
        ),
      ),
    ).toBe(
      "cond: trueFun output must have the same pytree structure as falseFun output, got PyTreeDef([*, *]) and PyTreeDef(*) — return the same structure (and the same static leaves) from every branch",
    );
    expect(
      thrown(PytreeError, () =>
        lax.cond(
          true,
          (v) => [v, "a"],
          (v) => [v, "b"],
          x,
        ),
      ),
    ).toContain('at output[1], trueFun returns the static string "a" and falseFun the static string "b"');
  });

  it("refuses a predicate or branches of the wrong kind", () => {
    expect(
      thrown(ArgumentError, () =>
        lax.cond(
          "yes" as never,
          (x) => x,
          (x) => x,
          1,
        ),
      ),
    ).toContain("cond: the predicate must be an array");
    expect(thrown(ArgumentError, () => lax.cond(true, 1 as never, (x) => x, 1))).toContain("cond: trueFun and falseFun must be functions");
  });
});

describe("lax.switch", () => {
  const branches = [(x: WaxArray) => x.add(100), (x: WaxArray) => x.mul(2), (x: WaxArray) => x.neg()];

  it("runs branches[index] with the index clamped into range, as JAX", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 7 }), fc.float({ min: -10, max: 10, noNaN: true }), (k, v) => {
        const x = array([v]);
        const want = [v + 100, v * 2, -v][Math.min(Math.max(k, 0), 2)]!;
        expect(vals(lax.switch(k, branches, x))[0]).toBeCloseTo(Math.fround(want), 4);
        const staged = makeJaxpr((i: WaxArray, y: WaxArray) => lax.switch(i, branches, y))(array(k, { dtype: "int32" }), x);
        expect(vals(evalJaxpr(staged, [array(k, { dtype: "int32" }), x])[0])).toEqual(vals(lax.switch(k, branches, x)));
      }),
      { numRuns: 40 },
    );
  });

  it("prints the clamp (as max/min) before the cond", () => {
    expect(makeJaxpr((i: WaxArray, x: WaxArray) => lax.switch(i, branches, x))(array(1, { dtype: "int32" }), array(1)).toString()).toBe(
      [
        "{ lambda ; a:i32[] b:f32[]. let",
        "    c:i32[] = max a 0:i32[]",
        "    d:i32[] = min c 2:i32[]",
        "    e:f32[] = cond[",
        "      branches=(",
        "        { lambda ; f:f32[]. let g:f32[] = add f 100.0:f32[] in (g,) }",
        "        { lambda ; h:f32[]. let i:f32[] = mul h 2.0:f32[] in (i,) }",
        "        { lambda ; j:f32[]. let k:f32[] = neg j in (k,) }",
        "      )",
        "    ] d b",
        "  in (e,) }",
      ].join("\n"),
    );
  });

  it("calls a lone branch directly, as JAX (no cond in the jaxpr)", () => {
    const j = makeJaxpr((i: WaxArray, x: WaxArray) => lax.switch(i, [(y: WaxArray) => y.exp()], x))(array(0, { dtype: "int32" }), array(0));
    expect(j.toString()).toBe("{ lambda ; a:i32[] b:f32[]. let c:f32[] = exp b in (c,) }");
  });

  it("refuses float and non-scalar indices, no branches, and mismatched branch outputs", () => {
    expect(thrown(DTypeError, () => lax.switch(1.5, branches, array(1)))).toBe(
      'switch: the branch index must be an integer, got f32[] — convert it explicitly (e.g. index.astype("int32")), or use lax.cond for a bool',
    );
    expect(thrown(DTypeError, () => lax.switch(true, branches, array(1)))).toContain(
      "switch: the branch index must be an integer, got bool[]",
    );
    expect(thrown(ShapeError, () => lax.switch(array([0, 1], { dtype: "int32" }), branches, array(1)))).toBe(
      "switch: the branch index must be a scalar, got i32[2] — pass one integer",
    );
    expect(thrown(ArgumentError, () => lax.switch(0, [], array(1)))).toBe("switch: no branches — pass at least one function");
    expect(thrown(ShapeError, () => lax.switch(0, [(x: WaxArray) => x, (x: WaxArray) => np.stack([x, x])], array(1)))).toContain(
      "switch: branch 0 output and branch 1 output must have identical types, but output is float32[] in branch 0 and float32[2] in branch 1",
    );
  });
});

describe("the cond primitive", () => {
  const cond = primitives.get("cond")!;
  const branch = makeJaxpr((x: WaxArray) => x.add(1))(array(1));

  it("validates its operands against the branches", () => {
    const f32 = new Aval([], "float32");
    expect(thrown(DTypeError, () => cond.abstractEval([f32, f32], { branches: [branch] }))).toBe(
      'cond: the branch index must be int32, got f32[] — convert it with lax.convertElementType(index, "int32")',
    );
    expect(
      thrown(ShapeError, () => cond.abstractEval([new Aval([], "int32"), new Aval([2], "float32")], { branches: [branch] })),
    ).toContain("cond: operands of branch 0: value 0 is f32[2] but f32[] is expected");
    expect(cond.abstractEval([new Aval([], "int32"), f32], { branches: [branch, branch] }).map(String)).toEqual(["f32[]"]);
  });

  it("clamps its index into range when run", () => {
    const negate = makeJaxpr((x: WaxArray) => x.neg())(array(1));
    const run = (k: number) => vals(bind(cond, [array(k, { dtype: "int32" }), array(3)], { branches: [branch, negate] })[0]);
    expect([run(-4), run(0), run(1), run(9)]).toEqual([[4], [4], [-3], [-3]]);
  });
});
