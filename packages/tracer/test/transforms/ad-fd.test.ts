/**
 * Every differentiable primitive against central finite differences, in float64 (issue 3).
 *
 * Each case draws random shapes (rank 0–3, dims ≤ 5, some size-0 axes for the linear ops;
 * numpy broadcasting for the binary ops) and values away from the points where the function
 * is not differentiable (ties for max/min, 0 for abs, domain edges for log/sqrt/erf_inv/pow,
 * integer quotients for rem), random tangents `t` and a random output cotangent `u`, and checks
 *
 * | check | what                                           | tolerance (default)                    |
 * |-------|------------------------------------------------|----------------------------------------|
 * | (a)   | `jvp(f, xs, ts)` vs `(f(x+ht) − f(x−ht)) / 2h` | per element 1e-6·|fd| + 1e-8·(1+max|f|) |
 * | (b)   | `⟨vjp(u), t⟩` vs `⟨u, fd⟩`                     | 1e-6·Σ|u·fd| + 1e-8·(1+max|f|)·Σ|u|     |
 * | (c)   | `⟨vjp(u), t⟩` vs `⟨u, jvp(t)⟩` (transposition) | 1e-10·(Σ|u·jvp(t)| + Σ|vjp(u)·t|)       |
 *
 * with h = 1e-6: the truncation error is O(h²·f''') ≈ 1e-12 and the rounding error
 * O(eps·|f|/h) ≈ 2e-10·|f| on the domains drawn here. Cases that round through float32 put
 * inputs on a 1/64 grid and tangents on a 1/8 grid with h = 2⁻¹⁰, so `x ± h·t` is exact in
 * float32, and loosen the tolerances to float32 rounding (`F32_TOL`). Two more cases check
 * smooth points where a rule could divide by zero (`reduce_prod` at zeros, `x^0` at x = 0).
 *
 * Then: JAX's conventions at non-differentiable points (ties, abs at 0), `grad` against `jvp`
 * along every basis vector, second order (`grad` of `grad`, and Hessian-vector products
 * against central differences of the gradient), and the audit that every float primitive has
 * a JVP rule and every linear primitive a transpose rule.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { array, grad, jvp, jvpRules, lax, nn, np, primitives, transposeRules, vjp, type Array as WaxArray } from "../../index";
import { mulberry32 } from "../../../../test/support/seeded";

const RUNS = { numRuns: 25 };

// ---- hosts, generators ----------------------------------------------------------------------

type FloatDType = "float32" | "float64";
/** A concrete input as plain data (what fast-check draws and prints). */
interface Host {
  shape: number[];
  data: number[];
  dtype: FloatDType;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const range = (n: number) => [...globalThis.Array(n).keys()];
const shapeStr = (s: readonly number[]) => `[${s.join(",")}]`;
const hostStr = (h: Host) => `${h.dtype === "float32" ? "f32" : "f64"}${shapeStr(h.shape)}`;
const wax = (h: Host): WaxArray => array(Float64Array.from(h.data), { dtype: h.dtype, shape: h.shape });
const valuesOf = (a: WaxArray): number[] => globalThis.Array.from(a.data);

const dimArb = fc.integer({ min: 1, max: 3 });
/** For the linear ops: sometimes a size-0 axis (empty operands and cotangents). */
const dimOrZeroArb = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: dimArb, weight: 5 });
const shapeArb = (minRank = 0, maxRank = 3, dim: fc.Arbitrary<number> = dimArb) =>
  fc.array(dim, { minLength: minRank, maxLength: maxRank });
const permutationArb = (n: number) => fc.shuffledSubarray(range(n), { minLength: n, maxLength: n });
const subsetArb = (n: number, minLength = 0) => fc.subarray(range(n), { minLength: Math.min(minLength, n) });

/** Uniform-ish in [lo, hi] on a 2⁻³⁰ grid: no subnormals, whose products underflow the identity check. */
const real = (lo: number, hi: number) => fc.integer({ min: 0, max: 2 ** 30 }).map((k) => lo + ((hi - lo) * k) / 2 ** 30);
/** |x| in [lo, hi], either sign. */
const awayFromZero = (lo: number, hi: number) => fc.tuple(fc.boolean(), real(lo, hi)).map(([neg, v]) => (neg ? -v : v));
/** Multiples of 1/64 in [lo, hi]: exact in float32, and so are `x ± 2⁻¹⁰·t` for t on a 1/8 grid. */
const grid = (lo: number, hi: number) => fc.integer({ min: lo * 64, max: hi * 64 }).map((k) => k / 64);

function hostArb(shape: number[], value: fc.Arbitrary<number> = real(-2, 2), dtype: FloatDType = "float64"): fc.Arbitrary<Host> {
  const n = sizeOf(shape);
  return fc.array(value, { minLength: n, maxLength: n }).map((data) => ({ shape, data, dtype }));
}

/** Values with pairwise gaps ≥ 0.15 (no ties), for max/min reductions. */
function distinctHostArb(shape: number[]): fc.Arbitrary<Host> {
  const n = sizeOf(shape);
  return fc
    .tuple(
      fc.uniqueArray(fc.integer({ min: -40, max: 40 }), { minLength: n, maxLength: n }),
      fc.array(real(0, 0.1), { minLength: n, maxLength: n }),
    )
    .map(([ks, jit]) => ({ shape, data: ks.map((k, i) => k / 4 + jit[i]!), dtype: "float64" as const }));
}

/** `n` shapes that broadcast together (numpy rules): a base shape with leading axes dropped and some axes set to 1. */
function broadcastShapesArb(n: number, maxRank = 3): fc.Arbitrary<number[][]> {
  return shapeArb(0, maxRank).chain((base) =>
    fc
      .array(fc.tuple(fc.nat({ max: base.length }), fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length })), {
        minLength: n,
        maxLength: n,
      })
      .map((ops) => ops.map(([drop, ones]) => base.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)))),
  );
}

// ---- the three checks -----------------------------------------------------------------------

type Fn = (...xs: WaxArray[]) => WaxArray;

/** One random instance of a case: the inputs and the function (closing over drawn parameters). */
interface Instance {
  label: string;
  args: Host[];
  f: Fn;
}

interface Tolerances {
  /** Finite-difference step. */
  h: number;
  rtol: number;
  /** Absolute tolerance per unit of output magnitude (FD rounding error is ∝ |f|/h). */
  atol: number;
  /** Relative tolerance of the transpose identity (c). */
  identityRtol: number;
  /** Tangents on a 1/8 grid, so `x ± h·t` is exact for float32 inputs on the 1/64 grid. */
  exactF32: boolean;
}
const DEFAULT_TOL: Tolerances = { h: 1e-6, rtol: 1e-6, atol: 1e-8, identityRtol: 1e-10, exactF32: false };
/** Through float32: h = 2⁻¹⁰ (truncation ~1e-6 relative), f32 rounding / 2h ≈ 3e-5 absolute. */
const F32_TOL: Partial<Tolerances> = { h: 2 ** -10, rtol: 1e-4, atol: 1e-4, identityRtol: 1e-6, exactF32: true };

interface AdCase {
  name: string;
  gen: fc.Arbitrary<Instance>;
  tol?: Partial<Tolerances>;
}

const rng = mulberry32;

function randomLike(shape: number[], dtype: FloatDType, next: () => number, onGrid: boolean): Host {
  const data = range(sizeOf(shape)).map(() => {
    const v = 2 * next() - 1;
    return onGrid ? Math.round(v * 8) / 8 : v;
  });
  return { shape, data, dtype };
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const absDot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + Math.abs(v * b[i]!), 0);
const maxAbs = (...xs: (readonly number[])[]) => Math.max(0, ...xs.flatMap((x) => x.map(Math.abs)));

interface Derivatives {
  /** Output tangent from `jvp`. */
  jvpOut: number[];
  /** Central difference along the tangents. */
  fd: number[];
  /** Cotangent inputs from `vjp(u)`. */
  cts: number[][];
  u: number[];
  ts: Host[];
  /** Output magnitude, for the absolute tolerances. */
  scale: number;
}

function derivatives(inst: Instance, seed: number, tol: Tolerances): Derivatives {
  const next = rng(seed);
  const xs = inst.args.map(wax);
  const ts = inst.args.map((a) => randomLike(a.shape, a.dtype, next, tol.exactF32));
  const out = inst.f(...xs);
  const outDtype = out.dtype;
  if (outDtype !== "float64" && outDtype !== "float32") throw new Error(`${inst.label}: output dtype ${outDtype} is not float`);

  const [primalOut, tOut] = jvp(inst.f, xs, ts.map(wax)) as [WaxArray, WaxArray];
  expect(tOut.shape, `${inst.label}: jvp tangent shape`).toEqual(out.shape);
  expect(valuesOf(primalOut), `${inst.label}: jvp primal output`).toEqual(valuesOf(out));

  const shifted = (sign: 1 | -1) =>
    valuesOf(inst.f(...inst.args.map((a, i) => wax({ ...a, data: a.data.map((v, k) => v + sign * tol.h * ts[i]!.data[k]!) }))));
  const plus = shifted(1);
  const minus = shifted(-1);
  const fd = plus.map((p, k) => (p - minus[k]!) / (2 * tol.h));

  const u = randomLike([...out.shape], outDtype, next, false);
  const [, vjpFn] = vjp(inst.f, ...xs);
  const cts = vjpFn(wax(u)) as WaxArray[];
  cts.forEach((c, i) => {
    expect(c.shape, `${inst.label}: cotangent ${i} shape`).toEqual(inst.args[i]!.shape);
    expect(c.dtype, `${inst.label}: cotangent ${i} dtype`).toBe(inst.args[i]!.dtype);
  });
  return { jvpOut: valuesOf(tOut), fd, cts: cts.map(valuesOf), u: u.data, ts, scale: 1 + maxAbs(plus, minus) };
}

function checkJvpAgainstFd(inst: Instance, d: Derivatives, tol: Tolerances): void {
  d.fd.forEach((want, k) => {
    const got = d.jvpOut[k]!;
    const bound = tol.rtol * Math.abs(want) + tol.atol * d.scale;
    if (!(Math.abs(got - want) <= bound)) {
      throw new Error(
        `(a) ${inst.label}: jvp output element ${k} is ${got}, central difference ${want} (|diff| ${Math.abs(got - want)} > ${bound})`,
      );
    }
  });
}

const vjpDotT = (d: Derivatives) => d.cts.reduce((s, c, i) => s + dot(c, d.ts[i]!.data), 0);
const vjpAbsDotT = (d: Derivatives) => d.cts.reduce((s, c, i) => s + absDot(c, d.ts[i]!.data), 0);

function checkVjpAgainstFd(inst: Instance, d: Derivatives, tol: Tolerances): void {
  const got = vjpDotT(d);
  const want = dot(d.u, d.fd);
  const bound = tol.rtol * absDot(d.u, d.fd) + tol.atol * d.scale * d.u.reduce((s, v) => s + Math.abs(v), 0);
  if (!(Math.abs(got - want) <= bound)) {
    throw new Error(
      `(b) ${inst.label}: <vjp(u), t> = ${got} but <u, central difference> = ${want} (|diff| ${Math.abs(got - want)} > ${bound})`,
    );
  }
}

function checkTransposeIdentity(inst: Instance, d: Derivatives, tol: Tolerances): void {
  const lhs = vjpDotT(d);
  const rhs = dot(d.u, d.jvpOut);
  const bound = tol.identityRtol * (vjpAbsDotT(d) + absDot(d.u, d.jvpOut));
  if (!(Math.abs(lhs - rhs) <= bound)) {
    throw new Error(`(c) ${inst.label}: <vjp(u), t> = ${lhs} but <u, jvp(t)> = ${rhs} (|diff| ${Math.abs(lhs - rhs)} > ${bound})`);
  }
}

// ---- case builders --------------------------------------------------------------------------

function unary(name: string, f: Fn, value: fc.Arbitrary<number>): AdCase {
  return {
    name,
    gen: shapeArb()
      .chain((s) => hostArb(s, value))
      .map((x) => ({ label: `${name}(${hostStr(x)})`, args: [x], f })),
  };
}

function binary(name: string, f: Fn, vx: fc.Arbitrary<number>, vy: fc.Arbitrary<number>): AdCase {
  return {
    name,
    gen: broadcastShapesArb(2)
      .chain(([sx, sy]) => fc.tuple(hostArb(sx!, vx), hostArb(sy!, vy)))
      .map(([x, y]) => ({ label: `${name}(${hostStr(x)}, ${hostStr(y)})`, args: [x, y], f })),
  };
}

/** x = k + ½ ± 0.2 and y = k ± 0.2: |x − y| ≥ 0.1 for every broadcast pair (no ties). */
const halfGrid = fc.tuple(fc.integer({ min: -3, max: 3 }), real(-0.2, 0.2)).map(([k, j]) => k + 0.5 + j);
const intGrid = fc.tuple(fc.integer({ min: -3, max: 3 }), real(-0.2, 0.2)).map(([k, j]) => k + j);

// ---- the cases ------------------------------------------------------------------------------

const elementwiseCases: AdCase[] = [
  unary("neg", np.negative, real(-3, 3)),
  unary("exp", np.exp, real(-3, 3)),
  unary("log", np.log, real(0.2, 4)),
  unary("log1p", np.log1p, real(-0.7, 3)),
  unary("expm1", np.expm1, real(-3, 3)),
  unary("sin", np.sin, real(-4, 4)),
  unary("cos", np.cos, real(-4, 4)),
  unary("tan", np.tan, real(-1.3, 1.3)),
  unary("tanh", np.tanh, real(-3, 3)),
  unary("logistic", nn.sigmoid, real(-4, 4)),
  unary("sqrt", np.sqrt, real(0.2, 4)),
  unary("rsqrt", np.rsqrt, real(0.2, 4)),
  unary("abs", np.abs, awayFromZero(0.1, 3)),
  unary("erf", lax.erf, real(-3, 3)),
  unary("erf_inv", lax.erfInv, real(-0.9, 0.9)),
  unary("square", np.square, real(-3, 3)),
  unary("integer_pow y=3", (x) => np.pow(x, 3), real(-2, 2)),
  unary("integer_pow y=-2", (x) => np.pow(x, -2), awayFromZero(0.3, 3)),
  unary("pow with a weak literal exponent", (x) => np.power(x, 1.5), real(0.2, 3)),
  unary("mul and add with weak literals", (x) => np.add(np.multiply(x, 2.5), 0.75), real(-3, 3)),

  binary("add", np.add, real(-3, 3), real(-3, 3)),
  binary("sub", np.subtract, real(-3, 3), real(-3, 3)),
  binary("mul", np.multiply, real(-3, 3), real(-3, 3)),
  binary("div", np.divide, real(-3, 3), awayFromZero(0.5, 3)),
  binary("pow", np.power, real(0.3, 3), real(-2, 2)),
  binary("max", np.maximum, halfGrid, intGrid),
  binary("min", np.minimum, intGrid, halfGrid),
  // |x/y| ∈ [2.09, 2.7]: trunc(x/y) = ±2, away from rem's jumps at integer quotients.
  binary("rem", np.fmod, awayFromZero(2.3, 2.7), awayFromZero(1, 1.1)),
  binary("atan2", np.arctan2, awayFromZero(0.3, 3), awayFromZero(0.3, 3)),
];

const selectCases: AdCase[] = [
  {
    name: "select_n via np.where (broadcast condition and cases)",
    gen: broadcastShapesArb(3)
      .chain(([sc, sx, sy]) =>
        fc.tuple(fc.array(fc.boolean(), { minLength: sizeOf(sc!), maxLength: sizeOf(sc!) }), fc.constant(sc!), hostArb(sx!), hostArb(sy!)),
      )
      .map(([cond, sc, x, y]) => {
        const c = array(cond, { dtype: "bool", shape: sc });
        return { label: `where(bool${shapeStr(sc)}, ${hostStr(x)}, ${hostStr(y)})`, args: [x, y], f: (a, b) => np.where(c, a, b) };
      }),
  },
  {
    name: "select_n with an int32 predicate and three cases",
    gen: shapeArb()
      .chain((s) =>
        fc.tuple(
          fc.array(fc.integer({ min: 0, max: 2 }), { minLength: sizeOf(s), maxLength: sizeOf(s) }),
          hostArb(s),
          hostArb(s),
          hostArb(s),
        ),
      )
      .map(([which, a, b, c]) => {
        const w = array(which, { dtype: "int32", shape: a.shape });
        return { label: `select_n(i32${shapeStr(a.shape)}, ${hostStr(a)} x3)`, args: [a, b, c], f: (p, q, r) => lax.selectN(w, p, q, r) };
      }),
  },
];

const convertCases: AdCase[] = [
  {
    name: "convert_element_type f64 → f32 → f64 round trip",
    gen: shapeArb()
      .chain((s) => hostArb(s, grid(-2, 2)))
      .map((x) => ({
        label: `f64→f32→f64(${hostStr(x)})`,
        args: [x],
        f: (a) => np.multiply(np.astype(np.astype(a, "float32"), "float64"), a),
      })),
    tol: F32_TOL,
  },
  {
    name: "convert_element_type f64 → f32 (sin in float32) → f64",
    gen: shapeArb()
      .chain((s) => hostArb(s, grid(-2, 2)))
      .map((x) => ({ label: `f64(sin(f32(${hostStr(x)})))`, args: [x], f: (a) => np.astype(np.sin(np.astype(a, "float32")), "float64") })),
    tol: F32_TOL,
  },
  {
    name: "convert_element_type f32 → f64 by promotion (f32 · f64)",
    gen: broadcastShapesArb(2)
      .chain(([sx, sy]) => fc.tuple(hostArb(sx!, grid(-2, 2), "float32"), hostArb(sy!, grid(-2, 2))))
      .map(([x, y]) => ({ label: `sin(${hostStr(x)} * ${hostStr(y)})`, args: [x, y], f: (a, b) => np.sin(np.multiply(a, b)) })),
    tol: F32_TOL,
  },
];

/** Random `broadcast_in_dim`: operand rank r, output rank r..r+2, increasing broadcast dims. */
const broadcastInDimArb: fc.Arbitrary<Instance> = fc
  .tuple(shapeArb(0, 3, dimOrZeroArb), fc.nat({ max: 2 }))
  .chain(([s, extra]) =>
    fc.tuple(
      fc.shuffledSubarray(range(s.length + extra), { minLength: s.length, maxLength: s.length }),
      fc.array(dimOrZeroArb, { minLength: s.length + extra, maxLength: s.length + extra }),
      hostArb(s),
    ),
  )
  .map(([dims, fill, x]) => {
    const bd = [...dims].sort((p, q) => p - q);
    const shape = fill.map((d, j) => {
      const i = bd.indexOf(j);
      return i < 0 || x.shape[i] === 1 ? d : x.shape[i]!;
    });
    return {
      label: `broadcast_in_dim(${hostStr(x)}, shape=${shapeStr(shape)}, dims=${shapeStr(bd)})`,
      args: [x],
      f: (a) => lax.broadcastInDim(a, shape, bd),
    };
  });

function reshapeTargets(s: number[]): number[][] {
  const out = [[sizeOf(s)], [...s].reverse(), [1, ...s], [...s, 1]];
  if (s.length >= 2) out.push([s[0]! * s[1]!, ...s.slice(2)]);
  if (sizeOf(s) === 1) out.push([]);
  return out;
}

/** One dimension of a strided slice: 0 ≤ start ≤ limit ≤ d, stride 1–3. */
const sliceDimArb = (d: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d }), fc.integer({ min: 1, max: 3 }))
    .map(([a, b, st]) => [Math.min(a, b), Math.max(a, b), st] as const);

/** pad config per dim: low/high in [-2, 2], interior in [0, 2], output dim kept ≥ 0. */
const padDimArb = (d: number) =>
  fc.tuple(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -2, max: 2 }), fc.integer({ min: 0, max: 2 })).map(([lo, hi, interior]) => {
    const size = lo + hi + d + Math.max(0, d - 1) * interior;
    return [lo, size < 0 ? hi - size : hi, interior] as [number, number, number];
  });

const structuralCases: AdCase[] = [
  { name: "broadcast_in_dim", gen: broadcastInDimArb },
  {
    name: "reshape",
    gen: shapeArb(0, 3, dimOrZeroArb)
      .chain((s) => fc.tuple(hostArb(s), fc.constantFrom(...reshapeTargets(s))))
      .map(([x, to]) => ({ label: `reshape(${hostStr(x)}, ${shapeStr(to)})`, args: [x], f: (a) => lax.reshape(a, to) })),
  },
  {
    name: "transpose",
    gen: shapeArb(0, 3, dimOrZeroArb)
      .chain((s) => fc.tuple(hostArb(s), permutationArb(s.length)))
      .map(([x, perm]) => ({ label: `transpose(${hostStr(x)}, ${shapeStr(perm)})`, args: [x], f: (a) => lax.transpose(a, perm) })),
  },
  {
    name: "squeeze",
    gen: shapeArb(0, 3, fc.constantFrom(0, 1, 1, 2, 3))
      .chain((s) => fc.tuple(hostArb(s), fc.subarray(range(s.length).filter((i) => s[i] === 1))))
      .map(([x, dims]) => ({ label: `squeeze(${hostStr(x)}, ${shapeStr(dims)})`, args: [x], f: (a) => lax.squeeze(a, dims) })),
  },
  {
    name: "slice (with strides)",
    gen: shapeArb(0, 3, fc.integer({ min: 0, max: 5 }))
      .chain((s) => fc.tuple(hostArb(s), fc.tuple(...s.map(sliceDimArb)), fc.boolean()))
      .map(([x, cfg, strided]) => {
        const start = cfg.map((c) => c[0]);
        const limit = cfg.map((c) => c[1]);
        const strides = strided ? cfg.map((c) => c[2]) : null;
        return {
          label: `slice(${hostStr(x)}, start=${shapeStr(start)}, limit=${shapeStr(limit)}, strides=${strides ? shapeStr(strides) : "null"})`,
          args: [x],
          f: (a) => lax.slice(a, start, limit, strides),
        };
      }),
  },
  {
    name: "dynamic_slice (starts clamped into range)",
    gen: shapeArb(0, 3, fc.integer({ min: 0, max: 4 }))
      .chain((s) =>
        fc.tuple(hostArb(s), fc.tuple(...s.map((d) => fc.tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: -2, max: d + 1 }))))),
      )
      .map(([x, cfg]) => {
        const sizes = cfg.map((c) => c[0]);
        const starts = cfg.map((c) => c[1]);
        return {
          label: `dynamic_slice(${hostStr(x)}, starts=${shapeStr(starts)}, sizes=${shapeStr(sizes)})`,
          args: [x],
          f: (a) => lax.dynamicSlice(a, starts, sizes),
        };
      }),
  },
  {
    name: "dynamic_update_slice (starts clamped into range)",
    gen: shapeArb(0, 3, fc.integer({ min: 0, max: 4 }))
      .chain((s) =>
        fc.tuple(fc.constant(s), fc.tuple(...s.map((d) => fc.tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: -2, max: d + 1 }))))),
      )
      .chain(([s, cfg]) => fc.tuple(hostArb(s), hostArb(cfg.map((c) => c[0])), fc.constant(cfg.map((c) => c[1]))))
      .map(([x, u, starts]) => ({
        label: `dynamic_update_slice(${hostStr(x)}, ${hostStr(u)}, starts=${shapeStr(starts)})`,
        args: [x, u],
        f: (a, b) => lax.dynamicUpdateSlice(a, b, starts),
      })),
  },
  {
    name: "concatenate",
    gen: fc
      .tuple(shapeArb(1, 3, dimOrZeroArb), fc.nat(), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }))
      .chain(([s, dimSeed, sizes]) => {
        const dim = dimSeed % s.length;
        return fc.tuple(fc.constant(dim), fc.tuple(...sizes.map((n) => hostArb(s.map((d, i) => (i === dim ? n : d))))));
      })
      .map(([dim, xs]) => ({
        label: `concatenate(${xs.map(hostStr).join(", ")}, dimension=${dim})`,
        args: xs,
        f: (...as: WaxArray[]) => lax.concatenate(as, dim),
      })),
  },
  {
    name: "pad (interior, negative low/high; padding value differentiated)",
    gen: shapeArb(0, 3, fc.integer({ min: 0, max: 4 }))
      .chain((s) => fc.tuple(hostArb(s), hostArb([]), fc.tuple(...s.map(padDimArb))))
      .map(([x, v, cfg]) => ({
        label: `pad(${hostStr(x)}, ${hostStr(v)}, ${JSON.stringify(cfg)})`,
        args: [x, v],
        f: (a, b) => lax.pad(a, b, cfg),
      })),
  },
];

const reductionCases: AdCase[] = [
  {
    name: "reduce_sum",
    gen: shapeArb(0, 3, dimOrZeroArb)
      .chain((s) => fc.tuple(hostArb(s), subsetArb(s.length)))
      .map(([x, axes]) => ({ label: `reduce_sum(${hostStr(x)}, axes=${shapeStr(axes)})`, args: [x], f: (a) => lax.reduceSum(a, axes) })),
  },
  ...(["max", "min"] as const).map((which): AdCase => ({
    name: `reduce_${which} (no ties)`,
    gen: shapeArb()
      .chain((s) => fc.tuple(distinctHostArb(s), subsetArb(s.length, 1), fc.boolean()))
      .map(([x, axes, keepdims]) => ({
        label: `np.${which}(${hostStr(x)}, axis=${shapeStr(axes)}, keepdims=${keepdims})`,
        args: [x],
        f: (a) => np[which](a, { axis: axes, keepdims }),
      })),
  })),
  {
    name: "reduce_prod",
    gen: shapeArb()
      .chain((s) => fc.tuple(hostArb(s, awayFromZero(0.5, 1.5)), subsetArb(s.length, 1)))
      .map(([x, axes]) => ({ label: `reduce_prod(${hostStr(x)}, axes=${shapeStr(axes)})`, args: [x], f: (a) => lax.reduceProd(a, axes) })),
  },
  {
    name: "cumsum (forward and reverse)",
    gen: shapeArb(1, 3, fc.integer({ min: 0, max: 4 }))
      .chain((s) => fc.tuple(hostArb(s), fc.nat({ max: s.length - 1 }), fc.boolean()))
      .map(([x, axis, reverse]) => ({
        label: `cumsum(${hostStr(x)}, axis=${axis}, reverse=${reverse})`,
        args: [x],
        f: (a) => lax.cumsum(a, axis, reverse),
      })),
  },
];

/**
 * Random `dot_general`: nb batch, nc contracting and free dims on each side, each operand's
 * axes in a random order (so the dimension lists are unsorted and interleaved).
 */
const dotGeneralArb: fc.Arbitrary<Instance> = fc
  .record({
    nb: fc.integer({ min: 0, max: 1 }),
    nc: fc.integer({ min: 0, max: 2 }),
    nl: fc.integer({ min: 0, max: 1 }),
    nr: fc.integer({ min: 0, max: 1 }),
    sizes: fc.array(dimOrZeroArb, { minLength: 5, maxLength: 5 }),
  })
  .chain(({ nb, nc, nl, nr, sizes }) => {
    const shared = sizes.slice(0, nb + nc);
    const lLogical = [...shared, ...sizes.slice(nb + nc, nb + nc + nl)];
    const rLogical = [...shared, ...sizes.slice(3, 3 + nr)];
    return fc.tuple(
      fc.constant({ nb, nc }),
      fc.constant(lLogical),
      fc.constant(rLogical),
      permutationArb(lLogical.length),
      permutationArb(rLogical.length),
    );
  })
  .chain(([{ nb, nc }, lLogical, rLogical, pl, pr]) => {
    // logical axis j of an operand lives at actual axis perm[j]
    const place = (logical: number[], perm: number[]) => {
      const shape = new globalThis.Array<number>(logical.length);
      logical.forEach((d, j) => (shape[perm[j]!] = d));
      return shape;
    };
    const dims = [
      [range(nc).map((k) => pl[nb + k]!), range(nc).map((k) => pr[nb + k]!)],
      [range(nb).map((k) => pl[k]!), range(nb).map((k) => pr[k]!)],
    ] as const;
    return fc.tuple(fc.constant(dims), hostArb(place(lLogical, pl)), hostArb(place(rLogical, pr)));
  })
  .map(([dims, x, y]) => ({
    label: `dot_general(${hostStr(x)}, ${hostStr(y)}, contract=${JSON.stringify(dims[0])}, batch=${JSON.stringify(dims[1])})`,
    args: [x, y],
    f: (a, b) => lax.dotGeneral(a, b, dims),
  }));

/** matmul operands: vectors, matrices, and batched stacks whose batch dims broadcast. */
const matmulArb: fc.Arbitrary<Instance> = fc
  .tuple(broadcastShapesArb(2, 2), dimArb, dimArb, dimArb, fc.boolean(), fc.boolean())
  .chain(([[ba, bb], m, k, n, aVec, bVec]) => fc.tuple(hostArb(aVec ? [k] : [...ba!, m, k]), hostArb(bVec ? [k] : [...bb!, k, n])))
  .map(([x, y]) => ({ label: `matmul(${hostStr(x)}, ${hostStr(y)})`, args: [x, y], f: (a, b) => np.matmul(a, b) }));

const EINSUM_SPECS = ["ij,jk->ik", "ij,jk->ki", "bij,bjk->bik", "ij,j->i", "i,i->", "ijk,kj->i", "ij,jk,kl->il", "i,j->ij", "bij->bj"];
const einsumArb: fc.Arbitrary<Instance> = fc
  .tuple(fc.constantFrom(...EINSUM_SPECS), fc.array(dimArb, { minLength: 6, maxLength: 6 }))
  .chain(([spec, sizes]) => {
    const letters = "bijkl";
    const ins = spec.split("->")[0]!.split(",");
    return fc.tuple(fc.constant(spec), fc.tuple(...ins.map((t) => hostArb([...t].map((c) => sizes[letters.indexOf(c)]!)))));
  })
  .map(([spec, xs]) => ({
    label: `einsum("${spec}", ${xs.map(hostStr).join(", ")})`,
    args: xs,
    f: (...as: WaxArray[]) => np.einsum(spec, ...as),
  }));

/** A rank 1–3 input, an axis (possibly negative) and a keepdims flag. */
function axisCase(name: string, f: (x: WaxArray, axis: number, keepdims: boolean) => WaxArray): AdCase {
  return {
    name,
    gen: shapeArb(1, 3)
      .chain((s) => fc.tuple(hostArb(s, real(-3, 3)), fc.integer({ min: -s.length, max: s.length - 1 }), fc.boolean()))
      .map(([x, axis, keepdims]) => ({
        label: `${name}(${hostStr(x)}, axis=${axis}, keepdims=${keepdims})`,
        args: [x],
        f: (a) => f(a, axis, keepdims),
      })),
  };
}

const compositionCases: AdCase[] = [
  { name: "dot_general (contracting and batch dims)", gen: dotGeneralArb },
  { name: "np.matmul (batch broadcasting, vector operands)", gen: matmulArb },
  { name: "np.einsum", gen: einsumArb },
  axisCase("nn.softmax", (x, axis) => nn.softmax(x, axis)),
  axisCase("nn.logSoftmax", (x, axis) => nn.logSoftmax(x, axis)),
  axisCase("nn.logsumexp", (x, axis, keepdims) => nn.logsumexp(x, { axis, keepdims })),
  {
    name: "nn.logsumexp over all axes",
    gen: shapeArb()
      .chain((s) => hostArb(s, real(-3, 3)))
      .map((x) => ({ label: `logsumexp(${hostStr(x)})`, args: [x], f: (a) => nn.logsumexp(a) })),
  },
  {
    name: "np.var (axes, ddof)",
    gen: shapeArb(1, 3)
      .chain((s) => fc.tuple(hostArb(s), subsetArb(s.length, 1), fc.boolean(), fc.boolean()))
      .map(([x, axes, ddof1, keepdims]) => {
        const n = axes.reduce((p, ax) => p * x.shape[ax]!, 1);
        const ddof = ddof1 && n > 1 ? 1 : 0;
        return {
          label: `var(${hostStr(x)}, axis=${shapeStr(axes)}, ddof=${ddof}, keepdims=${keepdims})`,
          args: [x],
          f: (a) => np.var(a, { axis: axes, ddof, keepdims }),
        };
      }),
  },
];

/**
 * Points where the function is smooth but a rule that divides by the input breaks: JAX's rules
 * are exact there (`reduce_prod` differentiates a product tree; `pow`'s x-derivative uses
 * `x^(y−1)` only where y ≠ 0), so these use the same three checks.
 */
const withZero = (inst: Instance) => inst.args[0]!.data.includes(0);
const edgeCases: AdCase[] = [
  {
    name: "reduce_prod with exact zeros in the input",
    gen: shapeArb(1, 3)
      .chain((s) => fc.tuple(hostArb(s, fc.oneof(fc.constant(0), awayFromZero(0.5, 1.5))), subsetArb(s.length, 1)))
      .map(([x, axes]): Instance => ({
        label: `reduce_prod(${hostStr(x)} = ${JSON.stringify(x.data)}, axes=${shapeStr(axes)})`,
        args: [x],
        f: (a) => lax.reduceProd(a, axes),
      }))
      .filter(withZero),
  },
  {
    name: "pow with exponent 0, at x = 0 too (x^0 ≡ 1)",
    gen: shapeArb()
      .chain((s) => hostArb(s, fc.oneof(fc.constant(0), real(-2, 2))))
      .map((x): Instance => ({
        label: `pow(${hostStr(x)} = ${JSON.stringify(x.data)}, 0)`,
        args: [x],
        f: (a) => np.power(a, array(0, { dtype: "float64" })),
      }))
      .filter(withZero),
  },
];

const ALL_CASES: [string, AdCase[]][] = [
  ["elementwise", elementwiseCases],
  ["select_n", selectCases],
  ["convert_element_type", convertCases],
  ["structural", structuralCases],
  ["reductions", reductionCases],
  ["contractions and nn compositions", compositionCases],
  ["smooth points where a rule divides by zero", edgeCases],
];

for (const [group, cases] of ALL_CASES) {
  describe(`AD vs finite differences: ${group}`, () => {
    for (const c of cases) {
      const tol = { ...DEFAULT_TOL, ...c.tol };
      test(`${c.name}: jvp and vjp match central differences, and vjp is the transpose of jvp`, () => {
        fc.assert(
          fc.property(c.gen, fc.integer(), (inst, seed) => {
            const d = derivatives(inst, seed, tol);
            // Run all three checks so a failure reports every one that disagrees.
            const failures = [checkJvpAgainstFd, checkVjpAgainstFd, checkTransposeIdentity].flatMap((check) => {
              try {
                check(inst, d, tol);
                return [];
              } catch (e) {
                return [(e as Error).message];
              }
            });
            if (failures.length > 0) throw new Error(failures.join("\n"));
          }),
          RUNS,
        );
      });
    }
  });
}

// ---- JAX's conventions at non-differentiable points -------------------------------------------

describe("derivatives at non-differentiable points follow JAX", () => {
  const v = (data: number[]) => wax({ shape: [data.length], data, dtype: "float64" });
  const tangentOf = (f: Fn, xs: WaxArray[], ts: WaxArray[]) => (jvp(f, xs, ts)[1] as WaxArray).toArray();

  test("max and min split the tangent evenly between tied operands", () => {
    const x = v([1, 2, 3]);
    const y = v([1, 0, 3]);
    expect(tangentOf(np.maximum, [x, y], [v([2, 2, 2]), v([4, 4, 4])])).toEqual([3, 2, 3]);
    expect(tangentOf(np.minimum, [x, y], [v([2, 2, 2]), v([4, 4, 4])])).toEqual([3, 4, 3]);
    expect(
      (grad((a: WaxArray, b: WaxArray) => np.sum(np.maximum(a, b)), { argnums: [0, 1] })(x, y) as WaxArray[]).map((g) => g.toArray()),
    ).toEqual([
      [0.5, 1, 0.5],
      [0.5, 0, 0.5],
    ]);
  });

  test("reduce_max and reduce_min average the tangents of tied extrema", () => {
    const x = v([3, 1, 3, 2]);
    expect(tangentOf((a) => np.max(a), [x], [v([1, 7, 2, 7])])).toBe(1.5);
    expect(tangentOf((a) => np.min(a), [v([1, 1, 3])], [v([1, 2, 7])])).toBe(1.5);
    expect((grad((a: WaxArray) => np.max(a))(x) as WaxArray).toArray()).toEqual([0.5, 0, 0.5, 0]);
  });

  test("abs has derivative +1 at 0", () => {
    expect(tangentOf(np.abs, [v([0, -1])], [v([1, 1])])).toEqual([1, -1]);
    expect((grad((a: WaxArray) => np.sum(np.abs(a)))(v([0, -1])) as WaxArray).toArray()).toEqual([1, -1]);
  });
});

// ---- grad against jvp on basis vectors ------------------------------------------------------

interface ScalarCase {
  name: string;
  gen: fc.Arbitrary<Host[]>;
  f: Fn;
}

const scalarCases: ScalarCase[] = [
  {
    name: "sum(sin(x)·y + x²) with broadcasting",
    gen: broadcastShapesArb(2, 2).chain(([sx, sy]) => fc.tuple(hostArb(sx!), hostArb(sy!))),
    f: (x, y) => np.sum(np.add(np.multiply(np.sin(x), y), np.square(x))),
  },
  {
    name: "logsumexp(x @ w)",
    gen: fc.tuple(dimArb, dimArb, dimArb).chain(([m, k, n]) => fc.tuple(hostArb([m, k]), hostArb([k, n]))),
    f: (x, w) => nn.logsumexp(np.matmul(x, w)),
  },
  {
    name: "prod(x) / (1 + max(y)²) (no ties in y)",
    gen: fc.tuple(shapeArb(0, 2), shapeArb(0, 2)).chain(([sx, sy]) => fc.tuple(hostArb(sx, awayFromZero(0.5, 1.5)), distinctHostArb(sy))),
    f: (x, y) => np.divide(np.prod(x), np.add(1, np.square(np.max(y)))),
  },
];

describe("grad matches jvp along every basis vector", () => {
  for (const c of scalarCases) {
    test(c.name, () => {
      fc.assert(
        fc.property(c.gen, (hosts) => {
          const xs = hosts.map(wax);
          const g = grad(c.f, { argnums: range(xs.length) })(...xs) as WaxArray[];
          hosts.forEach((h, i) => {
            const gi = valuesOf(g[i]!);
            expect(g[i]!.shape).toEqual(h.shape);
            for (let k = 0; k < h.data.length; k++) {
              const basis = hosts.map((o, j) => wax({ ...o, data: o.data.map((_, m) => (j === i && m === k ? 1 : 0)) }));
              const dir = (jvp(c.f, xs, basis)[1] as WaxArray).item();
              expect(
                Math.abs(gi[k]! - dir),
                `d/d${i}[${k}] of ${hosts.map(hostStr).join(", ")}: grad ${gi[k]} vs jvp ${dir}`,
              ).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(dir)));
            }
          });
        }),
        { numRuns: 15 },
      );
    });
  }
});

// ---- second order ---------------------------------------------------------------------------

const f64 = (data: number[], shape: number[] = [data.length]) => wax({ shape, data, dtype: "float64" });

/**
 * Hessian-vector product by `grad` of `⟨grad f(x), v⟩` (reverse over reverse), against central
 * differences of the first gradient along `v`.
 */
function checkHvp(f: Fn, xHost: Host, vData: number[]): void {
  const g = grad(f) as (x: WaxArray) => WaxArray;
  const v = wax({ ...xHost, data: vData });
  const hvp = valuesOf(grad((x: WaxArray) => np.sum(np.multiply(g(x), v)))(wax(xHost)) as WaxArray);
  const h = 1e-6;
  const at = (s: number) => valuesOf(g(wax({ ...xHost, data: xHost.data.map((x, k) => x + s * h * vData[k]!) })));
  const plus = at(1);
  const minus = at(-1);
  const fd = plus.map((p, k) => (p - minus[k]!) / (2 * h));
  const scale = 1 + maxAbs(plus, minus);
  fd.forEach((want, k) => {
    expect(Math.abs(hvp[k]! - want), `Hv[${k}] at ${JSON.stringify(xHost.data)}: ${hvp[k]} vs FD ${want}`).toBeLessThanOrEqual(
      1e-6 * Math.abs(want) + 1e-8 * scale,
    );
  });
}

const hvpInput = (shape: fc.Arbitrary<number[]>, value: fc.Arbitrary<number> = real(-2, 2)) =>
  shape.chain((s) => fc.tuple(hostArb(s, value), hostArb(s, real(-1, 1))));

describe("second order: grad of grad", () => {
  test("grad(grad(sin)) is -sin and matches central differences of grad(sin)", () => {
    fc.assert(
      fc.property(real(-4, 4), (x) => {
        const d1 = grad(np.sin) as (x: WaxArray) => WaxArray;
        const d2 = grad(d1)(f64([x], [])) as WaxArray;
        expect(d2.dtype).toBe("float64");
        expect(d2.item()).toBeCloseTo(-Math.sin(x), 14);
        const h = 1e-6;
        const fd = (d1(f64([x + h], [])).item() - d1(f64([x - h], [])).item()) / (2 * h);
        expect(Math.abs(d2.item() - fd)).toBeLessThanOrEqual(1e-8);
      }),
      RUNS,
    );
  });

  test("grad(grad(x ↦ exp(x)·x)) is (x + 2)·exp(x)", () => {
    fc.assert(
      fc.property(real(-3, 3), (x) => {
        const f = (a: WaxArray) => np.multiply(np.exp(a), a);
        const d2 = (grad(grad(f))(f64([x], [])) as WaxArray).item();
        expect(Math.abs(d2 - (x + 2) * Math.exp(x))).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(d2)));
      }),
      RUNS,
    );
  });

  test("Hessian-vector products of sum(exp(x)·x) and sum(x³) match central differences and the closed forms", () => {
    fc.assert(
      fc.property(hvpInput(shapeArb(0, 3)), ([x, v]) => {
        checkHvp((a) => np.sum(np.multiply(np.exp(a), a)), x, v.data);
        checkHvp((a) => np.sum(np.pow(a, 3)), x, v.data);
        const cube = valuesOf(
          grad((a: WaxArray) => np.sum(np.multiply((grad((b: WaxArray) => np.sum(np.pow(b, 3))) as (b: WaxArray) => WaxArray)(a), wax(v))))(
            wax(x),
          ) as WaxArray,
        );
        cube.forEach((hv, k) => expect(hv).toBeCloseTo(6 * x.data[k]! * v.data[k]!, 12));
      }),
      RUNS,
    );
  });

  test("Hessian-vector product of a matmul-based scalar sum(tanh(W @ x)) matches central differences", () => {
    fc.assert(
      fc.property(
        fc.tuple(dimArb, dimArb).chain(([m, k]) => fc.tuple(hostArb([m, k]), hostArb([k]), hostArb([k], real(-1, 1)))),
        ([w, x, v]) => {
          const W = wax(w);
          checkHvp((a) => np.sum(np.tanh(np.matmul(W, a))), x, v.data);
          // and with respect to the matrix
          checkHvp(
            (a) => np.sum(np.tanh(np.matmul(a, wax(x)))),
            w,
            w.data.map((_, i) => Math.cos(i)),
          );
        },
      ),
      RUNS,
    );
  });

  test("Hessian-vector products of reductions (prod, max², logsumexp, var) match central differences", () => {
    fc.assert(
      fc.property(
        hvpInput(shapeArb(1, 3), awayFromZero(0.5, 1.5)),
        shapeArb(1, 3).chain((s) => fc.tuple(distinctHostArb(s), hostArb(s, real(-1, 1)))),
        ([x, v], [y, w]) => {
          checkHvp((a) => np.prod(a), x, v.data);
          checkHvp((a) => nn.logsumexp(a), x, v.data);
          checkHvp((a) => np.var(a), x, v.data);
          checkHvp((a) => np.square(np.max(a)), y, w.data);
        },
      ),
      RUNS,
    );
  });
});

// ---- rule coverage --------------------------------------------------------------------------

/** Primitives whose outputs are never float (comparisons, logic, shifts, indices, PRNG bits). */
const NON_FLOAT_OUTPUT = [
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "and",
  "or",
  "xor",
  "not",
  "shift_left",
  "shift_right_logical",
  "shift_right_arithmetic",
  "argmax",
  "argmin",
  "threefry2x32",
  "axis_index",
];
const LINEAR = [
  "add",
  "sub",
  "neg",
  "mul",
  "div",
  "convert_element_type",
  "select_n",
  "broadcast_in_dim",
  "reshape",
  "squeeze",
  "transpose",
  "slice",
  "pad",
  "concatenate",
  "reduce_sum",
  "cumsum",
  "dynamic_slice",
  "dynamic_update_slice",
  "dot_general",
  "psum",
  "all_gather",
  "psum_scatter",
];

describe("rule tables", () => {
  test("every primitive that can produce float outputs has a JVP rule", () => {
    const names: string[] = [...primitives.keys()];
    for (const name of NON_FLOAT_OUTPUT) expect(names.includes(name), `${name} is not a primitive`).toBe(true);
    const missing = [...primitives.values()]
      .filter((p) => !NON_FLOAT_OUTPUT.includes(p.name) && typeof jvpRules[p.name] !== "function")
      .map((p) => p.name);
    expect(missing).toEqual([]);
  });

  test("every linear primitive has a transpose rule", () => {
    const missing = LINEAR.filter((name) => {
      const p = [...primitives.values()].find((q) => q.name === name);
      return p === undefined || typeof transposeRules[p.name] !== "function";
    });
    expect(missing).toEqual([]);
  });
});
