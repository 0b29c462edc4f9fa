/** `LayerNorm` (Equinox's `nn.LayerNorm`): normalises one example over all its elements. */
import { Array, ArgumentError, ShapeError, np, ones, promoteTypes, zeros, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { State } from "../stateful";

export interface LayerNormOptions {
  eps?: number;
  /** Learn an elementwise scale, initialised to ones (default true). */
  useWeight?: boolean;
  /** Learn an elementwise shift, initialised to zeros (default true). */
  useBias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * `(x - mean(x)) * rsqrt(var(x) + eps) * weight + bias`, with the mean and the population
 * variance (clamped at 0) taken over every element of `x`. `x` must have exactly `shape`:
 * leading batch axes are not allowed — batch with `vmap`. The computation runs in at least
 * float32 and the result has `x`'s dtype. Not a stateful layer: called with a state, it
 * returns `[out, state]` with the state untouched.
 */
export class LayerNorm extends Module {
  weight: Array | null;
  bias: Array | null;
  @field({ static: true }) shape: number[];
  @field({ static: true }) eps: number;
  @field({ static: true }) useWeight: boolean;
  @field({ static: true }) useBias: boolean;

  constructor(shape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    const { eps = 1e-5, useWeight = true, useBias = true, dtype = "float32" } = opts;
    const dims = typeof shape === "number" ? [shape] : [...shape];
    if (dims.some((d) => !Number.isInteger(d) || d < 0))
      throw new ArgumentError(`LayerNorm: shape must be non-negative integers, got [${dims.join(", ")}]`);
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
        `LayerNorm: expected x of shape [${this.shape.join(", ")}], got ${xa.aval} — LayerNorm normalises one example of exactly its shape; for leading batch axes use vmap(layerNorm)(xs)`,
      );
    }
    // Equinox computes in result_type(x.dtype, float32): at least float32 precision.
    const dtype = promoteTypes(xa.dtype, false, "float32", false).dtype;
    const v = xa.astype(dtype);
    const mean = np.mean(v);
    const variance = np.maximum(np.mean(np.square(np.subtract(v, mean))), 0);
    let out = np.multiply(np.subtract(v, mean), np.rsqrt(np.add(variance, this.eps)));
    if (this.weight !== null) out = np.multiply(this.weight.astype(dtype), out);
    if (this.bias !== null) out = np.add(out, this.bias.astype(dtype));
    out = out.astype(xa.dtype);
    return stateOrOpts instanceof State ? [out, stateOrOpts] : out;
  }
}
