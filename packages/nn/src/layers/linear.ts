/** `Linear`: `y = W x + b` (Equinox's `nn.Linear`). */
import { Array, ArgumentError, ShapeError, np, random, type DType } from "@wax/tracer";
import { Module, field } from "../module";

export interface LinearOptions {
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** PRNG key for the initialisation (required). */
  key: Array;
}

/**
 * A linear layer on one example: `x` of shape `[inFeatures]` (or `[]` for `"scalar"`).
 * Weight `[out, in]` and bias `[out]` are drawn `uniform(-lim, lim)`, `lim = 1/sqrt(in)`, from
 * the two halves of `split(key)` — exactly Equinox's initialisation, so the same key gives the
 * same numbers as JAX. Batch with `vmap`.
 */
export class Linear extends Module {
  weight: Array;
  bias: Array | null;
  @field({ static: true }) inFeatures: number | "scalar";
  @field({ static: true }) outFeatures: number | "scalar";
  @field({ static: true }) useBias: boolean;

  constructor(inFeatures: number | "scalar", outFeatures: number | "scalar", opts: LinearOptions) {
    super();
    const { useBias = true, dtype = "float32", key } = opts;
    if (!key) throw new ArgumentError("Linear: a PRNG key is required — pass { key: random.key(seed) }");
    const inN = inFeatures === "scalar" ? 1 : inFeatures;
    const outN = outFeatures === "scalar" ? 1 : outFeatures;
    const lim = inN === 0 ? 1 : 1 / Math.sqrt(inN);
    const [wkey, bkey] = splitTwo(key);
    this.weight = random.uniform(wkey, [outN, inN], { minval: -lim, maxval: lim, dtype });
    this.bias = useBias ? random.uniform(bkey, [outN], { minval: -lim, maxval: lim, dtype }) : null;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.useBias = useBias;
  }

  static callParameters = ["x"];

  __call__(x: Array, _opts?: { key?: Array }): Array {
    let v = x;
    if (this.inFeatures === "scalar") {
      if (x.ndim !== 0) throw new ShapeError(`Linear: inFeatures is "scalar" so x must have shape [], got ${x.aval}`);
      v = np.reshape(x, [1]);
    } else if (x.ndim !== 1 || x.shape[0] !== this.inFeatures) {
      throw new ShapeError(
        `Linear: expected x of shape [${this.inFeatures}], got ${x.aval} — Linear acts on one example; batch it with vmap(linear)(xs)`,
      );
    }
    let y = np.matmul(this.weight, v);
    if (this.bias !== null) y = np.add(y, this.bias);
    return this.outFeatures === "scalar" ? np.reshape(y, []) : y;
  }
}

/** `split(key)` into two keys. */
export function splitTwo(key: Array): [Array, Array] {
  const ks = random.split(key, 2);
  return [ks.get(0), ks.get(1)];
}
