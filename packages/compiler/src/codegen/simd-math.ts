/**
 * Inline f32x4 transcendental functions for Wasm SIMD128 (no relaxed SIMD, no FMA, no calls).
 *
 * Each builder takes a v128 expression holding four f32 lanes and returns a v128 expression: a
 * block that spills the values it reuses to fresh locals of the `FnBuilder` and ends in the
 * result, so it can be dropped into any elementwise loop body.
 *
 * Method, shared by all: reduce the argument exactly (or nearly so) to a small interval, evaluate
 * a polynomial fitted there, rebuild the result, then patch the special values with lane masks.
 * Polynomials are weighted minimax fits with f32-rounded coefficients (refitted after rounding
 * each one); every operation rounds to f32 (there is no FMA in SIMD128), which the fits and the
 * orderings below account for.
 *
 * Error bounds, max ulp against float64 references rounded to f32, measured exhaustively over
 * every f32 input (sin/cos: every input with abs(x) ≤ 1e5, random ones beyond);
 * `test/codegen/simd-math.test.ts` asserts them on a dense sweep that includes the worst cases found:
 *
 * | op | bound | notes |
 * |---|---|---|
 * | exp | 1 ulp | overflow to inf above 88.72, gradual underflow, 0 below -103.97 |
 * | expm1 | 1 ulp | relative, so also near 0 |
 * | log | 1 ulp | subnormal inputs included |
 * | log1p | 1 ulp | relative, so also near 0 |
 * | sin, cos | 1 ulp | every finite f32: f32 Cody–Waite up to 1e5, exact Payne–Hanek in f64 beyond |
 * | tanh | 3 ulp | 2 ulp except for a few hundred inputs |
 * | logistic | 2 ulp | subnormal results included |
 * | erf | 1 ulp | |
 */
import { binaryen, type ExprRef, type FnBuilder } from "./builder";

type Get = () => ExprRef;

/** Collects the `local.set`s of one expression so that it ends up as a single block. */
class Scope {
  readonly sets: ExprRef[] = [];
  readonly m: binaryen.Module;
  constructor(readonly b: FnBuilder) {
    this.m = b.m;
  }

  /** Evaluates `value` once; the getter reads it back (a Binaryen expression is a tree, so a
   * value used twice must go through a local). */
  let(value: ExprRef): Get {
    const [set, get] = this.b.let(binaryen.v128, value);
    this.sets.push(set);
    return get;
  }

  /** An f32x4 constant with `c` in every lane. */
  f(c: number): ExprRef {
    return this.m.v128.const(new Uint8Array(new Float32Array([c, c, c, c]).buffer));
  }

  /** An i32x4 constant with `c` in every lane. */
  i(c: number): ExprRef {
    return this.m.v128.const(new Uint8Array(new Int32Array([c, c, c, c]).buffer));
  }

  block(result: ExprRef): ExprRef {
    return this.m.block(null, [...this.sets, result], binaryen.v128);
  }
}

const SIGN = -0x80000000;
/** 1.5·2²³: adding it rounds an f32 of magnitude < 2²² to an integer (round to nearest even),
 * which then sits in the low mantissa bits, so `bits − MAGIC_BITS` is that integer. */
const MAGIC = 12582912;
const MAGIC_BITS = 0x4b400000;
const LOG2E = 1.4426950216293335;
/** ln 2 = LN2_HI + LN2_LO; LN2_HI has 15 significant bits, so n·LN2_HI is exact for abs(n) < 2⁹,
 * and LN2_HI < ln 2 keeps both parts positive (so a −0 argument stays −0 through the reduction). */
const LN2_HI = 0.693145751953125;
const LN2_LO = 1.4286068203094172e-6;

/** e^r = 1 + r + r²·Σ EXP_Q[k]·r^k on abs(r) ≤ ln2/2; relative error 2^-28.2. */
const EXP_Q = [0.4999999403953552, 0.1666652113199234, 0.04166828468441963, 0.00836869515478611, 0.0013819205341860652];

/** log(1+f) = f − f²/2 + f³·Σ LOG_P[k]·f^k on √½−1 ≤ f < √2−1; relative error 2^-27.3. */
const LOG_P = [
  0.3333333134651184, -0.250008225440979, 0.20001250505447388, -0.1662331521511078, 0.14201273024082184, -0.13160189986228943,
  0.12764762341976166, -0.07638183236122131,
];
const SQRT_HALF_BITS = 0x3f3504f3;

/** π/2 as five 8-bit chunks (truncated, so all positive) plus an f32 tail: n·chunk is exact for
 * n < 2¹⁶, i.e. abs(x) < 1.03e5, and the sum carries ~64 bits of π/2. */
const PIO2_CHUNKS = [1.5703125, 0.0004825592041015625, 1.2665987014770508e-6, 9.89530235528946e-10, 2.5579538487363607e-12];
const PIO2_TAIL = 5.390302953474238e-15;
const TWO_OVER_PI = 0.6366197466850281;
/** sin r = r + r³·Σ SIN_S[k]·r^2k, cos r = 1 − r²/2 + r⁴·Σ COS_C[k]·r^2k on abs(r) ≤ 1.01·π/4;
 * relative errors 2^-27.8 and 2^-32.7. */
const SIN_S = [-0.16666653752326965, 0.008332106284797192, -0.00019507882825564593];
const COS_C = [0.04166664555668831, -0.0013887297827750444, 2.443008816044312e-5];

/** erf x = x + x·Σ ERF_A[k]·x^2k on abs(x) < 0.9; relative error 2^-26.1. */
const ERF_A = [
  0.12837915122509003, -0.3761250674724579, 0.11281976848840714, -0.026773296296596527, 0.005004131235182285, -0.0006052046082913876,
];
const ERF_SPLIT = 0.9;
/** log erfc x = Σ ERF_B[k]·(x − 0.9)^k on [0.9, 4], fitted for absolute error in erf
 * (weight erfc x): 2^-28.8. Expanding around the left end avoids the cancellation a centred
 * expansion suffers where erfc is largest. */
const ERF_B = [
  -1.5940972566604614, -2.4716339111328125, -0.8300207853317261, -0.04574497044086456, 0.010968498885631561, -0.002021747175604105,
  0.00020460407540667802,
];
/** erf x rounds to 1 in f32 from x ≈ 3.92 on. */
const ERF_MAX = 4;

function horner(s: Scope, t: Get, coeffs: readonly number[]): ExprRef {
  const f = s.m.f32x4;
  let p = s.f(coeffs[coeffs.length - 1]!);
  for (let k = coeffs.length - 2; k >= 0; k--) p = f.add(f.mul(p, t()), s.f(coeffs[k]!));
  return p;
}

/** `v` with the sign bit of `x` or-ed in (for odd functions computed on abs(x), and to keep −0). */
function withSignOf(s: Scope, v: ExprRef, x: Get): ExprRef {
  return s.m.v128.or(v, s.m.v128.and(x(), s.i(SIGN)));
}

/** x = n·ln2 + r, abs(r) ≤ ln2/2 (Cody–Waite; x − n·LN2_HI is exact). Needs abs(x) < 2²²·ln2.
 * Returns n (as i32x4) and r. */
function reduceLn2(s: Scope, x: Get): { ni: Get; r: Get } {
  const { f32x4: f, i32x4: i } = s.m;
  const z = s.let(f.add(f.mul(x(), s.f(LOG2E)), s.f(MAGIC)));
  const n = s.let(f.sub(z(), s.f(MAGIC)));
  const ni = s.let(i.sub(z(), s.i(MAGIC_BITS)));
  const r = s.let(f.sub(f.sub(x(), f.mul(n(), s.f(LN2_HI))), f.mul(n(), s.f(LN2_LO))));
  return { ni, r };
}

/** 2^n for an i32x4 `n` in [−126, 127]. */
function pow2(s: Scope, n: ExprRef): ExprRef {
  const i = s.m.i32x4;
  return i.shl(i.add(n, s.i(127)), s.m.i32.const(23));
}

/** e^x − 1 on the reduced argument: r + r²·Q(r), relative error well below an ulp. */
function expm1Reduced(s: Scope, r: Get): ExprRef {
  const f = s.m.f32x4;
  return f.add(r(), f.mul(f.mul(r(), r()), horner(s, r, EXP_Q)));
}

function exp(s: Scope, x: Get): ExprRef {
  const { f32x4: f, i32x4: i } = s.m;
  // Past these bounds the result is inf / 0 anyway; pmin/pmax keep NaN (it is their first operand).
  const xc = s.let(f.pmax(f.pmin(x(), s.f(89)), s.f(-104)));
  const { ni, r } = reduceLn2(s, xc);
  const p = f.add(s.f(1), expm1Reduced(s, r));
  // Scale by 2^n in two halves: n ∈ [−150, 128] does not fit one exponent, and the second
  // multiply rounds subnormal results once, correctly (and overflows to inf at n = 128).
  const n1 = s.let(i.shr_s(ni(), s.m.i32.const(1)));
  return f.mul(f.mul(p, pow2(s, n1())), pow2(s, i.sub(ni(), n1())));
}

/** exp for arguments known to give a normal result (here: log erfc on [0.9, 4]). */
function expNormal(s: Scope, x: Get): ExprRef {
  const f = s.m.f32x4;
  const { ni, r } = reduceLn2(s, x);
  return f.mul(f.add(s.f(1), expm1Reduced(s, r)), pow2(s, ni()));
}

/** e^x − 1 without the sign fix for −0. */
function expm1(s: Scope, x: Get): ExprRef {
  const f = s.m.f32x4;
  // Below −30 the result is −1 in f32; above 89 it overflows (through the final ×2).
  const xc = s.let(f.pmax(f.pmin(x(), s.f(89)), s.f(-30)));
  const { ni, r } = reduceLn2(s, xc);
  // e^x − 1 = 2^n·(r + r²Q) + 2^n − 1 = 2·((h − ½) + h·r + h·r·(r·Q)) with h = 2^(n−1) (which
  // stays normal for n ∈ [−43, 128]). h − ½ is exact for n ≤ 24, and for n = 1 (the worst case)
  // (h − ½) + h·r is exact too, leaving one rounding on a small term and one on the sum.
  const h = s.let(pow2(s, s.m.i32x4.sub(ni(), s.i(1))));
  const hr = s.let(f.mul(h(), r()));
  const sum = f.add(f.add(f.sub(h(), s.f(0.5)), hr()), f.mul(hr(), f.mul(r(), horner(s, r, EXP_Q))));
  return f.mul(sum, s.f(2));
}

/** log of `u` ≥ 0 normal (no special values), plus `extra` (a small correction) and an exponent
 * adjustment `eAdd` (i32x4) for pre-scaled subnormals. */
function logCore(s: Scope, u: Get, extra: ExprRef | null, eAdd: ExprRef | null): ExprRef {
  const { f32x4: f, i32x4: i } = s.m;
  // u = 2^e·m with m ∈ [√½, √2): subtracting the bits of √½ makes the exponent field e.
  const e = s.let(i.shr_s(i.sub(u(), s.i(SQRT_HALF_BITS)), s.m.i32.const(23)));
  const fm = s.let(f.sub(i.sub(u(), i.shl(e(), s.m.i32.const(23))), s.f(1)));
  const ef = s.let(f.convert_i32x4_s(eAdd === null ? e() : i.add(e(), eAdd)));
  let lo = f.add(f.mul(f.mul(fm(), fm()), f.sub(f.mul(fm(), horner(s, fm, LOG_P)), s.f(0.5))), f.mul(ef(), s.f(LN2_LO)));
  if (extra !== null) lo = f.add(lo, extra);
  // e·LN2_HI is exact; adding f + lo last keeps the rounding errors to about one ulp.
  return f.add(f.mul(ef(), s.f(LN2_HI)), f.add(fm(), lo));
}

/** Lanewise `mask ? value : otherwise` (mask lanes are all-ones or all-zeros). */
function where(s: Scope, mask: ExprRef, value: ExprRef, otherwise: ExprRef): ExprRef {
  return s.m.v128.bitselect(value, otherwise, mask);
}

function log(s: Scope, x: Get): ExprRef {
  const f = s.m.f32x4;
  // Subnormals: scale by 2^23 and take 23 off the exponent.
  const tiny = s.let(f.lt(x(), s.f(1.1754943508222875e-38)));
  const xs = s.let(where(s, tiny(), f.mul(x(), s.f(8388608)), x()));
  let res = logCore(s, xs, null, s.m.v128.and(tiny(), s.i(-23)));
  res = where(s, f.eq(x(), s.f(Infinity)), s.f(Infinity), res);
  res = where(s, f.eq(x(), s.f(0)), s.f(-Infinity), res);
  return where(s, f.ge(x(), s.f(0)), res, s.f(NaN));
}

function log1p(s: Scope, x: Get): ExprRef {
  const f = s.m.f32x4;
  // u = fl(1 + x) = 1 + x − d exactly (two-sum), and log(1 + x) = log u + d/u to first order.
  const u = s.let(f.add(s.f(1), x()));
  const ux = s.let(f.sub(u(), x()));
  const d = f.add(f.sub(s.f(1), ux()), f.sub(x(), f.sub(u(), ux())));
  let res = logCore(s, u, f.div(d, u()), null);
  res = withSignOf(s, res, x); // log1p(−0) = −0
  res = where(s, f.eq(x(), s.f(Infinity)), s.f(Infinity), res);
  res = where(s, f.eq(x(), s.f(-1)), s.f(-Infinity), res);
  return where(s, f.ge(x(), s.f(-1)), res, s.f(NaN));
}

/** 2/π in 24-bit chunks (fdlibm's `ipio2`): 2/π = Σ TWO_OVER_PI_CHUNKS[j]·2^(−24(j+1)). Nine
 * chunks (216 bits) reduce every finite f32 (up to 2¹²⁸) with ≳ 90 bits of the fraction left. */
const TWO_OVER_PI_CHUNKS = [0xa2f983, 0x6e4e44, 0x1529fc, 0x2757d1, 0xf534dd, 0xc0db62, 0x95993c, 0x439041, 0xfe5163];
/** Below this the five-chunk Cody–Waite reduction in f32 is exact (n·chunk exact for n < 2¹⁶). */
const SINCOS_FAST_MAX = 1e5;

/**
 * Payne–Hanek reduction of one f32 lane `a` ≥ 0 in scalar f64: a·(2/π) = Σ a·P_j with P_j the
 * chunks above, each product exact (24 × 24 bits). Each product splits exactly into an integer
 * n_j (kept mod 4, exactly) and a fraction f_j ∈ [−½, ½]; the fractions are summed as a
 * double-double (TwoSum), so the reduced argument keeps full precision even where it is tiny.
 * Returns the quadrant (as f64, small) and r = a − quadrant·π/2 in f64, abs(r) ≤ π/4.
 * inf and NaN give NaN for both.
 */
function payneHanek(s: Scope, a: ExprRef): { quadrant: ExprRef; r: ExprRef } {
  const m = s.m;
  const d = binaryen.f64;
  const let64 = (value: ExprRef): (() => ExprRef) => {
    const [set, get] = s.b.let(d, value);
    s.sets.push(set);
    return get;
  };
  const x = let64(m.f64.promote(a));
  let quadrant: ExprRef = m.f64.const(0);
  let hi: (() => ExprRef) | null = null;
  let lo: ExprRef = m.f64.const(0);
  for (const [j, chunk] of TWO_OVER_PI_CHUNKS.entries()) {
    const p = let64(m.f64.mul(x(), m.f64.const(chunk * 2 ** (-24 * (j + 1)))));
    const n = let64(m.f64.nearest(p()));
    const f = let64(m.f64.sub(p(), n()));
    // n mod 4, exact: n/4 and 4·floor(n/4) are exact, and so is their difference.
    quadrant = m.f64.add(quadrant, m.f64.sub(n(), m.f64.mul(m.f64.floor(m.f64.mul(n(), m.f64.const(0.25))), m.f64.const(4))));
    if (hi === null) {
      hi = f;
      continue;
    }
    // TwoSum: sum + err = prevHi + f exactly.
    const prevHi: () => ExprRef = hi;
    const sum = let64(m.f64.add(prevHi(), f()));
    const bb = let64(m.f64.sub(sum(), prevHi()));
    const err = m.f64.add(m.f64.sub(prevHi(), m.f64.sub(sum(), bb())), m.f64.sub(f(), bb()));
    lo = m.f64.add(lo, err);
    hi = sum;
  }
  const sumHi = hi!;
  const n = let64(m.f64.nearest(sumHi()));
  const frac = m.f64.add(m.f64.sub(sumHi(), n()), lo); // sumHi − n is exact
  return { quadrant: m.f64.add(quadrant, n()), r: m.f64.mul(frac, m.f64.const(Math.PI / 2)) };
}

/** sin (quadrantOffset 0) or cos (1) of abs(x): reduction by π/2 carried as rh + rl, then the
 * sin or cos polynomial by quadrant parity and the sign by quadrant bit 1. */
function sinCos(s: Scope, a: Get, quadrantOffset: 0 | 1): ExprRef {
  const { f32x4: f, i32x4: i, v128: v } = s.m;
  const m = s.m;
  const z = s.let(f.add(f.mul(a(), s.f(TWO_OVER_PI)), s.f(MAGIC)));
  const n = s.let(f.sub(z(), s.f(MAGIC)));
  const qFast = s.let(i.sub(z(), s.i(MAGIC_BITS)));
  // a − n·π/2 chunk by chunk. The first two subtractions are exact (Sterbenz / few bits); the
  // later ones may round when r is large, so their errors are collected (Fast2Sum) into rl.
  // When r is small every step is exact, which is what keeps the relative error of r tiny
  // near multiples of π/2.
  let t = a;
  let lo: ExprRef | null = null;
  for (const [k, chunk] of PIO2_CHUNKS.entries()) {
    const prev = t;
    const pn = s.let(f.mul(n(), s.f(chunk)));
    t = s.let(f.sub(prev(), pn()));
    if (k < 2) continue;
    const err = f.sub(f.sub(prev(), t()), pn());
    lo = lo === null ? err : f.add(lo, err);
  }
  const rhFast = t;
  const rlFast = s.let(f.sub(lo!, f.mul(n(), s.f(PIO2_TAIL))));
  // Lanes past SINCOS_FAST_MAX (and ±inf) take the exact Payne–Hanek reduction, lane by lane in
  // f64; it runs only when some lane needs it, so the common case stays pure f32x4.
  const large = s.let(f.gt(a(), s.f(SINCOS_FAST_MAX)));
  const [rhL, rlL, qL] = [s.b.local(binaryen.v128), s.b.local(binaryen.v128), s.b.local(binaryen.v128)];
  const get = (k: number) => (): ExprRef => m.local.get(k, binaryen.v128);
  const slow: ExprRef[] = [];
  let rhVec = s.f(0);
  let rlVec = s.f(0);
  let qVec = s.f(0);
  const inner = new Scope(s.b);
  for (let lane = 0; lane < 4; lane++) {
    const { quadrant, r } = payneHanek(inner, f.extract_lane(a(), lane));
    const [setR, r64] = s.b.let(binaryen.f64, r);
    const [setH, rh32] = s.b.let(binaryen.f32, m.f32.demote(r64()));
    inner.sets.push(setR, setH);
    rhVec = f.replace_lane(rhVec, lane, rh32());
    rlVec = f.replace_lane(rlVec, lane, m.f32.demote(m.f64.sub(r64(), m.f64.promote(rh32()))));
    qVec = f.replace_lane(qVec, lane, m.f32.demote(quadrant));
  }
  slow.push(...inner.sets);
  // NaN quadrants (inf inputs) saturate to 0; r is NaN there, so the result is NaN anyway.
  slow.push(m.local.set(rhL, v.bitselect(rhVec, rhFast(), large())));
  slow.push(m.local.set(rlL, v.bitselect(rlVec, rlFast(), large())));
  slow.push(m.local.set(qL, v.bitselect(i.trunc_sat_f32x4_s(qVec), qFast(), large())));
  const fast = [m.local.set(rhL, rhFast()), m.local.set(rlL, rlFast()), m.local.set(qL, qFast())];
  s.sets.push(m.if(v.any_true(large()), m.block(null, slow), m.block(null, fast)));
  const rh = get(rhL);
  const rl = get(rlL);
  const q = s.let(i.add(get(qL)(), s.i(quadrantOffset)));
  const r2 = s.let(f.mul(rh(), rh()));
  const sinR = f.add(rh(), f.add(rl(), f.mul(f.mul(rh(), r2()), horner(s, r2, SIN_S))));
  const cosR = f.add(f.sub(s.f(1), f.mul(s.f(0.5), r2())), f.sub(f.mul(f.mul(r2(), r2()), horner(s, r2, COS_C)), f.mul(rh(), rl())));
  const odd = i.shr_s(i.shl(q(), s.m.i32.const(31)), s.m.i32.const(31));
  const sign = i.shl(v.and(q(), s.i(2)), s.m.i32.const(30));
  return v.xor(where(s, odd, cosR, sinR), sign);
}

function sin(s: Scope, x: Get): ExprRef {
  const a = s.let(s.m.f32x4.abs(x()));
  // sin is odd: the sign of x goes into the result (also keeps sin(−0) = −0).
  return s.m.v128.xor(sinCos(s, a, 0), s.m.v128.and(x(), s.i(SIGN)));
}

function cos(s: Scope, x: Get): ExprRef {
  return sinCos(s, s.let(s.m.f32x4.abs(x())), 1);
}

function tanh(s: Scope, x: Get): ExprRef {
  const f = s.m.f32x4;
  // tanh a = e/(e + 2) with e = expm1(2a): no cancellation anywhere, so it is accurate near 0
  // too. tanh rounds to 1 from a ≈ 9.01 on; the clamp keeps e finite.
  const a2 = s.let(f.mul(f.pmin(f.abs(x()), s.f(10)), s.f(2)));
  const e = s.let(expm1(s, a2));
  return withSignOf(s, f.div(e(), f.add(e(), s.f(2))), x);
}

function logistic(s: Scope, x: Get): ExprRef {
  const f = s.m.f32x4;
  // With e = exp(−abs(x)) ∈ (0, 1]: 1/(1 + e) for x ≥ 0, e/(1 + e) for x < 0, so no 1 − tiny
  // cancellation and the subnormal tail for x → −∞ comes straight from exp.
  const e = s.let(exp(s, s.let(f.neg(f.abs(x())))));
  const num = where(s, f.ge(x(), s.f(0)), s.f(1), e());
  return f.div(num, f.add(s.f(1), e()));
}

function erf(s: Scope, x: Get): ExprRef {
  const f = s.m.f32x4;
  const a = s.let(f.pmin(f.abs(x()), s.f(ERF_MAX)));
  const a2 = s.let(f.mul(a(), a()));
  const small = f.add(a(), f.mul(a(), horner(s, a2, ERF_A)));
  const t = s.let(f.sub(a(), s.f(ERF_SPLIT)));
  const h = s.let(horner(s, t, ERF_B));
  const large = f.sub(s.f(1), expNormal(s, h));
  return withSignOf(s, where(s, f.lt(a(), s.f(ERF_SPLIT)), small, large), x);
}

function unary(body: (s: Scope, x: Get) => ExprRef): (b: FnBuilder, x: ExprRef) => ExprRef {
  return (b, x) => {
    const s = new Scope(b);
    return s.block(body(s, s.let(x)));
  };
}

/**
 * `exp` of each f32 lane, within 1 ulp; overflows to inf above ~88.72, underflows gradually
 * (subnormals are correctly scaled) and to 0 below ~-103.97; NaN → NaN.
 *
 * @param b the function being built (locals for the reused values are allocated on it)
 * @param x a v128 expression holding four f32 lanes
 * @returns a v128 expression (a block) with the four results
 */
export const expF32x4 = unary(exp);

/** `exp(x) − 1` of each f32 lane, within 1 ulp (relative, including near 0; −0 → −0).
 * Same parameters as {@link expF32x4}. */
export const expm1F32x4 = unary((s, x) => withSignOf(s, expm1(s, x), x));

/** Natural `log` of each f32 lane, within 1 ulp (subnormal inputs included); log(±0) = −inf,
 * log(negative) = NaN, log(inf) = inf. Same parameters as {@link expF32x4}. */
export const logF32x4 = unary(log);

/** `log(1 + x)` of each f32 lane, within 1 ulp (relative, including near 0); −1 → −inf,
 * below −1 → NaN. Same parameters as {@link expF32x4}. */
export const log1pF32x4 = unary(log1p);

/**
 * `sin` of each f32 lane, within 1 ulp over the whole f32 range; ±inf and NaN give NaN. Up to
 * abs(x) = 1e5 the argument is reduced by π/2 in f32 (Cody–Waite, five 8-bit chunks: exact);
 * lanes beyond take an exact Payne–Hanek reduction in scalar f64 (only when a vector has one).
 * Same parameters as {@link expF32x4}.
 */
export const sinF32x4 = unary(sin);

/** `cos` of each f32 lane; same accuracy and range as {@link sinF32x4}. */
export const cosF32x4 = unary(cos);

/** `tanh` of each f32 lane, within 3 ulp; ±large → ±1, −0 → −0. Same parameters as
 * {@link expF32x4}. */
export const tanhF32x4 = unary(tanh);

/** The logistic sigmoid `1/(1 + exp(−x))` of each f32 lane, within 2 ulp (relative, also in the
 * subnormal tail; −inf → 0, +inf → 1). Same parameters as {@link expF32x4}. */
export const logisticF32x4 = unary(logistic);

/** The error function `erf` of each f32 lane, within 1 ulp; ±large → ±1, −0 → −0.
 * Same parameters as {@link expF32x4}. */
export const erfF32x4 = unary(erf);
