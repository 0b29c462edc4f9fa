/**
 * `lax.whileLoop` and `lax.foriLoop`: values against plain JS loops (eagerly and through the
 * traced jaxpr), zero-trip loops, pytree/int/bool carries, weak-typed inits promoted as JAX,
 * `foriLoop` as a `scan` with static bounds and a `while` with traced ones, JAX's jaxpr
 * text, and the carry errors modelled on JAX's.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ArgumentError,
  array,
  DTypeError,
  evalJaxpr,
  lax,
  makeJaxpr,
  np,
  PytreeError,
  ShapeError,
  type Array as WaxArray,
} from "../../index";
import { thrown } from "../support/thrown";

const vals = (a: unknown) => globalThis.Array.from((a as WaxArray).data, Number);
const i32 = (v: number | number[]) => array(v, { dtype: "int32" });

/** Steps of the Collatz sequence from n to 1, in JS. */
function collatzSteps(n: number): number {
  let k = 0;
  for (; n !== 1; k++) n = n % 2 === 0 ? n / 2 : 3 * n + 1;
  return k;
}

describe("lax.whileLoop", () => {
  const collatz = (n: WaxArray) =>
    lax.whileLoop(
      ([x]) => x.ne(1),
      ([x, k]) => [np.where(x.mod(2).eq(0), lax.div(x, 2), x.mul(3).add(1)), k.add(1)],
      [n, 0],
    );

  it("runs a data-dependent loop to the JS loop's result, eagerly and through its jaxpr", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (n) => {
        const [x, k] = collatz(i32(n));
        expect([vals(x), vals(k)]).toEqual([[1], [collatzSteps(n)]]);
        const j = makeJaxpr(collatz)(i32(n));
        expect(vals(evalJaxpr(j, [i32(n)])[1])).toEqual([collatzSteps(n)]);
      }),
      { numRuns: 30 },
    );
  });

  it("returns the init unchanged when the condition is false at once (zero trips)", () => {
    const [x, k] = collatz(i32(1));
    expect([vals(x), vals(k)]).toEqual([[1], [0]]);
    let bodyRuns = 0;
    const y = lax.whileLoop(
      () => false,
      (v) => (bodyRuns++, v.add(1)),
      array([3, 4]),
    );
    expect(vals(y)).toEqual([3, 4]);
    expect(bodyRuns).toBe(1); // traced once, never run
  });

  it("carries pytrees with float, int and bool leaves (a traced flag starts as np.array(false))", () => {
    const init = { x: array([1, 2]), steps: i32(0), done: array(false) };
    const out = lax.whileLoop(
      (c) => np.logicalNot(c.done),
      (c) => {
        const x = c.x.mul(1.5);
        return { x, steps: c.steps.add(1), done: x.sum().gt(20) };
      },
      init,
    );
    let x = [1, 2];
    let steps = 0;
    for (let done = false; !done; steps++) {
      x = x.map((v) => Math.fround(v * 1.5));
      done = x[0]! + x[1]! > 20;
    }
    expect(vals(out.x)).toEqual(x);
    expect(vals(out.steps)).toEqual([steps]);
    expect(out.done.toArray()).toBe(true);
    expect([out.steps.dtype, out.done.dtype]).toEqual(["int32", "bool"]);
  });

  it("promotes a weak-typed init to the body's output type, as JAX (a literal in the jaxpr)", () => {
    const f = () =>
      lax.whileLoop(
        (v) => v.lt(10),
        (v) => v.add(0.5),
        0,
      );
    expect(f().dtype).toBe("float32");
    expect(vals(f())).toEqual([10]);
    expect(makeJaxpr(f)().toString()).toBe(
      [
        "{ lambda ; . let",
        "    a:f32[] = while[",
        "      body_jaxpr={ lambda ; b:f32[]. let c:f32[] = add b 0.5:f32[] in (c,) }",
        "      body_nconsts=0",
        "      cond_jaxpr={ lambda ; d:f32[]. let e:bool[] = lt d 10.0:f32[] in (e,) }",
        "      cond_nconsts=0",
        "    ] 0.0:f32[]",
        "  in (a,) }",
      ].join("\n"),
    );
  });

  it("prints as JAX, with a closed-over value as a cond const", () => {
    const w = (x: WaxArray, lim: WaxArray) =>
      lax.whileLoop(
        ([, v]) => v.lt(lim),
        ([i, v]) => [i.add(1), v.mul(2)],
        [0, x],
      );
    expect(makeJaxpr(w)(array(1), array(100)).toString()).toBe(
      [
        "{ lambda ; a:f32[] b:f32[]. let",
        "    c:i32[] d:f32[] = while[",
        "      body_jaxpr={ lambda ; e:i32[] f:f32[]. let",
        "          g:i32[] = add e 1:i32[]",
        "          h:f32[] = mul f 2.0:f32[]",
        "        in (g, h) }",
        "      body_nconsts=0",
        "      cond_jaxpr={ lambda ; i:f32[] j:i32[] k:f32[]. let",
        "          l:bool[] = lt k i",
        "        in (l,) }",
        "      cond_nconsts=1",
        "    ] b 0:i32[] a",
        "  in (c, d) }",
      ].join("\n"),
    );
    const [n, v] = w(array(1), array(100));
    expect([vals(n), vals(v)]).toEqual([[7], [128]]);
  });

  it("names the carry leaf whose type changes, as JAX", () => {
    const msg = thrown(ShapeError, () =>
      lax.whileLoop(
        (x) => x[0].lt(3),
        (x) => [x[0].add(np.ones([3]))],
        [array(0)],
      ),
    );
    expect(msg).toBe(
      "whileLoop: bodyFun carry input and carry output must have equal types (e.g. shapes and dtypes of arrays), but they differ: " +
        "the input carry component x[0] has type float32[] but the corresponding output carry component has type float32[3], so the shapes do not match — " +
        "revise the function so that all output types (shapes and dtypes) match the corresponding input types",
    );
    expect(
      thrown(DTypeError, () =>
        lax.whileLoop(
          (c) => c.a.lt(3),
          (c) => ({ a: c.a.astype("int32") }),
          { a: array(0) },
        ),
      ),
    ).toContain(
      "the input carry component c['a'] has type float32[] but the corresponding output carry component has type int32[], so the dtypes do not match",
    );
    // Destructured parameters have no name: JAX's wording for that case.
    expect(
      thrown(ShapeError, () =>
        lax.whileLoop(
          ([v]) => v.lt(3),
          ([v]) => [np.stack([v, v])],
          [array(0)],
        ),
      ),
    ).toContain("the input carry at path [0] has type float32[]");
  });

  it("refuses a carry whose structure or static leaves change, and a non-boolean condition", () => {
    expect(
      thrown(PytreeError, () =>
        lax.whileLoop(
          (c) => c[0].lt(3),
          (c) => [c[0], c[0]] as never,
          [array(0)],
        ),
      ),
    ).toBe(
      "whileLoop: bodyFun carry input and carry output must have the same pytree structure, but the input is PyTreeDef([*]) and the output is PyTreeDef([*, *]) — revise the function so that the carry output has the same pytree structure as the carry input",
    );
    expect(
      thrown(PytreeError, () =>
        lax.whileLoop(
          ([x]) => x.lt(3),
          ([x]) => [x.add(1), x.gt(2) as never],
          [array(0), false],
        ),
      ),
    ).toBe(
      "whileLoop: bodyFun carry output holds a traced array where the input carry at path [1] is the static value false — non-array leaves of a carry (booleans, strings, ...) are static and must come back unchanged; to carry a traced flag start from np.array(false)",
    );
    expect(
      thrown(DTypeError, () =>
        lax.whileLoop(
          (x) => x,
          (x) => x.add(1),
          array(0),
        ),
      ),
    ).toBe("whileLoop: condFun must return a boolean scalar, but got float32[] — return one bool (e.g. i.lt(n), or x.gt(0).all())");
    expect(
      thrown(ShapeError, () =>
        lax.whileLoop(
          (x) => x.lt(1),
          (x) => x.add(1),
          array([0, 1]),
        ),
      ),
    ).toContain("whileLoop: condFun must return a boolean scalar, but got bool[2]");
    expect(
      thrown(DTypeError, () =>
        lax.whileLoop(
          (x) => [x.lt(1)] as never,
          (x) => x,
          array(0),
        ),
      ),
    ).toContain("but got pytree PyTreeDef([*])");
  });
});

describe("lax.foriLoop", () => {
  const sumTo = (lo: number, hi: number, x0: number) => {
    let x = x0;
    for (let i = lo; i < hi; i++) x = Math.fround(x * 0.5 + i);
    return x;
  };

  it("matches the JS loop for static and traced bounds, including empty ranges", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -3, max: 6 }),
        fc.integer({ min: -3, max: 8 }),
        fc.float({ min: -5, max: 5, noNaN: true }),
        (lo, hi, x0) => {
          const body = (i: WaxArray, x: WaxArray) => x.mul(0.5).add(i);
          const want = sumTo(lo, hi, Math.fround(x0));
          expect(vals(lax.foriLoop(lo, hi, body, array(x0)))[0]).toBeCloseTo(want, 4);
          const traced = makeJaxpr((l: WaxArray, h: WaxArray, x: WaxArray) => lax.foriLoop(l, h, body, x))(i32(lo), i32(hi), array(x0));
          expect(vals(evalJaxpr(traced, [i32(lo), i32(hi), array(x0)])[0])[0]).toBeCloseTo(want, 4);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("with static bounds is a scan carrying the counter (reverse-differentiable, as JAX)", () => {
    expect(makeJaxpr((x: WaxArray) => lax.foriLoop(2, 5, (i, v) => v.mul(i), x))(array(1)).toString()).toBe(
      [
        "{ lambda ; a:f32[]. let",
        "    _:i32[] b:f32[] = scan[",
        "      _split_transpose=False",
        "      jaxpr={ lambda ; c:i32[] d:f32[]. let",
        "          e:i32[] = add c 1:i32[]",
        "          f:f32[] = convert_element_type[new_dtype=float32 weak_type=False] c",
        "          g:f32[] = mul d f",
        "        in (e, g) }",
        "      length=3",
        "      linear=(False, False)",
        "      num_carry=2",
        "      num_consts=0",
        "      reverse=False",
        "      unroll=1",
        "    ] 2:i32[] a",
        "  in (b,) }",
      ].join("\n"),
    );
    expect(vals(lax.foriLoop(2, 5, (i, v) => v.mul(i), array(1)))).toEqual([24]);
    // concrete array bounds are static too; an empty range is a length-0 scan
    expect(makeJaxpr((x: WaxArray) => lax.foriLoop(i32(4), i32(1), (i, v) => v.add(i), x))(array(1)).toString()).toContain("length=0");
  });

  it("with traced bounds is a while over (i, upper, val), as JAX", () => {
    expect(makeJaxpr((x: WaxArray, n: WaxArray) => lax.foriLoop(0, n, (i, v) => v.add(i), x))(i32(0), i32(5)).toString()).toBe(
      [
        "{ lambda ; a:i32[] b:i32[]. let",
        "    _:i32[] _:i32[] c:i32[] = while[",
        "      body_jaxpr={ lambda ; d:i32[] e:i32[] f:i32[]. let",
        "          g:i32[] = add d 1:i32[]",
        "          h:i32[] = add f d",
        "        in (g, e, h) }",
        "      body_nconsts=0",
        "      cond_jaxpr={ lambda ; i:i32[] j:i32[] k:i32[]. let",
        "          l:bool[] = lt i j",
        "        in (l,) }",
        "      cond_nconsts=0",
        "    ] 0:i32[] b a",
        "  in (c,) }",
      ].join("\n"),
    );
  });

  it("carries pytrees with static leaves untouched", () => {
    const out = lax.foriLoop(0, 3, (i, s) => ({ name: s.name, acc: [s.acc[0].add(i), s.acc[1].mul(2)] as [WaxArray, WaxArray] }), {
      name: "state",
      acc: [i32(0), array([1, 2])] as [WaxArray, WaxArray],
    });
    expect(out.name).toBe("state");
    expect([vals(out.acc[0]), vals(out.acc[1])]).toEqual([[3], [8, 16]]);
  });

  it("names the user's carry leaf in errors, and refuses float bounds or unroll with traced bounds", () => {
    expect(thrown(ShapeError, () => lax.foriLoop(0, 3, (i, val) => [np.stack([val[0], val[0]])], [array(1)]))).toContain(
      "foriLoop: bodyFun carry input and carry output must have equal types (e.g. shapes and dtypes of arrays), but they differ: the input carry component val[0] has type float32[] but the corresponding output carry component has type float32[2]",
    );
    expect(thrown(DTypeError, () => lax.foriLoop(0, 2.5, (i, v) => v, array(1)))).toBe(
      'foriLoop: upper must be an integer, got f32[] (2.5) — pass integer bounds (convert a float with astype("int32"))',
    );
    expect(thrown(ShapeError, () => lax.foriLoop(i32([0, 1]), 2, (i, v) => v, array(1)))).toContain(
      "foriLoop: lower must be a scalar, got i32[2]",
    );
    expect(thrown(ArgumentError, () => makeJaxpr((n: WaxArray) => lax.foriLoop(0, n, (i, v) => v, array(1), { unroll: 2 }))(i32(3)))).toBe(
      "foriLoop: unroll needs statically known loop bounds (JS numbers or concrete arrays) — drop unroll or make the bounds static",
    );
  });
});
