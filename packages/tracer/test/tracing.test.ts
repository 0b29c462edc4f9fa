import { describe, expect, it } from "vitest";
import { array, ConcretizationError, evalJaxpr, isTracer, makeJaxpr, np, ones, TracerLeakError, type Array } from "../index";
import { thrown } from "./support/thrown";

const HINT =
  "use np.where/lax.selectN instead of branching on it, or pass it as a static value (a JS number/boolean) so it is known at trace time";

describe("ConcretizationError", () => {
  it("branching on a traced value names the producing op and suggests where/select or static values", () => {
    const f = (x: Array) => {
      // TS has no comparison operator on Array; JS calls Symbol.toPrimitive, as `if (x.sum() > 0)` would
      if ((x.sum() as unknown as number) > 0) return x;
      return x.neg();
    };
    const msg = thrown(ConcretizationError, () => makeJaxpr(f)(ones([3])));
    expect(msg).toBe(
      "converting to a JS number (Number(x), x > 0, comparisons): the value of traced f32[] (the output of `reduce_sum`) " +
        `is not known while tracing under makeJaxpr — ${HINT}`,
    );
    // the same function runs eagerly
    expect(f(ones([3])).toArray()).toStrictEqual([1, 1, 1]);
  });

  it("Number(), .data, toArray() and item() of a tracer throw, naming what was asked", () => {
    const cases: [string, (x: Array) => unknown][] = [
      ["converting to a JS number", (x) => Number(x.max())],
      ["reading .data", (x) => x.data],
      ["toArray()", (x) => x.toArray()],
      ["item()", (x) => x.get(0).item()],
    ];
    for (const [what, read] of cases) {
      const msg = thrown(ConcretizationError, () => makeJaxpr((x: Array) => (read(x), x))(ones([3])));
      expect(msg.startsWith(what)).toBe(true);
      expect(msg).toContain(HINT);
    }
  });

  it("names an input as such, and the op for derived values", () => {
    expect(thrown(ConcretizationError, () => makeJaxpr((x: Array) => x.data)(ones([3])))).toContain(
      "the value of traced f32[3] (an input) is not known while tracing under makeJaxpr",
    );
    expect(thrown(ConcretizationError, () => makeJaxpr((x: Array) => np.exp(x).toArray())(ones([3])))).toContain(
      "traced f32[3] (the output of `exp`)",
    );
  });

  it("printing a tracer does not need its value", () => {
    let shown = "";
    makeJaxpr((x: Array) => {
      shown = `${String(x.sum())}`;
      return x;
    })(ones([2, 3]));
    expect(shown).toBe("Traced<f32[]>");
  });
});

describe("TracerLeakError", () => {
  function leak(): Array {
    let leaked: Array | null = null;
    makeJaxpr((x: Array) => {
      leaked = x.sum();
      return x;
    })(ones([3]));
    expect(isTracer(leaked)).toBe(true);
    return leaked!;
  }

  const LEAK = "a tracer f32[] produced by `reduce_sum` under makeJaxpr was used after its trace ended";

  it("using a tracer stored during makeJaxpr afterwards names the op and says to return values instead", () => {
    const leaked = leak();
    const msg = thrown(TracerLeakError, () => leaked.add(1));
    expect(msg).toBe(
      `add: ${LEAK} (it leaked, e.g. through a closure, a global or an object mutated inside the traced function) — ` +
        "return values from the function instead of storing them",
    );
    expect(thrown(TracerLeakError, () => np.sin(leaked))).toMatch(/^sin: a tracer f32\[\] produced by `reduce_sum`/);
  });

  it("reading a leaked tracer's value is a leak, not a concretization error", () => {
    const leaked = leak();
    expect(thrown(TracerLeakError, () => leaked.toArray()).startsWith(`toArray(): ${LEAK}`)).toBe(true);
    expect(thrown(TracerLeakError, () => leaked.data)).toMatch(/^reading \.data: a tracer/);
    expect(() => leaked.toArray()).not.toThrow(ConcretizationError);
  });

  it("a leaked tracer used inside a later trace is caught too", () => {
    const leaked = leak();
    expect(thrown(TracerLeakError, () => makeJaxpr((y: Array) => y.mul(leaked))(array(2)))).toMatch(/^mul: a tracer f32\[\]/);
  });

  it("the shape and dtype of a leaked tracer stay readable", () => {
    const leaked = leak();
    expect(leaked.shape).toStrictEqual([]);
    expect(leaked.dtype).toBe("float32");
  });
});

describe("JS numbers are weakly typed", () => {
  it("multiplying an f32 tracer by a JS integer keeps f32 (strong)", () => {
    const j = makeJaxpr((x: Array) => x.mul(2))(ones([3]));
    expect(String(j.outAvals[0])).toBe("f32[3]");
    expect(j.outAvals[0]!.weakType).toBe(false);
  });

  it("an int32 array plus a JS integer stays int32", () => {
    const j = makeJaxpr((x: Array) => x.add(2))(array([1, 2], { dtype: "int32" }));
    expect(String(j)).toBe("{ lambda ; a:i32[2]. let b:i32[2] = add a 2:i32[] in (b,) }");
    expect(j.outAvals[0]!.weakType).toBe(false);
  });

  it("an int32 array plus a JS fraction becomes weak f32, converting the array first", () => {
    const j = makeJaxpr((x: Array) => x.add(2.5))(array([1, 2], { dtype: "int32" }));
    expect(String(j.outAvals[0])).toBe("f32[2]");
    expect(j.outAvals[0]!.weakType).toBe(true);
    expect(String(j)).toContain("convert_element_type[new_dtype=float32 weak_type=True] a");
    expect(evalJaxpr(j, [array([1, 2], { dtype: "int32" })])[0]!.toArray()).toStrictEqual([3.5, 4.5]);
  });

  it("a JS number argument is a weak scalar input (int32 for integers, f32 otherwise)", () => {
    // makeJaxpr's argument types are the function's parameter types, so a JS number argument
    // for an Array parameter needs a cast (see the report).
    const double = (x: Array) => x.mul(2);
    const jf = makeJaxpr(double as (x: Array | number) => Array)(1.5);
    expect(String(jf)).toBe("{ lambda ; a:f32[]. let b:f32[] = mul a 2.0:f32[] in (b,) }");
    expect(jf.inAvals[0]!.weakType).toBe(true);
    expect(jf.outAvals[0]!.weakType).toBe(true);
    const ji = makeJaxpr(double as (x: Array | number) => Array)(3);
    expect(String(ji)).toBe("{ lambda ; a:i32[]. let b:i32[] = mul a 2:i32[] in (b,) }");
    // a weak input meets a strong f32 array: the array's dtype wins
    const mul = (x: Array, y: Array) => x.mul(y);
    const jm = makeJaxpr(mul as (x: Array | number, y: Array) => Array)(3, ones([2]));
    expect(String(jm.outAvals[0])).toBe("f32[2]");
    expect(jm.outAvals[0]!.weakType).toBe(false);
  });
});

describe("closures", () => {
  it("a captured concrete array becomes a constvar whose value is the array itself", () => {
    const c = array([1, 2, 3]);
    const j = makeJaxpr((x: Array) => x.add(c).mul(c))(ones([3]));
    expect(String(j)).toBe("{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = add b a; d:f32[3] = mul c a in (d,) }");
    expect(j.consts.length).toBe(1);
    expect(j.consts[0]).toBe(c);
    expect(evalJaxpr(j, [ones([3])])[0]!.toArray()).toStrictEqual([2, 6, 12]);
  });

  it("captured arrays are numbered in first-use order, and a captured scalar is inlined as a literal", () => {
    const c1 = array([1, 2]);
    const c2 = array([3, 4]);
    const s = array(5);
    const j = makeJaxpr((x: Array) => x.mul(c2).add(c1).sub(s))(ones([2]));
    expect(String(j)).toBe(
      [
        "{ lambda a:f32[2] b:f32[2]; c:f32[2]. let",
        "    d:f32[2] = mul c a",
        "    e:f32[2] = add d b",
        "    f:f32[2] = sub e 5.0:f32[]",
        "  in (f,) }",
      ].join("\n"),
    );
    expect(j.consts).toStrictEqual([c2, c1]);
  });

  it("an inner makeJaxpr captures an outer tracer as a constvar", () => {
    let inner = "";
    let innerConst: Array | undefined;
    let outerX: Array | undefined;
    const outer = makeJaxpr((x: Array) => {
      outerX = x;
      const j = makeJaxpr((y: Array) => y.add(x).mul(x))(array(1));
      inner = String(j);
      innerConst = j.consts[0];
      return np.sin(x);
    })(array(2));
    expect(inner).toBe("{ lambda a:f32[]; b:f32[]. let c:f32[] = add b a; d:f32[] = mul c a in (d,) }");
    expect(innerConst).toBe(outerX);
    expect(isTracer(innerConst)).toBe(true);
    // nothing of the inner trace leaks into the outer jaxpr
    expect(String(outer)).toBe("{ lambda ; a:f32[]. let b:f32[] = sin a in (b,) }");
  });
});
