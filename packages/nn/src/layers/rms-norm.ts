/** `RMSNorm` (Equinox's `nn.RMSNorm`): rescales one example by its root mean square. */
import { Array, np, ones, zeros, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { State } from "../stateful";
import { affineNormalise, normShape } from "./layer-norm";

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
    const dims = normShape("RMSNorm", shape);
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
    const out = affineNormalise("RMSNorm", this, x, (v) => np.multiply(np.rsqrt(np.add(np.mean(np.square(v)), this.eps)), v));
    return stateOrOpts instanceof State ? [out, stateOrOpts] : out;
  }
}
