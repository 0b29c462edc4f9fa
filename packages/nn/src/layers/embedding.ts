/** `Embedding` (Equinox's `nn.Embedding`): a lookup table of vectors. */
import { Array, ArgumentError, ShapeError, isInteger, lax, np, random, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";

export interface EmbeddingOptions {
  /** PRNG key: the table is drawn `normal(key, [numEmbeddings, embeddingSize])`. */
  key?: Array;
  /** A given table of shape `[numEmbeddings, embeddingSize]` instead of a random one. */
  weight?: Array;
  dtype?: DType;
}

/**
 * Maps an integer index to a row of `weight` (`[numEmbeddings, embeddingSize]`, initialised
 * `normal(key, ...)` as Equinox). The index is one integer scalar (negative counts from the end;
 * out-of-range traced indices are clamped, as JAX's indexing); embed a sequence with
 * `vmap(embedding)(ids)`, which is one `gather` of all the rows.
 */
export class Embedding extends Module {
  weight: Array;
  @field({ static: true }) numEmbeddings: number;
  @field({ static: true }) embeddingSize: number;

  constructor(numEmbeddings: number, embeddingSize: number, opts: EmbeddingOptions) {
    super();
    const { key, weight, dtype = "float32" } = opts;
    let w: Array;
    if (weight !== undefined) {
      if (weight.ndim !== 2 || weight.shape[0] !== numEmbeddings || weight.shape[1] !== embeddingSize) {
        throw new ShapeError(`Embedding: weight must have shape [${numEmbeddings}, ${embeddingSize}], got ${weight.aval}`);
      }
      w = weight;
    } else {
      if (!key) throw new ArgumentError("Embedding: a PRNG key is required (or a weight) — pass { key: random.key(seed) }");
      w = random.normal(key, [numEmbeddings, embeddingSize], { dtype });
    }
    this.weight = w;
    this.numEmbeddings = numEmbeddings;
    this.embeddingSize = embeddingSize;
  }

  /** The row for the integer scalar `x`: shape `[embeddingSize]`. */
  __call__(x: ArrayLike, _opts?: { key?: Array | null }): Array {
    const idx = np.asarray(x);
    if (idx.ndim !== 0 || !isInteger(idx.dtype)) {
      throw new ShapeError(
        `Embedding: expected one integer index of shape [], got ${idx.aval} — embed a sequence of ids with vmap(embedding)(ids)`,
      );
    }
    // One row gather (Equinox's `weight[x]`): under vmap the index gains a batch dimension
    // and the lookup stays a single gather of every row, whatever the batch size.
    const row = idx.dtype === "uint32" ? idx : lax.selectN(lax.lt(idx, 0), idx, lax.add(idx, this.numEmbeddings));
    return lax.gather(
      this.weight,
      lax.reshape(row, [1]),
      { offsetDims: [0], collapsedSliceDims: [0], startIndexMap: [0] },
      [1, this.embeddingSize],
      {
        mode: "promise_in_bounds",
      },
    );
  }
}
