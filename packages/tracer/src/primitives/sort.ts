/**
 * Sorting primitives: `sort` (several operands sorted together along one dimension by the
 * first `num_keys` of them, lexicographically) and `top_k` (the `k` largest entries along the
 * last axis, with their indices).
 *
 * The orders are XLA's, as JAX uses them:
 * - `sort` compares floats after JAX's `_canonicalize_float_for_sort`: `-0` equals `+0` and
 *   every NaN (of either sign) equals every other and is larger than `+inf`, so NaNs go last
 *   and ties keep their input order (the sort is always stable here; `is_stable` is recorded
 *   for printing and for JAX parity).
 * - `top_k` is XLA's descending *total* order, `NaN > +inf > ... > +0 > -0 > ... > -inf`, except
 *   that every NaN ranks as +NaN whatever its sign (compiled code cannot rely on NaN signs),
 *   ties broken by the lower index (XLA's TopK decomposition and CPU runtime).
 */
import { Aval } from "../aval";
import { allocate, type TypedArray } from "../dtype";
import { ShapeError } from "../errors";
import { definePrimitive } from "../primitive";
import { avalsStr } from "./checks";

/** Sizes before, along and after `axis`: element (o, i, j) sits at `(o * len + i) * inner + j`. */
function lanesOf(shape: readonly number[], axis: number): [outer: number, len: number, inner: number] {
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  return [outer, shape[axis]!, inner];
}

/**
 * `sort`'s comparison of two elements: floats as JAX canonicalizes them (±0 equal, NaNs equal
 * and last), everything else numerically. Returns <0, 0 or >0.
 */
function compareForSort(a: number, b: number): number {
  const an = a !== a;
  const bn = b !== b;
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Keys in XLA's float total order as int32 (`-NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN`):
 * the bits, with the magnitude bits of negative values flipped so that signed integer order
 * is the float order. Float32 data only (float64 uses `compareTotalOrder64`).
 */
function totalOrderKeys32(data: Float32Array): Int32Array {
  const bits = new Int32Array(data.buffer, data.byteOffset, data.length);
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const s = bits[i]!;
    // Every NaN ranks as +NaN: WebAssembly leaves the sign of a computed NaN unspecified, so a
    // NaN's sign cannot decide its rank (a deviation from XLA's total order, in the README).
    out[i] = (s & 0x7fffffff) > 0x7f800000 ? 0x7fc00000 : s < 0 ? s ^ 0x7fffffff : s;
  }
  return out;
}

/** XLA's total order on float64 values (NaN payloads are not ordered among themselves). */
function compareTotalOrder64(a: number, b: number, aNeg: boolean, bNeg: boolean): number {
  const ca = a !== a ? 2 : 0; // every NaN as +NaN, as totalOrderKeys32
  const cb = b !== b ? 2 : 0;
  if (ca !== cb) return ca - cb;
  if (ca !== 0) return 0;
  if (a !== b) return a < b ? -1 : 1;
  return aNeg === bNeg ? 0 : aNeg ? -1 : 1; // -0 < +0
}

function signBits64(data: Float64Array): Uint8Array {
  const words = new Int32Array(data.buffer, data.byteOffset, data.length * 2);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = words[2 * i + 1]! < 0 ? 1 : 0; // little-endian high word
  return out;
}

function checkDimension(op: string, aval: Aval, dimension: number, what: string): void {
  if (!Number.isInteger(dimension) || dimension < 0 || dimension >= aval.ndim) {
    const hint = aval.ndim === 0 ? "sort arrays of rank ≥ 1 (reshape a scalar to [1])" : `use a dimension in [0, ${aval.ndim})`;
    throw new ShapeError(`${op}: ${what} ${dimension} is out of range for ${aval} (rank ${aval.ndim}) — ${hint}`);
  }
}

/**
 * `sort`: operands of one shape sorted together along `dimension`, by the first `num_keys`
 * (lexicographically, in JAX's float order), stably; one output per operand.
 */
export const sort = definePrimitive("sort", {
  abstractEval(avals, params) {
    const { dimension, num_keys: numKeys } = params;
    if (avals.length === 0) throw new ShapeError("sort: no operands — pass at least one array to sort");
    const first = avals[0]!;
    if (avals.some((a) => a.ndim !== first.ndim || a.shape.some((d, i) => d !== first.shape[i]))) {
      throw new ShapeError(`sort: operands must have equal shapes, got ${avalsStr(avals)} — broadcast them to one shape first`);
    }
    checkDimension("sort", first, dimension, "dimension");
    if (!Number.isInteger(numKeys) || numKeys < 1 || numKeys > avals.length) {
      throw new ShapeError(
        `sort: num_keys ${numKeys} must be between 1 and the number of operands (${avals.length}) — the first num_keys operands are the keys`,
      );
    }
    if (typeof params.is_stable !== "boolean") throw new ShapeError(`sort: is_stable must be a boolean, got ${String(params.is_stable)}`);
    return avals.map((a) => a);
  },
  impl(args, params, outAvals) {
    const { dimension, num_keys: numKeys } = params;
    const shape = args[0]!.shape;
    const [outer, len, inner] = lanesOf(shape, dimension);
    const outs = outAvals.map((a) => allocate(a.dtype, a.size));
    const keys = args.slice(0, numKeys).map((a) => a.data);
    const idx = globalThis.Array.from({ length: len }, (_, i) => i);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        // Array.prototype.sort is stable (ES2019), so ties keep their input order.
        const perm = idx.slice().sort((p, q) => {
          for (const k of keys) {
            const c = compareForSort(k[base + p * inner]!, k[base + q * inner]!);
            if (c !== 0) return c;
          }
          return 0;
        });
        args.forEach((a, n) => {
          const src = a.data;
          const dst = outs[n]!;
          for (let i = 0; i < len; i++) dst[base + i * inner] = src[base + perm[i]! * inner]!;
        });
      }
    }
    return outs;
  },
  ppParams: (p) => [
    ["dimension", p.dimension],
    ["is_stable", p.is_stable],
    ["num_keys", p.num_keys],
  ],
  multipleResults: true,
});

/** A comparator of positions within one row of `data` in XLA's descending total order. */
function descendingTotalOrder(data: TypedArray): (p: number, q: number) => number {
  if (data instanceof Float32Array) {
    const keys = totalOrderKeys32(data);
    return (p, q) => keys[q]! - keys[p]! || p - q;
  }
  if (data instanceof Float64Array) {
    const neg = signBits64(data);
    return (p, q) => compareTotalOrder64(data[q]!, data[p]!, neg[q] === 1, neg[p] === 1) || p - q;
  }
  return (p, q) => data[q]! - data[p]! || p - q;
}

/** `top_k`: the `k` largest entries along the last axis (XLA's total order) and their int32 indices. */
export const topK = definePrimitive("top_k", {
  abstractEval([x], params) {
    const { k } = params;
    if (x!.ndim === 0)
      throw new ShapeError(`top_k: the operand ${x} is a scalar — top_k works along the last axis of an array of rank ≥ 1`);
    const n = x!.shape[x!.ndim - 1]!;
    if (!Number.isInteger(k) || k < 0) throw new ShapeError(`top_k: k must be a non-negative integer, got ${k} — pass k in [0, ${n}]`);
    if (k > n) throw new ShapeError(`top_k: k ${k} is larger than the last axis of ${x} (${n}) — pass k in [0, ${n}]`);
    const shape = [...x!.shape.slice(0, -1), k];
    return [new Aval(shape, x!.dtype, x!.weakType), new Aval(shape, "int32")];
  },
  impl([x], params, [vals, inds]) {
    const { k } = params;
    const n = x!.shape[x!.ndim - 1]!;
    const rows = n === 0 ? 0 : x!.size / n;
    const outV = allocate(vals!.dtype, vals!.size);
    const outI = new Int32Array(inds!.size);
    const idx = globalThis.Array.from({ length: n }, (_, i) => i);
    for (let r = 0; r < rows; r++) {
      const row = x!.data.subarray(r * n, (r + 1) * n);
      const order = idx.slice().sort(descendingTotalOrder(row));
      for (let i = 0; i < k; i++) {
        outV[r * k + i] = row[order[i]!]!;
        outI[r * k + i] = order[i]!;
      }
    }
    return [outV, outI];
  },
  multipleResults: true,
});
