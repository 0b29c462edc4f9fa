/**
 * Random wax programs for the differential fuzzer: a program is a list of inputs (shape, dtype,
 * data) and a straight-line list of statements, each one TypeScript expression over earlier
 * values (`np.sin(v0)`, `lax.scan(...)`). The same source text is what runs (through
 * `new Function`) and what a repro prints, so a printed repro is exactly the failing program.
 * The float dtype is a placeholder (`FDT`): the float64 shadow runs the same text with
 * `"float64"` in its place.
 */
import { array, isFloat, lax, nn, np, type Array, type DType } from "@wax/tracer";
import { mulberry32 } from "../support/seeded";

export type Rng = () => number;
export const rngFor = (seed: number): Rng => mulberry32(seed * 2654435761 + 12345);
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rng, p: number): boolean => r() < p;

export interface Input {
  /** The value's number: the program names it `v{id}`. */
  id: number;
  shape: number[];
  dtype: DType;
  /** Element values (floats as float32 numbers; NaN, ±Infinity and -0 included). */
  data: number[];
}

export interface Stmt {
  id: number;
  /** A TS expression over earlier values `v{k}`, `np`, `lax`, `nn` and the float dtype `FDT`. */
  expr: string;
}

/** Values are numbered by creation; inputs (index arrays too) may come between statements. */
export interface Program {
  inputs: Input[];
  stmts: Stmt[];
  /** Returned values. */
  outputs: number[];
}

export interface Aval {
  shape: readonly number[];
  dtype: DType;
}

export const FLT_MAX = 3.4028234663852886e38;
// Not the smallest subnormal ±1.4e-45: one ulp of error in an approximated function (compiled
// expm1 gives -0 for it) flips it to zero, and log/sqrt downstream turn that into -Inf vs NaN.
const FLOAT_SPECIALS = [NaN, Infinity, -Infinity, -0, 0, FLT_MAX, -FLT_MAX, 1e-39, -3e-39, 16777217, 0.5, -0.5];
const INT_SPECIALS = [-2147483648, 2147483647, 0, -1, 1];
const UINT_SPECIALS = [4294967295, 2147483648, 0, 1];

/** Element values for an input of `dtype`: small values with ties, and some special values. */
export function randomData(r: Rng, n: number, dtype: DType, special: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = chance(r, special);
    if (dtype === "bool") out.push(int(r, 0, 1));
    else if (dtype === "int32") out.push(s ? pick(r, INT_SPECIALS) : int(r, -6, 6));
    else if (dtype === "uint32") out.push(s ? pick(r, UINT_SPECIALS) : int(r, 0, 9));
    else out.push(Math.fround(s ? pick(r, FLOAT_SPECIALS) : chance(r, 0.3) ? int(r, -8, 8) / 4 : (r() - 0.5) * 6));
  }
  return out;
}

/** Index data for an axis of size `n`: mostly in [-n, n), sometimes out of bounds. */
function indexData(r: Rng, count: number, n: number): number[] {
  return globalThis.Array.from({ length: count }, () =>
    chance(r, 0.1) ? pick(r, [n, -n - 1, 2147483647, -2147483648]) : n === 0 ? 0 : int(r, -n, n - 1),
  );
}

// Odd sizes and sizes past one f32x4 vector (5, 7, 9, 17) exercise SIMD loop tails.
const DIMS = [0, 1, 1, 2, 3, 3, 4, 5, 7, 9, 17];
function randomShape(r: Rng, maxRank = 3): number[] {
  const rank = int(r, 0, maxRank);
  return globalThis.Array.from({ length: rank }, () => (chance(r, 0.06) ? 0 : pick(r, DIMS.slice(1))));
}

/** An input array of the program (float data through Float32Array, so the values are float32's). */
export function inputArray(inp: Input, floatDtype: DType): Array {
  const dtype = isFloat(inp.dtype) ? floatDtype : inp.dtype;
  return array(inp.data, { shape: inp.shape, dtype });
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const fl = (a: Aval): boolean => isFloat(a.dtype);
const isInt = (a: Aval): boolean => a.dtype === "int32" || a.dtype === "uint32";
const lit = (v: unknown): string => JSON.stringify(v);

// Elementwise unary templates by dtype kind, shared by the straight-line ops and the bodies of
// cond/scan/foriLoop (they keep shape and dtype).
const UNARY_FLOAT = [
  "np.negative(X)",
  "np.abs(X)",
  "np.exp(X)",
  "np.log(X)",
  "np.log1p(X)",
  "np.expm1(X)",
  "np.sin(X)",
  "np.cos(X)",
  "np.tanh(X)",
  "np.sqrt(X)",
  "np.square(X)",
  "np.sign(X)",
  "np.floor(X)",
  "np.ceil(X)",
  "np.round(X)",
  "nn.relu(X)",
  "nn.sigmoid(X)",
  "nn.softplus(X)",
  "nn.gelu(X)",
  "nn.silu(X)",
  "lax.erf(X)",
  "np.reciprocal(X)",
  "X.mul(2.5)",
  "X.add(-1)",
  "np.clip(X, -1, 2)",
  "np.tan(X)",
  "np.exp2(X)",
  "np.log2(X)",
  "nn.leakyRelu(X)",
  "nn.elu(X)",
  "X.pow(2)",
  "X.pow(3)",
  "lax.rsqrt(X)",
];
const UNARY_INT = [
  "np.negative(X)",
  "np.abs(X)",
  "np.sign(X)",
  "np.square(X)",
  "np.bitwiseNot(X)",
  "X.add(3)",
  "X.mul(2)",
  "np.floorDivide(X, 3)",
  "np.remainder(X, 3)",
  "np.rightShift(X, 1)",
  "np.clip(X, 0, 4)",
];
const UNARY_UINT = [
  "np.square(X)",
  "np.bitwiseNot(X)",
  "X.add(3)",
  "X.mul(2)",
  "np.floorDivide(X, 3)",
  "np.remainder(X, 3)",
  "np.rightShift(X, 1)",
  "np.clip(X, 1, 4)",
];
const UNARY_BOOL = ["np.logicalNot(X)"];
function unaryFor(a: Aval): readonly string[] {
  return fl(a) ? UNARY_FLOAT : a.dtype === "int32" ? UNARY_INT : a.dtype === "uint32" ? UNARY_UINT : UNARY_BOOL;
}
const sub = (t: string, x: string): string => t.replaceAll("X", x);

const BIN_FLOAT = [
  "np.add",
  "np.subtract",
  "np.multiply",
  "np.divide",
  "np.maximum",
  "np.minimum",
  "np.power",
  "np.arctan2",
  "np.remainder",
  "np.fmod",
];
const BIN_INT = [
  "np.add",
  "np.subtract",
  "np.multiply",
  "np.maximum",
  "np.minimum",
  "np.floorDivide",
  "np.remainder",
  "np.bitwiseAnd",
  "np.bitwiseOr",
  "np.bitwiseXor",
];
const BIN_BOOL = ["np.logicalAnd", "np.logicalOr", "np.logicalXor", "np.equal"];
const CMP = ["np.equal", "np.notEqual", "np.less", "np.lessEqual", "np.greater", "np.greaterEqual"];

function broadcastable(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i]!;
    const y = b[b.length - i]!;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

/** A random axis argument over `rank` dims: null, one axis (maybe negative) or a list. */
function axisArg(r: Rng, rank: number, allowList = true): number | number[] | null {
  if (rank === 0 || chance(r, 0.2)) return null;
  if (allowList && rank > 1 && chance(r, 0.3)) {
    const axes = [...globalThis.Array(rank).keys()].filter(() => chance(r, 0.5));
    return axes.length ? axes : [0];
  }
  const ax = int(r, 0, rank - 1);
  return chance(r, 0.3) ? ax - rank : ax;
}
const reducedSizes = (shape: readonly number[], axis: number | number[] | null): number[] => {
  if (axis === null) return [...shape];
  const axes = (globalThis.Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + shape.length : a));
  return axes.map((a) => shape[a]!);
};

function randomPerm(r: Rng, n: number): number[] {
  const p = [...globalThis.Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = int(r, 0, i);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** A new shape with the same number of elements (kept factorizations only). */
function reshapeTarget(r: Rng, shape: readonly number[]): number[] {
  const n = size(shape);
  if (n === 0) return chance(r, 0.5) ? [0] : [...shape].reverse();
  const factors: number[] = [];
  let m = n;
  for (let f = 2; f <= m; f++) {
    while (m % f === 0) {
      factors.push(f);
      m /= f;
    }
  }
  const out: number[] = [];
  for (const f of factors) {
    if (out.length && chance(r, 0.5)) out[out.length - 1]! *= f;
    else out.push(f);
  }
  if (chance(r, 0.3)) out.splice(int(r, 0, out.length), 0, 1);
  return out.length > 4 ? [n] : out;
}

interface Ctx {
  r: Rng;
  avals: Aval[];
  /** Adds an input of the given aval and data; returns its name. */
  addInput(inp: Omit<Input, "id">): string;
}
type Gen = (c: Ctx, x: number) => string | null;
const v = (i: number): string => `v${i}`;

/** Another value broadcast-compatible with value `x` (itself when nothing else fits). */
function partner(c: Ctx, x: number, ok: (a: Aval) => boolean): number {
  const a = c.avals[x]!;
  const cands = c.avals.map((b, i) => [b, i] as const).filter(([b]) => ok(b) && broadcastable(a.shape, b.shape));
  return cands.length && chance(c.r, 0.8) ? pick(c.r, cands)[1] : x;
}

/** Op generators: each gets the value to work on and returns an expression, or null if it does not apply. */
const GENS: Record<string, { w: number; gen: Gen }> = {
  unary: { w: 10, gen: (c, x) => sub(pick(c.r, unaryFor(c.avals[x]!)), v(x)) },
  binary: {
    w: 10,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (chance(c.r, 0.15)) return `${pick(c.r, CMP)}(${v(x)}, ${v(partner(c, x, (b) => b.dtype === a.dtype))})`;
      if (chance(c.r, 0.2) && !fl(a)) return `${pick(c.r, CMP)}(${v(x)}, ${lit(pick(c.r, [0, 1, 3]))})`;
      if (chance(c.r, 0.2) && fl(a)) return `${pick(c.r, BIN_FLOAT)}(${v(x)}, ${pick(c.r, ["0.5", "-2", "3", "0", "-0"])})`;
      const ops = fl(a) ? BIN_FLOAT : isInt(a) ? BIN_INT : BIN_BOOL;
      // float with float, or float with an int32 array (promotes to float32)
      const y = partner(c, x, (b) => b.dtype === a.dtype || (fl(a) && b.dtype === "int32"));
      return chance(c.r, 0.5) ? `${pick(c.r, ops)}(${v(x)}, ${v(y)})` : `${pick(c.r, ops)}(${v(y)}, ${v(x)})`;
    },
  },
  where: {
    w: 3,
    gen: (c, x) => {
      const a = c.avals[x]!;
      const cond = partner(c, x, (b) => b.dtype === "bool");
      const y = partner(c, x, (b) => b.dtype === a.dtype);
      const cs = c.avals[cond]!.dtype === "bool" ? v(cond) : `${v(x)}.gt(${fl(a) ? "0.5" : "1"})`;
      if (!broadcastable(c.avals[cond]!.shape, c.avals[y]!.shape)) return null;
      return `np.where(${cs}, ${v(x)}, ${v(y)})`;
    },
  },
  astype: {
    w: 4,
    gen: (c, x) => {
      const to = pick(c.r, ["FDT", "int32", "uint32", "bool"]);
      return `${v(x)}.astype(${to === "FDT" ? "FDT" : lit(to)})`;
    },
  },
  predicate: {
    w: 2,
    gen: (c, x) => (fl(c.avals[x]!) ? `np.${pick(c.r, ["isnan", "isfinite", "isinf"])}(${v(x)})` : null),
  },
  reduce: {
    w: 8,
    gen: (c, x) => {
      const a = c.avals[x]!;
      const axis = axisArg(c.r, a.shape.length);
      const keepdims = chance(c.r, 0.3);
      const nonEmpty = reducedSizes(a.shape, axis).every((n) => n > 0) && size(a.shape) > 0;
      const ops = fl(a)
        ? ["sum", "mean", "max", "min", "prod", "var", "std", "any", "all"]
        : isInt(a)
          ? ["sum", "max", "min", "prod", "any", "all"]
          : ["any", "all", "sum"];
      const op = pick(c.r, ops);
      if ((op === "max" || op === "min") && !nonEmpty) return null;
      const opts = keepdims ? `{ axis: ${lit(axis)}, keepdims: true }` : lit(axis);
      return `np.${op}(${v(x)}, ${opts})`;
    },
  },
  argReduce: {
    w: 3,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.dtype === "bool") return null;
      const axis = axisArg(c.r, a.shape.length, false) as number | null;
      if (!reducedSizes(a.shape, axis).every((n) => n > 0) || size(a.shape) === 0) return null;
      return `np.${pick(c.r, ["argmax", "argmin"])}(${v(x)}, ${lit(axis)})`;
    },
  },
  cumsum: {
    w: 2,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.dtype === "bool" || a.shape.length === 0) return null;
      return `np.cumsum(${v(x)}, ${int(c.r, -a.shape.length, a.shape.length - 1)})`;
    },
  },
  nnAxis: {
    w: 3,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (!fl(a) || a.shape.length === 0) return null;
      const ax = int(c.r, -a.shape.length, a.shape.length - 1);
      return `${pick(c.r, ["nn.softmax", "nn.logSoftmax", "nn.logsumexp", "nn.standardize"])}(${v(x)}, ${ax})`;
    },
  },
  reshape: { w: 3, gen: (c, x) => `${v(x)}.reshape(${lit(reshapeTarget(c.r, c.avals[x]!.shape))})` },
  transpose: {
    w: 3,
    gen: (c, x) => {
      const n = c.avals[x]!.shape.length;
      return n < 2 ? null : `np.transpose(${v(x)}, ${lit(randomPerm(c.r, n))})`;
    },
  },
  expandSqueeze: {
    w: 2,
    gen: (c, x) => {
      const s = c.avals[x]!.shape;
      const ones = s.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      if (ones.length && chance(c.r, 0.5)) return `np.squeeze(${v(x)}, ${pick(c.r, ones)})`;
      return s.length >= 4 ? null : `np.expandDims(${v(x)}, ${int(c.r, -s.length - 1, s.length)})`;
    },
  },
  flip: {
    w: 2,
    gen: (c, x) => {
      const n = c.avals[x]!.shape.length;
      return n === 0 ? null : `np.flip(${v(x)}, ${int(c.r, 0, n - 1)})`;
    },
  },
  slice: {
    w: 3,
    gen: (c, x) => {
      const s = c.avals[x]!.shape;
      if (s.length === 0) return null;
      const parts = s.map((d) =>
        chance(c.r, 0.5)
          ? '":"'
          : lit(
              `${int(c.r, -d - 1, d)}:${chance(c.r, 0.5) ? int(c.r, -d, d + 1) : ""}${chance(c.r, 0.3) ? ":" + pick(c.r, [2, -1, 3]) : ""}`,
            ),
      );
      if (chance(c.r, 0.3) && s[0]! > 0) parts[0] = String(int(c.r, -s[0]!, s[0]! - 1));
      return `${v(x)}.get(${parts.join(", ")})`;
    },
  },
  concat: {
    w: 2,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.shape.length === 0) return null;
      const ax = int(c.r, 0, a.shape.length - 1);
      const others = c.avals
        .map((b, i) => [b, i] as const)
        .filter(([b]) => b.dtype === a.dtype && b.shape.length === a.shape.length && b.shape.every((d, k) => k === ax || d === a.shape[k]));
      const y = pick(c.r, others)[1];
      return chance(c.r, 0.7)
        ? `np.concatenate([${v(x)}, ${v(y)}], ${ax})`
        : `np.stack([${v(x)}, ${v(x)}], ${int(c.r, 0, a.shape.length)})`;
    },
  },
  pad: {
    w: 1,
    gen: (c, x) => {
      const s = c.avals[x]!.shape;
      if (s.length === 0) return null;
      return `np.pad(${v(x)}, ${lit(s.map(() => [int(c.r, 0, 2), int(c.r, 0, 1)]))}, ${pick(c.r, c.avals[x]!.dtype === "bool" ? [0, 1] : [0, 1, -2])})`;
    },
  },
  broadcast: {
    w: 1,
    gen: (c, x) => {
      const s = c.avals[x]!.shape;
      return s.length >= 4 ? null : `np.broadcastTo(${v(x)}, ${lit([pick(c.r, [0, 1, 3]), ...s])})`;
    },
  },
  matmul: {
    w: 3,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.dtype === "bool" || a.shape.length === 0) return null;
      if (a.shape.length === 1) return `np.dot(${v(x)}, ${v(x)})`;
      const k = a.shape[a.shape.length - 1]!;
      const ys = c.avals.map((b, i) => [b, i] as const).filter(([b]) => b.dtype === a.dtype && b.shape.length === 2 && b.shape[0] === k);
      if (ys.length && chance(c.r, 0.5)) return `np.matmul(${v(x)}, ${v(pick(c.r, ys)[1])})`;
      return `np.matmul(${v(x)}, np.swapaxes(${v(x)}, -1, -2))`;
    },
  },
  sort: {
    w: 4,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.shape.length === 0 && chance(c.r, 0.7)) return null;
      const axis = a.shape.length === 0 || chance(c.r, 0.2) ? null : int(c.r, -a.shape.length, a.shape.length - 1);
      const desc = chance(c.r, 0.3) ? ", descending: true" : "";
      return `np.${pick(c.r, ["sort", "argsort"])}(${v(x)}, { axis: ${lit(axis)}${desc} })`;
    },
  },
  takeAlongArgsort: {
    w: 1,
    gen: (c, x) => {
      const n = c.avals[x]!.shape.length;
      if (n === 0) return null;
      const ax = int(c.r, 0, n - 1);
      return `np.takeAlongAxis(${v(x)}, np.argsort(${v(x)}, { axis: ${ax} }), ${ax})`;
    },
  },
  gather: {
    w: 4,
    gen: (c, x) => {
      const s = c.avals[x]!.shape;
      if (s.length === 0) return null;
      const ax = int(c.r, 0, s.length - 1);
      const idxShape = randomShape(c.r, 2);
      const idx = c.addInput({ shape: idxShape, dtype: "int32", data: indexData(c.r, size(idxShape), s[ax]!) });
      const form = int(c.r, 0, 2);
      if (form === 0) return `${v(x)}.get(${[...globalThis.Array(ax).fill('":"'), idx].join(", ")})`;
      if (form === 1) return `np.take(${v(x)}, ${idx}, { axis: ${ax}, mode: ${lit(pick(c.r, ["fill", "clip", "wrap"]))} })`;
      return `np.take(${v(x)}, ${idx})`;
    },
  },
  cond: {
    w: 3,
    gen: (c, x) => {
      const a = c.avals[x]!;
      const scalars = c.avals.map((b, i) => [b, i] as const).filter(([b]) => b.shape.length === 0 && b.dtype !== "uint32");
      const pred = scalars.length && chance(c.r, 0.5) ? v(pick(c.r, scalars)[1]) : fl(a) ? `${v(x)}.sum().gt(0.37)` : `np.any(${v(x)})`; // not 0: sums that cancel (standardize) would branch on rounding
      const t = sub(pick(c.r, unaryFor(a)), "a");
      const f = sub(pick(c.r, unaryFor(a)), "a");
      return `lax.cond(${pred}, (a) => ${t}, (a) => ${f}, ${v(x)})`;
    },
  },
  foriLoop: {
    w: 3,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.dtype === "bool") return null;
      const n = pick(c.r, [0, 1, 3]);
      const u = sub(
        pick(c.r, fl(a) ? ["X.mul(0.5)", "np.sin(X)", "np.tanh(X)", "np.abs(X)", "nn.relu(X)", "np.sqrt(X)"] : unaryFor(a)),
        "c",
      );
      const step = fl(a) ? `${u}.add(i)` : `${u}.add(i.astype(${lit(a.dtype)}))`;
      return `lax.foriLoop(0, ${n}, (i, c) => ${step}, ${v(x)})`;
    },
  },
  scan: {
    w: 3,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.dtype === "bool" || a.shape.length === 0) return null;
      const u1 = sub(pick(c.r, unaryFor(a)), "x");
      const u2 = sub(pick(c.r, unaryFor(a)), "n");
      const mix = fl(a) ? `c.mul(0.5).add(${u1})` : `c.add(${u1})`;
      const which = int(c.r, 0, 1);
      const rev = chance(c.r, 0.3) ? ", { reverse: true }" : "";
      return `lax.scan((c, x) => { const n = ${mix}; return [n, ${u2}]; }, ${v(x)}.sum(0), ${v(x)}${rev})[${which}]`;
    },
  },
  scatter: {
    w: 4,
    gen: (c, x) => {
      const a = c.avals[x]!;
      const s = a.shape;
      if (s.length === 0) return null;
      const idxShape = randomShape(c.r, 1);
      const idx = c.addInput({ shape: idxShape, dtype: "int32", data: indexData(c.r, size(idxShape), s[0]!) });
      // Updates: a scalar constant, or a value broadcastable to idx.shape + s[1:].
      const target = [...idxShape, ...s.slice(1)];
      const ys = c.avals
        .map((b, i) => [b, i] as const)
        .filter(
          ([b]) =>
            b.dtype === a.dtype &&
            b.shape.length <= target.length &&
            broadcastable(b.shape, target) &&
            b.shape.every((d, k) => d === 1 || d === target[target.length - b.shape.length + k]),
        );
      const y = ys.length && chance(c.r, 0.7) ? v(pick(c.r, ys)[1]) : a.dtype === "bool" ? "true" : fl(a) ? "2.5" : "7";
      const ops = a.dtype === "bool" ? ["set"] : ["set", "add", "mul", "min", "max"];
      const mode = chance(c.r, 0.3) ? `, { mode: ${lit(pick(c.r, ["drop", "clip", "promise_in_bounds"]))} }` : "";
      if (mode.includes("promise")) return null;
      return `${v(x)}.at(${idx}).${pick(c.r, ops)}(${y}${mode})`;
    },
  },
  dynamicSlice: {
    w: 2,
    gen: (c, x) => {
      const s = c.avals[x]!.shape;
      if (s.length === 0) return null;
      const starts = s.map(() => String(pick(c.r, [0, 1, -1, 7])));
      const sizes = s.map((d) => int(c.r, 0, d));
      const ints = c.avals.map((b, i) => [b, i] as const).filter(([b]) => b.shape.length === 0 && b.dtype === "int32");
      if (ints.length) starts[int(c.r, 0, s.length - 1)] = v(pick(c.r, ints)[1]);
      if (chance(c.r, 0.5)) return `lax.dynamicSlice(${v(x)}, [${starts.join(", ")}], ${lit(sizes)})`;
      return `lax.dynamicUpdateSlice(${v(x)}, lax.dynamicSlice(${v(x)}, [${s.map(() => "0").join(", ")}], ${lit(sizes)}).astype(${lit(c.avals[x]!.dtype)}), [${starts.join(", ")}])`;
    },
  },
  whileLoop: {
    w: 2,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (!fl(a)) return null;
      const u = sub(pick(c.r, ["X.mul(0.5)", "np.sin(X)", "np.tanh(X)", "X.add(1)", "np.sqrt(X)"]), "y");
      return `lax.whileLoop(([i, y]) => np.logicalAnd(i.lt(${pick(c.r, [0, 2, 3])}), np.all(np.isfinite(y))), ([i, y]) => [i.add(1), ${u}], [np.array(0, { dtype: "int32" }), ${v(x)}])[1]`;
    },
  },
  switch: {
    w: 2,
    gen: (c, x) => {
      const a = c.avals[x]!;
      const ints = c.avals.map((b, i) => [b, i] as const).filter(([b]) => b.shape.length === 0 && b.dtype === "int32");
      const index = ints.length ? v(pick(c.r, ints)[1]) : String(int(c.r, -1, 3));
      const branches = [0, 1, 2].map(() => `(a) => ${sub(pick(c.r, unaryFor(a)), "a")}`);
      return `lax.switch(${index}, [${branches.join(", ")}], ${v(x)})`;
    },
  },
  topK: {
    w: 2,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.shape.length === 0 || a.dtype === "bool") return null;
      return `lax.topK(${v(x)}, ${int(c.r, 0, a.shape[a.shape.length - 1]!)})[${int(c.r, 0, 1)}]`;
    },
  },
  clampTri: {
    w: 2,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.shape.length >= 2 && chance(c.r, 0.5)) return `np.${pick(c.r, ["tril", "triu"])}(${v(x)}, ${int(c.r, -1, 1)})`;
      if (!fl(a)) return null;
      return `lax.clamp(${pick(c.r, ["-1", "0", "-0.5"])}, ${v(x)}, ${pick(c.r, ["1", "0", "0.5"])})`;
    },
  },
  oneHot: {
    w: 1,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (a.dtype !== "int32" || a.shape.length > 2) return null;
      return `nn.oneHot(${v(x)}, ${int(c.r, 0, 4)}, FDT)`;
    },
  },
  cumsumReverse: {
    w: 1,
    gen: (c, x) => {
      const a = c.avals[x]!;
      if (!fl(a) || a.shape.length === 0) return null;
      return `np.cumsum(${v(x)}, { axis: ${int(c.r, 0, a.shape.length - 1)}, reverse: true })`;
    },
  },
};
const GEN_NAMES = Object.keys(GENS);
const GEN_WEIGHT = GEN_NAMES.reduce((s, k) => s + GENS[k]!.w, 0);

/** Evaluates one expression over named arrays (eagerly here; the same text is traced elsewhere). */
export function evalExpr(expr: string, names: string[], values: Array[], floatDtype: DType): Array {
  // The statement's source text is what runs, so a printed repro is exactly the failing program.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const f = new Function("np", "lax", "nn", "FDT", ...names, `return ${expr};`) as (...a: unknown[]) => unknown;
  const out = f(np, lax, nn, floatDtype, ...values);
  return out as Array;
}

/** Source of the program as a TS function body (FDT left as a free name). */
export function programBody(p: Program): string {
  const lines = p.stmts.map((s) => `  const ${v(s.id)} = ${s.expr};`);
  return `${lines.join("\n")}\n  return [${p.outputs.map(v).join(", ")}];`;
}

export const paramNames = (p: Program): string[] => p.inputs.map((i) => v(i.id));

/** The program as a JS function `(inputs...) => Array[]` for a float dtype. */
export function programFunction(p: Program, floatDtype: DType): (...xs: Array[]) => Array[] {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function("np", "lax", "nn", "FDT", `return (${paramNames(p).join(", ")}) => {\n${programBody(p)}\n};`) as (
    ...a: unknown[]
  ) => (...xs: Array[]) => Array[];
  return make(np, lax, nn, floatDtype);
}

export interface GenStats {
  rejected: number;
  /** Statements whose eager run threw something that is not a WaxError (a crash to report). */
  crashes: { expr: string; error: string }[];
  /** Every rejected statement with its error, when collected. */
  reasons?: string[];
}

/** A random program from `seed`: 1–3 inputs, 1–`maxStmts` statements, 1–2 outputs. */
export function generate(seed: number, maxStmts = 8, stats: GenStats = { rejected: 0, crashes: [] }): Program {
  const r = rngFor(seed);
  const p: Program = { inputs: [], stmts: [], outputs: [] };
  const values: Array[] = [];
  const avals: Aval[] = [];
  const special = pick(r, [0, 0.1, 0.3]);
  const pushInput = (inp: Omit<Input, "id">): void => {
    p.inputs.push({ ...inp, id: values.length });
    values.push(inputArray({ ...inp, id: 0 }, "float32"));
    avals.push({ shape: inp.shape, dtype: inp.dtype });
  };
  const nIn = int(r, 1, 3);
  for (let i = 0; i < nIn; i++) {
    const shape = randomShape(r);
    const dtype = pick(r, ["float32", "float32", "float32", "int32", "uint32", "bool"] as DType[]);
    pushInput({ shape, dtype, data: randomData(r, size(shape), dtype, special) });
  }
  const nStmts = int(r, 1, maxStmts);
  for (let tries = 0; p.stmts.length < nStmts && tries < nStmts * 6; tries++) {
    let w = r() * GEN_WEIGHT;
    let kind = GEN_NAMES[0]!;
    for (const k of GEN_NAMES) {
      w -= GENS[k]!.w;
      if (w < 0) {
        kind = k;
        break;
      }
    }
    // Favour the latest values, so statements chain.
    const x = chance(r, 0.6) && p.stmts.length ? p.stmts[p.stmts.length - 1]!.id : int(r, 0, values.length - 1);
    const newInputs: Omit<Input, "id">[] = [];
    const ctx: Ctx = {
      r,
      avals,
      addInput: (inp) => {
        newInputs.push(inp);
        return v(values.length + newInputs.length - 1);
      },
    };
    const expr = GENS[kind]!.gen(ctx, x);
    if (expr === null) continue;
    const extra = newInputs.map((inp) => inputArray({ ...inp, id: 0 }, "float32"));
    const all = [...values, ...extra];
    let out: Array;
    try {
      out = evalExpr(
        expr,
        all.map((_, i) => v(i)),
        all,
        "float32",
      );
      if (!(out instanceof Object) || !("aval" in out)) throw new TypeError(`not an Array: ${String(out)}`);
    } catch (e) {
      stats.rejected++;
      stats.reasons?.push(`${expr} :: ${(e as Error).message}`);
      if (!isWaxError(e)) stats.crashes.push({ expr, error: `${(e as Error).constructor?.name}: ${(e as Error).message}` });
      continue;
    }
    newInputs.forEach(pushInput);
    p.stmts.push({ id: values.length, expr });
    values.push(out);
    avals.push({ shape: out.shape, dtype: out.dtype });
  }
  const ids = p.stmts.map((s) => s.id);
  if (ids.length === 0) p.outputs = [0];
  else {
    p.outputs = [ids[ids.length - 1]!];
    if (ids.length > 1 && chance(r, 0.5)) p.outputs.unshift(ids[int(r, 0, ids.length - 2)]!);
  }
  return p;
}

export function isWaxError(e: unknown): boolean {
  for (let q = e === null || typeof e !== "object" ? null : Object.getPrototypeOf(e); q; q = Object.getPrototypeOf(q)) {
    if (q.constructor?.name === "WaxError") return true;
  }
  return false;
}
