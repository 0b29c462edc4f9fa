/** `Dropout` (Equinox's `nn.Dropout`): inverted dropout, the identity at inference. */
import { Array, ArgumentError, np, random, stopGradient, type ArrayLike } from "@wax/tracer";
import { Module } from "../module";

export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5). A plain number or a float array. */
  p?: number | Array;
  /** Start in inference mode, where the layer is the identity (default false). */
  inference?: boolean;
}

/**
 * Zeroes each element with probability `p` and scales the survivors by `1/(1-p)` (inverted
 * dropout), so inference is the identity. `p` and `inference` are ordinary (dynamic) fields, so
 * `treeAt` and `inferenceMode` can change them. A `p` that is the number 0 always runs as
 * inference. In training a `key` is required.
 *
 * @example
 * const drop = new Dropout({ p: 0.1 });
 * const y = drop(x, { key });              // training
 * const z = inferenceMode(drop)(x);        // identity
 */
export class Dropout extends Module {
  p: number | Array;
  inference: boolean;

  constructor(opts: DropoutOptions = {}) {
    super();
    const { p = 0.5, inference = false } = opts;
    if (typeof p === "number" && !(p >= 0 && p <= 1)) throw new ArgumentError(`Dropout: p must be a probability in [0, 1], got ${p}`);
    this.p = p;
    this.inference = inference;
  }

  static callParameters = ["x"];

  /**
   * `x` of any shape. `key` is needed in training; `inference` (default: the field) overrides
   * the mode for this call.
   */
  __call__(x: ArrayLike, opts: { key?: Array | null; inference?: boolean } = {}): Array {
    const xa = np.asarray(x);
    // As Equinox: only a plain-number p of 0 is known statically to be a no-op.
    const flag = (opts.inference ?? this.inference) as boolean | Array;
    // A flag set to an array (say by treeAt) must be concrete, as Python's `if inference:`.
    const inference = (typeof this.p === "number" && this.p === 0) || (flag instanceof Array ? Boolean(flag.item()) : flag);
    if (inference) return xa;
    if (opts.key === undefined || opts.key === null) {
      throw new ArgumentError(
        "Dropout: a key is required in training mode — call dropout(x, { key }), or switch it off with inferenceMode(model) or { inference: true }",
      );
    }
    // stopGradient: p is a hyper-parameter, not something to learn through the mask.
    const q = np.subtract(1, stopGradient(np.asarray(this.p)));
    const mask = random.bernoulli(opts.key, q, xa.shape);
    return np.where(mask, np.divide(xa, q), 0);
  }
}
