/**
 * Differential tests of the elementwise primitives, with TensorFlow.js (CPU backend) as the
 * oracle: random shapes of rank 0–3 with size-0 and size-1 axes, values mixed with NaN, ±inf,
 * ±0, negatives, subnormals and huge values. Where tfjs has no such op (erf_inv, shifts,
 * uint32, bitcasts) or defines it differently from XLA (sign of NaN, float→int saturation,
 * integer division by zero), a few lines of JS that spell out XLA's semantics stand in, and
 * say so.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { array, lax, np, DTypeError, ShapeError, type Array as WaxArray, type DType } from "../../index";
/** tfjs's pow is JS Math.pow; wax follows C/XLA, where pow(1, y) = 1 and pow(-1, ±inf) = 1. */
function cPowTf(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const p = tf.pow(a, b);
  if (p.size === 0) return p;
  const ab = tf.add(tf.zerosLike(p), a);
  const bb = tf.add(tf.zerosLike(p), b);
  const fix = tf.logicalOr(tf.equal(ab, 1), tf.logicalAnd(tf.equal(ab, -1), tf.isInf(bb)));
  return tf.where(fix, tf.onesLike(p), p);
}

// ---- tolerances ----------------------------------------------------------------------------

/** How close a float32 result must be to the oracle's. NaN and ±inf must always match exactly. */
interface Tolerance {
  /** Largest allowed distance in float32 units in the last place (0: the same value). */
  ulps: number;
  /** Extra absolute slack, for an oracle that is itself an approximation. */
  atol?: number;
  /** Whether +0 and -0 must match (false only where tfjs and XLA disagree on it). */
  signedZero: boolean;
}

const EXACT: Tolerance = { ulps: 0, signedZero: true };
/** XLA's float32 transcendentals are within a couple of ulps of the correctly rounded value. */
const ULPS2: Tolerance = { ulps: 2, signedZero: true };

const TOLERANCE = {
  // Correctly rounded in IEEE float32 (wax rounds one float64 result, which is innocuous for
  // + - * / sqrt since 53 >= 2·24 + 2), or exact by definition.
  neg: EXACT,
  abs: EXACT,
  floor: EXACT,
  ceil: EXACT,
  square: EXACT,
  sqrt: EXACT,
  add: EXACT,
  sub: EXACT,
  mul: EXACT,
  div: EXACT,
  max: EXACT,
  min: EXACT,
  rem: EXACT,
  select_n: EXACT,
  convert_element_type: EXACT,
  stop_gradient: EXACT,
  // tfjs returns +0 for sign(-0) and round(-0.5); XLA keeps -0 (checked on its own below).
  sign: { ulps: 0, signedZero: false },
  round: { ulps: 0, signedZero: false },
  // jnp.remainder(3., -3.) is +0 (no fix-up when the C remainder is zero); tfjs's mod gives -0.
  remainder: { ulps: 0, signedZero: false },
  exp: ULPS2,
  log: ULPS2,
  log1p: ULPS2,
  expm1: ULPS2,
  sin: ULPS2,
  cos: ULPS2,
  tan: ULPS2,
  tanh: ULPS2,
  logistic: ULPS2,
  rsqrt: ULPS2,
  pow: ULPS2,
  // Repeated squaring in float32 (as XLA): |y| = 6 rounds three times (x², x⁴, x⁴·x²), up to
  // 3u of relative error, ≤ 3.5 ulp against the once-rounded float64 reference. (2 ulp was
  // exceeded: x = -2.1086e-6, y = 6 is 3 ulp off.)
  integer_pow: { ulps: 4, signedZero: true },
  atan2: ULPS2,
  // tfjs's erf is Abramowitz–Stegun 7.1.26 (|error| <= 1.5e-7), plus float32 rounding of both
  // results; the largest difference measured on a 2e5-point grid over [-6, 6] was 1.8e-7.
  erf: { ulps: 0, atol: 3e-7, signedZero: false },
  // erf_inv against values computed with mpmath (40 digits) at the float32 inputs.
  erf_inv: { ulps: 1, signedZero: true },
  // erf(erf_inv(y)) - y: the float32 rounding of erf_inv(y) moves erf by at most
  // max_x |x·erf'(x)|·2^-24 ≈ 3e-8, plus the rounding of erf itself.
  erf_roundtrip: { ulps: 2, atol: 1.5e-7, signedZero: true },
} satisfies Record<string, Tolerance>;

type Op = keyof typeof TOLERANCE;

// ---- comparison ----------------------------------------------------------------------------

const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);

/** Position of a float32 on a line where adjacent floats are 1 apart (±0 both map to 0). */
function ordinal(x: number): number {
  f32Bits[0] = x;
  const b = u32Bits[0]!;
  return b >= 0x80000000 ? -(b - 0x80000000) : b;
}

function close(got: number, want: number, tol: Tolerance): boolean {
  if (Number.isNaN(got) || Number.isNaN(want)) return Number.isNaN(got) && Number.isNaN(want);
  if (got === want) return got !== 0 || !tol.signedZero || Object.is(got, want);
  if (!Number.isFinite(got) || !Number.isFinite(want)) return false;
  if (tol.atol !== undefined && Math.abs(got - want) <= tol.atol) return true;
  return tol.ulps > 0 && Math.abs(ordinal(got) - ordinal(want)) <= tol.ulps;
}

const show = (x: number): string => (Object.is(x, -0) ? "-0" : String(x));

/** A result to compare against: shape, dtype and flat row-major data. */
interface Expected {
  shape: readonly number[];
  dtype: string;
  data: ArrayLike<number>;
}

/** Asserts `got` has the expected shape and dtype and every element is within `tol`. */
function expectMatch(op: string, got: WaxArray, want: Expected, tol: Tolerance = EXACT): void {
  expect({ shape: [...got.shape], dtype: got.dtype }, op).toEqual({ shape: [...want.shape], dtype: want.dtype });
  const g = got.data;
  expect(g.length, op).toBe(want.data.length);
  for (let i = 0; i < g.length; i++) {
    const a = g[i]!;
    const b = want.data[i]!;
    if (!close(a, b, tol)) throw new Error(`${op}: element ${i}: got ${show(a)}, want ${show(b)}`);
  }
}

/** Runs a tfjs computation and reads its result (freeing the tensors). */
function tfRun(f: () => tf.Tensor): Expected {
  const t = tf.tidy(f);
  const res = { shape: [...t.shape], dtype: t.dtype, data: t.dataSync().slice() };
  t.dispose();
  return res;
}

/** Expected data from a JS oracle applied elementwise, stored into `dtype`'s TypedArray. */
function jsExpected(shape: readonly number[], dtype: DType, n: number, f: (i: number) => number): Expected {
  const data =
    dtype === "float32"
      ? new Float32Array(n)
      : dtype === "int32"
        ? new Int32Array(n)
        : dtype === "uint32"
          ? new Uint32Array(n)
          : dtype === "float64"
            ? new Float64Array(n)
            : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = f(i);
  return { shape, dtype, data };
}

function check<T>(arb: fc.Arbitrary<T>, predicate: (value: T) => void): void {
  fc.assert(fc.property(arb, predicate), { numRuns: 50 });
}

// ---- generators ----------------------------------------------------------------------------

const dimArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.constant(1), weight: 2 },
  { arbitrary: fc.integer({ min: 2, max: 5 }), weight: 4 },
);
const shapeArb = fc.array(dimArb, { maxLength: 3 });
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const F32_MAX = 3.4028234663852886e38;
const F32_MIN_NORMAL = 1.1754943508222875e-38;
const F32_MIN_SUBNORMAL = 1.401298464324817e-45;
const EDGE_F32 = [
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
  -1.5,
  2.5,
  -2.5,
  3,
  -3,
  F32_MAX,
  -F32_MAX,
  F32_MIN_NORMAL,
  -F32_MIN_SUBNORMAL,
  F32_MIN_SUBNORMAL,
  Math.fround(88.72284),
  Math.fround(Math.PI / 2),
  2 ** 31,
  -(2 ** 31),
  2 ** 24 + 2,
];

/** float32 values: edge cases, ordinary magnitudes, the whole float32 line, small integers. */
const f32Arb = fc.oneof(
  { arbitrary: fc.constantFrom(...EDGE_F32), weight: 2 },
  { arbitrary: fc.float({ min: -10, max: 10, noNaN: true }), weight: 3 },
  { arbitrary: fc.float(), weight: 2 },
  { arbitrary: fc.integer({ min: -4, max: 4 }), weight: 1 },
);
/** Values where ties are common, so that comparisons see equal operands (incl. 0 vs -0). */
const tieArb = fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5), f32Arb);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const i32Arb = fc.oneof(
  fc.constantFrom(0, 1, -1, 2, -2, INT32_MIN, INT32_MAX, INT32_MIN + 1),
  fc.integer({ min: -100, max: 100 }),
  fc.integer({ min: INT32_MIN, max: INT32_MAX }),
);
const u32Arb = fc.oneof(
  fc.constantFrom(0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff),
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 0, max: 0xffffffff }),
);

interface Operand<D> {
  shape: number[];
  data: D;
}
type F32 = Operand<Float32Array>;

function operandArb<D>(shape: number[], values: fc.Arbitrary<number>, make: (xs: number[]) => D): fc.Arbitrary<Operand<D>> {
  const n = sizeOf(shape);
  return fc.array(values, { minLength: n, maxLength: n }).map((xs) => ({ shape, data: make(xs) }));
}
const toF32 = (xs: number[]) => Float32Array.from(xs);
const toI32 = (xs: number[]) => Int32Array.from(xs);
const toU32 = (xs: number[]) => Uint32Array.from(xs);
const toBool = (xs: number[]) => Uint8Array.from(xs);

const f32OperandArb = (values: fc.Arbitrary<number> = f32Arb): fc.Arbitrary<F32> => shapeArb.chain((s) => operandArb(s, values, toF32));

/** Two operands for a lax binary op: one shape, or one of them rank 0 (all lax broadcasts). */
function laxPairArb<D>(values: fc.Arbitrary<number>, make: (xs: number[]) => D, rhsValues = values) {
  const layout = fc.constantFrom("same", "same", "lhsScalar", "rhsScalar");
  return fc
    .tuple(shapeArb, layout)
    .chain(([s, l]) =>
      fc.tuple(operandArb(l === "lhsScalar" ? [] : s, values, make), operandArb(l === "rhsScalar" ? [] : s, rhsValues, make)),
    );
}

/** A shape that broadcasts to `out`: a suffix of it with some dimensions replaced by 1. */
function broadcastableArb(out: number[]): fc.Arbitrary<number[]> {
  return fc
    .integer({ min: 0, max: out.length })
    .chain((k) =>
      fc.array(fc.boolean(), { minLength: k, maxLength: k }).map((ones) => out.slice(out.length - k).map((d, i) => (ones[i] ? 1 : d))),
    );
}
function broadcastOperandsArb(count: number, values: fc.Arbitrary<number>): fc.Arbitrary<F32[]> {
  return shapeArb.chain((out) =>
    fc
      .array(broadcastableArb(out), { minLength: count, maxLength: count })
      .chain((shapes) => fc.tuple(...shapes.map((s) => operandArb(s, values, toF32)))),
  );
}

// ---- wax / tfjs constructors ----------------------------------------------------------------

/** A wax array of the operand's TypedArray dtype (Uint8Array is bool). */
const wax = <D extends Float32Array | Int32Array | Uint32Array | Uint8Array>(o: Operand<D>): WaxArray => array(o.data, { shape: o.shape });
const tfF32 = (o: F32): tf.Tensor => tf.tensor(o.data, o.shape, "float32");
const tfI32 = (o: Operand<Int32Array>): tf.Tensor => tf.tensor(o.data, o.shape, "int32");
const tfBool = (o: Operand<Uint8Array>): tf.Tensor => tf.tensor(o.data, o.shape, "bool");

/** Output shape of a lax binary op: the operands' shape, unless one of them is rank 0. */
const laxShape = (x: Operand<unknown>, y: Operand<unknown>): number[] => (x.shape.length ? x.shape : y.shape);

/** numpy's broadcast of shapes (the oracle for size-0 results, where tfjs is wrong). */
function broadcastShape(...shapes: number[][]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s[s.length - rank + i] ?? 1).filter((d) => d !== 1);
    out.push(dims[0] ?? 1);
  }
  return out;
}

/** Index into an operand that may be a rank-0 scalar broadcast against the output. */
const at = <D extends ArrayLike<number>>(o: Operand<D>, i: number): number => o.data[o.shape.length === 0 ? 0 : i]!;

beforeAll(async () => {
  await tf.setBackend("cpu");
  // The CPU backend suggests installing tfjs-node on its first write; keep the output clean.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.tensor([0]).dispose();
  } finally {
    console.warn = warn;
  }
});

// ---- unary ---------------------------------------------------------------------------------

interface UnaryCase {
  op: Op;
  wax: (x: WaxArray) => WaxArray;
  tf: (x: tf.Tensor) => tf.Tensor;
  /** Where XLA's definition differs from tfjs's: XLA's value for input `x`, else undefined. */
  xla?: (x: number) => number | undefined;
}

const UNARY: UnaryCase[] = [
  { op: "neg", wax: lax.neg, tf: tf.neg },
  { op: "exp", wax: lax.exp, tf: tf.exp },
  { op: "log", wax: lax.log, tf: tf.log },
  { op: "log1p", wax: lax.log1p, tf: tf.log1p },
  { op: "expm1", wax: lax.expm1, tf: tf.expm1 },
  { op: "sin", wax: lax.sin, tf: tf.sin },
  { op: "cos", wax: lax.cos, tf: tf.cos },
  { op: "tan", wax: lax.tan, tf: tf.tan },
  { op: "tanh", wax: lax.tanh, tf: tf.tanh },
  { op: "logistic", wax: lax.logistic, tf: tf.sigmoid },
  { op: "sqrt", wax: lax.sqrt, tf: tf.sqrt },
  { op: "rsqrt", wax: lax.rsqrt, tf: tf.rsqrt },
  { op: "abs", wax: lax.abs, tf: tf.abs },
  // tfjs's sign(NaN) is 0; XLA's is NaN.
  { op: "sign", wax: lax.sign, tf: tf.sign, xla: (x) => (Number.isNaN(x) ? NaN : undefined) },
  { op: "floor", wax: lax.floor, tf: tf.floor },
  { op: "ceil", wax: lax.ceil, tf: tf.ceil },
  // tfjs rounds half to even, which is lax's rounding_method 1 (jnp.round).
  { op: "round", wax: (x) => lax.round(x, 1), tf: tf.round },
  { op: "erf", wax: lax.erf, tf: tf.erf },
  { op: "square", wax: lax.square, tf: tf.square },
];

describe("unary float32 primitives match tfjs", () => {
  for (const c of UNARY) {
    it(`${c.op} on random shapes and edge values`, () => {
      check(f32OperandArb(), (x) => {
        const want = tfRun(() => c.tf(tfF32(x)));
        if (c.xla) {
          const xla = c.xla;
          want.data = Float32Array.from(want.data, (v, i) => xla(x.data[i]!) ?? v);
        }
        expectMatch(c.op, c.wax(wax(x)), want, TOLERANCE[c.op]);
      });
    });
  }

  it("integer_pow matches tfjs pow with an integer exponent", () => {
    check(fc.tuple(f32OperandArb(), fc.integer({ min: -3, max: 6 })), ([x0, y]) => {
      // integer_pow squares in float32 (as XLA): where |x|^|y| leaves the normal float32
      // range the intermediate loses bits that tfjs's float64 pow keeps, so those inputs are
      // replaced by 1 here (NaN and ±inf stay, they propagate the same way).
      const normal = (v: number) =>
        !Number.isFinite(v) || v === 0 || (Math.abs(v) ** Math.abs(y) >= 2 ** -126 && Math.abs(v) ** Math.abs(y) < 2 ** 128);
      const x = { ...x0, data: Float32Array.from(x0.data, (v) => (normal(v) ? v : 1)) };
      const want = tfRun(() => tf.pow(tfF32(x), tf.scalar(y)));
      expectMatch(`integer_pow y=${y}`, lax.integerPow(wax(x), y), want, TOLERANCE.integer_pow);
    });
  });

  it("round with rounding_method 0 rounds half away from zero (lax default)", () => {
    check(f32OperandArb(), (x) => {
      const half = (v: number) => (v < 0 ? -Math.round(-v) : Math.round(v)); // Math.round ties go up
      expectMatch(
        "round(method=0)",
        lax.round(wax(x)),
        jsExpected(x.shape, "float32", x.data.length, (i) => half(x.data[i]!)),
      );
    });
    expect(Array.from(lax.round(array([0.5, -0.5, 1.5, -2.5, 2.4999998, -0.4])).data)).toEqual([1, -1, 2, -3, 2, -0]);
    expect(Array.from(lax.round(array([0.5, -0.5, 1.5, -2.5, 3.5]), 1).data)).toEqual([0, -0, 2, -2, 4]);
  });

  it("sign keeps -0 and NaN, as XLA does", () => {
    // toEqual tells -0 from +0.
    expect(Array.from(lax.sign(array([-0, 0, NaN, -Infinity, Infinity, -F32_MIN_SUBNORMAL])).data)).toEqual([-0, 0, NaN, -1, 1, -1]);
  });

  it("the float-only unary primitives reject integer operands", () => {
    const xi = array([1, 2], { dtype: "int32" });
    for (const f of [lax.exp, lax.log, lax.sin, lax.sqrt, lax.floor, lax.erf, lax.erfInv, lax.logistic]) {
      expect(() => f(xi)).toThrow(DTypeError);
    }
  });
});

describe("erf_inv (no tfjs op: checked by erf(erf_inv(y)) and known values)", () => {
  const unitArb = fc.oneof(
    fc.float({ min: -1, max: 1, noNaN: true }),
    fc.constantFrom(0.9999999403953552, -0.9999999403953552, 1e-30, -0, 0.5),
  );

  it("erf(erf_inv(y)) ≈ y with wax's erf and with tfjs's erf", () => {
    check(
      shapeArb.chain((s) => operandArb(s, unitArb, toF32)),
      (y) => {
        const x = lax.erfInv(wax(y));
        expect(x.dtype).toBe("float32");
        const want = { shape: y.shape, dtype: "float32", data: y.data };
        expectMatch("erf(erf_inv)", lax.erf(x), want, TOLERANCE.erf_roundtrip);
        const viaTf = tfRun(() => tf.erf(tf.tensor(x.data, y.shape, "float32")));
        expectMatch("tf.erf(erf_inv)", array(viaTf.data as Float32Array, { shape: y.shape }), want, TOLERANCE.erf);
      },
    );
  });

  it("erf_inv is odd and increasing", () => {
    check(fc.array(unitArb, { minLength: 2, maxLength: 20 }), (ys) => {
      const y = Float32Array.from(ys).sort();
      const x = lax.erfInv(array(y)).data;
      const xNeg = lax.erfInv(array(y.map((v) => -v))).data;
      for (let i = 0; i < y.length; i++) {
        expect(xNeg[i]).toBe(-x[i]!);
        if (i > 0 && y[i]! > y[i - 1]!) expect(x[i]!).toBeGreaterThanOrEqual(x[i - 1]!);
      }
    });
  });

  it("erf_inv matches high-precision values", () => {
    // [float32 input, erfinv of exactly that input to 20 digits (mpmath)]
    const known: [number, number][] = [
      [0.5, 0.47693627620446987338],
      [Math.fround(0.1), 0.088855991825306481719],
      [Math.fround(0.9), 1.1630870719457722355],
      [Math.fround(0.99), 1.821386600900277775],
      [Math.fround(0.999999), 3.4570747260359500124],
      [Math.fround(-0.3), -0.27246272610552377481],
      [Math.fround(1e-30), 8.8622692826305170166e-31],
      [0.25, 0.22531205501217810473],
    ];
    const got = lax.erfInv(array(known.map(([y]) => y)));
    expectMatch("erf_inv", got, { shape: [known.length], dtype: "float32", data: known.map(([, x]) => Math.fround(x)) }, TOLERANCE.erf_inv);
    expect(Array.from(lax.erfInv(array([1, -1, 0, -0, 1.5, -2, NaN])).data)).toEqual([Infinity, -Infinity, 0, -0, NaN, NaN, NaN]);
  });
});

describe("unary integer primitives (JS oracle: tfjs computes int32 through float32)", () => {
  const cases: { op: string; wax: (x: WaxArray) => WaxArray; js: (v: number) => number }[] = [
    { op: "neg", wax: lax.neg, js: (v) => -v },
    { op: "abs", wax: lax.abs, js: (v) => Math.abs(v) },
    { op: "sign", wax: lax.sign, js: (v) => Math.sign(v) },
    { op: "square", wax: lax.square, js: (v) => Number((BigInt(v) * BigInt(v)) % 2n ** 32n) },
    { op: "integer_pow y=3", wax: (x) => lax.integerPow(x, 3), js: (v) => Number(BigInt(v) ** 3n % 2n ** 32n) },
    { op: "integer_pow y=0", wax: (x) => lax.integerPow(x, 0), js: () => 1 },
    { op: "not", wax: lax.not, js: (v) => ~v },
  ];
  for (const dtype of ["int32", "uint32"] as const) {
    for (const c of cases) {
      it(`${c.op} on ${dtype} wraps modulo 2^32`, () => {
        const arb = shapeArb.chain((s) =>
          dtype === "int32"
            ? operandArb<Int32Array | Uint32Array>(s, i32Arb, toI32)
            : operandArb<Int32Array | Uint32Array>(s, u32Arb, toU32),
        );
        check(arb, (x) => {
          expectMatch(
            `${c.op} ${dtype}`,
            c.wax(wax(x)),
            jsExpected(x.shape, dtype, x.data.length, (i) => c.js(x.data[i]!)),
          );
        });
      });
    }
  }

  it("integer_pow rejects a negative power of an integer", () => {
    expect(() => lax.integerPow(array([2], { dtype: "int32" }), -1)).toThrow(DTypeError);
  });
});

// ---- binary --------------------------------------------------------------------------------

interface BinaryCase {
  op: Op;
  wax: (x: WaxArray, y: WaxArray) => WaxArray;
  tf: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor;
}

const BINARY: BinaryCase[] = [
  { op: "add", wax: lax.add, tf: tf.add },
  { op: "sub", wax: lax.sub, tf: tf.sub },
  { op: "mul", wax: lax.mul, tf: tf.mul },
  { op: "div", wax: lax.div, tf: tf.div },
  { op: "pow", wax: lax.pow, tf: cPowTf },
  { op: "max", wax: lax.max, tf: tf.maximum },
  { op: "min", wax: lax.min, tf: tf.minimum },
  { op: "atan2", wax: lax.atan2, tf: tf.atan2 },
];

const COMPARISONS: { op: string; wax: BinaryCase["wax"]; tf: BinaryCase["tf"] }[] = [
  { op: "eq", wax: lax.eq, tf: tf.equal },
  { op: "ne", wax: lax.ne, tf: tf.notEqual },
  { op: "lt", wax: lax.lt, tf: tf.less },
  { op: "le", wax: lax.le, tf: tf.lessEqual },
  { op: "gt", wax: lax.gt, tf: tf.greater },
  { op: "ge", wax: lax.ge, tf: tf.greaterEqual },
];

describe("binary float32 primitives match tfjs", () => {
  for (const c of BINARY) {
    it(`${c.op} on equal shapes and rank-0 operands`, () => {
      check(laxPairArb(f32Arb, toF32), ([x, y]) => {
        expectMatch(
          c.op,
          c.wax(wax(x), wax(y)),
          tfRun(() => c.tf(tfF32(x), tfF32(y))),
          TOLERANCE[c.op],
        );
      });
    });
  }

  it("rem is C's fmod (sign of the dividend), exactly JS's %", () => {
    check(laxPairArb(f32Arb, toF32), ([x, y]) => {
      const shape = laxShape(x, y);
      const n = sizeOf(shape);
      expectMatch(
        "rem",
        lax.rem(wax(x), wax(y)),
        jsExpected(shape, "float32", n, (i) => at(x, i) % at(y, i)),
        TOLERANCE.rem,
      );
    });
    expect(Array.from(lax.rem(array([5, -5, 5, -5, 5.5]), array([3, 3, -3, -3, 2])).data)).toEqual([2, -2, 2, -2, 1.5]);
  });

  it("rem matches tfjs mod on non-negative operands, where the two agree", () => {
    const nonNeg = f32Arb.map(Math.abs);
    check(laxPairArb(nonNeg, toF32), ([x, y]) => {
      expectMatch(
        "rem",
        lax.rem(wax(x), wax(y)),
        tfRun(() => tf.mod(tfF32(x), tfF32(y))),
        TOLERANCE.rem,
      );
    });
  });

  for (const c of COMPARISONS) {
    it(`${c.op} on float32 (NaN, ±0, ties) gives bool`, () => {
      check(laxPairArb(tieArb, toF32), ([x, y]) => {
        expectMatch(
          c.op,
          c.wax(wax(x), wax(y)),
          tfRun(() => c.tf(tfF32(x), tfF32(y))),
        );
      });
    });
    it(`${c.op} on int32 gives bool`, () => {
      check(laxPairArb(fc.oneof(fc.integer({ min: -3, max: 3 }), i32Arb), toI32), ([x, y]) => {
        expectMatch(
          c.op,
          c.wax(wax(x), wax(y)),
          tfRun(() => c.tf(tfI32(x), tfI32(y))),
        );
      });
    });
  }

  it("lax binary ops need equal shapes and dtypes", () => {
    expect(() => lax.add(array([1, 2, 3]), array([1]))).toThrow(ShapeError);
    expect(() => lax.add(array([1, 2]), array([1, 2], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => lax.pow(array([1], { dtype: "int32" }), array([1], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => lax.and(array([1]), array([1]))).toThrow(DTypeError);
    expect(() => lax.shiftLeft(array([1]), array([1]))).toThrow(DTypeError);
  });
});

describe("integer arithmetic wraps like XLA", () => {
  const small = fc.integer({ min: -(2 ** 15), max: 2 ** 15 });
  const tfInt: { op: string; wax: BinaryCase["wax"]; tf: BinaryCase["tf"] }[] = [
    { op: "add", wax: lax.add, tf: tf.add },
    { op: "sub", wax: lax.sub, tf: tf.sub },
    { op: "mul", wax: lax.mul, tf: tf.mul },
    { op: "max", wax: lax.max, tf: tf.maximum },
    { op: "min", wax: lax.min, tf: tf.minimum },
  ];
  for (const c of tfInt) {
    it(`${c.op} on int32 matches tfjs (operands small enough for tfjs's float64 arithmetic)`, () => {
      check(laxPairArb(small, toI32), ([x, y]) => {
        expectMatch(
          c.op,
          c.wax(wax(x), wax(y)),
          tfRun(() => c.tf(tfI32(x), tfI32(y))),
        );
      });
    });
  }

  // Exact results with BigInt, reduced modulo 2^32 on store. Division by zero gives -1 (all
  // bits set) and remainder by zero the dividend; INT_MIN / -1 wraps to INT_MIN (XLA's values).
  const big = BigInt;
  const jsInt: { op: string; wax: BinaryCase["wax"]; js: (a: number, b: number) => number }[] = [
    { op: "add", wax: lax.add, js: (a, b) => a + b },
    { op: "sub", wax: lax.sub, js: (a, b) => a - b },
    { op: "mul", wax: lax.mul, js: (a, b) => Number((big(a) * big(b)) % 2n ** 32n) },
    { op: "div", wax: lax.div, js: (a, b) => (b === 0 ? -1 : Number(big(a) / big(b))) },
    { op: "rem", wax: lax.rem, js: (a, b) => (b === 0 ? a : Number(big(a) % big(b))) },
    { op: "max", wax: lax.max, js: (a, b) => (a > b ? a : b) },
    { op: "min", wax: lax.min, js: (a, b) => (a < b ? a : b) },
    { op: "and", wax: lax.and, js: (a, b) => a & b },
    { op: "or", wax: lax.or, js: (a, b) => a | b },
    { op: "xor", wax: lax.xor, js: (a, b) => a ^ b },
  ];
  for (const dtype of ["int32", "uint32"] as const) {
    const values = dtype === "int32" ? i32Arb : u32Arb;
    const make = dtype === "int32" ? toI32 : toU32;
    for (const c of jsInt) {
      it(`${c.op} on ${dtype} over the full range`, () => {
        check(laxPairArb<Int32Array | Uint32Array>(values, make), ([x, y]) => {
          const shape = laxShape(x, y);
          const n = sizeOf(shape);
          expectMatch(
            `${c.op} ${dtype}`,
            c.wax(wax(x), wax(y)),
            jsExpected(shape, dtype, n, (i) => c.js(at(x, i), at(y, i))),
          );
        });
      });
    }
  }

  it("division and remainder corner cases", () => {
    const i32 = (xs: number[]) => array(xs, { dtype: "int32" });
    expect(Array.from(lax.div(i32([7, -7, 7, -7, 5, INT32_MIN]), i32([2, 2, -2, -2, 0, -1])).data)).toEqual([3, -3, -3, 3, -1, INT32_MIN]);
    expect(Array.from(lax.rem(i32([7, -7, 7, -7, 5, INT32_MIN]), i32([2, 2, -2, -2, 0, -1])).data)).toEqual([1, -1, 1, -1, 5, 0]);
    const u32 = (xs: number[]) => array(xs, { dtype: "uint32" });
    expect(Array.from(lax.div(u32([7, 0xffffffff]), u32([0, 2])).data)).toEqual([0xffffffff, 0x7fffffff]);
  });
});

describe("logical and bitwise primitives", () => {
  const boolPair = laxPairArb(fc.integer({ min: 0, max: 1 }), toBool);
  const logical: { op: string; wax: BinaryCase["wax"]; tf: BinaryCase["tf"] }[] = [
    { op: "and", wax: lax.and, tf: tf.logicalAnd },
    { op: "or", wax: lax.or, tf: tf.logicalOr },
    { op: "xor", wax: lax.xor, tf: tf.logicalXor },
  ];
  for (const c of logical) {
    it(`${c.op} on bool matches tfjs logical ops`, () => {
      check(boolPair, ([x, y]) => {
        expectMatch(
          c.op,
          c.wax(wax(x), wax(y)),
          tfRun(() => c.tf(tfBool(x), tfBool(y))),
        );
      });
    });
  }
  it("not on bool matches tfjs logicalNot", () => {
    check(
      shapeArb.chain((s) => operandArb(s, fc.integer({ min: 0, max: 1 }), toBool)),
      (x) => {
        expectMatch(
          "not",
          lax.not(wax(x)),
          tfRun(() => tf.logicalNot(tfBool(x))),
        );
      },
    );
  });
  it("not on int32 is bitwise complement", () => {
    expect(Array.from(lax.not(array([0, -1, 5, INT32_MIN], { dtype: "int32" })).data)).toEqual([-1, 0, -6, INT32_MAX]);
  });
});

describe("shifts (JS << >>> >> oracle; amounts outside [0, 32) give 0 or the sign fill)", () => {
  const shiftArb = fc.oneof(fc.integer({ min: -4, max: 40 }), fc.integer({ min: INT32_MIN, max: INT32_MAX }));
  // XLA reads the shift amount as unsigned, so negative amounts are out of range too.
  const inRange = (s: number) => s >>> 0 < 32;
  const shifts: { op: string; wax: BinaryCase["wax"]; js: (a: number, s: number) => number }[] = [
    { op: "shift_left", wax: lax.shiftLeft, js: (a, s) => (inRange(s) ? a << s : 0) },
    { op: "shift_right_logical", wax: lax.shiftRightLogical, js: (a, s) => (inRange(s) ? a >>> s : 0) },
    // Arithmetic shift reads the bits as signed, for uint32 too.
    { op: "shift_right_arithmetic", wax: lax.shiftRightArithmetic, js: (a, s) => (a | 0) >> (inRange(s) ? s : 31) },
  ];
  for (const dtype of ["int32", "uint32"] as const) {
    for (const c of shifts) {
      it(`${c.op} on ${dtype}`, () => {
        const arb =
          dtype === "int32"
            ? laxPairArb<Int32Array | Uint32Array>(i32Arb, toI32, shiftArb)
            : laxPairArb<Int32Array | Uint32Array>(
                u32Arb,
                toU32,
                shiftArb.map((s) => s >>> 0),
              );
        check(arb, ([x, y]) => {
          const shape = laxShape(x, y);
          const n = sizeOf(shape);
          expectMatch(
            `${c.op} ${dtype}`,
            c.wax(wax(x), wax(y)),
            jsExpected(shape, dtype, n, (i) => c.js(at(x, i), at(y, i))),
          );
        });
      });
    }
  }

  it("known values", () => {
    const i32 = (xs: number[]) => array(xs, { dtype: "int32" });
    const u32 = (xs: number[]) => array(xs, { dtype: "uint32" });
    expect(Array.from(lax.shiftLeft(i32([1, 1, 1, 3]), i32([31, 32, -1, 1])).data)).toEqual([INT32_MIN, 0, 0, 6]);
    expect(Array.from(lax.shiftRightLogical(i32([-8, -8, -8]), i32([1, 32, 0])).data)).toEqual([0x7ffffffc, 0, -8]);
    expect(Array.from(lax.shiftRightArithmetic(i32([-8, -8, 8, -1]), i32([1, 40, 40, -3])).data)).toEqual([-4, -1, 0, -1]);
    expect(Array.from(lax.shiftRightArithmetic(u32([0x80000000, 0x80000000]), u32([4, 33])).data)).toEqual([0xf8000000, 0xffffffff]);
    expect(Array.from(lax.shiftRightLogical(u32([0x80000000]), u32([4])).data)).toEqual([0x08000000]);
  });
});

// ---- select_n ------------------------------------------------------------------------------

describe("select_n", () => {
  it("with a bool predicate matches tfjs where (false picks the first case)", () => {
    const arb = shapeArb.chain((s) =>
      fc.tuple(operandArb(s, fc.integer({ min: 0, max: 1 }), toBool), operandArb(s, f32Arb, toF32), operandArb(s, f32Arb, toF32)),
    );
    check(arb, ([p, f, t]) => {
      expectMatch(
        "select_n",
        lax.selectN(wax(p), wax(f), wax(t)),
        tfRun(() => tf.where(tfBool(p), tfF32(t), tfF32(f))),
      );
    });
  });

  it("with a scalar bool predicate matches tfjs where", () => {
    const arb = fc
      .tuple(fc.boolean(), shapeArb)
      .chain(([p, s]) => fc.tuple(fc.constant(p), operandArb(s, f32Arb, toF32), operandArb(s, f32Arb, toF32)));
    check(arb, ([p, f, t]) => {
      expectMatch(
        "select_n",
        lax.selectN(p, wax(f), wax(t)),
        tfRun(() => tf.where(tf.scalar(p, "bool"), tfF32(t), tfF32(f))),
      );
    });
  });

  it("with an int32 predicate picks among three cases", () => {
    const arb = shapeArb.chain((s) =>
      fc.tuple(
        operandArb(s, fc.integer({ min: 0, max: 2 }), toI32),
        operandArb(s, i32Arb, toI32),
        operandArb(s, i32Arb, toI32),
        operandArb(s, i32Arb, toI32),
      ),
    );
    check(arb, ([p, c0, c1, c2]) => {
      const cases = [c0, c1, c2];
      const got = lax.selectN(wax(p), wax(c0), wax(c1), wax(c2));
      expectMatch(
        "select_n",
        got,
        jsExpected(p.shape, "int32", p.data.length, (i) => cases[p.data[i]!]!.data[i]!),
      );
    });
  });

  it("rejects a bool predicate with three cases and mismatched cases", () => {
    const x = array([1, 2]);
    expect(() => lax.selectN(array([true, false]), x, x, x)).toThrow(DTypeError);
    expect(() => lax.selectN(array([true, false]), x, array([1, 2], { dtype: "int32" }))).toThrow(ShapeError);
    expect(() => lax.selectN(array([true, false, true]), x, x)).toThrow(ShapeError);
  });
});

// ---- conversions ---------------------------------------------------------------------------

describe("convert_element_type", () => {
  const inInt32 = fc.float({ min: -2147483520, max: 2147483520, noNaN: true });

  it("float32 → int32 truncates toward zero like tfjs cast (in range)", () => {
    check(f32OperandArb(fc.oneof(inInt32, fc.float({ min: -10, max: 10, noNaN: true }))), (x) => {
      expectMatch(
        "convert f32→i32",
        lax.convertElementType(wax(x), "int32"),
        tfRun(() => tf.cast(tfF32(x), "int32")),
      );
    });
  });

  it("float32 → int32/uint32 saturates and maps NaN to 0 (XLA; tfjs wraps instead)", () => {
    const sat = (v: number, lo: number, hi: number) => (Number.isNaN(v) ? 0 : Math.min(Math.max(Math.trunc(v), lo), hi));
    check(f32OperandArb(), (x) => {
      const n = x.data.length;
      expectMatch(
        "convert f32→i32",
        lax.convertElementType(wax(x), "int32"),
        jsExpected(x.shape, "int32", n, (i) => sat(x.data[i]!, INT32_MIN, INT32_MAX)),
      );
      expectMatch(
        "convert f32→u32",
        lax.convertElementType(wax(x), "uint32"),
        jsExpected(x.shape, "uint32", n, (i) => sat(x.data[i]!, 0, 0xffffffff)),
      );
    });
    const got = lax.convertElementType(array([NaN, Infinity, -Infinity, 3e9, -3e9, -0.9, 2147483648]), "int32").data;
    expect(Array.from(got)).toEqual([0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, 0, INT32_MAX]);
  });

  it("float32 → bool is x != 0 (NaN is true) like tfjs cast", () => {
    check(f32OperandArb(tieArb), (x) => {
      expectMatch(
        "convert f32→bool",
        lax.convertElementType(wax(x), "bool"),
        tfRun(() => tf.cast(tfF32(x), "bool")),
      );
    });
  });

  it("int32 → float32 rounds to nearest even (Math.fround; tfjs's cast relabels without rounding)", () => {
    check(
      shapeArb.chain((s) => operandArb(s, i32Arb, toI32)),
      (x) => {
        const want = jsExpected(x.shape, "float32", x.data.length, (i) => Math.fround(x.data[i]!));
        expectMatch("convert i32→f32", lax.convertElementType(wax(x), "float32"), want);
      },
    );
    expect(Array.from(lax.convertElementType(array([16777217, 16777219], { dtype: "int32" }), "float32").data)).toEqual([
      16777216, 16777220,
    ]);
  });

  it("bool → float32/int32 gives 0/1, like tfjs cast", () => {
    check(
      shapeArb.chain((s) => operandArb(s, fc.integer({ min: 0, max: 1 }), toBool)),
      (x) => {
        expectMatch(
          "convert bool→f32",
          lax.convertElementType(wax(x), "float32"),
          tfRun(() => tf.cast(tfBool(x), "float32")),
        );
        expectMatch(
          "convert bool→i32",
          lax.convertElementType(wax(x), "int32"),
          tfRun(() => tf.cast(tfBool(x), "int32")),
        );
      },
    );
  });

  it("int32 ↔ uint32 reinterpret modulo 2^32; float32 ↔ float64 round-trip", () => {
    check(
      shapeArb.chain((s) => operandArb(s, i32Arb, toI32)),
      (x) => {
        const u = lax.convertElementType(wax(x), "uint32");
        expectMatch(
          "convert i32→u32",
          u,
          jsExpected(x.shape, "uint32", x.data.length, (i) => x.data[i]! >>> 0),
        );
        expectMatch(
          "convert u32→i32",
          lax.convertElementType(u, "int32"),
          jsExpected(x.shape, "int32", x.data.length, (i) => x.data[i]!),
        );
      },
    );
    check(f32OperandArb(), (x) => {
      const d = lax.convertElementType(wax(x), "float64");
      expectMatch(
        "convert f32→f64",
        d,
        jsExpected(x.shape, "float64", x.data.length, (i) => x.data[i]!),
      );
      expectMatch("convert f64→f32", lax.convertElementType(d, "float32"), { shape: x.shape, dtype: "float32", data: x.data });
    });
    const fromF64 = lax.convertElementType(array([0.1, 1e40, 1e-50], { dtype: "float64" }), "float32").data;
    expect(Array.from(fromF64)).toEqual([Math.fround(0.1), Infinity, 0]);
  });

  it("weak_type is carried to the result", () => {
    expect(lax.convertElementType(array([1]), "int32", true).weakType).toBe(true);
    expect(lax.convertElementType(array([1]), "int32").weakType).toBe(false);
  });
});

describe("bitcast_convert_type (DataView oracle)", () => {
  const view = new DataView(new ArrayBuffer(4));
  const bitsOf = (v: number, signed: boolean) => (view.setFloat32(0, v, true), signed ? view.getInt32(0, true) : view.getUint32(0, true));
  const floatOf = (b: number) => (view.setUint32(0, b >>> 0, true), view.getFloat32(0, true));

  it("float32 → uint32/int32 gives the IEEE bits", () => {
    check(f32OperandArb(), (x) => {
      const n = x.data.length;
      expectMatch(
        "bitcast f32→u32",
        lax.bitcastConvertType(wax(x), "uint32"),
        jsExpected(x.shape, "uint32", n, (i) => bitsOf(x.data[i]!, false)),
      );
      expectMatch(
        "bitcast f32→i32",
        lax.bitcastConvertType(wax(x), "int32"),
        jsExpected(x.shape, "int32", n, (i) => bitsOf(x.data[i]!, true)),
      );
    });
    expect(Array.from(lax.bitcastConvertType(array([1, -0, -2]), "uint32").data)).toEqual([0x3f800000, 0x80000000, 0xc0000000]);
  });

  it("uint32 → float32 → uint32 is the identity, NaN payloads included", () => {
    check(
      shapeArb.chain((s) => operandArb(s, fc.oneof(u32Arb, fc.constantFrom(0x7fc00000, 0x7f800001, 0xffffffff, 0x80000000)), toU32)),
      (x) => {
        const f = lax.bitcastConvertType(wax(x), "float32");
        expectMatch(
          "bitcast u32→f32",
          f,
          jsExpected(x.shape, "float32", x.data.length, (i) => floatOf(x.data[i]!)),
        );
        expectMatch("bitcast f32→u32", lax.bitcastConvertType(f, "uint32"), { shape: x.shape, dtype: "uint32", data: x.data });
      },
    );
  });

  it("int32 → uint32 keeps the bits", () => {
    expect(Array.from(lax.bitcastConvertType(array([-1, INT32_MIN, 7], { dtype: "int32" }), "uint32").data)).toEqual([
      0xffffffff, 0x80000000, 7,
    ]);
  });

  it("rejects bool and float64", () => {
    expect(() => lax.bitcastConvertType(array([true]), "int32")).toThrow(DTypeError);
    expect(() => lax.bitcastConvertType(array([1]), "float64")).toThrow(DTypeError);
  });
});

describe("stop_gradient", () => {
  it("is the identity on values, shape and dtype", () => {
    check(f32OperandArb(), (x) => {
      expectMatch(
        "stop_gradient",
        lax.stopGradient(wax(x)),
        tfRun(() => tf.clone(tfF32(x))),
        TOLERANCE.stop_gradient,
      );
    });
    const xi = array([INT32_MIN, -1, 3], { dtype: "int32" });
    expectMatch("stop_gradient i32", lax.stopGradient(xi), { shape: [3], dtype: "int32", data: xi.data });
  });
});

// ---- numpy level: broadcasting and promotion ------------------------------------------------

describe("np binary ops broadcast like tfjs", () => {
  const npCases: { op: Op | "cmp"; name: string; wax: (x: WaxArray, y: WaxArray) => WaxArray; tf: BinaryCase["tf"] }[] = [
    { op: "add", name: "add", wax: np.add, tf: tf.add },
    { op: "sub", name: "subtract", wax: np.subtract, tf: tf.sub },
    { op: "mul", name: "multiply", wax: np.multiply, tf: tf.mul },
    { op: "div", name: "divide", wax: np.divide, tf: tf.div },
    { op: "pow", name: "power", wax: np.power, tf: cPowTf },
    { op: "max", name: "maximum", wax: np.maximum, tf: tf.maximum },
    { op: "min", name: "minimum", wax: np.minimum, tf: tf.minimum },
    { op: "atan2", name: "arctan2", wax: np.arctan2, tf: tf.atan2 },
    { op: "cmp", name: "equal", wax: np.equal, tf: tf.equal },
    { op: "cmp", name: "notEqual", wax: np.notEqual, tf: tf.notEqual },
    { op: "cmp", name: "less", wax: np.less, tf: tf.less },
    { op: "cmp", name: "lessEqual", wax: np.lessEqual, tf: tf.lessEqual },
    { op: "cmp", name: "greater", wax: np.greater, tf: tf.greater },
    { op: "cmp", name: "greaterEqual", wax: np.greaterEqual, tf: tf.greaterEqual },
  ];
  for (const c of npCases) {
    it(`np.${c.name}`, () => {
      check(broadcastOperandsArb(2, tieArb), ([x, y]) => {
        const tol = c.op === "cmp" ? EXACT : TOLERANCE[c.op];
        expectMatch(
          `np.${c.name} ${JSON.stringify([x!.shape, y!.shape])}`,
          c.wax(wax(x!), wax(y!)),
          tfRun(() => c.tf(tfF32(x!), tfF32(y!))),
          tol,
        );
      });
    });
  }

  it("np.add of f32[3,1] and f32[4] is f32[3,4]; of f32[2,1] and f32[0] is f32[2,0]", () => {
    const a = array([[1], [2], [3]]);
    const b = array([10, 20, 30, 40]);
    expectMatch(
      "np.add",
      np.add(a, b),
      tfRun(() => tf.add(tf.tensor([[1], [2], [3]]), tf.tensor([10, 20, 30, 40]))),
    );
    expect(np.add(a, b).toArray()).toEqual([
      [11, 21, 31, 41],
      [12, 22, 32, 42],
      [13, 23, 33, 43],
    ]);
    expect(np.add(array([[1], [2]]), array([], { shape: [0] })).shape).toEqual([2, 0]);
  });

  it("incompatible shapes throw, as in tfjs", () => {
    expect(() => tf.tidy(() => tf.add(tf.zeros([3]), tf.zeros([4])))).toThrow();
    expect(() => np.add(array([1, 2, 3]), array([1, 2, 3, 4]))).toThrow(ShapeError);
    expect(() => np.multiply(np.zeros([2, 3]), np.zeros([3, 2]))).toThrow(ShapeError);
  });

  it("np.where broadcasts condition and both branches like tfjs where", () => {
    check(broadcastOperandsArb(3, tieArb), ([c, x, y]) => {
      const cond = { shape: c!.shape, data: Uint8Array.from(c!.data, (v) => (v > 0 ? 1 : 0)) };
      const shape = broadcastShape(c!.shape, x!.shape, y!.shape);
      // tfjs's where broadcasts through broadcastTo, which turns a size-0 target into [1].
      const want = sizeOf(shape) === 0 ? { shape, dtype: "float32", data: [] } : tfRun(() => tf.where(tfBool(cond), tfF32(x!), tfF32(y!)));
      expectMatch("np.where", np.where(wax(cond), wax(x!), wax(y!)), want);
    });
  });

  it("np.remainder (sign of the divisor) matches tfjs mod", () => {
    // Quarter-integers keep `(r + y) % y` in tfjs's mod exact, where it agrees with Python's %.
    const quarters = fc.integer({ min: -40, max: 40 }).map((k) => k / 4);
    check(broadcastOperandsArb(2, quarters), ([x, y]) => {
      expectMatch(
        "np.remainder",
        np.remainder(wax(x!), wax(y!)),
        tfRun(() => tf.mod(tfF32(x!), tfF32(y!))),
        TOLERANCE.remainder,
      );
    });
  });

  it("np.remainder follows Python's float % on edge values (±inf, NaN, tiny, huge)", () => {
    // CPython's float_rem: m = fmod(x, y); if m != 0 and sign(m) != sign(y): m += y.
    const pyRem = (x: number, y: number) => {
      const m = x % y;
      return m !== 0 && m < 0 !== y < 0 ? m + y : m;
    };
    check(laxPairArb(f32Arb, toF32), ([x, y]) => {
      const shape = laxShape(x, y);
      const n = sizeOf(shape);
      expectMatch(
        "np.remainder",
        np.remainder(wax(x), wax(y)),
        jsExpected(shape, "float32", n, (i) => pyRem(at(x, i), at(y, i))),
        TOLERANCE.remainder,
      );
    });
    expect(Array.from(np.remainder(array([5, -5, 5, -5, 5, -1e-8]), array([3, 3, -3, -3, -Infinity, 1])).data)).toEqual([
      2,
      1,
      -1,
      -2,
      -Infinity,
      1,
    ]);
    expect(Array.from(np.fmod(array([5, -5]), array([-3, 3])).data)).toEqual([2, -2]);
  });

  it("np.remainder and np.fmod of integers by zero give 0, as jnp (which divides by 1 there)", () => {
    // jnp.remainder/jnp.fmod replace an integer divisor of 0 by 1 before lax.rem (as numpy,
    // which also returns 0); lax.rem itself returns the dividend (XLA), which is tested above.
    const x = array([5, -5, 7], { dtype: "int32" });
    const y = array([0, 0, 3], { dtype: "int32" });
    expect(Array.from(np.remainder(x, y).data)).toEqual([0, 0, 1]);
    expect(Array.from(np.fmod(x, y).data)).toEqual([0, 0, 1]);
  });
});

describe("dtype promotion and weak types at the numpy level", () => {
  const f32 = array([1.5, -2, 3]);
  const i32 = array([1, -2, 3], { dtype: "int32" });

  it("a JS number is weak: x.mul(2) keeps float32, i32.add(2) keeps int32", () => {
    const r = f32.mul(2);
    expect([r.dtype, r.weakType]).toEqual(["float32", false]);
    expectMatch(
      "f32*2",
      r,
      tfRun(() => tf.mul(tf.tensor([1.5, -2, 3]), tf.scalar(2))),
    );
    const k = i32.add(2);
    expect([k.dtype, k.weakType]).toEqual(["int32", false]);
    expect(Array.from(k.data)).toEqual([3, 0, 5]);
  });

  it("int32 + 2.5 promotes to (weak) float32, as JAX's i32 + f* → f*", () => {
    const r = i32.add(2.5);
    expect([r.dtype, r.weakType]).toEqual(["float32", true]);
    expectMatch(
      "i32+2.5",
      r,
      tfRun(() => tf.add(tf.tensor([1, -2, 3], [3], "float32"), tf.scalar(2.5))),
    );
  });

  it("np.divide of int32 arrays is true division in float32", () => {
    check(laxPairArb(fc.integer({ min: -50, max: 50 }), toI32), ([x, y]) => {
      const r = np.divide(wax(x), wax(y));
      const want = tfRun(() => tf.div(tf.cast(tfI32(x), "float32"), tf.cast(tfI32(y), "float32")));
      expectMatch("np.divide i32", r, want, TOLERANCE.div);
    });
  });

  it("int32 array with float32 array promotes to float32, like tfjs", () => {
    check(broadcastOperandsArb(2, fc.integer({ min: -100, max: 100 })), ([a, b]) => {
      const ai = { shape: a!.shape, data: Int32Array.from(a!.data) };
      expectMatch(
        "np.add i32+f32",
        np.add(wax(ai), wax(b!)),
        tfRun(() => tf.add(tfI32(ai), tfF32(b!))),
      );
    });
  });

  it("promotion table", () => {
    const u32 = array([1], { dtype: "uint32" });
    const f64 = array([1], { dtype: "float64" });
    const cases: [WaxArray, string, boolean][] = [
      [np.add(2, 3), "int32", true],
      [np.add(2, 3.5), "float32", true],
      [np.add(i32, u32), "int32", false],
      [np.add(f32, f64), "float64", false],
      [np.add(u32, 1), "uint32", false],
      [np.sqrt(i32), "float32", false],
      [np.less(i32, 2.5), "bool", false],
    ];
    for (const [r, dtype, weak] of cases) expect([r.dtype, r.weakType]).toEqual([dtype, weak]);
    expect(Array.from(np.less(i32, 2.5).data)).toEqual([1, 1, 0]);
  });
});
