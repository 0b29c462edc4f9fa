/**
 * `Conv`, `Conv1d`, `Conv2d` (Equinox's `nn.Conv*`): N-d cross-correlation on one example,
 * computed as im2col + one batched matrix product (there is no convolution primitive; the
 * slices, pads and `dot_general` it is made of already trace, batch, differentiate and compile).
 */
import { Array, ArgumentError, ShapeError, lax, np, random, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { splitTwo } from "./linear";

/** An int for every side, one int per spatial dim, one `[lo, hi]` pair per dim, or a lax padding name. */
export type ConvPadding = number | readonly number[] | readonly (readonly [number, number])[] | "SAME" | "SAME_LOWER" | "VALID";

/** What the padding is filled with: zeros, the mirror image (`1234 -> 32123432`), the edge values (`11123444`) or a wrap-around (`34123412`). */
export type PaddingMode = "ZEROS" | "REFLECT" | "REPLICATE" | "CIRCULAR";

export interface ConvOptions {
  /** Window stride per spatial dim (default 1). */
  stride?: number | readonly number[];
  /** Default 0. See `ConvPadding`; `"SAME"` puts an odd extra pad at the end, `"SAME_LOWER"` at the start. */
  padding?: ConvPadding;
  /** Kernel dilation per spatial dim (default 1). */
  dilation?: number | readonly number[];
  /** Input channel groups: `inChannels` and `outChannels` must both be divisible by it (default 1). */
  groups?: number;
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Default `"ZEROS"`. */
  paddingMode?: PaddingMode;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** PRNG key for the initialisation (required). */
  key: Array;
}

type StringPadding = "SAME" | "SAME_LOWER" | "VALID";

/**
 * N-d convolution (cross-correlation, no kernel flip) of one example `x` of shape
 * `[inChannels, ...spatial]` into `[outChannels, ...outSpatial]`. Weight
 * `[outChannels, inChannels/groups, ...kernelSize]` and bias `[outChannels, 1, ..., 1]` are drawn
 * `uniform(-lim, lim)`, `lim = 1/sqrt(inChannels/groups · prod(kernelSize))`, from the two halves
 * of `split(key)`, as Equinox — the same key gives JAX's numbers. Batch with `vmap`.
 */
export class Conv extends Module {
  weight: Array;
  bias: Array | null;
  @field({ static: true }) numSpatialDims: number;
  @field({ static: true }) inChannels: number;
  @field({ static: true }) outChannels: number;
  @field({ static: true }) kernelSize: number[];
  @field({ static: true }) stride: number[];
  @field({ static: true }) padding: [number, number][] | StringPadding;
  @field({ static: true }) dilation: number[];
  @field({ static: true }) groups: number;
  @field({ static: true }) useBias: boolean;
  @field({ static: true }) paddingMode: PaddingMode;

  constructor(numSpatialDims: number, inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvOptions) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, useBias = true, paddingMode = "ZEROS", dtype = "float32", key } = opts;
    const name = new.target.name;
    if (!key) throw new ArgumentError(`${name}: a PRNG key is required — pass { key: random.key(seed) }`);
    if (!Number.isInteger(numSpatialDims) || numSpatialDims < 1)
      throw new ArgumentError(`${name}: numSpatialDims must be a positive integer, got ${numSpatialDims}`);
    positive(name, "inChannels", inChannels);
    positive(name, "outChannels", outChannels);
    positive(name, "groups", groups);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ArgumentError(
        `${name}: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`,
      );
    }
    const kernel = perDim(name, "kernelSize", kernelSize, numSpatialDims);
    const strides = perDim(name, "stride", stride, numSpatialDims);
    const dilations = perDim(name, "dilation", dilation, numSpatialDims);
    const mode = String(paddingMode).toUpperCase() as PaddingMode;
    if (!["ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"].includes(mode)) {
      throw new ArgumentError(
        `${name}: paddingMode must be "ZEROS", "REFLECT", "REPLICATE" or "CIRCULAR", got ${JSON.stringify(paddingMode)}`,
      );
    }
    const pads = parsePadding(name, padding, numSpatialDims);
    [this.weight, this.bias] = convParams(key, inChannels, outChannels, groups, kernel, useBias, dtype);
    this.numSpatialDims = numSpatialDims;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernel;
    this.stride = strides;
    this.padding = pads;
    this.dilation = dilations;
    this.groups = groups;
    this.useBias = useBias;
    this.paddingMode = mode;
  }

  static callParameters = ["x"];

  /** `x` of shape `[inChannels, ...spatial]`; `key` is ignored. */
  __call__(x: ArrayLike, _opts?: { key?: Array | null }): Array {
    const name = this.constructor.name;
    const n = this.numSpatialDims;
    const xa = convInput(name, "convolutions", x, n, this.inChannels);
    const spatial = xa.shape.slice(1);
    const span = this.kernelSize.map((k, i) => this.dilation[i]! * (k - 1) + 1);
    const pads = typeof this.padding === "string" ? padtypeToPads(spatial, span, this.stride, this.padding) : this.padding;
    const padded =
      this.paddingMode === "ZEROS"
        ? lax.pad(xa, np.zeros([], xa.dtype), [[0, 0, 0], ...pads.map(([lo, hi]) => [lo, hi, 0] as const)])
        : padNonZero(xa, pads, this.paddingMode);
    const paddedSpatial = padded.shape.slice(1);
    if (paddedSpatial.some((s, i) => s < span[i]!)) {
      throw new ShapeError(
        `${name}: padded input spatial shape [${paddedSpatial.join(", ")}] (from ${xa.aval}) is smaller than the dilated kernel [${span.join(", ")}] — use a larger input or more padding`,
      );
    }
    let out = convolve(padded, this.weight, this.stride, this.dilation, this.groups);
    if (this.bias !== null) out = np.add(out, this.bias);
    return out;
  }
}

/** `Conv` with one spatial dimension: `x` is `[inChannels, length]`. */
export class Conv1d extends Conv {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvOptions) {
    super(1, inChannels, outChannels, kernelSize, opts);
  }
}

/** `Conv` with two spatial dimensions: `x` is `[inChannels, height, width]`. */
export class Conv2d extends Conv {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvOptions) {
    super(2, inChannels, outChannels, kernelSize, opts);
  }
}

/**
 * Weight `[out, in/groups, ...kernel]` and bias `[out, 1...]` drawn `uniform(-lim, lim)`,
 * `lim = 1/sqrt(in/groups · Π kernel)`, from the two halves of `split(key)`: Equinox's
 * initialisation of its convolutions, transposed ones included.
 */
export function convParams(
  key: Array,
  inChannels: number,
  outChannels: number,
  groups: number,
  kernel: readonly number[],
  useBias: boolean,
  dtype: DType,
): [Array, Array | null] {
  const grouped = inChannels / groups;
  const lim = 1 / Math.sqrt(grouped * kernel.reduce((a, b) => a * b, 1));
  const [wkey, bkey] = splitTwo(key);
  const weight = random.uniform(wkey, [outChannels, grouped, ...kernel], { minval: -lim, maxval: lim, dtype });
  const bias = useBias ? random.uniform(bkey, [outChannels, ...kernel.map(() => 1)], { minval: -lim, maxval: lim, dtype }) : null;
  return [weight, bias];
}

/** `x` as an array of shape `[inChannels, ...n spatial dims]`, or a ShapeError naming `name`. */
export function convInput(name: string, what: string, x: ArrayLike, n: number, inChannels: number): Array {
  const xa = np.asarray(x);
  if (xa.ndim !== n + 1 || xa.shape[0] !== inChannels) {
    throw new ShapeError(
      `${name}: expected x of shape [${inChannels}, ...${n} spatial dim${n > 1 ? "s" : ""}], got ${xa.aval} — ${what} act on one unbatched example [channels, ...spatial]; batch with vmap(conv)(xs)`,
    );
  }
  return xa;
}

export function positive(name: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`${name}: ${what} must be a positive integer, got ${v}`);
}

export function perDim(name: string, what: string, v: number | readonly number[], n: number): number[] {
  const out = typeof v === "number" ? globalThis.Array<number>(n).fill(v) : [...v];
  if (out.length !== n)
    throw new ArgumentError(
      `${name}: ${what} [${out.join(", ")}] has ${out.length} entries, expected ${n} (one per spatial dim) or one number`,
    );
  out.forEach((d) => positive(name, what, d));
  return out;
}

export function parsePadding(name: string, padding: ConvPadding, n: number): [number, number][] | StringPadding {
  if (typeof padding === "string") {
    const p = padding.toUpperCase();
    if (p !== "SAME" && p !== "SAME_LOWER" && p !== "VALID")
      throw new ArgumentError(`${name}: padding string must be "SAME", "SAME_LOWER" or "VALID", got ${JSON.stringify(padding)}`);
    return p;
  }
  let pairs: [number, number][] | null = null;
  if (typeof padding === "number") pairs = globalThis.Array.from({ length: n }, () => [padding, padding]);
  else if (padding.length === n && padding.every((p) => typeof p === "number")) pairs = (padding as readonly number[]).map((p) => [p, p]);
  else if (padding.length === n && padding.every((p) => globalThis.Array.isArray(p) && p.length === 2))
    pairs = (padding as readonly (readonly [number, number])[]).map(([lo, hi]) => [lo, hi]);
  if (pairs === null || pairs.some(([lo, hi]) => !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < 0)) {
    throw new ArgumentError(
      `${name}: padding must be a string, a non-negative int, or ${n} ints or [lo, hi] pairs (one per spatial dim), got ${JSON.stringify(padding)}`,
    );
  }
  return pairs;
}

/** lax's `padtype_to_pads`: "SAME" keeps `ceil(in/stride)` outputs, an odd pad's extra at the end ("SAME_LOWER": at the start). */
function padtypeToPads(
  spatial: readonly number[],
  span: readonly number[],
  stride: readonly number[],
  padding: StringPadding,
): [number, number][] {
  if (padding === "VALID") return spatial.map(() => [0, 0]);
  return spatial.map((s, i) => {
    const out = Math.ceil(s / stride[i]!);
    const total = Math.max(0, (out - 1) * stride[i]! + span[i]! - s);
    const small = Math.floor(total / 2);
    return padding === "SAME" ? [small, total - small] : [total - small, small];
  });
}

/** numpy's `pad` modes "reflect", "edge" and "wrap" on the spatial axes, as concatenated slices. */
export function padNonZero(x: Array, pads: readonly (readonly [number, number])[], mode: PaddingMode): Array {
  let out = x;
  pads.forEach(([lo, hi], d) => {
    const axis = d + 1;
    const size = out.shape[axis]!;
    const source = (p: number): number => {
      if (mode === "REPLICATE") return Math.min(Math.max(p, 0), size - 1);
      if (mode === "CIRCULAR") return ((p % size) + size) % size;
      const period = 2 * (size - 1); // reflect about the edge elements, which are not repeated
      if (period === 0) return 0;
      const m = ((p % period) + period) % period;
      return m < size ? m : period - m;
    };
    const row = (p: number): Array => {
      const i = source(p);
      return lax.slice(
        out,
        out.shape.map((_, k) => (k === axis ? i : 0)),
        out.shape.map((s, k) => (k === axis ? i + 1 : s)),
      );
    };
    const before = globalThis.Array.from({ length: lo }, (_, j) => row(j - lo));
    const after = globalThis.Array.from({ length: hi }, (_, j) => row(size + j));
    if (lo + hi > 0) out = lax.concatenate([...before, out, ...after], axis);
  });
  return out;
}

/**
 * im2col: one strided slice of `x` per kernel offset gives `[C, prod(kernel), ...outSpatial]`,
 * ordered as the flattened weight `[out, C/groups · prod(kernel)]`; each group of input
 * channels then meets its group of output channels in one batched matrix product.
 */
export function convolve(x: Array, w: Array, stride: readonly number[], dilation: readonly number[], groups: number): Array {
  const [channels, ...spatial] = x.shape as number[];
  const kernel = w.shape.slice(2);
  const outSpatial = spatial.map((s, i) => Math.floor((s - dilation[i]! * (kernel[i]! - 1) - 1) / stride[i]!) + 1);
  const patches: Array[] = [];
  const offsets = kernel.reduce<number[][]>(
    (acc, k) => acc.flatMap((o) => globalThis.Array.from({ length: k }, (_, j) => [...o, j])),
    [[]],
  );
  for (const off of offsets) {
    const start = off.map((o, i) => o * dilation[i]!);
    const limit = start.map((s, i) => s + (outSpatial[i]! - 1) * stride[i]! + 1);
    patches.push(lax.slice(x, [0, ...start], [channels!, ...limit], [1, ...stride]));
  }
  const taps = offsets.length;
  const positions = outSpatial.reduce((a, b) => a * b, 1);
  const cols = np.reshape(np.stack(patches, 1), [groups, (channels! / groups) * taps, positions]);
  const outChannels = w.shape[0]!;
  const w3 = np.reshape(w, [groups, outChannels / groups, (channels! / groups) * taps]);
  return np.reshape(np.einsum("gok,gkp->gop", w3, cols), [outChannels, ...outSpatial]);
}
