/**
 * Equinox's pooling layers (`nn.Pool`, `MaxPool1d/2d/3d`, `AvgPool1d/2d/3d`,
 * `AdaptiveAvgPool*`/`AdaptiveMaxPool*`) on one unbatched example `[channels, ...spatial]`;
 * batch them with `vmap`. The windowed ones are `lax.reduceWindow`, as in Equinox.
 */
import { Array, ArgumentError, ShapeError, lax, np, type ArrayLike } from "@wax/tracer";
import { Module, field } from "../module";
import { perDim } from "./conv";

export interface PoolOptions {
  /** Window size: one int for every spatial dim, or one per dim. */
  kernelSize: number | readonly number[];
  /** Window stride (default 1, as Equinox — not the kernel size as in PyTorch). */
  stride?: number | readonly number[];
  /** Padding filled with the reduction's init value: an int, one int per dim, or `[lo, hi]` per dim. Default 0. */
  padding?: number | readonly number[] | readonly (readonly [number, number])[];
  /** Keep a last, partial window (PyTorch's `ceil_mode`): adds `stride` to the high padding when the windows do not fit exactly. Default false. */
  useCeil?: boolean;
}

/**
 * A window reduction over the spatial dims (Equinox's `nn.Pool`): `init` fills the padding and
 * `operation` (`"max"`, `"min"` or `"add"`) reduces each window. The subclasses are what one uses.
 */
export class Pool extends Module {
  @field({ static: true }) init: number;
  @field({ static: true }) operation: "max" | "min" | "add";
  @field({ static: true }) numSpatialDims: number;
  @field({ static: true }) kernelSize: number[];
  @field({ static: true }) stride: number[];
  @field({ static: true }) padding: [number, number][];
  @field({ static: true }) useCeil: boolean;

  constructor(init: number, operation: "max" | "min" | "add", numSpatialDims: number, opts: PoolOptions) {
    super();
    const name = new.target.name;
    if (!opts || opts.kernelSize === undefined)
      throw new ArgumentError(`${name}: kernelSize is required — new ${name}({ kernelSize: 2, stride: 2 })`);
    const { kernelSize, stride = 1, padding = 0, useCeil = false } = opts;
    this.init = init;
    this.operation = operation;
    this.numSpatialDims = numSpatialDims;
    this.kernelSize = perDim(name, "kernelSize", kernelSize, numSpatialDims);
    this.stride = perDim(name, "stride", stride, numSpatialDims);
    this.padding = parsePadding(name, padding, numSpatialDims);
    this.useCeil = useCeil;
  }

  static callParameters = ["x"];

  /** `x` of shape `[channels, ...spatial]`; `key` is ignored. */
  __call__(x: ArrayLike, _opts?: { key?: Array | null }): Array {
    const xa = np.asarray(x);
    const name = this.constructor.name;
    const n = this.numSpatialDims;
    if (xa.ndim !== n + 1) {
      throw new ShapeError(
        `${name}: expected x of shape [channels, ...${n} spatial dim${n > 1 ? "s" : ""}], got ${xa.aval} — pooling acts on one unbatched example; batch with vmap(pool)(xs)`,
      );
    }
    const spatial = xa.shape.slice(1);
    const padding = this.useCeil ? this.ceilPadding(spatial) : this.padding;
    spatial.forEach((s, i) => {
      if (s + padding[i]![0] + padding[i]![1] < this.kernelSize[i]!) {
        throw new ShapeError(
          `${name}: padded spatial dim ${i} (${s} + [${padding[i]!.join(", ")}]) is smaller than the kernel (${this.kernelSize[i]}) — use a larger input or more padding`,
        );
      }
    });
    return lax.reduceWindow(xa, this.init, this.operation, [1, ...this.kernelSize], [1, ...this.stride], [[0, 0], ...padding]);
  }

  /** Equinox's `_update_padding_for_ceil`: one more stride of high padding where the windows do not fit exactly. */
  private ceilPadding(spatial: readonly number[]): [number, number][] {
    return spatial.map((s, i) => {
      const [lo, hi] = this.padding[i]!;
      return (s + lo + hi - this.kernelSize[i]!) % this.stride[i]! === 0 ? [lo, hi] : [lo, hi + this.stride[i]!];
    });
  }
}

/** Max over windows (`init = -∞`); the gradient goes to each window's first maximum. */
export class MaxPool extends Pool {
  constructor(numSpatialDims: number, opts: PoolOptions) {
    super(-Infinity, "max", numSpatialDims, opts);
  }
}

/** Mean over windows: the window sum divided by `prod(kernelSize)`, padding counted (as Equinox). */
export class AvgPool extends Pool {
  constructor(numSpatialDims: number, opts: PoolOptions) {
    super(0, "add", numSpatialDims, opts);
  }

  override __call__(x: ArrayLike, opts?: { key?: Array | null }): Array {
    return np.divide(
      super.__call__(x, opts),
      this.kernelSize.reduce((a, b) => a * b, 1),
    );
  }
}

/** `MaxPool` over `[channels, length]`. */
export class MaxPool1d extends MaxPool {
  constructor(opts: PoolOptions) {
    super(1, opts);
  }
}
/** `MaxPool` over `[channels, height, width]`. */
export class MaxPool2d extends MaxPool {
  constructor(opts: PoolOptions) {
    super(2, opts);
  }
}
/** `MaxPool` over `[channels, depth, height, width]`. */
export class MaxPool3d extends MaxPool {
  constructor(opts: PoolOptions) {
    super(3, opts);
  }
}
/** `AvgPool` over `[channels, length]`. */
export class AvgPool1d extends AvgPool {
  constructor(opts: PoolOptions) {
    super(1, opts);
  }
}
/** `AvgPool` over `[channels, height, width]`. */
export class AvgPool2d extends AvgPool {
  constructor(opts: PoolOptions) {
    super(2, opts);
  }
}
/** `AvgPool` over `[channels, depth, height, width]`. */
export class AvgPool3d extends AvgPool {
  constructor(opts: PoolOptions) {
    super(3, opts);
  }
}

/**
 * Pools each spatial dim down to `targetSize` (Equinox's `AdaptivePool`). Equinox's binning, not
 * PyTorch's: a dim of size `n` into `t` bins gives the first `n mod t` bins `floor(n/t) + 1`
 * elements and the rest `floor(n/t)`, consecutive and non-overlapping.
 */
export class AdaptivePool extends Module {
  @field({ static: true }) targetSize: number[];
  @field({ static: true }) operation: "mean" | "max";

  constructor(targetSize: number | readonly number[], numSpatialDims: number, operation: "mean" | "max") {
    super();
    this.targetSize = perDim(new.target.name, "targetSize", targetSize, numSpatialDims);
    this.operation = operation;
  }

  static callParameters = ["x"];

  /** `x` of shape `[channels, ...spatial]`; `key` is ignored. */
  __call__(x: ArrayLike, _opts?: { key?: Array | null }): Array {
    let out = np.asarray(x);
    const name = this.constructor.name;
    const n = this.targetSize.length;
    if (out.ndim !== n + 1)
      throw new ShapeError(`${name}: expected x of shape [channels, ...${n} spatial dims], got ${out.aval} — batch with vmap`);
    this.targetSize.forEach((t, i) => {
      const size = out.shape[i + 1]!;
      if (size < t)
        throw new ShapeError(`${name}: spatial dim ${i} has ${size} elements, fewer than the target ${t} — use a smaller targetSize`);
      out = this.pool1d(out, i + 1, t);
    });
    return out;
  }

  /** Equinox's `_adaptive_pool1d` along `axis`: a head of `n mod t` bins one longer, then the rest. */
  private pool1d(x: Array, axis: number, t: number): Array {
    const n = x.shape[axis]!;
    const base = Math.floor(n / t);
    const heads = n % t;
    const reduce = (part: Array, bins: number, width: number): Array => {
      const shape = [...part.shape.slice(0, axis), bins, width, ...part.shape.slice(axis + 1)];
      const r = np.reshape(part, shape);
      return this.operation === "mean" ? np.divide(lax.reduceSum(r, [axis + 1]), width) : lax.reduceMax(r, [axis + 1]);
    };
    if (heads === 0) return reduce(x, t, base);
    const cut = heads * (base + 1);
    const sliceAlong = (lo: number, hi: number) =>
      lax.slice(
        x,
        x.shape.map((_, k) => (k === axis ? lo : 0)),
        x.shape.map((s, k) => (k === axis ? hi : s)),
      );
    return np.concatenate([reduce(sliceAlong(0, cut), heads, base + 1), reduce(sliceAlong(cut, n), t - heads, base)], axis);
  }
}

/** Adaptive mean pooling over `[channels, length]`. */
export class AdaptiveAvgPool1d extends AdaptivePool {
  constructor(targetSize: number | readonly number[]) {
    super(targetSize, 1, "mean");
  }
}
/** Adaptive mean pooling over `[channels, height, width]`. */
export class AdaptiveAvgPool2d extends AdaptivePool {
  constructor(targetSize: number | readonly number[]) {
    super(targetSize, 2, "mean");
  }
}
/** Adaptive mean pooling over `[channels, depth, height, width]`. */
export class AdaptiveAvgPool3d extends AdaptivePool {
  constructor(targetSize: number | readonly number[]) {
    super(targetSize, 3, "mean");
  }
}
/** Adaptive max pooling over `[channels, length]`. */
export class AdaptiveMaxPool1d extends AdaptivePool {
  constructor(targetSize: number | readonly number[]) {
    super(targetSize, 1, "max");
  }
}
/** Adaptive max pooling over `[channels, height, width]`. */
export class AdaptiveMaxPool2d extends AdaptivePool {
  constructor(targetSize: number | readonly number[]) {
    super(targetSize, 2, "max");
  }
}
/** Adaptive max pooling over `[channels, depth, height, width]`. */
export class AdaptiveMaxPool3d extends AdaptivePool {
  constructor(targetSize: number | readonly number[]) {
    super(targetSize, 3, "max");
  }
}

function parsePadding(name: string, padding: NonNullable<PoolOptions["padding"]>, n: number): [number, number][] {
  let pairs: [number, number][] | null = null;
  if (typeof padding === "number") pairs = globalThis.Array.from({ length: n }, () => [padding, padding]);
  else if (padding.length === n && padding.every((p) => typeof p === "number")) pairs = (padding as readonly number[]).map((p) => [p, p]);
  else if (padding.length === n && padding.every((p) => globalThis.Array.isArray(p) && p.length === 2))
    pairs = (padding as readonly (readonly [number, number])[]).map(([lo, hi]) => [lo, hi]);
  if (pairs === null || pairs.some(([lo, hi]) => !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < 0)) {
    throw new ArgumentError(
      `${name}: padding must be a non-negative int, or ${n} ints or [lo, hi] pairs (one per spatial dim), got ${JSON.stringify(padding)}`,
    );
  }
  return pairs;
}
