import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { array, evalJaxpr, lax, makeJaxpr, np, ones, type Array } from "../index";

// Expected strings below are derived from JAX's printer as described in section 1 of
// /work/shared/reference/jax-internals-brief.md (pp_jaxpr_skeleton / _pp_eqn / pp_vars /
// pp_kv_pairs, width 80), not copied from wax's output.

const jaxprOf = <A extends unknown[]>(f: (...args: A) => unknown, ...args: A): string => String(makeJaxpr(f)(...args));

describe("jaxpr printing (one line)", () => {
  it("prints sin(cos(x)) as JAX's make_jaxpr docstring does", () => {
    expect(jaxprOf((x: Array) => np.sin(np.cos(x)), array(3))).toBe("{ lambda ; a:f32[]. let b:f32[] = cos a; c:f32[] = sin b in (c,) }");
  });

  it("inlines a JS number as a typed scalar literal", () => {
    expect(jaxprOf((x: Array) => x.mul(2), array(1))).toBe("{ lambda ; a:f32[]. let b:f32[] = mul a 2.0:f32[] in (b,) }");
    expect(jaxprOf((x: Array) => x.mul(2), ones([3]))).toBe("{ lambda ; a:f32[3]. let b:f32[3] = mul a 2.0:f32[] in (b,) }");
    expect(jaxprOf((x: Array) => x.mul(0.1), ones([3]))).toBe("{ lambda ; a:f32[3]. let b:f32[3] = mul a 0.1:f32[] in (b,) }");
  });

  it("hoists a captured concrete array to a constvar before the ';'", () => {
    const c = array([1, 2, 3]);
    expect(jaxprOf((x: Array) => x.mul(c).add(c), ones([3]))).toBe(
      "{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = mul b a; d:f32[3] = add c a in (d,) }",
    );
  });

  it("prints several outputs without a trailing comma", () => {
    expect(jaxprOf((x: Array, y: Array) => [x.add(y), x.mul(y)], array(1), array(2))).toBe(
      "{ lambda ; a:f32[] b:f32[]. let c:f32[] = add a b; d:f32[] = mul a b in (c, d) }",
    );
  });

  it("prints an input returned as an output by its name, and an empty body as 'let  in'", () => {
    expect(jaxprOf((x: Array, y: Array) => [x, x.add(y)], array(1), array(2))).toBe(
      "{ lambda ; a:f32[] b:f32[]. let c:f32[] = add a b in (a, c) }",
    );
    expect(jaxprOf((x: Array) => x, array(1))).toBe("{ lambda ; a:f32[]. let  in (a,) }");
    expect(jaxprOf((x: Array) => [x, 1], array(1))).toBe("{ lambda ; a:f32[]. let  in (a, 1:i32[]) }");
  });

  it("prints unused equation outputs as _ without using up a name", () => {
    expect(
      jaxprOf((x: Array) => {
        np.sin(x);
        return np.cos(x);
      }, array(1)),
    ).toBe("{ lambda ; a:f32[]. let _:f32[] = sin a; b:f32[] = cos a in (b,) }");
    // one of two results of a multi-result primitive unused
    expect(jaxprOf((k: Array) => lax.threefry2x32(k, k, k, k)[1], array([1, 2], { dtype: "uint32" }))).toBe(
      "{ lambda ; a:u32[2]. let _:u32[2] b:u32[2] = threefry2x32 a a a a in (b,) }",
    );
  });

  it("prints params with keys sorted and tuples in Python form, hiding defaults as JAX's pp rules do", () => {
    expect(jaxprOf((x: Array) => x.T, ones([2, 3]))).toBe(
      "{ lambda ; a:f32[2,3]. let b:f32[3,2] = transpose[permutation=(1, 0)] a in (b,) }",
    );
    // broadcast_in_dim hides `shape` (and empty broadcast_dimensions)
    expect(jaxprOf((x: Array) => np.broadcastTo(x, [2, 3]), ones([3]))).toBe(
      ["{ lambda ; a:f32[3]. let", "    b:f32[2,3] = broadcast_in_dim[broadcast_dimensions=(1,)] a", "  in (b,) }"].join("\n"),
    );
    expect(jaxprOf((x: Array) => np.broadcastTo(x, [2]), array(1))).toBe("{ lambda ; a:f32[]. let b:f32[2] = broadcast_in_dim a in (b,) }");
    expect(jaxprOf((x: Array) => lax.integerPow(x, 3), array(1))).toBe("{ lambda ; a:f32[]. let b:f32[] = integer_pow[y=3] a in (b,) }");
  });

  it("prints the where/select_n idiom as JAX does (false case first)", () => {
    expect(jaxprOf((x: Array) => np.where(x.gt(0), x, x.neg()), ones([3]))).toBe(
      [
        "{ lambda ; a:f32[3]. let",
        "    b:bool[3] = gt a 0.0:f32[]",
        "    c:f32[3] = neg a",
        "    d:f32[3] = select_n b c a",
        "  in (d,) }",
      ].join("\n"),
    );
  });
});

describe("jaxpr printing (wrapping at width 80)", () => {
  it("puts each equation on its own line, indented 4, with 'in (...)' indented 2, and breaks dot_general params", () => {
    const f = (x: Array, w: Array) => np.tanh(x.matmul(w)).T;
    expect(jaxprOf(f, ones([4, 8]), ones([8, 2]))).toBe(
      [
        "{ lambda ; a:f32[4,8] b:f32[8,2]. let",
        "    c:f32[4,2] = dot_general[",
        "      dimension_numbers=(([1], [0]), ([], []))",
        "      preferred_element_type=float32",
        "    ] a b",
        "    d:f32[4,2] = tanh c",
        "    e:f32[2,4] = transpose[permutation=(1, 0)] d",
        "  in (e,) }",
      ].join("\n"),
    );
  });

  it("prints a convert_element_type with its params and a longer program", () => {
    const f = (x: Array) => x.add(2.5);
    expect(jaxprOf(f, array([1, 2], { dtype: "int32" }))).toBe(
      [
        "{ lambda ; a:i32[2]. let",
        "    b:f32[2] = convert_element_type[new_dtype=float32 weak_type=True] a",
        "    c:f32[2] = add b 2.5:f32[]",
        "  in (c,) }",
      ].join("\n"),
    );
  });

  it("stays on one line when the jaxpr group is exactly 80 columns (the closing ' }' is outside the group)", () => {
    const one = jaxprOf((x: Array) => np.log1p(np.log1p(x)), ones([1000]));
    expect(one).toBe("{ lambda ; a:f32[1000]. let b:f32[1000] = log1p a; c:f32[1000] = log1p b in (c,) }");
    expect(one.length).toBe(82);
    expect(jaxprOf((x: Array) => np.tanh(lax.erfInv(x)), ones([1000]))).toBe(
      ["{ lambda ; a:f32[1000]. let", "    b:f32[1000] = erf_inv a", "    c:f32[1000] = tanh b", "  in (c,) }"].join("\n"),
    );
  });

  it("wraps a long list of input binders where a line reaches column 80, indenting 4", () => {
    const xs = globalThis.Array.from({ length: 12 }, () => ones([3, 4]));
    const f = (...a: Array[]) => a.reduce((s, x) => s.add(x));
    const names = "abcdefghijkl".split("");
    const eqns = names.slice(1).map((n, i) => `    ${"mnopqrstuvw"[i]}:f32[3,4] = add ${i === 0 ? "a" : "mnopqrstuvw"[i - 1]} ${n}`);
    expect(jaxprOf(f, ...xs)).toBe(
      [
        // the break is taken only once the column reaches 80, so this line runs to 87
        "{ lambda ; a:f32[3,4] b:f32[3,4] c:f32[3,4] d:f32[3,4] e:f32[3,4] f:f32[3,4] g:f32[3,4]",
        "    h:f32[3,4] i:f32[3,4] j:f32[3,4] k:f32[3,4] l:f32[3,4]. let",
        ...eqns,
        "  in (w,) }",
      ].join("\n"),
    );
  });

  // JAX prints outvars with pp_vars(..., separator=","), whose separators are breakable groups.
  it("wraps a long output list as JAX does", () => {
    const f = (x: Array) => globalThis.Array.from({ length: 30 }, (_, i) => x.mul(i + 1.5));
    const lines = jaxprOf(f, ones([3])).split("\n");
    expect(lines.slice(-2)).toStrictEqual([
      "  in (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v, w, x, y, z,",
      "    ba, bb, bc, bd, be) }",
    ]);
  });

  // JAX prints an equation's inputs with pp_vars (breakable separators).
  it("wraps a long list of equation inputs as JAX does", () => {
    const xs = globalThis.Array.from({ length: 30 }, () => ones([2]));
    const lines = jaxprOf((...a: Array[]) => np.concatenate(a), ...xs).split("\n");
    expect(lines.slice(-3)).toStrictEqual([
      "    be:f32[60] = concatenate[dimension=0] a b c d e f g h i j k l m n o p q r s t",
      "      u v w x y z ba bb bc bd",
      "  in (be,) }",
    ]);
  });

  // The brief's verbatim JAX example prints `reduce_sum[axes=(0, 1) out_sharding=None]`.
  it("prints reduce_sum params as current JAX does", () => {
    // 87 columns on one line, so it wraps (as JAX's printer would).
    expect(jaxprOf((x: Array) => x.sum(), ones([4, 2]))).toBe(
      ["{ lambda ; a:f32[4,2]. let", "    b:f32[] = reduce_sum[axes=(0, 1) out_sharding=None] a", "  in (b,) }"].join("\n"),
    );
  });
});

describe("jaxpr variable names", () => {
  it("run a..z, then ba, bb, ... (base 26 without a leading 'a')", () => {
    const f = (x: Array) => {
      let y = x;
      for (let i = 0; i < 30; i++) y = np.sin(y);
      return y;
    };
    const alphabet = "abcdefghijklmnopqrstuvwxyz".split("");
    const names = [...alphabet, "ba", "bb", "bc", "bd", "be"];
    const eqns = names.slice(1).map((n, i) => `    ${n}:f32[] = sin ${names[i]}`);
    expect(jaxprOf(f, array(1))).toBe(["{ lambda ; a:f32[]. let", ...eqns, "  in (be,) }"].join("\n"));
  });

  it("go from zz to baa", () => {
    const f = (x: Array) => {
      let y = x;
      for (let i = 0; i < 677; i++) y = np.negative(y);
      return y;
    };
    const s = jaxprOf(f, array(1));
    // 26 one-letter names (a..z) and 25·26 two-letter ones (ba..zz): name 676 is baa
    expect(s).toContain("\n    zz:f32[] = neg zy\n    baa:f32[] = neg zz\n    bab:f32[] = neg baa\n  in (bab,) }");
    expect(s).not.toMatch(/\baa:/);
  });

  it("are assigned per print, starting again at a for each jaxpr", () => {
    const j1 = makeJaxpr((x: Array) => np.exp(x))(array(1));
    const j2 = makeJaxpr((x: Array) => np.exp(x))(array(1));
    expect(String(j2)).toBe("{ lambda ; a:f32[]. let b:f32[] = exp a in (b,) }");
    expect(String(j1)).toBe(String(j2));
    expect(String(j1)).toBe(String(j1));
  });
});

// ---- evaluating a traced jaxpr agrees with eager evaluation, bit for bit -------------------

function bits(a: Array): number[] {
  const d = a.data;
  return d instanceof Float32Array ? globalThis.Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length)) : globalThis.Array.from(d);
}

function expectSameArrays(got: readonly Array[], want: readonly Array[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(g.dtype).toBe(w.dtype);
    expect(g.shape).toStrictEqual(w.shape);
    expect(bits(g)).toStrictEqual(bits(w));
  });
}

const f32s = (n: number) => fc.float32Array({ minLength: n, maxLength: n });

describe("evalJaxpr(makeJaxpr(f)(...args), args) equals eager f(...args) exactly", () => {
  const captured = array([0.5, -1.5, 2.25]);
  const cases: { name: string; shapes: number[][]; f: (...xs: Array[]) => Array | Array[] }[] = [
    { name: "elementwise arithmetic with literals", shapes: [[3], [3]], f: (x, y) => np.tanh(x.mul(y).add(1)).sub(np.exp(y)).div(3) },
    { name: "broadcasting and a captured constant", shapes: [[2, 3], [3]], f: (x, y) => x.add(y).mul(captured).maximum(x) },
    { name: "where, comparisons and sqrt", shapes: [[4]], f: (x) => np.where(x.gt(0), np.sqrt(x), x.square().neg()) },
    {
      name: "matmul and reductions",
      shapes: [
        [2, 3],
        [3, 2],
      ],
      f: (x, w) => [x.matmul(w).sum({ axis: 0 }), x.mean(), w.max({ axis: 1 })],
    },
    { name: "shape ops and indexing", shapes: [[2, 3]], f: (x) => x.reshape([3, 2]).T.get(1, "0:2").mul(x.get(0, 1)) },
    { name: "var, log and casts", shapes: [[5]], f: (x) => [x.var(), np.log(np.abs(x)), x.astype("int32").add(3)] },
  ];

  it.each(cases)("$name", ({ shapes, f }) => {
    fc.assert(
      fc.property(fc.tuple(...shapes.map((s) => f32s(s.reduce((a, b) => a * b, 1)))), (datas) => {
        const args = datas.map((d, i) => array(d, { shape: shapes[i]! }));
        const eager = f(...args);
        const want = globalThis.Array.isArray(eager) ? eager : [eager];
        const got = evalJaxpr(makeJaxpr(f)(...args), args);
        expectSameArrays(got, want);
      }),
      { numRuns: 60 },
    );
  });

  it("checks its inputs against the jaxpr's avals", () => {
    const j = makeJaxpr((x: Array) => np.sin(x))(ones([3]));
    expect(() => evalJaxpr(j, [ones([4])])).toThrow("evalJaxpr: input 0 is f32[4] but the jaxpr expects f32[3]");
    expect(() => evalJaxpr(j, [])).toThrow("evalJaxpr: the jaxpr takes 1 inputs but 0 were given");
  });
});
