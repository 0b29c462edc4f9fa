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
    const dims = normShape("LayerNorm", shape);
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
    const out = affineNormalise("LayerNorm", this, x, (v) => {
      const mean = np.mean(v);
      const variance = np.maximum(np.mean(np.square(np.subtract(v, mean))), 0);
      return np.multiply(np.subtract(v, mean), np.rsqrt(np.add(variance, this.eps)));
    });
    return stateOrOpts instanceof State ? [out, stateOrOpts] : out;
  }
}

/** A normalised shape from a number or a list, checked (`op` names the layer in the error). */
export function normShape(op: string, shape: number | readonly number[]): number[] {
  const dims = typeof shape === "number" ? [shape] : [...shape];
  if (dims.some((d) => !Number.isInteger(d) || d < 0))
    throw new ArgumentError(`${op}: shape must be non-negative integers, got [${dims.join(", ")}]`);
  return dims;
}

/**
 * What LayerNorm and RMSNorm share: `x` must have exactly `layer.shape`; `normalise` runs in
 * at least float32 (Equinox's `result_type(x.dtype, float32)`), then the optional elementwise
 * scale and shift, and the result is cast back to `x`'s dtype.
 */
export function affineNormalise(
  op: string,
  layer: { readonly shape: readonly number[]; readonly weight: Array | null; readonly bias: Array | null },
  x: ArrayLike,
  normalise: (v: Array) => Array,
): Array {
  const xa = np.asarray(x);
  if (xa.ndim !== layer.shape.length || xa.shape.some((d, i) => d !== layer.shape[i])) {
    throw new ShapeError(
      `${op}: expected x of shape [${layer.shape.join(", ")}], got ${xa.aval} — ${op} normalises one example of exactly its shape; for leading batch axes use vmap(norm)(xs)`,
    );
  }
  const dtype = promoteTypes(xa.dtype, false, "float32", false).dtype;
  let out = normalise(xa.astype(dtype));
  if (layer.weight !== null) out = np.multiply(layer.weight.astype(dtype), out);
  if (layer.bias !== null) out = np.add(out, layer.bias.astype(dtype));
  return out.astype(xa.dtype);
}
