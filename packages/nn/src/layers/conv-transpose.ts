/**
 * `ConvTranspose`, `ConvTranspose1d`, `ConvTranspose2d` (Equinox's `nn.ConvTranspose*`): as
 * Equinox, a stride-1 convolution of the input dilated by `stride` (lax's `lhs_dilation`), with
 * the padding that makes it go "the opposite way" to a `Conv` of the same hyper-parameters.
 */
import { Array, ArgumentError, ShapeError, lax, np, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { convInput, convParams, convolve, padNonZero, parsePadding, perDim, positive, type ConvPadding } from "./conv";

export interface ConvTransposeOptions {
  /** The stride of the equivalent `Conv` (default 1): the input is dilated by it. */
  stride?: number | readonly number[];
  /** The padding of the equivalent `Conv` (default 0); `"SAME"`/`"SAME_LOWER"` give `in · stride` outputs. */
  padding?: ConvPadding;
  /** Extra output size per spatial dim, each `< stride` (default 0): resolves which input shape of the equivalent `Conv` to produce. */
  outputPadding?: number | readonly number[];
  /** Kernel dilation per spatial dim (default 1). */
  dilation?: number | readonly number[];
  /** Channel groups: `inChannels` and `outChannels` must both be divisible by it (default 1). */
  groups?: number;
  /** Add a bias (default true). */
  useBias?: boolean;
  /** `"ZEROS"` (default) or `"CIRCULAR"` (only with `"SAME"`/`"SAME_LOWER"` padding and no output padding, as Equinox). */
  paddingMode?: "ZEROS" | "CIRCULAR";
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** PRNG key for the initialisation (required). */
  key: Array;
}

type Padding = [number, number][] | "SAME" | "SAME_LOWER" | "VALID";

/**
 * N-d transposed convolution of one example `x` `[inChannels, ...spatial]` into
 * `[outChannels, ...outSpatial]`, where with integer padding `(lo, hi)`
 * `out = (in − 1)·stride − lo − hi + dilation·(kernel − 1) + outputPadding + 1` (PyTorch's
 * formula). Weight `[outChannels, inChannels/groups, ...kernelSize]` and bias
 * `[outChannels, 1, ..., 1]` are drawn `uniform(-lim, lim)`, `lim = 1/sqrt(inChannels/groups ·
 * prod(kernelSize))`, from the two halves of `split(key)`, as Equinox. The weight is used as a
 * plain (unflipped) kernel, as Equinox: to transpose a given `conv` exactly, set
 * `weight = flip(conv.weight, spatial axes).swapaxes(0, 1)`. Batch with `vmap`.
 */
export class ConvTranspose extends Module {
  weight: Array;
  bias: Array | null;
  @field({ static: true }) numSpatialDims: number;
  @field({ static: true }) inChannels: number;
  @field({ static: true }) outChannels: number;
  @field({ static: true }) kernelSize: number[];
  @field({ static: true }) stride: number[];
  @field({ static: true }) padding: Padding;
  @field({ static: true }) outputPadding: number[];
  @field({ static: true }) dilation: number[];
  @field({ static: true }) groups: number;
  @field({ static: true }) useBias: boolean;
  @field({ static: true }) paddingMode: "ZEROS" | "CIRCULAR";

  constructor(
    numSpatialDims: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvTransposeOptions,
  ) {
    super();
    const {
      stride = 1,
      padding = 0,
      outputPadding = 0,
      dilation = 1,
      groups = 1,
      useBias = true,
      paddingMode = "ZEROS",
      dtype = "float32",
      key,
    } = opts ?? ({} as ConvTransposeOptions);
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
    const outPad = typeof outputPadding === "number" ? globalThis.Array<number>(numSpatialDims).fill(outputPadding) : [...outputPadding];
    if (outPad.length !== numSpatialDims || outPad.some((o) => !Number.isInteger(o) || o < 0)) {
      throw new ArgumentError(
        `${name}: outputPadding must be a non-negative int or ${numSpatialDims} of them (one per spatial dim), got ${JSON.stringify(outputPadding)}`,
      );
    }
    if (outPad.some((o, i) => o >= strides[i]!)) {
      throw new ArgumentError(
        `${name}: outputPadding [${outPad.join(", ")}] must be smaller than stride [${strides.join(", ")}] in every dim — it picks one of the stride input shapes that a Conv maps to the same output`,
      );
    }
    const pads = parsePadding(name, padding, numSpatialDims);
    const mode = String(paddingMode).toUpperCase();
    if (mode === "REFLECT" || mode === "REPLICATE")
      throw new ArgumentError(
        `${name}: paddingMode ${JSON.stringify(paddingMode)} is not supported (Equinox does not support it either) — use "ZEROS" or "CIRCULAR"`,
      );
    if (mode !== "ZEROS" && mode !== "CIRCULAR")
      throw new ArgumentError(`${name}: paddingMode must be "ZEROS" or "CIRCULAR", got ${JSON.stringify(paddingMode)}`);
    if (mode === "CIRCULAR" && (outPad.some((o) => o !== 0) || (pads !== "SAME" && pads !== "SAME_LOWER"))) {
      throw new ArgumentError(
        `${name}: paddingMode "CIRCULAR" is only implemented with padding "SAME" or "SAME_LOWER" and outputPadding 0 (as in Equinox)`,
      );
    }
    [this.weight, this.bias] = convParams(key, inChannels, outChannels, groups, kernel, useBias, dtype);
    this.numSpatialDims = numSpatialDims;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernel;
    this.stride = strides;
    this.padding = pads;
    this.outputPadding = outPad;
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
    let xa = convInput(name, "transposed convolutions", x, n, this.inChannels);
    let pads = this.paddingTranspose();
    if (this.paddingMode === "CIRCULAR") {
      // Equinox's _circular_pad: whole strides of padding wrap the undilated input around.
      const floorDiv = (a: number, b: number) => Math.floor(a / b);
      xa = padNonZero(
        xa,
        pads.map(([lo, hi], i) => [floorDiv(lo, this.stride[i]!), floorDiv(hi, this.stride[i]!)] as [number, number]),
        "CIRCULAR",
      );
      pads = pads.map(([lo, hi], i) => [
        lo - floorDiv(lo, this.stride[i]!) * this.stride[i]!,
        hi - floorDiv(hi, this.stride[i]!) * this.stride[i]!,
      ]);
    }
    const span = this.kernelSize.map((k, i) => this.dilation[i]! * (k - 1) + 1);
    const dilatedSizes = xa.shape.slice(1).map((l, i) => (l - 1) * this.stride[i]! + 1);
    const spatial = dilatedSizes.map((l, i) => l + pads[i]![0] + pads[i]![1]);
    if (spatial.some((s, i) => s < span[i]! || -Math.min(pads[i]![0], pads[i]![1]) > dilatedSizes[i]!)) {
      throw new ShapeError(
        `${name}: the input ${xa.aval} is too small for this padding: the dilated, padded input [${spatial.join(", ")}] is smaller than the dilated kernel [${span.join(", ")}] — use a larger input or less padding`,
      );
    }
    // lax.conv_general_dilated's lhs_dilation: stride − 1 zeros between inputs, then the (possibly negative) padding.
    const dilated = lax.pad(xa, np.zeros([], xa.dtype), [[0, 0, 0], ...pads.map(([lo, hi], i) => [lo, hi, this.stride[i]! - 1] as const)]);
    let out = convolve(
      dilated,
      this.weight,
      this.kernelSize.map(() => 1),
      this.dilation,
      this.groups,
    );
    if (this.bias !== null) out = np.add(out, this.bias);
    return out;
  }

  /** Equinox's `_padding_transpose`: the padding of the dilated input, per spatial dim. */
  private paddingTranspose(): [number, number][] {
    return this.kernelSize.map((k, i) => {
      const d = this.dilation[i]!;
      const s = this.stride[i]!;
      let a = this.outputPadding[i]!;
      let p0: number;
      let p1: number;
      if (this.padding === "VALID") {
        p0 = p1 = 0;
      } else if (this.padding === "SAME" || this.padding === "SAME_LOWER") {
        let pSum = d * (k - 1) - s + a + 1;
        a = pSum < 0 ? -pSum : 0;
        pSum = Math.max(pSum, 0);
        p0 = Math.floor((pSum + (this.padding === "SAME_LOWER" ? 1 : 0)) / 2);
        p1 = pSum - p0;
      } else {
        [p0, p1] = this.padding[i]!;
      }
      return [d * (k - 1) - p0, d * (k - 1) - p1 + a];
    });
  }
}

/** `ConvTranspose` with one spatial dimension: `x` is `[inChannels, length]`. */
export class ConvTranspose1d extends ConvTranspose {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvTransposeOptions) {
    super(1, inChannels, outChannels, kernelSize, opts);
  }
}

/** `ConvTranspose` with two spatial dimensions: `x` is `[inChannels, height, width]`. */
export class ConvTranspose2d extends ConvTranspose {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], opts: ConvTransposeOptions) {
    super(2, inChannels, outChannels, kernelSize, opts);
  }
}
