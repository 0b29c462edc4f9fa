/** `RotaryPositionalEmbedding` (Equinox's `nn.RotaryPositionalEmbedding`, RoFormer's RoPE). */
import { Array, ArgumentError, ShapeError, array, lax, np, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";

export interface RotaryPositionalEmbeddingOptions {
  /** Size of each embedding vector: non-negative and even. */
  embeddingSize: number;
  /** Base frequency (default 10000, as the paper). */
  theta?: number;
  /** Dtype of the precomputed cosines and sines (default float32). */
  dtype?: DType;
}

/**
 * Rotates pairs of channels of `x` (`[seqLength, embeddingSize]`) by angles proportional to the
 * position: with `d = embeddingSize/2` and `f_j = theta^(-2j/embeddingSize)`,
 * `out = x·cos(t f) + rotateHalf(x)·sin(t f)` where `rotateHalf(x) = [-x[d:], x[:d]]` and the
 * cos/sin tables are tiled twice along the channels (Equinox's "half" layout). The tables are
 * constants, rounded to float32 at each step as JAX computes them (XLA's float32 `pow`/`cos`
 * may differ in the last bit); the result has `x`'s dtype. Apply it to
 * the query and key heads of a `MultiheadAttention` through `processHeads`, with
 * `vmap(rope, { inAxes: 1, outAxes: 1 })` over the head axis.
 */
export class RotaryPositionalEmbedding extends Module {
  @field({ static: true }) embeddingSize: number;
  @field({ static: true }) theta: number;
  @field({ static: true }) dtype: DType;

  constructor(opts: RotaryPositionalEmbeddingOptions) {
    super();
    if (opts === null || typeof opts !== "object")
      throw new ArgumentError("RotaryPositionalEmbedding: expected an options object { embeddingSize, theta }");
    const { embeddingSize, theta = 10_000, dtype = "float32" } = opts;
    if (!Number.isInteger(embeddingSize) || embeddingSize < 0)
      throw new ArgumentError(`RotaryPositionalEmbedding: embeddingSize must be a non-negative integer, got ${embeddingSize}`);
    if (embeddingSize % 2 !== 0)
      throw new ArgumentError(
        `RotaryPositionalEmbedding: embeddingSize must be even, got ${embeddingSize} — channels are rotated in pairs`,
      );
    if (!(theta > 0)) throw new ArgumentError(`RotaryPositionalEmbedding: theta must be positive, got ${theta}`);
    this.embeddingSize = embeddingSize;
    this.theta = theta;
    this.dtype = dtype;
  }

  static callParameters = ["x"];

  /** `x` of shape `[seqLength, embeddingSize]`; `key` is ignored. */
  __call__(x: ArrayLike, _opts?: { key?: Array | null }): Array {
    const xa = np.asarray(x);
    if (xa.ndim !== 2 || xa.shape[1] !== this.embeddingSize) {
      throw new ShapeError(
        `RotaryPositionalEmbedding: expected x of shape [seqLength, ${this.embeddingSize}], got ${xa.aval} — for attention heads [seq, heads, size] use vmap(rope, { inAxes: 1, outAxes: 1 })`,
      );
    }
    const [seqLength, size] = xa.shape as [number, number];
    const [cos, sin] = tables(size, seqLength, this.theta, this.dtype);
    const d = size / 2;
    const rotated = lax.concatenate([np.negative(lax.slice(xa, [0, d], [seqLength, size])), lax.slice(xa, [0, 0], [seqLength, d])], 1);
    return np.add(np.multiply(xa, cos), np.multiply(rotated, sin)).astype(xa.dtype);
  }
}

const cache = new Map<string, [Array, Array]>();

/**
 * Equinox's `precompute_freqs_cis`, tiled to the full width: `[seqLength, size]` cosines and
 * sines. JAX computes the frequencies, the outer product and cos/sin in float32, so every
 * step is rounded to float32 here too (`Math.fround`) before the cast to `dtype`.
 */
function tables(size: number, seqLength: number, theta: number, dtype: DType): [Array, Array] {
  const k = `${size}/${seqLength}/${theta}/${dtype}`;
  const hit = cache.get(k);
  if (hit) return hit;
  const half = size / 2;
  const f = Math.fround;
  const freqs = globalThis.Array.from({ length: half }, (_, j) => f(1 / f(Math.pow(f(theta), f(f(2 * j) / size)))));
  const cos = new Float64Array(seqLength * size);
  const sin = new Float64Array(seqLength * size);
  for (let t = 0; t < seqLength; t++) {
    for (let j = 0; j < half; j++) {
      const angle = f(t * freqs[j]!);
      const c = f(Math.cos(angle));
      const s = f(Math.sin(angle));
      cos[t * size + j] = cos[t * size + j + half] = c;
      sin[t * size + j] = sin[t * size + j + half] = s;
    }
  }
  const out: [Array, Array] = [array(cos, { shape: [seqLength, size], dtype }), array(sin, { shape: [seqLength, size], dtype })];
  if (cache.size > 64) cache.clear();
  cache.set(k, out);
  return out;
}
