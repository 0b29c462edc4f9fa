/** `MLP` (Equinox's `nn.MLP`): a stack of `Linear` layers with activations in between. */
import { Array, ArgumentError, ShapeError, nn, random, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { Linear } from "./linear";

/** An activation: a function of one array, or a Module called the same way. */
export type Activation = (x: Array) => Array;

export interface MLPOptions {
  /** Input size, or `"scalar"` for inputs of shape `[]`. */
  inSize: number | "scalar";
  /** Output size, or `"scalar"` for outputs of shape `[]`. */
  outSize: number | "scalar";
  /** Size of each hidden layer. */
  widthSize: number;
  /** Number of hidden layers; 0 makes a single `Linear(inSize, outSize)`. */
  depth: number;
  /** After each hidden layer (default `nn.relu`). */
  activation?: Activation;
  /** After the output layer (default the identity). */
  finalActivation?: Activation;
  /** Biases on the hidden layers (default true). */
  useBias?: boolean;
  /** Bias on the output layer (default true). */
  useFinalBias?: boolean;
  dtype?: DType;
  /** PRNG key for the initialisation (required). */
  key: Array;
}

/** The identity, the default final activation. */
export function identity(x: Array): Array {
  return x;
}

/**
 * `depth` hidden layers of `widthSize` units. The keys are `split(key, depth + 1)`, one per
 * `Linear` in order, exactly as Equinox, so a key gives the same parameters as in JAX.
 * The activations are fields holding the functions you passed: plain functions are non-array
 * leaves (static under `filterJit`, compared by identity, so pass the same function object to
 * reuse a compilation); a Module activation's arrays are ordinary parameters.
 *
 * @example
 * const mlp = new MLP({ inSize: 2, outSize: 1, widthSize: 32, depth: 2, key: random.key(0) });
 * const y = mlp(array([0.5, -1]));
 */
export class MLP extends Module {
  layers: Linear[];
  activation: Activation;
  finalActivation: Activation;
  @field({ static: true }) inSize: number | "scalar";
  @field({ static: true }) outSize: number | "scalar";
  @field({ static: true }) widthSize: number;
  @field({ static: true }) depth: number;
  @field({ static: true }) useBias: boolean;
  @field({ static: true }) useFinalBias: boolean;

  constructor(opts: MLPOptions) {
    super();
    const {
      inSize,
      outSize,
      widthSize,
      depth,
      activation = nn.relu,
      finalActivation = identity,
      useBias = true,
      useFinalBias = true,
      dtype,
      key,
    } = opts;
    if (!key) throw new ArgumentError("MLP: a PRNG key is required — pass { key: random.key(seed) }");
    if (!Number.isInteger(depth) || depth < 0) throw new ArgumentError(`MLP: depth must be a non-negative integer, got ${depth}`);
    if (depth > 0 && (!Number.isInteger(widthSize) || widthSize < 1))
      throw new ArgumentError(`MLP: widthSize must be a positive integer, got ${widthSize}`);
    if (typeof activation !== "function" || typeof finalActivation !== "function")
      throw new ArgumentError("MLP: activation and finalActivation must be functions");
    const keys = random.split(key, depth + 1);
    const layers: Linear[] = [];
    if (depth === 0) {
      layers.push(new Linear(inSize, outSize, { useBias: useFinalBias, dtype, key: keys.get(0) }));
    } else {
      layers.push(new Linear(inSize, widthSize, { useBias, dtype, key: keys.get(0) }));
      for (let i = 1; i < depth; i++) layers.push(new Linear(widthSize, widthSize, { useBias, dtype, key: keys.get(i) }));
      layers.push(new Linear(widthSize, outSize, { useBias: useFinalBias, dtype, key: keys.get(depth) }));
    }
    this.layers = layers;
    this.activation = activation;
    this.finalActivation = finalActivation;
    this.inSize = inSize;
    this.outSize = outSize;
    this.widthSize = widthSize;
    this.depth = depth;
    this.useBias = useBias;
    this.useFinalBias = useFinalBias;
  }

  static callParameters = ["x"];

  /** `x` of shape `[inSize]` (or `[]` for `"scalar"`); `key` is ignored. */
  __call__(x: Array, _opts?: { key?: Array | null }): Array {
    const want = this.inSize === "scalar" ? [] : [this.inSize];
    if (x.ndim !== want.length || x.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(
        `MLP: expected x of shape [${want.join(", ")}], got ${x.aval} — an MLP acts on one example; batch it with vmap(mlp)(xs)`,
      );
    }
    let h = x;
    for (let i = 0; i < this.depth; i++) h = this.activation(this.layers[i]!(h) as Array);
    return this.finalActivation(this.layers[this.depth]!(h) as Array);
  }
}
