/**
 * JAX-compatible random numbers: threefry2x32 in JAX's default ("partitionable") mode, so
 * a port of a JAX program draws the same bits. Keys are `uint32[2]` arrays (JAX's raw
 * `PRNGKey`); every function is made of primitives, so it traces and batches like any op.
 */
import { ConcreteArray, type Array } from "./array";
import { Aval } from "./aval";
import type { DType } from "./dtype";
import { ArgumentError, ShapeError } from "./errors";
import * as lax from "./lax";
import { promote } from "./numpy/promote";
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
export function bits(k: Array, shape: readonly number[] = []): Array {
  checkKey("bits", k);
  const [y0, y1] = hashCounters(k, shape);
  return lax.xor(y0, y1);
}

export interface UniformOptions {
  minval?: ArrayLike;
  maxval?: ArrayLike;
  dtype?: DType;
}

/** Uniform floats in `[minval, maxval)` (JAX's construction from the top 23 bits). */
export function uniform(k: Array, shape: readonly number[] = [], opts: UniformOptions = {}): Array {
  checkKey("uniform", k);
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32") throw new ArgumentError(`uniform: dtype ${dtype} is not supported — use float32`);
  const b = bits(k, shape);
  const mant = lax.or(lax.shiftRightLogical(b, u32(9)), u32(0x3f800000));
  const floats = lax.sub(lax.bitcastConvertType(mant, "float32"), asArrayF(1));
  const [lo, hi] = [asArrayF(opts.minval ?? 0), asArrayF(opts.maxval ?? 1)];
  const [loB, hiB] = promote(lo, hi).map((v) => (v.ndim === 0 ? v : lax.broadcastInDim(v, shape, v.shape.map((_, i) => shape.length - v.ndim + i))));
  const scaled = lax.add(lax.mul(floats, lax.sub(hiB!, loB!)), loB!);
  return lax.max(loB!, scaled);
}

function asArrayF(v: ArrayLike): Array {
  const a = asArray(v);
  return a.dtype === "float32" ? a : lax.convertElementType(a, "float32", a.weakType);
}

/** Standard normal samples: `sqrt(2) · erf_inv(u)` with `u` uniform on (-1, 1), as JAX. */
export function normal(k: Array, shape: readonly number[] = [], opts: { dtype?: DType } = {}): Array {
  const lo = -0.99999994; // nextafter(-1, 0) in float32
  const u = uniform(k, shape, { minval: lo, maxval: 1, dtype: opts.dtype });
  return lax.mul(lax.erfInv(u), asArrayF(Math.SQRT2));
}

/** Booleans that are true with probability `p`. */
export function bernoulli(k: Array, p: ArrayLike = 0.5, shape: readonly number[] = []): Array {
  const u = uniform(k, shape);
  const pa = asArrayF(p);
  return lax.lt(u, pa.ndim === 0 ? pa : lax.broadcastInDim(pa, shape, pa.shape.map((_, i) => shape.length - pa.ndim + i)));
}
