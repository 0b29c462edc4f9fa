/**
 * Differential tests of every primitive: `filterJit(f)(...args)` (fused kernels in one
 * WebAssembly SIMD module) against `f(...args)` run eagerly by the reference interpreter,
 * which is the specification. Shapes come from fast-check with size-0 and size-1 axes and
 * innermost lengths 1..9, so both the 4-lane vector loops and their scalar tails run; values
 * mix NaN, ±inf, ±0, subnormals, float32 extremes and the int32/uint32 extremes (division by
 * zero, INT_MIN / -1, shift amounts outside [0, 32)).
 *
 * Tolerances, per op family (`TOLERANCE` below). NaN and ±inf positions always match exactly;
 * integer and bool results always match exactly.
 *
 * | family                                                              | tolerance            |
 * | ------------------------------------------------------------------- | -------------------- |
 * | structural ops, comparisons, select_n, conversions, iota, argmax/min | exact (+0 ≠ -0)      |
 * | + - * / rem sqrt min max neg abs sign floor ceil round square        | exact (+0 ≠ -0)      |
 * | reduce_max, reduce_min                                              | exact (+0 ≠ -0)      |
 * | bitcast_convert_type, threefry2x32, random.bits/uniform/normal      | bit for bit          |
 * | exp log log1p expm1 sin cos tan tanh logistic erf erf_inv pow atan2 | ≤ 4 ulp (*)          |
 * | rsqrt                                                               | ≤ 1 ulp              |
 * | integer_pow (float32, |y| ≤ 6)                                      | ≤ 8 ulp              |
 * | reduce_sum, reduce_prod, cumsum (float32)                           | relative 1e-5 (**)   |
 * | dot_general (float32)                                               | 1e-5 · Σ_k |a||b|    |
 *
 * (*) sin and cos are drawn from |x| ≤ 1e5, where `codegen/simd-math.ts` states its bound.
 * (**) of Σ|terms|; reduce_sum accumulates in float32, so where the finite terms' magnitudes
 * sum past float32's range any value is accepted (see `TOLERANCE.reduceSum`); long vectorised
 * reductions are tested with their own length-scaled bound in `codegen/reduce.test.ts`.
 *
 * Why: + - * / sqrt are correctly rounded in float32 on both sides (the interpreter rounds one
 * float64 result, innocuous since 53 ≥ 2·24 + 2). exp, log, log1p, expm1, sin, cos, tanh,
 * logistic and erf are SIMD polynomials (`codegen/simd-math.ts` states 1–2 ulp); tan, pow,
 * atan2 and erf_inv call the host and agree exactly today; XLA's are within a few ulp too.
 * rsqrt is a float32 sqrt and a divide (two roundings against one). integer_pow squares
 * repeatedly in float32 (up to ~2·log2|y| roundings), as XLA does; against a correctly rounded
 * power that is within 8 ulp (the interpreter now squares the same way, so today they agree
 * exactly). Sums and products may accumulate in another order or precision (the matmul
 * kernels accumulate in float32, the interpreter in float64): relative to Σ|terms|.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Aval, ConcreteArray, array, lax, np, primitives, random, type Array, type ClosedJaxpr, type DType } from "@wax/tracer";
import { CompileError, compileJaxpr, filterJit } from "../index";
import { mulberry32 } from "../../../test/support/seeded";

// ---- tolerances ----------------------------------------------------------------------------

type Tol =
  /** Same value; for floats +0 ≠ -0 and any NaN equals any NaN. */
  | { kind: "exact" }
  /** Identical bit patterns (NaN payloads included). */
  | { kind: "bits" }
  /** At most `ulps` float32 steps apart (±0 are 0 steps apart). */
  | { kind: "ulp"; ulps: number }
  /** |got − want| ≤ rtol · max(|want|, scale) + atol, `scale` being Σ|terms| where given. */
  | { kind: "rel"; rtol: number; atol?: number; overflow?: boolean };

const EXACT: Tol = { kind: "exact" };
const BITS: Tol = { kind: "bits" };
const ULP4: Tol = { kind: "ulp", ulps: 4 };

const TOLERANCE = {
  exact: EXACT,
  bits: BITS,
  transcendental: ULP4,
  rsqrt: { kind: "ulp", ulps: 1 } as Tol,
  integerPow: { kind: "ulp", ulps: 8 } as Tol,
  sum: { kind: "rel", rtol: 1e-5 } as Tol,
  // Reductions accumulate float32 sums in float32 (vectorised, `codegen/reduce.ts`): a partial
  // sum may overflow to ±inf (and inf − inf = NaN) where the interpreter's float64 one does not.
  // With `scale` the sum of the finite terms' magnitudes, any value is accepted where that
  // scale itself overflows float32; elsewhere NaN/inf positions must match.
  reduceSum: { kind: "rel", rtol: 1e-5, overflow: true } as Tol,
  // Products of subnormals round to 0 in float32 but not in float64: one half-ulp of the
  // smallest subnormal per term on top of the relative bound.
  dot: (k: number): Tol => ({ kind: "rel", rtol: 1e-5, atol: k * 2 ** -150 }),
};

// ---- comparison ----------------------------------------------------------------------------

const f32buf = new Float32Array(1);
const i32buf = new Int32Array(f32buf.buffer);
/** Float32 values mapped to integers in order, so the ulp distance is a difference. */
function ordered(x: number): number {
  f32buf[0] = x;
  const i = i32buf[0]!;
  return i < 0 ? -(i & 0x7fffffff) : i;
}
function bitsOf(x: number): string {
  f32buf[0] = x;
  return `0x${(i32buf[0]! >>> 0).toString(16).padStart(8, "0")}`;
}
const fmt = (v: number): string => (Object.is(v, -0) ? "-0" : String(v));

function compareElement(w: number, g: number, dtype: DType, tol: Tol, scale: number): string | null {
  if (dtype !== "float32") return w === g ? null : "integers and bools must match exactly";
  if (tol.kind === "rel" && tol.overflow && scale === Infinity) return null;
  if (Number.isNaN(w) || Number.isNaN(g)) return Number.isNaN(w) && Number.isNaN(g) ? null : "NaN positions must match";
  if (!Number.isFinite(w) || !Number.isFinite(g)) return w === g ? null : "±inf positions must match";
  switch (tol.kind) {
    case "exact":
    case "bits":
      return Object.is(w, g) ? null : "must match exactly (+0 ≠ -0)";
    case "ulp": {
      const d = Math.abs(ordered(w) - ordered(g));
      return d <= tol.ulps ? null : `${d} ulp apart, at most ${tol.ulps} allowed`;
    }
    case "rel": {
      const bound = tol.rtol * Math.max(Math.abs(w), scale) + (tol.atol ?? 0);
      return Math.abs(w - g) <= bound ? null : `|difference| ${Math.abs(w - g)} > ${bound}`;
    }
  }
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = shape.map(() => 0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** The first difference between two arrays under `tol`, or null. */
function compareArrays(want: Array, got: Array, tol: Tol, scale?: Array): string | null {
  if (got.dtype !== want.dtype || got.shape.join() !== want.shape.join()) return `got ${got.aval}, want ${want.aval}`;
  const w = want.data;
  const g = got.data;
  const s = scale?.data;
  for (let i = 0; i < w.length; i++) {
    const why = compareElement(w[i]!, g[i]!, want.dtype, tol, s ? Math.abs(s[i]!) : 0);
    if (why) {
      const bits = want.dtype === "float32" ? ` (bits ${bitsOf(w[i]!)} / ${bitsOf(g[i]!)})` : "";
      return `element [${unravel(i, want.shape)}]: want ${fmt(w[i]!)}, got ${fmt(g[i]!)}${bits} — ${why}`;
    }
  }
  if (tol.kind === "bits") {
    const wb = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    const gb = new Uint8Array(g.buffer, g.byteOffset, g.byteLength);
    const k = wb.findIndex((b, i) => b !== gb[i]);
    if (k >= 0)
      return `byte ${k} differs (element ${k >> 2}: want ${bitsOf(w[k >> 2]!)}, got ${bitsOf(g[k >> 2]!)}) — must match bit for bit`;
  }
  return null;
}

function describeArray(a: Array): string {
  const c = a.concreteValue();
  if (!c) return String(a.aval);
  const vals = globalThis.Array.from(c.data.slice(0, 24), fmt);
  return `${a.aval} [${vals.join(", ")}${c.size > 24 ? ", …" : ""}]`;
}

type Outputs = Array | readonly Array[] | Readonly<Record<string, Array>>;

function named(x: Outputs): [string, Array][] {
  if ("aval" in x) return [["out", x as Array]];
  return Object.entries(x as Record<string, Array>).sort(([a], [b]) => (a < b ? -1 : 1));
}

interface CheckOptions {
  /** One tolerance, or one per output name (missing names are exact). */
  tol?: Tol | Readonly<Record<string, Tol>>;
  /** Σ|terms| per output, for relative tolerances (same structure as the outputs). */
  scale?: Outputs;
  /** A jitted `f` to reuse across calls (its cache then hits for repeated shapes). */
  jitted?: (...args: Array[]) => Outputs;
}

const QUIET = { warnAfterMisses: Infinity };

/** Runs `f` compiled and eagerly and throws a descriptive error at the first difference. */
function expectJitMatches(f: (...args: Array[]) => Outputs, args: readonly Array[], opts: CheckOptions = {}): void {
  const want = named(f(...args));
  const got = named((opts.jitted ?? filterJit(f, QUIET))(...args));
  const scales = opts.scale ? new Map(named(opts.scale)) : new Map<string, Array>();
  expect(got.map(([k]) => k)).toEqual(want.map(([k]) => k));
  want.forEach(([name, w], i) => {
    const t = opts.tol === undefined ? EXACT : "kind" in opts.tol ? (opts.tol as Tol) : ((opts.tol as Record<string, Tol>)[name] ?? EXACT);
    const why = compareArrays(w, got[i]![1], t, scales.get(name));
    if (why) throw new Error(`output ${name}: ${why}\n  inputs: ${args.map(describeArray).join("; ")}`);
  });
}

const primNames = (j: ClosedJaxpr | null): string[] => (j ? j.jaxpr.eqns.map((e) => e.prim.name) : []);

// ---- generators ----------------------------------------------------------------------------

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const F32_SPECIAL = [
  NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  -2.5,
  2.5,
  0.49999997,
  -3.75,
  1e-45,
  -1e-45,
  1.1754942e-38,
  -1.1754942e-38,
  1.17549435e-38,
  3.4028235e38,
  -3.4028235e38,
  16777216,
  2147483648,
  -2147483904,
  4294967296,
  1e10,
  -1e-10,
].map(Math.fround);
const I32_SPECIAL = [0, 1, -1, 2, -2, 3, 7, 31, 32, 33, -31, -33, INT_MIN, INT_MIN + 1, INT_MAX, 65536];
const U32_SPECIAL = [0, 1, 2, 3, 7, 31, 32, 33, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 65536];

const VALUES: Record<Exclude<DType, "float64">, fc.Arbitrary<number>> = {
  float32: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...F32_SPECIAL) },
    { weight: 3, arbitrary: fc.float({ min: -8, max: 8, noNaN: true }) },
    { weight: 2, arbitrary: fc.float() },
  ),
  int32: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...I32_SPECIAL) },
    { weight: 2, arbitrary: fc.integer({ min: -40, max: 40 }) },
    { weight: 2, arbitrary: fc.integer({ min: INT_MIN, max: INT_MAX }) },
  ),
  uint32: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...U32_SPECIAL) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 40 }) },
    { weight: 2, arbitrary: fc.integer({ min: INT_MIN, max: INT_MAX }).map((v) => v >>> 0) },
  ),
  bool: fc.integer({ min: 0, max: 1 }),
};
type CDType = keyof typeof VALUES;
const DTYPES: CDType[] = ["float32", "int32", "uint32", "bool"];

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function makeArray(dtype: CDType, shape: readonly number[], values: ArrayLike<number>): ConcreteArray {
  const v = globalThis.Array.from(values);
  const data =
    dtype === "float32"
      ? Float32Array.from(v)
      : dtype === "int32"
        ? Int32Array.from(v)
        : dtype === "uint32"
          ? Uint32Array.from(v, (x) => x >>> 0)
          : Uint8Array.from(v, (x) => (x ? 1 : 0));
  return new ConcreteArray(new Aval([...shape], dtype), data);
}

/** An outer dimension: sometimes 0, often 1, else 2 or 3. */
const outerDim = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constant(1) },
  { weight: 6, arbitrary: fc.integer({ min: 2, max: 3 }) },
);
/** The innermost dimension: 1..9 (vector loop and scalar tail), rarely 0. */
const innerDim = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 14, arbitrary: fc.integer({ min: 1, max: 9 }) });

function shapeArb(minRank = 0, maxRank = 3): fc.Arbitrary<number[]> {
  return fc
    .integer({ min: minRank, max: maxRank })
    .chain((r) =>
      r === 0
        ? fc.constant([] as number[])
        : fc.tuple(fc.array(outerDim, { minLength: r - 1, maxLength: r - 1 }), innerDim).map(([o, i]) => [...o, i]),
    );
}

function arrayArb(dtype: CDType, shape: readonly number[], values: fc.Arbitrary<number> = VALUES[dtype]): fc.Arbitrary<ConcreteArray> {
  const n = sizeOf(shape);
  return fc.array(values, { minLength: n, maxLength: n }).map((v) => makeArray(dtype, shape, v));
}

/** A random permutation of 0..n-1 (shrinks towards the identity). */
function permArb(n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.nat({ max: 100 }), { minLength: n, maxLength: n }).map((keys) =>
    keys
      .map((k, i) => [k, i] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .map(([, i]) => i),
  );
}

const seeded = mulberry32;

/**
 * Seeded data: mostly small values (integers for int dtypes), some float specials. Small
 * integers keep integer products exact in the interpreter, which accumulates dot_general and
 * reduce_prod in float64 (and so loses int32 wraparound beyond 2^53).
 */
function seededArray(dtype: CDType, shape: readonly number[], seed: number, specials = 0.05): ConcreteArray {
  const r = seeded(seed);
  const n = sizeOf(shape);
  const v = globalThis.Array.from({ length: n }, () => {
    if (dtype === "float32") return r() < specials ? F32_SPECIAL[Math.floor(r() * 8)]! : Math.fround(r() * 8 - 4);
    if (dtype === "bool") return r() < 0.5 ? 1 : 0;
    return dtype === "uint32" ? Math.floor(r() * 9) : Math.floor(r() * 17) - 8;
  });
  return makeArray(dtype, shape, v);
}

const RUNS = 10;
const QUICK = 8;

/** Primitive names exercised by a test in this file (filled while tests are declared). */
const tested = new Set<string>();
/** `it` for a test of primitive(s) `prims`. */
function itPrim(prims: string | string[], title: string, body: () => void): void {
  for (const p of typeof prims === "string" ? [prims] : prims) tested.add(p);
  it(title, body);
}

// ---- elementwise: unary --------------------------------------------------------------------

interface UnaryCase {
  prim: string;
  label?: string;
  f: (x: Array) => Array;
  dtypes: CDType[];
  tol?: Tol;
  values?: fc.Arbitrary<number>;
}

const T = TOLERANCE.transcendental;
/** sin and cos are within their bound for |x| ≤ 1e5 (the SIMD range reduction's domain). */
const moderateAngles = fc.oneof(
  fc.float({ min: -1e5, max: 1e5, noNaN: true }),
  fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1e-45, 3.1415927, -1.5707964),
);
const unitInterval = fc.oneof(
  fc.float({ min: -1, max: 1, noNaN: true }),
  fc.constantFrom(NaN, 1, -1, 0, -0, 1.5, -Infinity, 0.99999994, -0.99999994),
);
const UNARY: UnaryCase[] = [
  { prim: "neg", f: lax.neg, dtypes: ["float32", "int32", "uint32"] },
  { prim: "abs", f: lax.abs, dtypes: ["float32", "int32", "uint32"] },
  { prim: "sign", f: lax.sign, dtypes: ["float32", "int32", "uint32"] },
  { prim: "square", f: lax.square, dtypes: ["float32", "int32", "uint32"] },
  { prim: "not", f: lax.not, dtypes: ["int32", "uint32", "bool"] },
  { prim: "floor", f: lax.floor, dtypes: ["float32"] },
  { prim: "ceil", f: lax.ceil, dtypes: ["float32"] },
  { prim: "round", label: "round half away from zero", f: (x) => lax.round(x, 0), dtypes: ["float32"] },
  { prim: "round", label: "round half to even", f: (x) => lax.round(x, 1), dtypes: ["float32"] },
  { prim: "sqrt", f: lax.sqrt, dtypes: ["float32"] },
  { prim: "stop_gradient", f: lax.stopGradient, dtypes: ["float32", "int32"] },
  { prim: "rsqrt", f: lax.rsqrt, dtypes: ["float32"], tol: TOLERANCE.rsqrt },
  { prim: "exp", f: lax.exp, dtypes: ["float32"], tol: T },
  { prim: "log", f: lax.log, dtypes: ["float32"], tol: T },
  { prim: "log1p", f: lax.log1p, dtypes: ["float32"], tol: T },
  { prim: "expm1", f: lax.expm1, dtypes: ["float32"], tol: T },
  { prim: "sin", f: lax.sin, dtypes: ["float32"], tol: T, values: moderateAngles },
  { prim: "cos", f: lax.cos, dtypes: ["float32"], tol: T, values: moderateAngles },
  { prim: "tan", f: lax.tan, dtypes: ["float32"], tol: T },
  { prim: "tanh", f: lax.tanh, dtypes: ["float32"], tol: T },
  { prim: "logistic", f: lax.logistic, dtypes: ["float32"], tol: T },
  { prim: "erf", f: lax.erf, dtypes: ["float32"], tol: T },
  { prim: "erf_inv", f: lax.erfInv, dtypes: ["float32"], tol: T, values: unitInterval },
];

const edgeArray = (dtype: CDType): ConcreteArray =>
  makeArray(
    dtype,
    [dtype === "float32" ? F32_SPECIAL.length : dtype === "int32" ? I32_SPECIAL.length : dtype === "uint32" ? U32_SPECIAL.length : 7],
    dtype === "float32" ? F32_SPECIAL : dtype === "int32" ? I32_SPECIAL : dtype === "uint32" ? U32_SPECIAL : [1, 0, 0, 1, 1, 0, 1],
  );

describe("filterJit = interpreter: unary elementwise", () => {
  for (const c of UNARY) {
    for (const dtype of c.dtypes) {
      itPrim(c.prim, `${c.label ?? c.prim} on ${dtype}`, () => {
        const f = (x: Array) => c.f(x);
        const jitted = filterJit(f, QUIET);
        const values = dtype === "float32" && c.values ? c.values : VALUES[dtype];
        fc.assert(
          fc.property(
            shapeArb().chain((s) => arrayArb(dtype, s, values)),
            (x) => expectJitMatches(f, [x], { tol: c.tol, jitted }),
          ),
          { numRuns: RUNS, examples: c.values ? [] : [[edgeArray(dtype)]] },
        );
        expect(primNames(jitted.lastJaxpr())).toContain(c.prim);
      });
    }
  }

  itPrim("integer_pow", "integer_pow on float32 (y in -4..6, within 8 ulp)", () => {
    // |x| in [2^-16, 2^16] keeps every intermediate power normal; specials check the edges.
    const moderate = fc.oneof(
      fc.float({ min: Math.fround(2 ** -16), max: 2 ** 16, noNaN: true }).chain((v) => fc.constantFrom(v, -v)),
      fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1, -1),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: -4, max: 6 }),
        shapeArb().chain((s) => arrayArb("float32", s, moderate)),
        (y, x) => expectJitMatches((a) => lax.integerPow(a, y), [x], { tol: TOLERANCE.integerPow }),
      ),
      { numRuns: RUNS },
    );
  });

  itPrim("integer_pow", "integer_pow on int32 and uint32 wraps like repeated multiplication", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom<CDType>("int32", "uint32"),
        shapeArb().chain((s) => fc.tuple(fc.constant(s), fc.nat())),
        (y, dtype, [s, seed]) => {
          const r = seeded(seed);
          const x = makeArray(
            dtype,
            s,
            globalThis.Array.from({ length: sizeOf(s) }, () => (r() < 0.5 ? Math.floor(r() * 2 ** 32) : Math.floor(r() * 9) - 4)),
          );
          expectJitMatches((a) => lax.integerPow(a, y), [x]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("round half away from zero keeps the sign of zero", () => {
    expectJitMatches((a) => lax.round(a, 0), [array([-0.3, -0, -0.49999997, 0.3, -0.7, -1e-45, 5, 6])]);
  });

  it("integer_pow with a negative exponent agrees with the interpreter where x^|y| overflows float32", () => {
    // 1e20 ** -2 is 1e-40 (a float32 subnormal) in float64, but 1e20 · 1e20 overflows in float32.
    expectJitMatches((a) => lax.integerPow(a, -2), [array([1e20, -1e20, 3e19, 2, 1e20])]);
  });
});

// ---- elementwise: binary -------------------------------------------------------------------

type BinaryMode = "same" | "scalar" | "literal" | "broadcast";

interface BinaryCase {
  prim: string;
  f: (x: Array, y: Array) => Array;
  dtypes: CDType[];
  tol?: Tol;
}

const ARITH: CDType[] = ["float32", "int32", "uint32"];
const BINARY: BinaryCase[] = [
  { prim: "add", f: lax.add, dtypes: ARITH },
  { prim: "sub", f: lax.sub, dtypes: ARITH },
  { prim: "mul", f: lax.mul, dtypes: ARITH },
  { prim: "div", f: lax.div, dtypes: ARITH },
  { prim: "rem", f: lax.rem, dtypes: ARITH },
  { prim: "max", f: lax.max, dtypes: ARITH },
  { prim: "min", f: lax.min, dtypes: ARITH },
  { prim: "pow", f: lax.pow, dtypes: ["float32"], tol: T },
  { prim: "atan2", f: lax.atan2, dtypes: ["float32"], tol: T },
  { prim: "and", f: lax.and, dtypes: ["int32", "uint32", "bool"] },
  { prim: "or", f: lax.or, dtypes: ["int32", "uint32", "bool"] },
  { prim: "xor", f: lax.xor, dtypes: ["int32", "uint32", "bool"] },
  { prim: "shift_left", f: lax.shiftLeft, dtypes: ["int32", "uint32"] },
  { prim: "shift_right_logical", f: lax.shiftRightLogical, dtypes: ["int32", "uint32"] },
  { prim: "shift_right_arithmetic", f: lax.shiftRightArithmetic, dtypes: ["int32", "uint32"] },
];

/** Broadcast shape of numpy-compatible shapes (equal rank here). */
const joinShapes = (a: readonly number[], b: readonly number[]): number[] => a.map((d, i) => (d === 1 ? b[i]! : d));

/**
 * Operands for a binary op: equal shapes, a rank-0 operand (traced or a literal constant of
 * the module), or numpy broadcasting (size-1 dims) lowered through broadcast_in_dim.
 */
function binaryOperands(dtype: CDType): fc.Arbitrary<{ mode: BinaryMode; x: ConcreteArray; y: ConcreteArray; swap: boolean }> {
  return fc
    .record({
      mode: fc.constantFrom<BinaryMode>("same", "same", "scalar", "literal", "broadcast"),
      shape: shapeArb(1, 3),
      ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      swap: fc.boolean(),
    })
    .chain(({ mode, shape, ones, swap }) => {
      const other = mode === "same" ? shape : mode === "broadcast" ? shape.map((d, i) => (ones[i] ? 1 : d)) : [];
      const [xs, ys] = mode === "broadcast" && swap ? [other, shape] : [shape, other];
      return fc.record({ mode: fc.constant(mode), x: arrayArb(dtype, xs), y: arrayArb(dtype, ys), swap: fc.constant(swap) });
    });
}

function checkBinary(
  op: (x: Array, y: Array) => Outputs,
  dtype: CDType,
  tol: Tol | Readonly<Record<string, Tol>> | undefined,
  runs: number,
): void {
  // One function (and cache) for the traced-operand modes; literals are closed over.
  const traced = (x: Array, y: Array) => {
    if (x.ndim === y.ndim && x.shape.join() !== y.shape.join()) {
      const s = joinShapes(x.shape, y.shape);
      return op(np.broadcastTo(x, s), np.broadcastTo(y, s));
    }
    return op(x, y);
  };
  const jitted = filterJit(traced, QUIET);
  fc.assert(
    fc.property(binaryOperands(dtype), ({ mode, x, y, swap }) => {
      if (mode !== "literal") return expectJitMatches(traced, [x, y], { tol, jitted });
      const f = swap ? (a: Array) => op(y, a) : (a: Array) => op(a, y);
      expectJitMatches(f, [x], { tol });
    }),
    {
      numRuns: runs,
      examples: [
        [
          {
            mode: "same",
            x: edgeArray(dtype),
            y: makeArray(dtype, [edgeArray(dtype).size], [...edgeArray(dtype).data].reverse()),
            swap: false,
          },
        ],
      ],
    },
  );
}

describe("filterJit = interpreter: binary elementwise", () => {
  for (const c of BINARY) {
    for (const dtype of c.dtypes) {
      itPrim(c.prim, `${c.prim} on ${dtype} (equal shapes, rank-0, literal and broadcast operands)`, () =>
        checkBinary(c.f, dtype, c.tol, RUNS),
      );
    }
  }

  const COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"] as const;
  for (const dtype of DTYPES) {
    itPrim([...COMPARISONS], `comparisons on ${dtype}`, () =>
      checkBinary((x, y) => Object.fromEntries(COMPARISONS.map((op) => [op, lax[op](x, y)])), dtype, undefined, RUNS),
    );
  }

  it("bool comparisons order false before true in the vector loop", () => {
    const a = array([false, true, false, true, false, true], { dtype: "bool" });
    const b = array([true, false, false, true, true, false], { dtype: "bool" });
    expectJitMatches((x, y) => ({ lt: lax.lt(x, y), le: lax.le(x, y), gt: lax.gt(x, y), ge: lax.ge(x, y) }), [a, b]);
  });
});

// ---- select_n, conversions, bitcasts ---------------------------------------------------------

describe("filterJit = interpreter: select_n and conversions", () => {
  itPrim("select_n", "select_n with a bool predicate (one or two cases, rank-0 or full predicate)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CDType>(...DTYPES),
        fc.integer({ min: 1, max: 2 }),
        fc.boolean(),
        shapeArb(),
        fc.nat(),
        (dtype, n, scalarPred, s, seed) => {
          const pred = seededArray("bool", scalarPred ? [] : s, seed);
          const cases = globalThis.Array.from({ length: n }, (_, k) => seededArray(dtype, s, seed + k + 1, 0.3));
          expectJitMatches((p, ...cs) => lax.selectN(p, ...cs), [pred, ...cases]);
        },
      ),
      { numRuns: 2 * RUNS },
    );
  });

  itPrim("select_n", "select_n with an int32 predicate clamps out-of-range cases (1–3 cases)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CDType>("float32", "int32"),
        shapeArb().chain((s) => arrayArb("int32", s, fc.integer({ min: -2, max: 4 }))),
        (dtype, pred) => {
          for (const n of [1, 2, 3]) {
            const cases = globalThis.Array.from({ length: n }, (_, k) => seededArray(dtype, pred.shape, 7 * k + 1, 0));
            expectJitMatches((p, ...cs) => lax.selectN(p, ...cs), [pred, ...cases]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("select_n with a negative int32 predicate picks case 0 in the vector loop", () => {
    const p = array([-1, 0, 1, 2, -5, 1], { dtype: "int32" });
    expectJitMatches((q, x, y) => lax.selectN(q, x, y), [p, array([1, 2, 3, 4, 5, 6]), array([10, 20, 30, 40, 50, 60])]);
  });

  for (const from of DTYPES) {
    itPrim("convert_element_type", `convert_element_type from ${from} to every 32-bit dtype and bool`, () => {
      const f = (x: Array) => Object.fromEntries(DTYPES.map((to) => [to, lax.convertElementType(x, to)]));
      const jitted = filterJit(f, QUIET);
      fc.assert(
        fc.property(
          shapeArb().chain((s) => arrayArb(from, s)),
          (x) => expectJitMatches(f, [x], { jitted }),
        ),
        { numRuns: RUNS, examples: [[edgeArray(from)]] },
      );
    });
  }

  for (const from of ["float32", "int32", "uint32"] as const) {
    itPrim("bitcast_convert_type", `bitcast_convert_type from ${from} is bit for bit (NaN payloads included)`, () => {
      const to = (["float32", "int32", "uint32"] as const).filter((d) => d !== from);
      // Round trips too: int → float (a NaN with a payload) → int.
      const f = (x: Array) => ({
        ...Object.fromEntries(to.map((d) => [d, lax.bitcastConvertType(x, d)])),
        roundTrip: lax.bitcastConvertType(lax.bitcastConvertType(x, to[0]!), from),
      });
      const jitted = filterJit(f, QUIET);
      const nanPayloads = fc.constantFrom(0x7fc00001, 0x7f800001, 0xffc00000 | 0, 0xff800123 | 0, 0x7fffffff, 0x00000001, 0x80000000 | 0);
      const values = from === "float32" ? VALUES.float32 : fc.oneof(VALUES[from], nanPayloads);
      fc.assert(
        fc.property(
          shapeArb().chain((s) => arrayArb(from, s, values)),
          (x) => expectJitMatches(f, [x], { tol: BITS, jitted }),
        ),
        { numRuns: RUNS },
      );
    });
  }
});

// ---- structural ----------------------------------------------------------------------------

/**
 * Where an operand comes from: the argument itself, a fused elementwise expression, a
 * transposed view of the argument (permuted strides, no copy), a view with an offset (the
 * argument without its first row), or a view with an offset into a temporary buffer (rows
 * 1..n of the argument concatenated with itself). Parameters derive from the operand's shape.
 */
type Source = "arg" | "expr" | "perm" | "offset" | "temp";
const sourceArb = fc.constantFrom<Source>("arg", "expr", "perm", "offset", "temp");

function fromSource(x: Array, source: Source): Array {
  switch (source) {
    case "arg":
      return x;
    case "expr":
      return x.dtype === "bool" ? lax.not(x) : lax.neg(x);
    case "perm":
      return lax.transpose(
        x,
        x.shape.map((_, i) => x.ndim - 1 - i),
      );
    case "offset":
      return x.ndim > 0 && x.shape[0]! > 1
        ? lax.slice(
            x,
            x.shape.map((_, i) => (i === 0 ? 1 : 0)),
            [...x.shape],
          )
        : x;
    case "temp": {
      if (x.ndim === 0 || x.shape[0] === 0) return x;
      const twice = lax.concatenate([x, x], 0);
      return lax.slice(
        twice,
        x.shape.map((_, i) => (i === 0 ? 1 : 0)),
        x.shape.map((d, i) => (i === 0 ? d + 1 : d)),
      );
    }
  }
}

const anyArray = (minRank = 0, maxRank = 3) =>
  fc.tuple(fc.constantFrom<CDType>(...DTYPES), shapeArb(minRank, maxRank)).chain(([d, s]) => arrayArb(d, s));
/**
 * Random numbers from which a test derives its parameters once the operand shape is known
 * (unbiased: fast-check's small-value bias would make strides and offsets mostly trivial).
 */
const knobs = fc.noBias(fc.array(fc.nat({ max: 1000 }), { minLength: 12, maxLength: 12 }));

describe("filterJit = interpreter: structural", () => {
  itPrim("broadcast_in_dim", "broadcast_in_dim to higher ranks, expanding size-1 dims", () => {
    /** Inserts up to 2 new dims (sizes 0..3) anywhere, and expands size-1 dims to 0..4. */
    const params = (shape: readonly number[], k: number[]) => {
      const at = k.slice(0, k[0]! % 3).map((v) => v % (shape.length + 1));
      const out: number[] = [];
      const bd: number[] = [];
      for (let d = 0; d <= shape.length; d++) {
        for (const a of at) if (a === d) out.push(k[3 + out.length]! % 4);
        if (d < shape.length) {
          bd.push(out.length);
          out.push(shape[d] === 1 ? k[3 + out.length]! % 5 : shape[d]!);
        }
      }
      return [out, bd] as const;
    };
    fc.assert(
      fc.property(anyArray(0, 3), sourceArb, knobs, (x, source, k) =>
        expectJitMatches(
          (a) => {
            const v = fromSource(a, source);
            return lax.broadcastInDim(v, ...params(v.shape, k));
          },
          [x],
        ),
      ),
      { numRuns: 2 * RUNS },
    );
  });

  itPrim("reshape", "reshape of arguments, expressions, transposed views and offset views", () => {
    /** Merges adjacent dims where asked, puts a size-1 dim in front, maybe reverses the order. */
    const target = (shape: readonly number[], k: number[]) => {
      const t: number[] = [1];
      shape.forEach((d, i) => (i > 0 && k[i]! % 2 ? t.push(t.pop()! * d) : t.push(d)));
      return k[0]! % 2 ? t.reverse() : t;
    };
    fc.assert(
      fc.property(anyArray(1, 3), sourceArb, knobs, (x, source, k) =>
        expectJitMatches(
          (a) => {
            const v = fromSource(a, source);
            return lax.reshape(v, target(v.shape, k));
          },
          [x],
        ),
      ),
      { numRuns: 2 * RUNS },
    );
  });

  it("reshape of a non-contiguous view (transposed, broadcast, strided slice) reads it in row-major order", () => {
    const x = array([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expectJitMatches(
      (a) => ({
        transposed: lax.reshape(lax.transpose(a, [1, 0]), [8]),
        broadcast: lax.reshape(lax.broadcastInDim(lax.slice(a, [0, 0], [1, 4]), [3, 1, 4], [1, 2]), [12]),
        strided: lax.reshape(lax.slice(a, [0, 0], [2, 4], [1, 2]), [4]),
      }),
      [x],
    );
  });

  itPrim("transpose", "transpose by random permutations (rank ≤ 4)", () => {
    const arb = fc.tuple(fc.constantFrom<CDType>(...DTYPES), shapeArb(1, 3), fc.boolean(), sourceArb).chain(([d, s, fourth, source]) => {
      const shape = fourth ? [2, ...s] : s;
      return fc.tuple(arrayArb(d, shape), permArb(shape.length), fc.constant(source));
    });
    fc.assert(
      fc.property(arb, ([x, perm, source]) => expectJitMatches((a) => lax.transpose(fromSource(a, source), perm), [x])),
      { numRuns: 2 * RUNS },
    );
  });

  itPrim("squeeze", "squeeze of size-1 dims", () => {
    const arb = fc
      .tuple(fc.constantFrom<CDType>(...DTYPES), fc.array(fc.constantFrom(1, 1, 2, 3, 5), { minLength: 1, maxLength: 4 }))
      .chain(([d, s]) => arrayArb(d, s));
    fc.assert(
      fc.property(arb, sourceArb, knobs, (x, source, k) =>
        expectJitMatches(
          (a) => {
            const v = fromSource(a, source);
            return lax.squeeze(
              v,
              v.shape.flatMap((n, i) => (n === 1 && k[i]! % 2 ? [i] : [])),
            );
          },
          [x],
        ),
      ),
      { numRuns: RUNS },
    );
  });

  itPrim("slice", "slice with strides, of arguments, expressions, views and slices", () => {
    /** Mostly non-empty: start in [0, d), limit in (start, d], stride 1..3. */
    const bounds = (shape: readonly number[], k: number[]) => {
      const start = shape.map((d, i) => (d === 0 ? 0 : k[i]! % d));
      const limit = shape.map((d, i) => (d === 0 ? 0 : start[i]! + 1 + (k[4 + i]! % (d - start[i]!))));
      return [start, limit, shape.map((_, i) => 1 + (k[8 + i]! % 3))] as const;
    };
    fc.assert(
      fc.property(anyArray(1, 3), sourceArb, knobs, fc.boolean(), (x, source, k, twice) =>
        expectJitMatches(
          (a) => {
            const once = lax.slice(fromSource(a, source), ...bounds(fromSource(a, source).shape, k));
            return twice
              ? lax.slice(
                  once,
                  ...bounds(
                    once.shape,
                    k.map((v) => v >> 2),
                  ),
                )
              : once;
          },
          [x],
        ),
      ),
      { numRuns: 2 * RUNS },
    );
  });

  /**
   * Start indices for dynamic slices: traced int32 or uint32 scalars (uint32 ≥ 2^31 included),
   * constants (literals), or elements of a traced int32 vector (views with an offset).
   */
  type IndexMode = "traced" | "uint32" | "const" | "vector";
  const indexModeArb = fc.constantFrom<IndexMode>("traced", "uint32", "const", "vector");
  const indexKnob = (k: number, d: number) => [(k % (d + 4)) - 2, 2147483647, -2147483648, -1][k % 7 === 0 ? 1 + ((k >> 3) % 3) : 0]!;
  function indexArgs(mode: IndexMode, values: number[]): { args: Array[]; read: (args: Array[]) => Array[] } {
    switch (mode) {
      case "traced":
        return { args: values.map((v) => makeArray("int32", [], [v])), read: (a) => a };
      case "uint32":
        return { args: values.map((v) => makeArray("uint32", [], [v])), read: (a) => a };
      case "const":
        return { args: [], read: () => values.map((v) => makeArray("int32", [], [v])) };
      case "vector":
        return {
          args: [makeArray("int32", [values.length + 1], [0, ...values])],
          read: ([v]) => values.map((_, d) => lax.reshape(lax.slice(v!, [d + 1], [d + 2]), [])),
        };
    }
  }

  itPrim("dynamic_slice", "dynamic_slice with traced, constant and out-of-range (clamped) indices", () => {
    fc.assert(
      fc.property(anyArray(1, 3), sourceArb, indexModeArb, knobs, (x, source, mode, k) => {
        const shape = fromSource(x, source).shape;
        const sizes = shape.map((d, i) => k[i]! % (d + 1));
        const { args, read } = indexArgs(
          mode,
          shape.map((d, i) => indexKnob(k[4 + i]!, d)),
        );
        expectJitMatches((a, ...idx) => lax.dynamicSlice(fromSource(a, source), read(idx), sizes), [x, ...args]);
      }),
      { numRuns: 3 * RUNS },
    );
  });

  itPrim("dynamic_update_slice", "dynamic_update_slice with traced, constant and out-of-range (clamped) indices", () => {
    const arb = fc.tuple(fc.constantFrom<CDType>(...DTYPES), shapeArb(1, 3), knobs).chain(([d, s, k]) =>
      fc.tuple(
        arrayArb(d, s),
        arrayArb(
          d,
          s.map((n, i) => k[i]! % (n + 1)),
        ),
        fc.constant(k),
      ),
    );
    fc.assert(
      fc.property(arb, indexModeArb, fc.constantFrom<Source>("arg", "expr"), sourceArb, ([x, u, k], mode, xSource, uSource) => {
        // The update's source must keep its rank and fit: perm/offset views of it are cut to size.
        const { args, read } = indexArgs(
          mode,
          x.shape.map((d, i) => indexKnob(k[4 + i]!, d)),
        );
        const fit = (b: Array) => {
          const v = fromSource(b, uSource);
          return lax.slice(
            v,
            v.shape.map(() => 0),
            v.shape.map((n, i) => Math.min(n, x.shape[i]!)),
          );
        };
        expectJitMatches((a, b, ...idx) => lax.dynamicUpdateSlice(fromSource(a, xSource), fit(b), read(idx)), [x, u, ...args]);
      }),
      { numRuns: 3 * RUNS },
    );
  });

  it("dynamic_slice reads a start index that is an element of a traced vector", () => {
    const x = array([0, 1, 2, 3, 4, 5, 6, 7]);
    const idx = array([0, 3], { dtype: "int32" });
    expectJitMatches((a, i) => lax.dynamicSlice(a, [lax.reshape(lax.slice(i, [1], [2]), [])], [2]), [x, idx]);
  });

  it("dynamic_slice and dynamic_update_slice clamp a traced uint32 start index ≥ 2^31", () => {
    const x = array([0, 1, 2, 3, 4, 5]);
    const big = makeArray("uint32", [], [0x80000000]);
    expectJitMatches(
      (a, i) => ({ slice: lax.dynamicSlice(a, [i], [2]), update: lax.dynamicUpdateSlice(a, array([-1, -2]), [i]) }),
      [x, big],
    );
  });

  itPrim("concatenate", "concatenate 1–3 operands (size-0 parts included) along any dim", () => {
    const arb = fc
      .tuple(
        fc.constantFrom<CDType>(...DTYPES),
        shapeArb(1, 3),
        fc.nat(),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
      )
      .chain(([d, s, dimSeed, lens, reuse]) => {
        const dim = dimSeed % s.length;
        return fc.tuple(
          fc.tuple(
            ...lens.map((n) =>
              arrayArb(
                d,
                s.map((v, i) => (i === dim ? n : v)),
              ),
            ),
          ),
          fc.constant(dim),
          fc.constant(reuse),
        );
      });
    fc.assert(
      fc.property(arb, ([xs, dim, reuse]) =>
        // `reuse` concatenates the first operand twice more: one buffer read by several kernels
        expectJitMatches((...as) => lax.concatenate(reuse ? [...as, as[0]!, fromSource(as[0]!, "expr")] : as, dim), xs),
      ),
      { numRuns: 2 * RUNS },
    );
  });

  itPrim("pad", "pad with low/high (negative too) and interior padding", () => {
    /** low/high in -3..3 and interior 0..2 per dim, kept only where the result is not negative. */
    const config = (shape: readonly number[], k: number[]) =>
      shape.map((d, i) => {
        const interior = k[8 + i]! % 3;
        const span = d + Math.max(0, d - 1) * interior;
        const lo = Math.max((k[i]! % 7) - 3, -span);
        return [lo, Math.max((k[4 + i]! % 7) - 3, -span - lo), interior] as [number, number, number];
      });
    fc.assert(
      fc.property(anyArray(1, 3), sourceArb, knobs, fc.boolean(), (x, source, k, tracedValue) => {
        const v = makeArray(x.dtype as CDType, [], [x.dtype === "bool" ? 1 : 7]);
        const f = (a: Array, pv: Array) => {
          const src = fromSource(a, source);
          return lax.pad(src, pv, config(src.shape, k));
        };
        if (tracedValue) expectJitMatches(f, [x, v]);
        else expectJitMatches((a) => f(a, v), [x]);
      }),
      { numRuns: 3 * RUNS },
    );
  });

  itPrim("iota", "iota of int32, uint32 and float32 along any dim: alone, fused, transposed, broadcast", () => {
    fc.assert(
      fc.property(fc.constantFrom<CDType>("int32", "uint32", "float32"), shapeArb(1, 3), fc.nat(), (dtype, s, d) => {
        const dim = d % s.length;
        const rev = s.map((_, i) => s.length - 1 - i);
        expectJitMatches(
          () => ({
            alone: lax.iota(dtype, s, dim),
            transposed: lax.transpose(lax.iota(dtype, s, dim), rev),
            broadcast: lax.broadcastInDim(lax.iota(dtype, [s[dim]!], 0), [2, ...s], [dim + 1]),
          }),
          [],
        );
        expectJitMatches((x) => lax.add(x, lax.iota(dtype, s, dim)), [seededArray(dtype, s, d)]);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- reductions ----------------------------------------------------------------------------

const axesArb = (rank: number) =>
  fc.array(fc.boolean(), { minLength: rank, maxLength: rank }).map((b) => b.flatMap((on, i) => (on ? [i] : [])));

describe("filterJit = interpreter: reductions", () => {
  for (const dtype of ["float32", "int32", "uint32"] as const) {
    itPrim(
      ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"],
      `reduce_sum/prod/max/min on ${dtype} over any axes (size-0 included)`,
      () => {
        // Integer products use factors in -3..3: the interpreter multiplies in float64, which
        // wraps like int32 arithmetic only while the product stays below 2^53.
        const factors = dtype === "float32" ? VALUES.float32 : fc.integer({ min: dtype === "int32" ? -3 : 0, max: 3 });
        const arb = shapeArb(0, 3).chain((s) => fc.tuple(arrayArb(dtype, s), arrayArb(dtype, s, factors), axesArb(s.length)));
        fc.assert(
          fc.property(arb, ([x, p, axes]) => {
            const isF = dtype === "float32";
            const tol = isF ? { sum: TOLERANCE.reduceSum, prod: TOLERANCE.sum } : undefined;
            const finite = (v: Array) => lax.selectN(lax.eq(lax.abs(v), Infinity), lax.abs(v), np.zerosLike(v));
            const scale = isF ? { sum: lax.reduceSum(finite(x), axes) } : undefined;
            expectJitMatches(
              (a, b) => ({
                sum: lax.reduceSum(a, axes),
                prod: lax.reduceProd(b, axes),
                max: lax.reduceMax(a, axes),
                min: lax.reduceMin(a, axes),
              }),
              [x, p],
              { tol, scale },
            );
          }),
          { numRuns: 2 * RUNS },
        );
      },
    );
  }

  itPrim(["reduce_max", "reduce_min"], "reduce_max/min on bool (any/all)", () => {
    const arb = shapeArb(1, 3).chain((s) => fc.tuple(arrayArb("bool", s), axesArb(s.length)));
    fc.assert(
      fc.property(arb, ([x, axes]) => expectJitMatches((a) => ({ any: lax.reduceMax(a, axes), all: lax.reduceMin(a, axes) }), [x])),
      { numRuns: RUNS },
    );
  });

  itPrim(["argmax", "argmin"], "argmax/argmin: first extreme wins, the first NaN wins over everything", () => {
    const tiesF = fc.constantFrom(0, -0, 1, 1, 2, NaN, Infinity, -Infinity);
    const arb = fc
      .tuple(
        fc.constantFrom<CDType>("float32", "int32", "uint32", "bool"),
        shapeArb(1, 3),
        fc.nat(),
        fc.constantFrom<DType>("int32", "uint32"),
      )
      .filter(([, s, a]) => s[a % s.length]! > 0)
      .chain(([d, s, a, idt]) =>
        fc.tuple(
          arrayArb(d, s, d === "float32" ? tiesF : d === "bool" ? VALUES.bool : fc.integer({ min: 0, max: 3 })),
          fc.constant(a % s.length),
          fc.constant(idt),
        ),
      );
    fc.assert(
      fc.property(arb, ([x, axis, idt]) =>
        expectJitMatches((a) => ({ argmax: lax.argmax(a, axis, idt), argmin: lax.argmin(a, axis, idt) }), [x]),
      ),
      { numRuns: 3 * RUNS },
    );
  });

  itPrim("cumsum", "cumsum forwards and in reverse along any axis", () => {
    const arb = fc
      .tuple(fc.constantFrom<CDType>("float32", "int32", "uint32"), shapeArb(1, 3), fc.nat(), fc.boolean())
      .chain(([d, s, a, rev]) => fc.tuple(arrayArb(d, s), fc.constant(a % s.length), fc.constant(rev)));
    fc.assert(
      fc.property(arb, ([x, axis, reverse]) => {
        const isF = x.dtype === "float32";
        expectJitMatches((a) => lax.cumsum(a, axis, reverse), [x], {
          tol: isF ? TOLERANCE.sum : undefined,
          scale: isF ? lax.cumsum(lax.abs(x), axis, reverse) : undefined,
        });
      }),
      { numRuns: 2 * RUNS },
    );
  });
});

// ---- dot_general ---------------------------------------------------------------------------

interface DotCase {
  lhs: ConcreteArray;
  rhs: ConcreteArray;
  dims: [[number[], number[]], [number[], number[]]];
  /** How the program reads the operands (see `dotOperand`). */
  layout: DotLayout;
  k: number;
}

/**
 * Operands as passed, as fused expressions (materialized before the matmul), as transposed
 * views (passed reversed and transposed back in the program) or as views with an offset
 * (passed with an extra leading row that the program slices off).
 */
type DotLayout = "args" | "expr" | "transposed" | "offset";
const reversed = (n: number) => globalThis.Array.from({ length: n }, (_, i) => n - 1 - i);

function dotArgument(x: ConcreteArray, layout: DotLayout): ConcreteArray {
  if (layout === "transposed") return lax.transpose(x, reversed(x.ndim)) as ConcreteArray;
  if (layout === "offset" && x.ndim > 0) return lax.concatenate([np.zeros([1, ...x.shape.slice(1)], x.dtype), x], 0) as ConcreteArray;
  return x;
}
function dotOperand(a: Array, layout: DotLayout): Array {
  if (layout === "transposed") return lax.transpose(a, reversed(a.ndim));
  if (layout === "expr") return lax.max(a, a);
  if (layout === "offset" && a.ndim > 0)
    return lax.slice(
      a,
      a.shape.map((_, i) => (i === 0 ? 1 : 0)),
      [...a.shape],
    );
  return a;
}

/**
 * Batch, contracting and free dims in random positions of both operands (so transposed
 * operands), each kind 0–2 dims, in one of the `DotLayout`s.
 */
function dotCaseArb(dtype: CDType, size: { batch: number; contract: number; free: number }): fc.Arbitrary<DotCase> {
  return fc
    .record({
      nb: fc.integer({ min: 0, max: 2 }),
      nc: fc.integer({ min: 0, max: 2 }),
      nl: fc.integer({ min: 0, max: 2 }),
      nr: fc.integer({ min: 0, max: 2 }),
    })
    .chain(({ nb, nc, nl, nr }) =>
      fc.record({
        b: fc.array(fc.integer({ min: 1, max: size.batch }), { minLength: nb, maxLength: nb }),
        c: fc.array(fc.integer({ min: 0, max: size.contract }), { minLength: nc, maxLength: nc }),
        l: fc.array(fc.integer({ min: 1, max: size.free }), { minLength: nl, maxLength: nl }),
        r: fc.array(fc.integer({ min: 1, max: size.free }), { minLength: nr, maxLength: nr }),
        lp: permArb(nb + nc + nl),
        rp: permArb(nb + nc + nr),
        layout: fc.constantFrom<DotLayout>("args", "expr", "transposed", "offset"),
        seed: fc.nat(),
      }),
    )
    .map(({ b, c, l, r, lp, rp, layout, seed }) => {
      // Labels: both operands are [batch..., contract..., free...] before the permutations.
      const lShape = lp.map((j) => [...b, ...c, ...l][j]!);
      const rShape = rp.map((j) => [...b, ...c, ...r][j]!);
      const dims: DotCase["dims"] = [
        [c.map((_, i) => lp.indexOf(b.length + i)), c.map((_, i) => rp.indexOf(b.length + i))],
        [b.map((_, i) => lp.indexOf(i)), b.map((_, i) => rp.indexOf(i))],
      ];
      return { lhs: seededArray(dtype, lShape, seed), rhs: seededArray(dtype, rShape, seed + 1), dims, layout, k: sizeOf(c) };
    });
}

function checkDot({ lhs, rhs, dims, layout, k }: DotCase): void {
  const f = (a: Array, b: Array) => lax.dotGeneral(dotOperand(a, layout), dotOperand(b, layout), dims);
  const args = [dotArgument(lhs, layout), dotArgument(rhs, layout)];
  const isF = lhs.dtype === "float32";
  const scale = isF ? lax.dotGeneral(lax.abs(lhs), lax.abs(rhs), dims) : undefined;
  expectJitMatches(f, args, { tol: isF ? TOLERANCE.dot(k) : EXACT, scale });
}

describe("filterJit = interpreter: dot_general", () => {
  for (const dtype of ["float32", "int32", "uint32"] as const) {
    itPrim("dot_general", `dot_general on ${dtype}: batch/contracting dims anywhere, transposed operands, odd N`, () => {
      fc.assert(fc.property(dotCaseArb(dtype, { batch: 3, contract: 6, free: 9 }), checkDot), { numRuns: 3 * RUNS });
    });
  }

  it("matmul through the packed GEMM path (M, N, K ≥ 32, N not a multiple of 8, transposed and batched)", () => {
    const arb = fc.record({
      m: fc.integer({ min: 32, max: 41 }),
      n: fc.integer({ min: 32, max: 45 }),
      kk: fc.integer({ min: 32, max: 40 }),
      batch: fc.constantFrom(0, 2),
      ta: fc.boolean(),
      tb: fc.boolean(),
      offset: fc.boolean(),
      seed: fc.nat(),
    });
    fc.assert(
      fc.property(arb, ({ m, n, kk, batch, ta, tb, offset, seed }) => {
        const bs = batch ? [batch] : [];
        const aShape = [...bs, ...(ta ? [kk, m] : [m, kk])];
        const bShape = [...bs, ...(tb ? [n, kk] : [kk, n])];
        const nb = bs.length;
        const swap = (x: Array) => lax.transpose(x, [...bs.map((_, i) => i), nb + 1, nb]);
        const dims: DotCase["dims"] = [
          [[nb + 1], [nb]],
          [bs.map((_, i) => i), bs.map((_, i) => i)],
        ];
        const layout: DotLayout = offset ? "offset" : "args";
        const lhs = (a: Array) => (ta ? swap(a) : a);
        const rhs = (b: Array) => (tb ? swap(b) : b);
        const f = (a: Array, b: Array) => lax.dotGeneral(lhs(dotOperand(a, layout)), rhs(b), dims);
        const a = seededArray("float32", aShape, seed, 0);
        const b = seededArray("float32", bShape, seed + 1, 0);
        const jitted = filterJit(f, QUIET);
        const scale = lax.dotGeneral(lax.abs(lhs(a)), lax.abs(rhs(b)), dims);
        expectJitMatches(f, [dotArgument(a, layout), b], { tol: TOLERANCE.dot(kk), scale, jitted });
        const program = compileJaxpr(jitted.lastJaxpr()!).program;
        expect(program.kernels.some((k) => k.kind === "matmul" && k.gemm !== undefined)).toBe(true);
      }),
      { numRuns: 4 },
    );
  });
});

// ---- threefry and random -------------------------------------------------------------------

describe("filterJit = interpreter: threefry2x32 and random", () => {
  itPrim("threefry2x32", "threefry2x32 on uint32 arrays and scalars is bit for bit", () => {
    const arb = fc
      .tuple(shapeArb(0, 3), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }))
      .chain(([s, scalars]) => fc.tuple(...scalars.map((sc) => arrayArb("uint32", sc ? [] : s))));
    fc.assert(
      fc.property(arb, (args) => expectJitMatches((k0, k1, x0, x1) => lax.threefry2x32(k0!, k1!, x0!, x1!), args, { tol: BITS })),
      { numRuns: RUNS },
    );
  });

  const draws = (s: number[]) => (key: Array) => ({
    bits: random.bits(key, s),
    uniform: random.uniform(key, s, { minval: -2, maxval: 3 }),
    normal: random.normal(random.split(key).get(1), s),
    split: random.split(key, 3),
  });

  it("random.bits/uniform/normal/split with a traced key equal eager bit for bit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: INT_MAX }), shapeArb(0, 3), (seed, s) =>
        expectJitMatches(draws(s), [random.key(seed)], { tol: BITS }),
      ),
      { numRuns: QUICK },
    );
  });

  it("threefry2x32 and random.* compile and match bit for bit in the 4-lane loop (last dim ≥ 4)", () => {
    const u = (n: number, seed: number) => seededArray("uint32", [n], seed);
    expectJitMatches((k0, k1, x0, x1) => lax.threefry2x32(k0!, k1!, x0!, x1!), [u(5, 1), u(5, 2), u(5, 3), u(5, 4)], { tol: BITS });
    expectJitMatches(draws([2, 5]), [random.key(42)], { tol: BITS });
  });
});

// ---- control flow -----------------------------------------------------------------------------

/** Two arrays of one random dtype and shape (values from the dtype's edge-heavy generator). */
const pairArb = () =>
  fc.tuple(fc.constantFrom<CDType>(...DTYPES), shapeArb(0, 3)).chain(([d, s]) => fc.tuple(arrayArb(d, s), arrayArb(d, s)));
const i32 = (v: number) => makeArray("int32", [], [v]);
/** A carry and xs of one random dtype: xs is [n, ...carry shape]. */
const scanArb = fc
  .tuple(fc.constantFrom<CDType>(...DTYPES), shapeArb(0, 2), fc.integer({ min: 0, max: 6 }))
  .chain(([d, s, n]) => fc.tuple(arrayArb(d, s), arrayArb(d, [n, ...s])));

describe("filterJit = interpreter: control flow (more in control-flow.test.ts)", () => {
  itPrim("cond", "cond/switch of any dtype and shape with a traced index, clamped as JAX", () => {
    fc.assert(
      fc.property(pairArb(), fc.constantFrom(...I32_SPECIAL), ([x, y], k) =>
        expectJitMatches(
          (i, x, y) =>
            lax.switch(i!, [(x: Array, y: Array) => [x, y], (x: Array, y: Array) => [y, x], (x: Array) => [x, x]], x!, y!) as Array[],
          [i32(k), x, y],
        ),
      ),
      { numRuns: RUNS },
    );
  });

  itPrim("while", "while of any dtype and shape: a traced trip count (zero included) swapping two carries", () => {
    fc.assert(
      fc.property(pairArb(), fc.integer({ min: -2, max: 5 }), ([x, y], n) =>
        expectJitMatches(
          (n, x, y) =>
            lax.whileLoop(
              ([i]: Array[]) => i!.lt(n!),
              ([i, a, b]: Array[]) => [i!.add(1), b!, a!],
              [i32(0), x!, y!] as Array[],
            ),
          [i32(n), x, y],
        ),
      ),
      { numRuns: RUNS },
    );
  });

  itPrim("scan", "scan of any dtype over a random leading axis (empty included), forward and reverse: ys are the old carry", () => {
    fc.assert(
      fc.property(scanArb, fc.boolean(), ([c0, xs], reverse) =>
        expectJitMatches((c, xs) => lax.scan((c: Array, x: Array) => [x, c] as const, c!, xs!, { reverse }) as Array[], [c0, xs]),
      ),
      { numRuns: RUNS },
    );
  });
});

// ---- float64 and coverage -----------------------------------------------------------------

describe("filterJit: float64 is interpreter-only", () => {
  it("float64 arguments, casts and captured constants raise a CompileError naming float64", () => {
    const x64 = array([1, 2, 3], { dtype: "float64" });
    const cases: [string, () => unknown][] = [
      ["argument", () => filterJit((x: Array) => x.add(1), QUIET)(x64)],
      ["cast inside", () => filterJit((x: Array) => x.astype("float64").sum().astype("float32"), QUIET)(array([1, 2]))],
      // a float64 constant of the module, read at a traced index (so not folded away)
      [
        "captured constant",
        () =>
          filterJit((i: Array) => lax.convertElementType(lax.dynamicSlice(x64, [i], [1]), "float32"), QUIET)(makeArray("int32", [], [1])),
      ],
    ];
    for (const [what, run] of cases) {
      let err: unknown = null;
      try {
        run();
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(CompileError);
      expect((err as Error).message, what).toMatch(/float64/);
    }
  });
});

describe("coverage", () => {
  it("every primitive except collectives and custom_jvp_call has a differential test here", () => {
    const elsewhere = new Set(["psum", "pmax", "pmin", "axis_index", "all_gather", "psum_scatter", "custom_jvp_call"]);
    // The indexing primitives' differential tests (and their own coverage check) are in jit-indexing.test.ts.
    for (const p of ["gather", "scatter", "scatter-add", "scatter-mul", "scatter-min", "scatter-max", "rev"]) elsewhere.add(p);
    // sort and top_k: jit-sort.test.ts.
    for (const p of ["sort", "top_k"]) elsewhere.add(p);
    // custom_vjp_call (inlined like custom_jvp_call) and custom_lin (never compiled): custom-vjp-jit.test.ts.
    // optimization_barrier (checkpoint's): custom-vjp-jit.test.ts.
    elsewhere.add("optimization_barrier");
    for (const p of ["custom_vjp_call", "custom_lin"]) elsewhere.add(p);
    const missing = [...primitives.keys()].filter((p) => !elsewhere.has(p) && !tested.has(p));
    expect(missing).toEqual([]);
  });
});
