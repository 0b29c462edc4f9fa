/**
 * `lax.scan` and `lax.map`: values against plain JS loops over random sequences (forward and
 * reverse, eagerly and through the traced jaxpr), length-0 scans, `xs = null` with a length,
 * pytree/int/bool carries and `xs`/`ys`, weak-typed inits, JAX's jaxpr text, and the errors
 * on `xs` sizes, `length` and carry types.
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
const f32 = Math.fround;

describe("lax.scan", () => {
  /** carry' = carry * 0.5 + x, y = carry * x: a carry that feeds back non-trivially. */
  const step = (c: WaxArray, x: WaxArray): [WaxArray, WaxArray] => [c.mul(0.5).add(x), c.mul(x)];
  function hostScan(c0: number, xs: number[], reverse: boolean): [number, number[]] {
    let c = f32(c0);
    const ys = new globalThis.Array<number>(xs.length);
    for (let k = 0; k < xs.length; k++) {
      const i = reverse ? xs.length - 1 - k : k;
      ys[i] = f32(c * f32(xs[i]!));
      c = f32(f32(c * 0.5) + f32(xs[i]!));
    }
    return [c, ys];
  }

  it("threads the carry and stacks ys like the JS loop, forward and reverse, eagerly and staged", () => {
    const values = fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(values, fc.array(values, { maxLength: 6 }), fc.boolean(), (c0, xs, reverse) => {
        const [c, ys] = hostScan(c0, xs, reverse);
        const xsA = array(Float32Array.from(xs));
        const [cw, ysw] = lax.scan(step, array(c0), xsA, { reverse });
        expect(vals(cw)).toEqual([c]);
        expect(vals(ysw)).toEqual(ys);
        expect(ysw.shape).toEqual([xs.length]);
        const j = makeJaxpr((a: WaxArray, b: WaxArray) => lax.scan(step, a, b, { reverse }))(array(c0), xsA);
        const [cj, ysj] = evalJaxpr(j, [array(c0), xsA]);
        expect([vals(cj), vals(ysj)]).toEqual([[c], ys]);
      }),
      { numRuns: 60 },
    );
  });

  it("returns the init and empty ys for a length-0 scan", () => {
    const [c, ys] = lax.scan((c: WaxArray, x: WaxArray) => [c.add(x.sum()), x.mul(2)], array(7), np.ones([0, 3]));
    expect(vals(c)).toEqual([7]);
    expect(ys.shape).toEqual([0, 3]);
    const [c2, ys2] = lax.scan((c: WaxArray) => [c.add(1), c], array(7), null, { length: 0 });
    expect([vals(c2), ys2.shape]).toEqual([[7], [0]]);
  });

  it("scans over nothing with {length} (xs null), and returns null ys when f does", () => {
    const [c, ys] = lax.scan((c: WaxArray, x: null) => [c.mul(2), x], array(1), null, { length: 5 });
    expect(vals(c)).toEqual([32]);
    expect(ys).toBe(null);
  });

  it("carries pytrees of float, int and bool leaves, and scans pytrees of xs into pytrees of ys", () => {
    const xs = {
      v: array([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      flag: array([true, false, true]),
    };
    const init = { sum: array([0, 0]), count: array(0, { dtype: "int32" }), any: array(false) };
    const [c, ys] = lax.scan(
      (c, x) => {
        const next = { sum: c.sum.add(x.v), count: c.count.add(np.where(x.flag, 1, 0).astype("int32")), any: np.logicalOr(c.any, x.flag) };
        return [next, [x.v.max(), np.logicalNot(x.flag)]];
      },
      init,
      xs,
    );
    expect([vals(c.sum), vals(c.count), c.any.toArray()]).toEqual([[9, 12], [2], true]);
    expect([c.count.dtype, c.any.dtype]).toEqual(["int32", "bool"]);
    expect([vals(ys[0]), ys[1]!.toArray()]).toEqual([
      [2, 4, 6],
      [false, true, false],
    ]);
  });

  it("promotes a weak-typed init (a JS number) to the body's carry type, as JAX", () => {
    const f = (xs: WaxArray) => lax.scan((c, x) => [c.add(x), c], 0, xs);
    const [c, ys] = f(array([1.5, 2.5]));
    expect([c.dtype, c.weakType, vals(c), vals(ys)]).toEqual(["float32", false, [4], [0, 1.5]]);
    expect(makeJaxpr(f)(array([1, 2])).toString()).toContain("] 0.0:f32[] a");
  });

  it("passes static leaves of xs and the carry through unchanged", () => {
    const [c, ys] = lax.scan(
      (c, x) => [{ tag: c.tag, n: c.n.add(x.v) }, x.unit],
      { tag: "acc", n: array(0) },
      { v: array([1, 2]), unit: "m" },
    );
    expect([c.tag, vals(c.n), ys]).toEqual(["acc", [3], "m"]);
  });

  it("prints as JAX: consts hoisted first, linear per operand, unroll=true as the length", () => {
    const s = (w: WaxArray, xs: WaxArray) => lax.scan((c, x) => [c.add(x.mul(w)), c], array(0), xs, { reverse: true, unroll: true });
    expect(makeJaxpr(s)(array(2), array([1, 2, 3])).toString()).toBe(
      [
        "{ lambda ; a:f32[] b:f32[3]. let",
        "    c:f32[] d:f32[3] = scan[",
        "      _split_transpose=False",
        "      jaxpr={ lambda ; e:f32[] f:f32[] g:f32[]. let",
        "          h:f32[] = mul g e",
        "          i:f32[] = add f h",
        "        in (i, f) }",
        "      length=3",
        "      linear=(False, False, False)",
        "      num_carry=1",
        "      num_consts=1",
        "      reverse=True",
        "      unroll=3",
        "    ] a 0.0:f32[] b",
        "  in (c, d) }",
      ].join("\n"),
    );
    const [c, ys] = s(array(2), array([1, 2, 3]));
    expect([vals(c), vals(ys)]).toEqual([[12], [10, 6, 0]]);
  });

  it("refuses xs of different leading sizes, a disagreeing length, scalar xs, and no xs without length", () => {
    const body = (c: WaxArray) => [c, c] as const;
    expect(thrown(ShapeError, () => lax.scan(body, array(0), { a: np.ones([3]), b: [np.ones([4, 2])] }))).toBe(
      "scan: the xs have different leading axis sizes: xs['a']: 3, xs['b'][0]: 4 — every xs array must have the same leading size",
    );
    expect(thrown(ShapeError, () => lax.scan(body, array(0), np.ones([3]), { length: 4 }))).toBe(
      "scan: length is 4 but the xs have leading axis sizes xs: 3 — make them agree, or drop length",
    );
    expect(thrown(ShapeError, () => lax.scan(body, array(0), [array(1)]))).toBe(
      "scan: xs[0] is a scalar f32[] — every xs array needs a leading axis to scan over",
    );
    expect(thrown(ArgumentError, () => lax.scan(body, array(0), null))).toBe(
      "scan: no xs to scan over and no length — pass {length} when xs is null",
    );
    expect(thrown(ArgumentError, () => lax.scan(body, array(0), null, { length: -1 }))).toContain(
      "scan: length must be a non-negative integer, got -1",
    );
    expect(thrown(ArgumentError, () => lax.scan(body, array(0), null, { length: 2, unroll: 0 }))).toContain(
      "scan: unroll must be a boolean or a positive integer, got 0",
    );
  });

  it("names the carry leaf whose shape or dtype changes (JAX's message), and refuses a body that is not a pair", () => {
    expect(thrown(ShapeError, () => lax.scan((x, y: WaxArray) => [[x[0].add(y)], null], [array(0)], np.ones([2, 3])))).toBe(
      "scan: body function carry input and carry output must have equal types (e.g. shapes and dtypes of arrays), but they differ: " +
        "the input carry component x[0] has type float32[] but the corresponding output carry component has type float32[3], so the shapes do not match — " +
        "revise the function so that all output types (shapes and dtypes) match the corresponding input types",
    );
    expect(
      thrown(DTypeError, () =>
        lax.scan((c) => [{ n: c.n.astype("int32"), m: c.m }, null], { n: array(0), m: array(1) }, null, { length: 1 }),
      ),
    ).toContain(
      "the input carry component c['n'] has type float32[] but the corresponding output carry component has type int32[], so the dtypes do not match",
    );
    expect(thrown(PytreeError, () => lax.scan((c) => [[c, c], null] as never, array(0), null, { length: 1 }))).toContain(
      "scan: body function carry input and carry output must have the same pytree structure, but the input is PyTreeDef(*) and the output is PyTreeDef([*, *])",
    );
    expect(thrown(PytreeError, () => lax.scan((c) => c as never, array(0), null, { length: 1 }))).toBe(
      "scan: the body must return a pair [carry, y], got PyTreeDef(*) — return [newCarry, y] (y may be null)",
    );
  });
});

describe("lax.map", () => {
  it("maps over the leading axis with a scan", () => {
    const xs = array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ys = lax.map((x: WaxArray) => x.mul(x).add(1), xs);
    expect(vals(ys)).toEqual([2, 5, 10, 17, 26, 37]);
    const j = makeJaxpr((a: WaxArray) => lax.map((x: WaxArray) => x.mul(2), a))(xs);
    expect(j.toString()).toContain("num_carry=0");
    expect(j.toString()).toContain("length=3");
    const both = lax.map(({ a, b }: { a: WaxArray; b: WaxArray }) => [a.add(b), a.sub(b)], { a: array([1, 2]), b: array([10, 20]) });
    expect([vals(both[0]), vals(both[1])]).toEqual([
      [11, 22],
      [-9, -18],
    ]);
  });
});
