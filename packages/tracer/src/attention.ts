/** `dotProductAttention`, as `jax.nn.dot_product_attention` (its XLA implementation). */
import type { Array } from "./array";
import { ArgumentError, DTypeError, ShapeError } from "./errors";
import * as lax from "./lax";
import * as np from "./numpy/index";
import { softmax } from "./nn";
import { asArray, type ArrayLike } from "./values";

export interface DotProductAttentionOptions {
  /** Added to the logits; 4-d (or fewer dims, left-padded with 1s), broadcastable to `[B, N, T, S]`. */
  bias?: ArrayLike | null;
  /** Boolean, `true` where a query may attend to a key; broadcastable to `[B, N, T, S]` as `bias`. */
  mask?: ArrayLike | null;
  /** Mask out keys after each query (`key index <= query index`). Default false. */
  isCausal?: boolean;
  /** Multiplies the logits; default `1/sqrt(H)`. */
  scale?: number | null;
}

/**
 * Scaled dot-product attention `softmax(scale · Q Kᵀ + bias, masked) V` on arrays laid out as
 * JAX's: `query` `[B, T, N, H]` (or `[T, N, H]`), `key` and `value` `[B, S, K, H]` (or
 * `[S, K, H]`), where `N` query heads share `K` key/value heads in groups of `N/K` (grouped
 * query attention; `K = N` is ordinary multi-head attention). Masked logits are set to
 * `-0.7 · finfo.max`, as JAX, so a fully masked float32 row gives a uniform average rather
 * than NaN. The logits are computed in at least float32 and the softmax in float32 (as JAX,
 * even for float64 inputs, where a fully masked row is therefore NaN, also as JAX). The result
 * has `query`'s shape.
 *
 * @example
 * const out = nn.dotProductAttention(q, k, v, { isCausal: true });   // q, k, v: [T, N, H]
 */
export function dotProductAttention(query: ArrayLike, key: ArrayLike, value: ArrayLike, opts: DotProductAttentionOptions = {}): Array {
  checkOptions(opts);
  const { bias = null, mask = null, isCausal = false, scale = null } = opts;
  const q0 = asArray(query);
  const outputShape = q0.shape;
  const q = ensure4d("query", q0);
  const k = ensure4d("key", asArray(key));
  const v = ensure4d("value", asArray(value));
  const [B, S, K, H] = k.shape as [number, number, number, number];
  if (v.dtype !== k.dtype || v.shape.some((d, i) => d !== k.shape[i])) {
    throw new ShapeError(
      `dotProductAttention: value must have key's shape and dtype ${k.aval}, got ${v.aval} — pass key and value as [B, S, K, H] (or [S, K, H])`,
    );
  }
  if (q.dtype !== k.dtype || q.shape[0] !== B || q.shape[3] !== H) {
    throw new ShapeError(
      `dotProductAttention: query ${q.aval} must match key ${k.aval} in batch, head size and dtype — lay query out as [B, T, N, H] (or [T, N, H])`,
    );
  }
  const T = q.shape[1]!;
  const N = q.shape[2]!;
  if (N % K !== 0)
    throw new ShapeError(`dotProductAttention: the number of query heads must be a multiple of key/value heads, got ${N} vs ${K}`);
  const G = N / K;
  const logitsShape = [B, N, T, S];
  const b = bias === null ? null : broadcast4d("bias", asArray(bias), logitsShape);
  const m = mask === null ? null : broadcast4d("mask", asArray(mask), logitsShape);
  if (m !== null && m.dtype !== "bool")
    throw new DTypeError(`dotProductAttention: mask must be boolean, got ${m.dtype} — pass a boolean mask, or an additive one as bias`);
  const scaleValue = scale ?? 1 / Math.sqrt(H);

  // As JAX: query heads n = k·G + g share key/value head k; logits in at least float32.
  const logitsDtype = q.dtype === "float64" ? "float64" : "float32";
  const qg = np.reshape(q, [B, T, K, G, H]).astype(logitsDtype);
  let logits = np.reshape(np.einsum("btkgh,bskh->bkgts", qg, k.astype(logitsDtype)), logitsShape);
  logits = np.multiply(logits, np.full([], scaleValue, logitsDtype));
  if (b !== null) logits = np.add(logits, b).astype(logitsDtype);
  let keep: Array | null = m;
  if (isCausal) {
    const causal = lax.ge(lax.iota("int32", [T, S], 0), lax.iota("int32", [T, S], 1));
    keep = keep === null ? np.broadcastTo(causal, logitsShape) : np.logicalAnd(keep, causal);
  }
  if (keep !== null) logits = np.where(keep, logits, largeNegative(logitsDtype));
  const probs = softmax(logits.astype("float32"), -1).astype(k.dtype);
  const encoded = np.einsum("bkgts,bskh->btkgh", np.reshape(probs, [B, K, G, T, S]), v);
  return np.reshape(encoded, outputShape);
}

function ensure4d(name: string, t: Array): Array {
  if (t.ndim === 4) return t;
  if (t.ndim === 3 && name !== "bias" && name !== "mask") return np.reshape(t, [1, ...t.shape]);
  if (t.ndim < 4 && (name === "bias" || name === "mask"))
    return np.reshape(t, [...globalThis.Array<number>(4 - t.ndim).fill(1), ...t.shape]);
  const want =
    name === "query"
      ? "[B, T, N, H] or [T, N, H]"
      : name === "bias" || name === "mask"
        ? "at most 4 dims, broadcastable to [B, N, T, S]"
        : "[B, S, K, H] or [S, K, H]";
  throw new ShapeError(`dotProductAttention: ${name} must be ${want}, got ${t.aval}`);
}

function broadcast4d(name: string, t: Array, shape: number[]): Array {
  const t4 = ensure4d(name, t);
  if (t4.shape.some((d, i) => d !== 1 && d !== shape[i])) {
    throw new ShapeError(
      `dotProductAttention: ${name} ${t.aval} is not broadcastable to the logits [${shape.join(", ")}] ([B, N, T, S]) — give it size 1 or the full size on each axis`,
    );
  }
  return np.broadcastTo(t4, shape);
}

/** JAX's `_get_large_negative`: `-0.7 · finfo(dtype).max`. */
function largeNegative(dtype: "float32" | "float64"): Array {
  const max = dtype === "float64" ? Number.MAX_VALUE : 3.4028234663852886e38;
  return np.full([], -0.7 * max, dtype);
}

/** Rejects a misspelt option rather than ignoring it. */
function checkOptions(opts: object): void {
  for (const k of Object.keys(opts)) {
    if (!["bias", "mask", "isCausal", "scale"].includes(k))
      throw new ArgumentError(`dotProductAttention: unknown option ${JSON.stringify(k)} — expected bias, mask, isCausal or scale`);
  }
}
