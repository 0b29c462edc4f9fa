/** `GroupNorm` (Equinox's `nn.GroupNorm`): normalises groups of channels of one example. */
import { Array, ArgumentError, ShapeError, np, ones, promoteTypes, zeros, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { State } from "../stateful";

export interface GroupNormOptions {
  /** Number of groups the channels (axis 0) are split into; must divide `channels`. */
  groups: number;
  /** Number of channels; required when `channelwiseAffine` (the default). */
  channels?: number | null;
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Learn a per-channel scale (ones) and shift (zeros) (default true). */
  channelwiseAffine?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * Splits `x` of shape `[channels, ...spatial]` into `groups` groups of consecutive channels and
 * standardises each group over all its elements (population variance, clamped at 0, `eps`
 * inside the rsqrt), then applies `weight[c] · out + bias[c]` per channel. As Equinox, it runs
 * in at least float32 and returns `x`'s dtype; with a state it returns `[out, state]` untouched.
 * One example at a time: batch with `vmap`.
 */
export class GroupNorm extends Module {
  weight: Array | null;
  bias: Array | null;
  @field({ static: true }) groups: number;
  @field({ static: true }) channels: number | null;
  @field({ static: true }) eps: number;
  @field({ static: true }) channelwiseAffine: boolean;

  constructor(opts: GroupNormOptions) {
    super();
    const { groups, channels = null, eps = 1e-5, channelwiseAffine = true, dtype = "float32" } = opts ?? ({} as GroupNormOptions);
    if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(`GroupNorm: groups must be a positive integer, got ${groups}`);
    if (channels !== null && (!Number.isInteger(channels) || channels < 0))
      throw new ArgumentError(`GroupNorm: channels must be a non-negative integer, got ${channels}`);
    if (channels !== null && channels % groups !== 0)
      throw new ArgumentError(`GroupNorm: groups (${groups}) must divide channels (${channels}) — choose a divisor of the channel count`);
    if (channels === null && channelwiseAffine)
      throw new ArgumentError(
        "GroupNorm: channels is required when channelwiseAffine is true — pass { channels } or { channelwiseAffine: false }",
      );
    this.weight = channelwiseAffine ? ones([channels!], dtype) : null;
    this.bias = channelwiseAffine ? zeros([channels!], dtype) : null;
    this.groups = groups;
    this.channels = channels;
    this.eps = eps;
    this.channelwiseAffine = channelwiseAffine;
  }

  static callParameters = ["x", "state"];

  __call__(x: ArrayLike, opts?: { key?: Array | null }): Array;
  __call__(x: ArrayLike, state: State, opts?: { key?: Array | null }): [Array, State];
  __call__(x: ArrayLike, stateOrOpts?: State | { key?: Array | null }, _opts?: { key?: Array | null }): Array | [Array, State] {
    const xa = np.asarray(x);
    const channels = xa.shape[0];
    if (xa.ndim < 1 || (this.channels !== null && channels !== this.channels) || channels! % this.groups !== 0) {
      const want = this.channels === null ? `a multiple of ${this.groups}` : String(this.channels);
      throw new ShapeError(
        `GroupNorm: expected x of shape [channels, ...spatial] with channels ${want}, got ${xa.aval} — GroupNorm acts on one example; batch with vmap(groupNorm)(xs)`,
      );
    }
    const dtype = promoteTypes(xa.dtype, false, "float32", false).dtype;
    const v = xa.astype(dtype);
    const rest = xa.shape.slice(1);
    const y = np.reshape(v, [this.groups, channels! / this.groups, ...rest]);
    const axes = globalThis.Array.from({ length: y.ndim - 1 }, (_, i) => i + 1);
    const mean = np.mean(y, { axis: axes, keepdims: true });
    const variance = np.maximum(0, np.variance(y, { axis: axes, keepdims: true }));
    let out = np.reshape(np.multiply(np.subtract(y, mean), np.rsqrt(np.add(variance, this.eps))), xa.shape);
    if (this.weight !== null && this.bias !== null) {
      const perChannel = [channels!, ...rest.map(() => 1)];
      out = np.add(np.multiply(np.reshape(this.weight.astype(dtype), perChannel), out), np.reshape(this.bias.astype(dtype), perChannel));
    }
    out = out.astype(xa.dtype);
    return stateOrOpts instanceof State ? [out, stateOrOpts] : out;
  }
}
