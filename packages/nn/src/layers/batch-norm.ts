/** `BatchNorm` (Equinox's `nn.BatchNorm`, both modes), a stateful layer. */
import { Array, ArgumentError, ShapeError, np, pmean, zeros, ones, array, type DType } from "@wax/tracer";
import { field } from "../module";
import { State, StateIndex } from "../stateful";
import { StatefulLayer } from "./stateful-layer";

export interface BatchNormOptions {
  /** Number of channels: the size of the first axis of each example. */
  inputSize: number;
  /** The vmap axis name(s) the batch statistics are averaged over. */
  axisName: string | string[];
  eps?: number;
  /** Learn a per-channel scale and shift (default true). */
  channelwiseAffine?: boolean;
  momentum?: number;
  inference?: boolean;
  dtype?: DType;
  /**
   * `"ema"` (the default, as Equinox's legacy behaviour): training normalises with
   * `(1-m)·batch + m·running` statistics (pure batch statistics on the first call) and stores
   * them. `"batch"`: training normalises with the batch statistics and keeps a debiased EMA for
   * inference.
   */
  mode?: "ema" | "batch";
}

/**
 * Normalises each channel over the batch: `x` is one example of shape `[inputSize, ...spatial]`,
 * and the batch is the enclosing `vmap` whose `axisName` matches. Statistics are averaged with
 * `pmean`; the variance is the biased mean of squared deviations around the global mean,
 * clamped at 0. Returns `[out, state]`.
 */
export class BatchNorm extends StatefulLayer {
  weight: Array | null;
  bias: Array | null;
  emaFirstTimeIndex: StateIndex<Array> | null;
  emaStateIndex: StateIndex<[Array, Array]> | null;
  batchCounter: StateIndex<Array> | null;
  batchStateIndex: StateIndex<[Array, Array]> | null;
  axisName: string | string[];
  inference: boolean;
  @field({ static: true }) inputSize: number;
  @field({ static: true }) eps: number;
  @field({ static: true }) channelwiseAffine: boolean;
  @field({ static: true }) momentum: number;
  @field({ static: true }) mode: "ema" | "batch";

  constructor(opts: BatchNormOptions) {
    super();
    const {
      inputSize,
      axisName,
      eps = 1e-5,
      channelwiseAffine = true,
      momentum = 0.99,
      inference = false,
      dtype = "float32",
      mode = "ema",
    } = opts;
    if (mode !== "ema" && mode !== "batch")
      throw new ArgumentError(`BatchNorm: mode must be "ema" or "batch", got ${JSON.stringify(mode)}`);
    if (!Number.isInteger(inputSize) || inputSize < 1)
      throw new ArgumentError(`BatchNorm: inputSize must be a positive integer, got ${inputSize}`);
    this.weight = channelwiseAffine ? ones([inputSize], dtype) : null;
    this.bias = channelwiseAffine ? zeros([inputSize], dtype) : null;
    // Running buffers start at zeros (Equinox's jnp.empty, which was zeros before JAX 0.11).
    this.emaFirstTimeIndex = mode === "ema" ? new StateIndex(array(true)) : null;
    this.emaStateIndex = mode === "ema" ? new StateIndex<[Array, Array]>([zeros([inputSize], dtype), zeros([inputSize], dtype)]) : null;
    this.batchCounter = mode === "batch" ? new StateIndex(array(0, { dtype: "int32" })) : null;
    this.batchStateIndex = mode === "batch" ? new StateIndex<[Array, Array]>([zeros([inputSize], dtype), ones([inputSize], dtype)]) : null;
    this.axisName = axisName;
    this.inference = inference;
    this.inputSize = inputSize;
    this.eps = eps;
    this.channelwiseAffine = channelwiseAffine;
    this.momentum = momentum;
    this.mode = mode;
  }

  static callParameters = ["x", "state"];

  __call__(x: Array, state: State, opts: { key?: Array; inference?: boolean } = {}): [Array, State] {
    if (x.ndim < 1 || x.shape[0] !== this.inputSize) {
      throw new ShapeError(
        `BatchNorm: expected one example of shape [${this.inputSize}, ...spatial], got ${x.aval} — BatchNorm acts per example; vmap it with axisName ${JSON.stringify(this.axisName)}`,
      );
    }
    const inference = opts.inference ?? this.inference;
    const m = this.momentum;
    let mean: Array;
    let variance: Array;
    if (this.mode === "ema") {
      if (inference) {
        [mean, variance] = state.get(this.emaStateIndex!);
      } else {
        const first = state.get(this.emaFirstTimeIndex!);
        state = state.set(this.emaFirstTimeIndex!, array(false));
        const [bm, bv] = batchStats(x, this.inputSize, this.axisName);
        const [rm, rv] = state.get(this.emaStateIndex!);
        mean = np.where(first, bm, np.add(np.multiply(1 - m, bm), np.multiply(m, rm)));
        variance = np.where(first, bv, np.add(np.multiply(1 - m, bv), np.multiply(m, rv)));
        state = state.set(this.emaStateIndex!, [mean, variance]);
      }
    } else {
      const counter = state.get(this.batchCounter!);
      const [hm, hv] = state.get(this.batchStateIndex!);
      if (inference) {
        // Zero-debiasing at read time, guarded at counter 0 (equinox#1010).
        const scale = np.where(np.equal(counter, 0), 1, np.subtract(1, np.power(m, counter.astype(hm.dtype))));
        mean = np.divide(hm, scale);
        variance = np.divide(hv, scale);
      } else {
        [mean, variance] = batchStats(x, this.inputSize, this.axisName);
        state = state.set(this.batchCounter!, np.add(counter, 1));
        state = state.set(this.batchStateIndex!, [
          np.add(np.multiply(hm, m), np.multiply(mean, 1 - m)),
          np.add(np.multiply(hv, m), np.multiply(variance, 1 - m)),
        ]);
      }
    }
    const bshape = [this.inputSize, ...x.shape.slice(1).map(() => 1)];
    let out = np.divide(np.subtract(x, np.reshape(mean, bshape)), np.sqrt(np.add(np.reshape(variance, bshape), this.eps)));
    if (this.channelwiseAffine) out = np.add(np.multiply(out, np.reshape(this.weight!, bshape)), np.reshape(this.bias!, bshape));
    return [out, state];
  }
}

/** Per-channel batch mean and (biased) variance, averaged over the named axes. */
function batchStats(x: Array, inputSize: number, axisName: string | string[]): [Array, Array] {
  const spatial = x.shape.slice(1).map((_, i) => i + 1);
  const names = typeof axisName === "string" ? [axisName] : axisName;
  const avg = (v: Array) => names.reduce((acc, n) => pmean(acc, n), v);
  const mean = avg(spatial.length ? np.mean(x, { axis: spatial }) : x);
  const bshape = [inputSize, ...spatial.map(() => 1)];
  const dev = np.square(np.subtract(x, np.reshape(mean, bshape)));
  const variance = np.maximum(avg(spatial.length ? np.mean(dev, { axis: spatial }) : dev), 0);
  return [mean, variance];
}
