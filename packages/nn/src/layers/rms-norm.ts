/** `RMSNorm` (Equinox's `nn.RMSNorm`): rescales one example by its root mean square. */
import { Array, ArgumentError, ShapeError, np, ones, promoteTypes, zeros, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { State } from "../stateful";

export interface RMSNormOptions {
  /** Added to the mean square inside the square root (default 1e-5). */
  eps?: number;
  /** Learn an elementwise scale, initialised to ones (default true). */
  useWeight?: boolean;
  /** Learn an elementwise shift, initialised to zeros (default true, as Equinox). */
  useBias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * `x · rsqrt(mean(x²) + eps) · weight + bias` over every element of `x`, which must have
 * exactly `shape` (batch with `vmap`). As Equinox, the computation runs in at least float32
 * and the result has `x`'s dtype; called with a state it returns `[out, state]` untouched.
 *
 * @example
 * const norm = new RMSNorm(64);
 * const ys = vmap(norm)(xs);   // xs: [seq, 64]
 */
export class RMSNorm extends Module {
  weight: Array | null;
  bias: Array | null;
  @field({ static: true }) shape: number[];
  @field({ static: true }) eps: number;
  @field({ static: true }) useWeight: boolean;
  @field({ static: true }) useBias: boolean;

  constructor(shape: number | readonly number[], opts: RMSNormOptions = {}) {
    super();
    const { eps = 1e-5, useWeight = true, useBias = true, dtype = "float32" } = opts;
    const dims = typeof shape === "number" ? [shape] : [...shape];
    if (dims.some((d) => !Number.isInteger(d) || d < 0))
      throw new ArgumentError(`RMSNorm: shape must be non-negative integers, got [${dims.join(", ")}]`);
    this.weight = useWeight ? ones(dims, dtype) : null;
    this.bias = useBias ? zeros(dims, dtype) : null;
    this.shape = dims;
    this.eps = eps;
    this.useWeight = useWeight;
    this.useBias = useBias;
  }

  static callParameters = ["x", "state"];

  __call__(x: ArrayLike, opts?: { key?: Array | null }): Array;
  __call__(x: ArrayLike, state: State, opts?: { key?: Array | null }): [Array, State];
  __call__(x: ArrayLike, stateOrOpts?: State | { key?: Array | null }, _opts?: { key?: Array | null }): Array | [Array, State] {
    const xa = np.asarray(x);
    if (xa.ndim !== this.shape.length || xa.shape.some((d, i) => d !== this.shape[i])) {
      throw new ShapeError(
        `RMSNorm: expected x of shape [${this.shape.join(", ")}], got ${xa.aval} — RMSNorm normalises one example of exactly its shape; for leading batch axes use vmap(rmsNorm)(xs)`,
      );
    }
    const dtype = promoteTypes(xa.dtype, false, "float32", false).dtype;
    const v = xa.astype(dtype);
    let out = np.multiply(np.rsqrt(np.add(np.mean(np.square(v)), this.eps)), v);
    if (this.weight !== null) out = np.multiply(this.weight.astype(dtype), out);
    if (this.bias !== null) out = np.add(out, this.bias.astype(dtype));
    out = out.astype(xa.dtype);
    return stateOrOpts instanceof State ? [out, stateOrOpts] : out;
  }
}
