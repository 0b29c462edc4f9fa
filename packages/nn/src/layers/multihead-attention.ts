/** `MultiheadAttention` (Equinox's `nn.MultiheadAttention`). */
import { Array, ArgumentError, ShapeError, nn, np, promoteTypes, random, vmap, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { Dropout } from "./dropout";
import { Linear } from "./linear";

export interface MultiheadAttentionOptions {
  /** Number of heads `h`. */
  numHeads: number;
  /** Channels of the query input. */
  querySize: number;
  /** Channels of the key input (default `querySize`). */
  keySize?: number;
  /** Channels of the value input (default `querySize`). */
  valueSize?: number;
  /** Output channels (default `querySize`). */
  outputSize?: number;
  /** Channels per head that queries and keys are compared over (default `querySize / numHeads`, rounded down). */
  qkSize?: number;
  /** Channels per head of the attention-weighted values (default `querySize / numHeads`, rounded down). */
  voSize?: number;
  /** Biases on the projections (all default false, as Equinox). */
  useQueryBias?: boolean;
  useKeyBias?: boolean;
  useValueBias?: boolean;
  useOutputBias?: boolean;
  /** Dropout probability on the attention weights (default 0). */
  dropoutP?: number;
  /** Start in inference mode, where dropout is off (default false). */
  inference?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** PRNG key for the initialisation (required). */
  key: Array;
}

/** Rewrites the projected heads (`[seq, numHeads, size]` each) before attention, e.g. to apply RoPE. */
export type ProcessHeads = (queryHeads: Array, keyHeads: Array, valueHeads: Array) => [Array, Array, Array];

export interface MultiheadAttentionCallOptions {
  /** Boolean, `true` where attention is allowed: `[qSeq, kvSeq]`, or `[numHeads, qSeq, kvSeq]` per head. */
  mask?: ArrayLike | null;
  /** PRNG key for dropout; split into one key per head, as Equinox. */
  key?: Array | null;
  /** Override the `inference` field for this call. */
  inference?: boolean;
  processHeads?: ProcessHeads | null;
}

/**
 * Multi-head attention on one example: `query` `[qSeq, querySize]`, `key_` `[kvSeq, keySize]`
 * and `value` `[kvSeq, valueSize]` give `[qSeq, outputSize]`. Each is projected by a `Linear`
 * into `numHeads` heads; per head, `softmax(q kᵀ / sqrt(qkSize))` (masked logits set to the
 * dtype's lowest value, softmax in at least float32), optionally dropped out, weights the
 * values; the heads are concatenated and projected by `outputProj`. The four projections take
 * `split(key, 4)` in the order query, key, value, output, exactly as Equinox, so the same key
 * gives JAX's weights. Batch with `vmap`.
 *
 * @example
 * const mha = new MultiheadAttention({ numHeads: 4, querySize: 32, key });
 * const causal = np.greaterEqual(lax.iota("int32", [T, T], 0), lax.iota("int32", [T, T], 1));
 * const y = mha(x, x, x, { mask: causal });
 */
export class MultiheadAttention extends Module {
  queryProj: Linear;
  keyProj: Linear;
  valueProj: Linear;
  outputProj: Linear;
  dropout: Dropout;
  @field({ static: true }) numHeads: number;
  @field({ static: true }) querySize: number;
  @field({ static: true }) keySize: number;
  @field({ static: true }) valueSize: number;
  @field({ static: true }) outputSize: number;
  @field({ static: true }) qkSize: number;
  @field({ static: true }) voSize: number;
  @field({ static: true }) useQueryBias: boolean;
  @field({ static: true }) useKeyBias: boolean;
  @field({ static: true }) useValueBias: boolean;
  @field({ static: true }) useOutputBias: boolean;

  constructor(opts: MultiheadAttentionOptions) {
    super();
    if (opts === null || typeof opts !== "object")
      throw new ArgumentError("MultiheadAttention: expected an options object { numHeads, querySize, key, ... }");
    const {
      numHeads,
      querySize,
      useQueryBias = false,
      useKeyBias = false,
      useValueBias = false,
      useOutputBias = false,
      dropoutP = 0,
      inference = false,
      dtype = "float32",
      key,
    } = opts;
    if (!key) throw new ArgumentError("MultiheadAttention: a PRNG key is required — pass { key: random.key(seed) }");
    positive("numHeads", numHeads);
    positive("querySize", querySize);
    const keySize = opts.keySize ?? querySize;
    const valueSize = opts.valueSize ?? querySize;
    const outputSize = opts.outputSize ?? querySize;
    const qkSize = opts.qkSize ?? Math.floor(querySize / numHeads);
    const voSize = opts.voSize ?? Math.floor(querySize / numHeads);
    for (const [name, v] of [
      ["keySize", keySize],
      ["valueSize", valueSize],
      ["outputSize", outputSize],
      ["qkSize", qkSize],
      ["voSize", voSize],
    ] as const)
      positive(name, v);
    const [qkey, kkey, vkey, okey] = random.split(key, 4);
    this.queryProj = new Linear(querySize, numHeads * qkSize, { useBias: useQueryBias, dtype, key: qkey! });
    this.keyProj = new Linear(keySize, numHeads * qkSize, { useBias: useKeyBias, dtype, key: kkey! });
    this.valueProj = new Linear(valueSize, numHeads * voSize, { useBias: useValueBias, dtype, key: vkey! });
    this.outputProj = new Linear(numHeads * voSize, outputSize, { useBias: useOutputBias, dtype, key: okey! });
    this.dropout = new Dropout({ p: dropoutP, inference });
    this.numHeads = numHeads;
    this.querySize = querySize;
    this.keySize = keySize;
    this.valueSize = valueSize;
    this.outputSize = outputSize;
    this.qkSize = qkSize;
    this.voSize = voSize;
    this.useQueryBias = useQueryBias;
    this.useKeyBias = useKeyBias;
    this.useValueBias = useValueBias;
    this.useOutputBias = useOutputBias;
  }

  static callParameters = ["query", "key_", "value", "mask"];

  /**
   * `query` `[qSeq, querySize]`, `key_` `[kvSeq, keySize]`, `value` `[kvSeq, valueSize]` →
   * `[qSeq, outputSize]`. The mask goes in the options, or fourth as in Equinox:
   * `mha(q, k, v, mask, { key })`.
   */
  __call__(
    query: ArrayLike,
    key_: ArrayLike,
    value: ArrayLike,
    maskOrOpts?: Array | MultiheadAttentionCallOptions | null,
    callOpts?: MultiheadAttentionCallOptions,
  ): Array {
    let opts: MultiheadAttentionCallOptions = callOpts ?? {};
    if (maskOrOpts instanceof Array) {
      if (callOpts?.mask !== undefined && callOpts.mask !== null)
        throw new ArgumentError("MultiheadAttention: the mask was given twice — pass it fourth or as { mask }, not both");
      opts = { ...opts, mask: maskOrOpts };
    } else if (maskOrOpts !== undefined && maskOrOpts !== null) {
      if (callOpts !== undefined)
        throw new ArgumentError(
          "MultiheadAttention: expected mha(q, k, v, mask?, opts?) — the fourth argument must be a mask array when options follow it",
        );
      opts = maskOrOpts;
    }
    const q = np.asarray(query);
    const k = np.asarray(key_);
    const v = np.asarray(value);
    expect2d("query", q, this.querySize);
    expect2d("key_", k, this.keySize);
    expect2d("value", v, this.valueSize);
    if (k.shape[0] !== v.shape[0])
      throw new ShapeError(
        `MultiheadAttention: key_ ${k.aval} and value ${v.aval} must have the same sequence length — pass one value per key`,
      );
    const qSeq = q.shape[0]!;
    const kvSeq = k.shape[0]!;
    let qh = this.project(this.queryProj, q);
    let kh = this.project(this.keyProj, k);
    let vh = this.project(this.valueProj, v);
    if (opts.processHeads) {
      const shapes = [qh.shape, kh.shape, vh.shape];
      [qh, kh, vh] = opts.processHeads(qh, kh, vh);
      if ([qh, kh, vh].some((t, i) => t.ndim !== 3 || t.shape.some((d, j) => d !== shapes[i]![j]))) {
        throw new ShapeError(
          "MultiheadAttention: processHeads must not change the shape of the heads — return arrays of the shapes it was given",
        );
      }
    }
    // Equinox's dot_product_attention_weights, for all heads at once: [numHeads, qSeq, kvSeq].
    let logits = np.einsum("snd,tnd->nst", np.divide(qh, Math.sqrt(qh.shape[2]!)), kh);
    if (opts.mask !== undefined && opts.mask !== null) {
      const mask = np.asarray(opts.mask);
      const ok2 = mask.ndim === 2 && mask.shape[0] === qSeq && mask.shape[1] === kvSeq;
      const ok3 = mask.ndim === 3 && mask.shape[0] === this.numHeads && mask.shape[1] === qSeq && mask.shape[2] === kvSeq;
      if (!ok2 && !ok3) {
        throw new ShapeError(
          `MultiheadAttention: mask must have shape [${qSeq}, ${kvSeq}] (query length, key length) or [${this.numHeads}, ${qSeq}, ${kvSeq}] per head, got ${mask.aval}`,
        );
      }
      logits = np.where(mask.dtype === "bool" ? mask : np.notEqual(mask, 0), logits, lowest(logits.dtype));
    }
    const softmaxDtype = promoteTypes(logits.dtype, false, "float32", false).dtype;
    let weights = nn.softmax(logits.astype(softmaxDtype), -1).astype(logits.dtype);
    const inference = opts.inference;
    if (opts.key !== undefined && opts.key !== null) {
      const keys = random.split(opts.key, this.numHeads);
      weights = vmap((w: Array, kk: Array) => this.dropout(w, { key: kk, inference }) as Array)(weights, keys) as Array;
    } else {
      weights = this.dropout(weights, { inference }) as Array;
    }
    const attn = np.reshape(np.einsum("nst,tnd->snd", weights, vh), [qSeq, -1]);
    return vmap(this.outputProj)(attn) as Array;
  }

  private project(proj: Linear, x: Array): Array {
    return np.reshape(vmap(proj)(x) as Array, [x.shape[0]!, this.numHeads, -1]);
  }
}

function positive(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`MultiheadAttention: ${name} must be a positive integer, got ${v}`);
}

function expect2d(name: string, x: Array, size: number): void {
  if (x.ndim !== 2 || x.shape[1] !== size) {
    throw new ShapeError(
      `MultiheadAttention: expected ${name} of shape [seq, ${size}], got ${x.aval} — attention acts on one example; batch with vmap(mha)(qs, ks, vs)`,
    );
  }
}

/** `finfo(dtype).min`, as Equinox's mask fill. */
function lowest(dtype: DType): Array {
  return np.full([], dtype === "float64" ? -Number.MAX_VALUE : -3.4028234663852886e38, dtype);
}
