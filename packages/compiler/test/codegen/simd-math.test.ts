/**
 * Accuracy of the inline f32x4 transcendentals: each op is compiled into a small SIMD128 module
 * (one exported `op(in, out, bytes)` loop per op), run over a dense sweep of f32 inputs plus
 * special values, and compared with `Math.*` in float64 rounded to f32 (erf: the float64 erf of
 * the reference interpreter). Errors are in ulps: the distance between the ordered int32
 * representations of the two f32 values (so ±0 are equal, NaN must meet NaN).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binaryen, FnBuilder, type ExprRef } from "../../src/codegen/builder";
import {
  cosF32x4,
  erfF32x4,
  expF32x4,
  expm1F32x4,
  log1pF32x4,
  logF32x4,
  logisticF32x4,
  sinF32x4,
  tanhF32x4,
} from "../../src/codegen/simd-math";
import { erf } from "@wax/runtime";

type Builder = (b: FnBuilder, x: ExprRef) => ExprRef;

interface Op {
  name: string;
  build: Builder;
  ref: (x: number) => number;
  /** Max ulp asserted over the whole sweep. */
  bound: number;
  /** Ranges swept: `value` spaces points evenly in value, `bits` evenly in bit pattern (so
   * every binade, down to subnormals, gets its share). */
  sweeps: { lo: number; hi: number; spacing: "value" | "bits" }[];
  /** Extra inputs (special values, hard cases). */
  extra?: () => number[];
  /** Inputs of larger magnitude are left out of the ulp measurement (checked on their own). */
  maxAbs?: number;
}

const POINTS = 1 << 20; // per sweep range
const F32_MAX = 3.4028234663852886e38;
const F32_MIN_NORMAL = 1.1754943508222875e-38;
const F32_MIN_SUBNORMAL = 1.401298464324817e-45;

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, F32_MAX, -F32_MAX, F32_MIN_NORMAL, -F32_MIN_NORMAL];
SPECIALS.push(F32_MIN_SUBNORMAL, -F32_MIN_SUBNORMAL, 1, -1, 0.5, -0.5, 2, -2, 1e-30, -1e-30);

/** f32 inputs near the multiples of π/2 up to 1e5 (the worst cases of the range reduction). */
function nearPiOver2Multiples(): number[] {
  const out: number[] = [];
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let k = 1; k * (Math.PI / 2) <= 1e5; k++) {
    f32[0] = k * (Math.PI / 2);
    for (const d of [-1, 0, 1]) {
      const bits = u32[0]!;
      u32[0] = bits + d;
      out.push(f32[0]!, -f32[0]!);
      u32[0] = bits;
    }
  }
  return out;
}

const logisticRef = (x: number): number => 1 / (1 + Math.exp(-x));

const OPS: Op[] = [
  {
    name: "exp",
    build: expF32x4,
    ref: Math.exp,
    bound: 1,
    sweeps: [
      { lo: -110, hi: 95, spacing: "value" },
      { lo: -120, hi: 120, spacing: "bits" },
    ],
    extra: () => [88.72283, 88.72284, 88.7229, -87.33654, -87.3366, -103.97208, -103.97209, -104.5],
  },
  {
    name: "expm1",
    build: expm1F32x4,
    ref: Math.expm1,
    bound: 1,
    sweeps: [
      { lo: -40, hi: 95, spacing: "value" },
      { lo: -100, hi: 100, spacing: "bits" },
    ],
    extra: () => [88.72283, 88.72284, -17.328679, -17.32868, 0.34657359, -0.34657359],
  },
  {
    name: "log",
    build: logF32x4,
    ref: Math.log,
    bound: 1,
    sweeps: [
      { lo: 0.25, hi: 4, spacing: "value" },
      { lo: 0, hi: F32_MAX, spacing: "bits" },
    ],
    extra: () => [Math.SQRT1_2, Math.SQRT2, -5, -F32_MIN_SUBNORMAL],
  },
  {
    name: "log1p",
    build: log1pF32x4,
    ref: Math.log1p,
    bound: 1,
    sweeps: [
      { lo: -1, hi: 4, spacing: "value" },
      { lo: -1, hi: F32_MAX, spacing: "bits" },
    ],
    extra: () => [-0.99999994, -1.0000001, -7, Math.SQRT1_2 - 1, Math.SQRT2 - 1],
  },
  {
    name: "sin",
    build: sinF32x4,
    ref: Math.sin,
    bound: 1,
    maxAbs: 1e5,
    sweeps: [
      { lo: -1e4, hi: 1e4, spacing: "value" },
      { lo: -1e5, hi: 1e5, spacing: "bits" },
    ],
    extra: nearPiOver2Multiples,
  },
  {
    name: "cos",
    build: cosF32x4,
    ref: Math.cos,
    bound: 1,
    maxAbs: 1e5,
    sweeps: [
      { lo: -1e4, hi: 1e4, spacing: "value" },
      { lo: -1e5, hi: 1e5, spacing: "bits" },
    ],
    extra: nearPiOver2Multiples,
  },
  {
    name: "tanh",
    build: tanhF32x4,
    ref: Math.tanh,
    bound: 3,
    sweeps: [
      { lo: -10, hi: 10, spacing: "value" },
      { lo: -100, hi: 100, spacing: "bits" },
    ],
    // 0.0304937… is the worst case of an exhaustive search (3 ulp; 2 elsewhere but for ~250 inputs).
    extra: () => [9.01, -9.01, 1e10, -1e10, 0.030493758618831635],
  },
  {
    name: "logistic",
    build: logisticF32x4,
    ref: logisticRef,
    bound: 2,
    sweeps: [
      { lo: -110, hi: 30, spacing: "value" },
      { lo: -200, hi: 200, spacing: "bits" },
    ],
    extra: () => [-87.3, -103.3, -103.98, -104.5, 17, 17.4, -1.0987790822982788],
  },
  {
    name: "erf",
    build: erfF32x4,
    ref: erf,
    bound: 1,
    sweeps: [
      { lo: -5, hi: 5, spacing: "value" },
      { lo: -10, hi: 10, spacing: "bits" },
    ],
    extra: () => [0.9, -0.9, 0.89999998, 3.92, 4, 4.0000005],
  },
];

// ---- module -----------------------------------------------------------------------------------

/** One exported function per op: `(in, out, bytes)` maps `bytes/16` v128s of f32 from in to out. */
function buildModule(ops: readonly Op[]): Uint8Array<ArrayBuffer> {
  const m = new binaryen.Module();
  m.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128);
  m.setMemory(1, 65536, "memory");
  for (const op of ops) {
    const b = new FnBuilder(m, 3);
    const i = b.local(binaryen.i32);
    const get = (k: number) => m.local.get(k, binaryen.i32);
    const value = op.build(b, m.v128.load(0, 16, m.i32.add(get(0), get(i))));
    const body = m.block("exit", [
      m.local.set(i, m.i32.const(0)),
      m.loop(
        "next",
        m.block(null, [
          m.br("exit", m.i32.ge_u(get(i), get(2))),
          m.v128.store(0, 16, m.i32.add(get(1), get(i)), value),
          m.local.set(i, m.i32.add(get(i), m.i32.const(16))),
          m.br("next"),
        ]),
      ),
    ]);
    const params = binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32]);
    m.addFunction(op.name, params, binaryen.none, b.vars, body);
    m.addFunctionExport(op.name, op.name);
  }
  if (!m.validate()) throw new Error("simd-math test module does not validate");
  const bytes = new Uint8Array(m.emitBinary()); // ArrayBuffer-backed, as BufferSource wants
  m.dispose();
  return bytes;
}

// ---- measurement ------------------------------------------------------------------------------

const BITS = new Uint32Array(1);
const FLOAT = new Float32Array(BITS.buffer);
function bitsOf(x: number): number {
  FLOAT[0] = x;
  return BITS[0]!;
}
function fromBits(u: number): number {
  BITS[0] = u;
  return FLOAT[0]!;
}

function sweepInputs(op: Op): Float32Array {
  const xs: number[] = [];
  for (const { lo, hi, spacing } of op.sweeps) {
    if (spacing === "value") {
      for (let k = 0; k < POINTS; k++) xs.push(lo + ((hi - lo) * k) / (POINTS - 1));
      continue;
    }
    // Evenly in bit pattern, on each side of 0 in proportion to its number of floats.
    const neg = lo < 0 ? bitsOf(-lo) : 0;
    const pos = hi > 0 ? bitsOf(hi) : 0;
    for (let k = 0; k < POINTS; k++) {
      const t = Math.floor(((neg + pos) * k) / (POINTS - 1)); // 0 … neg+pos
      xs.push(t < neg ? -fromBits(neg - t) : fromBits(t - neg));
    }
  }
  for (const x of [...SPECIALS, ...(op.extra?.() ?? [])]) {
    if (!(Math.abs(x) > (op.maxAbs ?? Infinity))) xs.push(x);
  }
  while (xs.length % 4 !== 0) xs.push(0);
  return Float32Array.from(xs);
}

/** Ordered int32 key of an f32: monotone in value, ±0 → 0. */
function key(x: number): number {
  const u = bitsOf(x);
  return u >= 0x80000000 ? -(u - 0x80000000) : u;
}

function ulpDistance(got: number, want: number): number {
  if (Number.isNaN(got) || Number.isNaN(want)) return Number.isNaN(got) && Number.isNaN(want) ? 0 : Infinity;
  return Math.abs(key(got) - key(want));
}

interface Measured {
  maxUlp: number;
  at: number;
  got: number;
  want: number;
}

function measure(xs: Float32Array, ys: Float32Array, ref: (x: number) => number): Measured {
  let worst: Measured = { maxUlp: -1, at: NaN, got: NaN, want: NaN };
  for (let k = 0; k < xs.length; k++) {
    const want = Math.fround(ref(xs[k]!));
    const d = ulpDistance(ys[k]!, want);
    if (d > worst.maxUlp) worst = { maxUlp: d, at: xs[k]!, got: ys[k]!, want };
  }
  return worst;
}

// ---- tests ------------------------------------------------------------------------------------

type Kernel = (inPtr: number, outPtr: number, bytes: number) => void;
let kernels: Record<string, Kernel>;
let memory: WebAssembly.Memory;
const rows: Record<string, string | number>[] = [];

/** Runs `name` over xs in wasm memory; returns the outputs. */
function run(name: string, xs: Float32Array): Float32Array {
  const bytes = xs.byteLength;
  const need = 2 * bytes;
  if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  new Float32Array(memory.buffer, 0, xs.length).set(xs);
  kernels[name]!(0, bytes, bytes);
  return new Float32Array(memory.buffer, bytes, xs.length).slice();
}

beforeAll(async () => {
  const { instance } = await WebAssembly.instantiate(buildModule(OPS));
  kernels = instance.exports as unknown as Record<string, Kernel>;
  memory = instance.exports.memory as WebAssembly.Memory;
});

afterAll(() => {
  if (rows.length > 0) console.log("f32x4 SIMD math, max error vs float64 reference:\n" + table(rows));
});

function table(data: Record<string, string | number>[]): string {
  const cols = Object.keys(data[0]!);
  const width = cols.map((c) => Math.max(c.length, ...data.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join("  ");
  return [line(cols), line(width.map((w) => "-".repeat(w))), ...data.map((r) => line(cols.map((c) => String(r[c]))))].join("\n");
}

describe("f32x4 SIMD math", () => {
  for (const op of OPS) {
    it(`${op.name} is within ${op.bound} ulp over its sweep and special values`, () => {
      const xs = sweepInputs(op);
      const ys = run(op.name, xs);
      const w = measure(xs, ys, op.ref);
      const ranges = op.sweeps.map((s) => `[${s.lo.toPrecision(3)}, ${s.hi.toPrecision(3)}]`).join(" ");
      rows.push({ op: op.name, "max ulp": w.maxUlp, bound: op.bound, points: xs.length, "swept ranges": ranges, "worst at x": w.at });
      expect(w.maxUlp, `worst: ${op.name}(${w.at}) = ${w.got}, want ${w.want}`).toBeLessThanOrEqual(op.bound);
    });
  }

  it("sin and cos stay within 1 ulp over the whole f32 range (exact reduction of huge arguments)", () => {
    // Random bit patterns over every finite f32 (mixed with small lanes in the same vector, so both
    // reductions meet), the f32s nearest to multiples of π/2 up to 2^24, and the largest floats.
    const xs: number[] = [];
    let seed = 0x9e3779b9;
    const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    for (let k = 0; k < 1 << 17; k++) xs.push((k % 2 ? -1 : 1) * fromBits(next() % 0x7f800000));
    for (let k = 0; k < 1 << 14; k++) xs.push(Math.fround(((next() % (1 << 24)) * Math.PI) / 2));
    xs.push(F32_MAX, -F32_MAX, 6.6e6, 8388608, 16777216, 1e20, 1.8462092917700383e25, 3.4e38, 1e5, 100000.0078125);
    while (xs.length % 4 !== 0) xs.push(0);
    const input = Float32Array.from(xs);
    for (const [name, ref] of [
      ["sin", Math.sin],
      ["cos", Math.cos],
    ] as const) {
      const w = measure(input, run(name, input), ref);
      expect(w.maxUlp, `worst: ${name}(${w.at}) = ${w.got}, want ${w.want}`).toBeLessThanOrEqual(1);
    }
  });

  it("keeps the sign of zero where the function is odd, and hits the exact special values", () => {
    const xs = Float32Array.from([-0, 0, -0, 0]);
    for (const name of ["sin", "tanh", "erf", "expm1", "log1p"]) {
      const ys = run(name, xs);
      expect(
        [...ys].map((y) => Object.is(y, -0)),
        name,
      ).toEqual([true, false, true, false]);
    }
    const specials = Float32Array.from([Infinity, -Infinity, NaN, 1e30]);
    expect([...run("exp", specials)]).toEqual([Infinity, 0, NaN, Infinity]);
    expect([...run("log", Float32Array.from([0, -0, -1, 1]))]).toEqual([-Infinity, -Infinity, NaN, 0]);
    const big = Math.fround(1e30);
    expect([...run("sin", specials)]).toEqual([NaN, NaN, NaN, Math.fround(Math.sin(big))]);
    expect([...run("cos", specials)]).toEqual([NaN, NaN, NaN, Math.fround(Math.cos(big))]);
    expect([...run("tanh", specials)]).toEqual([1, -1, NaN, 1]);
    expect([...run("logistic", specials)]).toEqual([1, 0, NaN, 1]);
    expect([...run("erf", specials)]).toEqual([1, -1, NaN, 1]);
    expect([...run("log1p", Float32Array.from([-1, -2, Infinity, NaN]))]).toEqual([-Infinity, NaN, Infinity, NaN]);
  });
});
