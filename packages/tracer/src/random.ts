/**
 * JAX-compatible random numbers: threefry2x32 in JAX's default ("partitionable") mode, so
 * a port of a JAX program draws the same bits. Keys are `uint32[2]` arrays (JAX's raw
 * `PRNGKey`). Every sampler (`bits`, `uniform`, `normal`, `bernoulli`, `randint`, `gumbel`,
 * and `permutation`/`choice` through the `sort` and `top_k` primitives) is made of
 * primitives, so it traces, batches and compiles like any op.
 */
import { ConcreteArray, type Array } from "./array";
import { Aval } from "./aval";
import { allocate, type DType } from "./dtype";
import { ArgumentError, ConcretizationError, ShapeError } from "./errors";
import * as lax from "./lax";
import { sortKeyVal, topK } from "./lax-sort";
import { promote } from "./numpy/promote";
import { take } from "./numpy/take";
import { asArray, type ArrayLike } from "./values";

function u32(v: number): Array {
  return new ConcreteArray(new Aval([], "uint32"), new Uint32Array([v >>> 0]));
}

/** A key from an integer seed: `[seed >> 32, seed & 0xffffffff]` as uint32 (JAX's `PRNGKey`). */
export function key(seed: number): Array {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError(`key: seed ${seed} must be a safe integer`);
  const hi = seed < 0 ? 0xffffffff : Math.floor(seed / 2 ** 32) >>> 0;
  return new ConcreteArray(new Aval([2], "uint32"), new Uint32Array([hi, seed >>> 0]));
}
export const PRNGKey = key;

/** A sample shape: a list of dimensions, or one integer for a 1-D sample (`normal(key, 3)`). */
export type ShapeArg = number | readonly number[];

function toShape(op: string, shape: unknown): readonly number[] {
  if (typeof shape === "number" && Number.isInteger(shape) && shape >= 0) return [shape];
  if (globalThis.Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) return shape as number[];
  throw new ArgumentError(
    `${op}: shape must be a non-negative integer or a list of them, got ${JSON.stringify(shape) ?? String(shape)} — e.g. ${op}(key, [2, 3])`,
  );
}

function checkKey(op: string, k: Array): void {
  if (k.dtype !== "uint32" || k.ndim !== 1 || k.shape[0] !== 2) {
    throw new ShapeError(`${op}: a key is a uint32[2] array (from key(seed) or split), got ${k.aval} — use random.key(seed)`);
  }
}

function halves(k: Array): [Array, Array] {
  return [lax.reshape(lax.slice(k, [0], [1]), []), lax.reshape(lax.slice(k, [1], [2]), [])];
}

/** Threefry on the counters 0..n-1 laid out in `shape` (hi word 0): two uint32 arrays. */
function hashCounters(k: Array, shape: readonly number[]): [Array, Array] {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n >= 2 ** 32) throw new ShapeError(`random: shape [${shape.join(",")}] has 2^32 or more elements`);
  const [k0, k1] = halves(k);
  const lo = lax.reshape(lax.iota("uint32", [n], 0), shape);
  return lax.threefry2x32(k0, k1, u32(0), lo);
}

/** `num` new keys, shape `[num, 2]`. */
export function split(k: Array, num = 2): Array {
  checkKey("split", k);
  const [y0, y1] = hashCounters(k, [num]);
  return lax.concatenate([lax.reshape(y0, [num, 1]), lax.reshape(y1, [num, 1])], 1);
}

/** A new key from `k` and an integer `data` (JAX's `fold_in`). */
export function foldIn(k: Array, data: number): Array {
  checkKey("foldIn", k);
  const [k0, k1] = halves(k);
  const [y0, y1] = lax.threefry2x32(k0, k1, u32(Math.floor(data / 2 ** 32)), u32(data));
  return lax.concatenate([lax.reshape(y0, [1]), lax.reshape(y1, [1])], 0);
}

/** Random uint32 bits of `shape`. */
export function bits(k: Array, shapeArg: ShapeArg = []): Array {
  checkKey("bits", k);
  const shape = toShape("bits", shapeArg);
  const [y0, y1] = hashCounters(k, shape);
  return lax.xor(y0, y1);
}

export interface UniformOptions {
  minval?: ArrayLike;
  maxval?: ArrayLike;
  dtype?: DType;
}

/** Uniform floats in `[minval, maxval)` (JAX's construction from the top 23 bits). */
export function uniform(k: Array, shapeArg: ShapeArg = [], opts: UniformOptions = {}): Array {
  checkKey("uniform", k);
  const shape = toShape("uniform", shapeArg);
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32") throw new ArgumentError(`uniform: dtype ${dtype} is not supported — use float32`);
  const b = bits(k, shape);
  const mant = lax.or(lax.shiftRightLogical(b, u32(9)), u32(0x3f800000));
  const floats = lax.sub(lax.bitcastConvertType(mant, "float32"), asArrayF(1));
  const [lo, hi] = [asArrayF(opts.minval ?? 0), asArrayF(opts.maxval ?? 1)];
  const [loB, hiB] = promote(lo, hi).map((v) =>
    v.ndim === 0
      ? v
      : lax.broadcastInDim(
          v,
          shape,
          v.shape.map((_, i) => shape.length - v.ndim + i),
        ),
  );
  const scaled = lax.add(lax.mul(floats, lax.sub(hiB!, loB!)), loB!);
  return lax.max(loB!, scaled);
}

function asArrayF(v: ArrayLike): Array {
  const a = asArray(v);
  return a.dtype === "float32" ? a : lax.convertElementType(a, "float32", a.weakType);
}

/** Standard normal samples: `sqrt(2) · erf_inv(u)` with `u` uniform on (-1, 1), as JAX. */
export function normal(k: Array, shapeArg: ShapeArg = [], opts: { dtype?: DType } = {}): Array {
  const shape = toShape("normal", shapeArg);
  const lo = -0.99999994; // nextafter(-1, 0) in float32
  const u = uniform(k, shape, { minval: lo, maxval: 1, dtype: opts.dtype });
  return lax.mul(lax.erfInv(u), asArrayF(Math.SQRT2));
}

/** Booleans that are true with probability `p`. */
export function bernoulli(k: Array, p: ArrayLike = 0.5, shapeArg: ShapeArg = []): Array {
  const shape = toShape("bernoulli", shapeArg);
  const u = uniform(k, shape);
  const pa = asArrayF(p);
  return lax.lt(
    u,
    pa.ndim === 0
      ? pa
      : lax.broadcastInDim(
          pa,
          shape,
          pa.shape.map((_, i) => shape.length - pa.ndim + i),
        ),
  );
}

// ---- integers, permutations and choices ----------------------------------------------------

function keyRow(ks: Array, i: number): Array {
  return lax.reshape(lax.slice(ks, [i, 0], [i + 1, 2]), [2]);
}

function broadcastToRank(x: Array, shape: readonly number[]): Array {
  if (x.ndim === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  if (x.ndim > shape.length) throw new ShapeError(`randint: minval/maxval ${x.aval} do not broadcast to shape [${shape.join(",")}]`);
  return lax.broadcastInDim(
    x,
    shape,
    x.shape.map((_, i) => shape.length - x.ndim + i),
  );
}

function asInt32(op: string, v: ArrayLike, what: string): Array {
  if (typeof v === "number" && (!Number.isInteger(v) || v < -2147483648 || v > 2147483647)) {
    throw new ArgumentError(`${op}: ${what} ${v} is not an int32 — pass an integer in [-2^31, 2^31)`);
  }
  const a = asArray(v);
  return a.dtype === "int32" ? a : lax.convertElementType(a, "int32", a.weakType);
}

/**
 * Uniform int32 integers in `[minval, maxval)` (JAX's `randint`, bit for bit): two words of
 * random bits per value reduced modulo the span (a tiny bias when the span is not a power of
 * two, as in JAX); `maxval <= minval` gives `minval`.
 */
export function randint(k: Array, shapeArg: ShapeArg, minval: ArrayLike, maxval: ArrayLike): Array {
  checkKey("randint", k);
  const shape = toShape("randint", shapeArg);
  const lo = broadcastToRank(asInt32("randint", minval, "minval"), shape);
  const hi = broadcastToRank(asInt32("randint", maxval, "maxval"), shape);
  const ks = split(k);
  const higher = bits(keyRow(ks, 0), shape);
  const lower = bits(keyRow(ks, 1), shape);
  let span = lax.convertElementType(lax.sub(hi, lo), "uint32");
  span = lax.selectN(lax.le(hi, lo), span, lax.broadcastInDim(u32(1), span.shape, []));
  // (a * 2^32 + b) mod span without 64-bit integers: 2^32 mod span = (2^16 mod span)^2 mod span.
  let multiplier = lax.rem(lax.broadcastInDim(u32(65536), span.shape, []), span);
  multiplier = lax.rem(lax.mul(multiplier, multiplier), span);
  const offset = lax.rem(lax.add(lax.mul(lax.rem(higher, span), multiplier), lax.rem(lower, span)), span);
  return lax.add(lo, lax.convertElementType(offset, "int32"));
}

/** Standard Gumbel samples, `-log(-log(u))` with `u` uniform on `[tiny, 1)` (JAX's default "low" mode). */
export function gumbel(k: Array, shapeArg: ShapeArg = []): Array {
  const shape = toShape("gumbel", shapeArg);
  const tiny = 1.1754943508222875e-38; // float32 smallest normal
  const u = uniform(k, shape, { minval: tiny, maxval: 1 });
  return lax.neg(lax.log(lax.neg(lax.log(u))));
}

/**
 * The size of a permutation or choice given as a JS number or a concrete integer scalar (JAX
 * reads it with `concrete_or_error`: it fixes the result's shape).
 */
function sizeOf(op: string, n: number | Array, what: string): number {
  if (typeof n !== "number") {
    if (n.dtype !== "int32" && n.dtype !== "uint32")
      throw new ArgumentError(`${op}: ${what} is a scalar ${n.aval} — pass an integer or an array of rank ≥ 1`);
    const c = n.concreteValue();
    if (c === null) {
      throw new ConcretizationError(
        `${op}: ${what} is a traced scalar (${n.aval}), but it sets the result's shape, which must be known when tracing — pass a JS number, or an array to draw from`,
      );
    }
    n = c.item();
  }
  if (!Number.isInteger(n) || n < 0 || n > 2147483647)
    throw new ArgumentError(`${op}: ${n} is not a non-negative integer — pass a size or an array`);
  return n;
}

/**
 * JAX's `_shuffle`: `ceil(3 ln(size) / ln(2^32 - 1))` rounds (one round up to 1625
 * elements), each splitting the key into `(key, subkey)` and stably sorting `x` along `axis`
 * by `bits(subkey)` (`sort_key_val`). Repeated rounds make key collisions vanishingly unlikely.
 */
function shuffle(k: Array, x: Array, axis: number): Array {
  const rounds = Math.ceil((3 * Math.log(Math.max(1, x.size))) / Math.log(4294967295));
  let out = x;
  for (let r = 0; r < rounds; r++) {
    const ks = split(k);
    k = keyRow(ks, 0);
    out = sortKeyVal(bits(keyRow(ks, 1), x.shape), out, { dimension: axis })[1];
  }
  return out;
}

function normAxisOf(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim)
    throw new ShapeError(`${op}: axis ${axis} is out of range for rank ${ndim} — use an axis in [${-ndim}, ${ndim})`);
  return axis < 0 ? axis + ndim : axis;
}

export interface PermutationOptions {
  /** The axis shuffled. Default 0. */
  axis?: number;
  /** Shuffle every lane along `axis` independently instead of whole slices together. Default false. */
  independent?: boolean;
}

/**
 * A random permutation of `arange(n)`, or of `x`'s slices along `axis` (JAX's `permutation`,
 * same algorithm and key use, so the same key gives JAX's result). With `independent`, each
 * lane along `axis` is shuffled separately.
 *
 * Built on the `sort` primitive, so it traces: it runs under `filterJit`, `vmap` (over keys
 * or arrays) and `grad` (of a shuffled float array). Only `n`, which sets the result's
 * shape, must be a JS number or a concrete scalar.
 *
 * @example
 * random.permutation(random.key(0), 5)            // int32[5], a shuffled 0..4
 * random.permutation(k, x, { axis: 1 })            // x with its columns shuffled
 */
export function permutation(k: Array, x: number | Array, opts: PermutationOptions = {}): Array {
  checkKey("permutation", k);
  if (typeof x === "number" || x.ndim === 0) return shuffle(k, lax.iota("int32", [sizeOf("permutation", x, "x")], 0), 0);
  const axis = normAxisOf("permutation", opts.axis ?? 0, x.ndim);
  if (opts.independent || x.ndim === 1) return shuffle(k, x, axis);
  const perm = shuffle(k, lax.iota("int32", [x.shape[axis]!], 0), 0);
  return take(x, perm, { axis, mode: "promise_in_bounds", uniqueIndices: true });
}

export interface ChoiceOptions {
  /** Output shape (for an array `a`, replaces axis `axis`). Default `[]`: one draw. */
  shape?: readonly number[];
  /** Draw with replacement. Default true. */
  replace?: boolean;
  /** Probabilities of the entries (1-D, length `a.shape[axis]`); uniform when omitted. */
  p?: ArrayLike;
  /** The axis drawn from when `a` is an array. Default 0. */
  axis?: number;
}

/**
 * Random draws from `arange(a)` or from `a`'s slices along `axis` (JAX's `choice`, same
 * algorithms: `randint` with replacement, a permutation's prefix without, inverse-CDF
 * search with `p`, Gumbel top-k with `p` and no replacement).
 *
 * Everything traces (`filterJit`, `vmap`) except the population size given as a traced
 * scalar `a`, which sets the result's shape.
 */
export function choice(k: Array, a: number | Array, opts: ChoiceOptions = {}): Array {
  checkKey("choice", k);
  const shape = opts.shape ?? [];
  const replace = opts.replace ?? true;
  const arr: Array | null = typeof a === "number" || a.ndim === 0 ? null : a;
  const axis = arr ? normAxisOf("choice", opts.axis ?? 0, arr.ndim) : 0;
  const nInputs = arr ? arr.shape[axis]! : sizeOf("choice", a, "a");
  const nDraws = shape.reduce((x, y) => x * y, 1);
  const outShape = arr ? [...arr.shape.slice(0, axis), ...shape, ...arr.shape.slice(axis + 1)] : [...shape];
  if (nDraws === 0) return new ConcreteArray(new Aval(outShape, arr ? arr.dtype : "int32"), allocate(arr ? arr.dtype : "int32", 0));
  if (nInputs <= 0) throw new ArgumentError("choice: a must be greater than 0 unless no samples are taken");
  if (!replace && nDraws > nInputs) {
    throw new ArgumentError(
      `choice: cannot take a larger sample (size ${nDraws}) than population (size ${nInputs}) when replace is false — draw fewer or set replace: true`,
    );
  }
  let ind: Array;
  if (opts.p === undefined) {
    if (replace) ind = randint(k, shape, 0, nInputs);
    else {
      const perm = permutation(k, arr ?? nInputs, { axis });
      const limits = perm.shape.map((d, i) => (i === axis ? nDraws : d));
      return lax.reshape(
        lax.slice(
          perm,
          perm.shape.map(() => 0),
          limits,
        ),
        outShape,
      );
    }
  } else {
    const p = asArrayF(opts.p);
    if (p.ndim !== 1 || p.shape[0] !== nInputs) {
      throw new ShapeError(
        `choice: p must be None or a 1-D vector with the same size as a.shape[axis]; p is ${p.aval} and a.shape[axis] is ${nInputs}`,
      );
    }
    if (replace) {
      const cdf = lax.cumsum(p, 0);
      const total = lax.reshape(lax.slice(cdf, [nInputs - 1], [nInputs]), []);
      const r = lax.mul(total, lax.sub(asArrayF(1), uniform(k, shape)));
      // searchsorted(cdf, r, side="left") = the number of cdf entries < r
      const rb = lax.broadcastInDim(
        r,
        [...shape, nInputs],
        shape.map((_, i) => i),
      );
      const cb = lax.broadcastInDim(cdf, [...shape, nInputs], [shape.length]);
      ind = lax.reduceSum(lax.convertElementType(lax.lt(cb, rb), "int32"), [shape.length]);
    } else {
      // Gumbel top-k: the nDraws largest of gumbel + log p.
      ind = topK(lax.add(gumbel(k, [nInputs]), lax.log(p)), nDraws)[1];
    }
  }
  if (!arr) return lax.reshape(ind, shape);
  return lax.reshape(take(arr, ind, { axis, mode: "promise_in_bounds" }), outShape);
}

/** Options of `categorical`. */
export interface CategoricalOptions {
  /** The class axis of `logits` (default -1). */
  axis?: number;
  /** Output shape; must end with the batch shape (`logits`' shape without `axis`). Default: the batch shape. */
  shape?: ShapeArg;
}

/**
 * Samples class indices from unnormalised log-probabilities (`jax.random.categorical`, bit
 * for bit): `argmax(gumbel(key) + logits)` along `axis`, an int32 array of the batch shape (or
 * `shape`, with extra leading sample dimensions).
 *
 * @example
 * random.categorical(key, np.log(array([0.2, 0.8])), { shape: [1000] })   // ~80% ones
 */
export function categorical(k: Array, logits: ArrayLike, opts: CategoricalOptions = {}): Array {
  checkKey("categorical", k);
  const l = asArrayF(logits);
  if (l.ndim === 0) throw new ShapeError(`categorical: logits must have at least one axis (the classes), got ${l.aval}`);
  let axis = opts.axis ?? -1;
  if (!Number.isInteger(axis) || axis < -l.ndim || axis >= l.ndim)
    throw new ShapeError(`categorical: axis ${axis} is out of bounds for logits ${l.aval}`);
  if (axis >= 0) axis -= l.ndim;
  const ax = axis + l.ndim;
  const batchShape = l.shape.filter((_, i) => i !== ax);
  const shape = opts.shape === undefined ? batchShape : [...toShape("categorical", opts.shape)];
  const tail = shape.slice(shape.length - batchShape.length);
  if (shape.length < batchShape.length || tail.some((d, i) => d !== batchShape[i])) {
    throw new ShapeError(
      `categorical: shape [${shape.join(",")}] must end with the batch shape [${batchShape.join(",")}] (logits ${l.aval} without axis ${axis}) — JAX's rule for categorical's shape`,
    );
  }
  const prefix = shape.slice(0, shape.length - batchShape.length);
  const logitsShape = [...tail];
  logitsShape.splice(ax, 0, l.shape[ax]!);
  const full = [...prefix, ...logitsShape];
  const g = gumbel(k, full);
  const lb = lax.broadcastInDim(
    l,
    full,
    l.shape.map((_, i) => prefix.length + i),
  );
  return lax.argmax(lax.add(g, lb), prefix.length + ax);
}
