/** `SpectralNorm` (Equinox's `nn.SpectralNorm`): divides a layer's weight by its largest singular value. */
import { Array, ArgumentError, lax, np, random, stopGradient } from "@wax/tracer";
import { Module, field } from "../module";
import { State, StateIndex } from "../stateful";
import { StatefulLayer } from "./stateful-layer";
import { treeAt } from "../tree-at";
import { splitTwo } from "./linear";

export interface SpectralNormOptions<L> {
  /** The wrapped layer (called as `layer(x)`; it must not be stateful). */
  layer: L;
  /** Name of the layer's weight field. */
  weightName: string;
  numPowerIterations?: number;
  eps?: number;
  inference?: boolean;
  /** PRNG key for the initial power-iteration vectors. */
  key: Array;
}

/** One power-iteration step, Equinox's order: `u` from `v` (the incoming `u` is unused), then `v`. */
function powerIteration(w: Array, v: Array, eps: number): [Array, Array] {
  let u = np.matmul(w, v);
  u = np.divide(u, np.maximum(eps, np.sqrt(np.sum(np.square(u)))));
  let v2 = np.matmul(np.transpose(w), u);
  v2 = np.divide(v2, np.maximum(eps, np.sqrt(np.sum(np.square(v2)))));
  return [u, v2];
}

/**
 * Spectral normalisation: the weight (reshaped to 2-D `[rows, -1]`) is divided by
 * `sigma = u · W · v`, where `u`, `v` come from power iterations run on the stop-gradient
 * weight during training and kept in the state; gradients flow through `sigma` into `W`.
 * 15 power iterations run at construction. Returns `[out, state]`.
 */
export class SpectralNorm<L extends Module = Module> extends StatefulLayer {
  layer: L;
  @field({ static: true }) weightName: string;
  uvIndex: StateIndex<[Array, Array]>;
  @field({ static: true }) numPowerIterations: number;
  @field({ static: true }) eps: number;
  inference: boolean;

  constructor(opts: SpectralNormOptions<L>) {
    super();
    const { layer, weightName, numPowerIterations = 1, eps = 1e-12, inference = false, key } = opts;
    const w = (layer as unknown as Record<string, unknown>)[weightName];
    if (!(w instanceof Array))
      throw new ArgumentError(`SpectralNorm: layer has no array field '${weightName}' — pass weightName of the weight to normalise`);
    if (w.ndim < 2) throw new ArgumentError(`SpectralNorm: weight '${weightName}' must have at least 2 dimensions, got ${w.aval}`);
    const w2 = np.reshape(w, [w.shape[0]!, -1]);
    const [ukey, vkey] = splitTwo(key);
    let u = random.normal(ukey, [w2.shape[0]!], { dtype: w.dtype });
    let v = random.normal(vkey, [w2.shape[1]!], { dtype: w.dtype });
    for (let i = 0; i < 15; i++) [u, v] = powerIteration(w2, v, eps);
    this.layer = layer;
    this.weightName = weightName;
    this.uvIndex = new StateIndex<[Array, Array]>([u, v]);
    this.numPowerIterations = numPowerIterations;
    this.eps = eps;
    this.inference = inference;
  }

  static callParameters = ["x", "state"];

  __call__(x: Array, state: State, opts: { key?: Array; inference?: boolean } = {}): [Array, State] {
    let [u, v] = state.get(this.uvIndex);
    const w = (this.layer as unknown as Record<string, Array>)[this.weightName]!;
    const w2 = np.reshape(w, [w.shape[0]!, -1]);
    const inference = opts.inference ?? this.inference;
    if (!inference) {
      const stopped = stopGradient(w2);
      for (let i = 0; i < this.numPowerIterations; i++) [u, v] = powerIteration(stopped, v, this.eps);
      state = state.set(this.uvIndex, [u, v]);
    }
    const sigma = np.sum(np.multiply(u, np.matmul(w2, v)));
    const wsn = lax.reshape(np.divide(w2, sigma), w.shape);
    const layer = treeAt((l: L) => (l as unknown as Record<string, unknown>)[this.weightName], this.layer, wsn);
    return [(layer as unknown as (x: Array) => Array)(x), state];
  }
}
