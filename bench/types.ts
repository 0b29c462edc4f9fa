/**
 * The contract between the harness (`run.ts`) and each framework under test (`peers/*.ts`):
 * a peer turns a case's inputs into a `Bench`, whose `run()` is one call with the result read
 * back, so lazy frameworks do all the work inside the timed region.
 */

/** One prepared benchmark: inputs already on the device, function already compiled. */
export interface Bench {
  /** One call, result read back to JS (dataSync / toArray / .data). */
  run(): void;
  /** Waits for any work still pending at the end of a timed repetition (timed). */
  sync?(): void | Promise<void>;
  /** Frees device memory and compiled code. */
  dispose(): void;
  /** Numbers from the first call(s), compared across peers to check they did the same math. */
  check: number[];
  /** First call minus a warm call, in ms (jit peers, MLP case only). */
  compileMs?: number;
  /** The framework's own compile time (tracing + compiling), if it reports one. */
  internalCompileMs?: number;
  /** Further figures for rows of their own (a case's `extraRows`), by key: e.g. `firstCallMs`, `bytesPerStep`. */
  extra?: Record<string, number>;
}

export interface MatmulSpec {
  n: number;
  /** Computes A@Bᵀ instead of A@B. */
  transposeB: boolean;
  /** Row-major n×n. */
  a: Float32Array;
  b: Float32Array;
}

/** One dense layer, row-major `w: [in, out]`, `b: [out]`. */
export interface LayerData {
  w: Float32Array;
  b: Float32Array;
}

/**
 * An MLP training step: h = tanh(h@W + b) for the hidden layers, a linear last layer, MSE loss,
 * and Adam written by hand inside the jitted step: m = b1·m + (1-b1)·g, v = b2·v + (1-b2)·g²,
 * bias corrections 1 - exp(t·ln b) from the step count t passed (and returned as t+1) as an
 * array, p -= lr·m̂/(√v̂ + eps).
 */
export interface MlpSpec {
  batch: number;
  widths: number[];
  layers: LayerData[];
  /** Row-major [batch, widths[0]] and [batch, widths.at(-1)]. */
  x: Float32Array;
  y: Float32Array;
  lr: number;
  b1: number;
  b2: number;
  eps: number;
}

/**
 * A recurrent program: `h ← tanh(W·h + U·x_t + b)` over `xs: [T, n]`, then `Σ h`; `hidden`
 * units, weights row-major. Run as one `lax.scan` (`mode: "scan"`) or as a JS loop that
 * unrolls into the traced program (`mode: "unrolled"`).
 */
export interface RnnSpec {
  steps: number;
  n: number;
  hidden: number;
  w: Float32Array;
  u: Float32Array;
  b: Float32Array;
  xs: Float32Array;
  mode: "scan" | "unrolled";
  /** Also differentiate the sum with respect to W (forward + backward scan). */
  grad: boolean;
}

/** Embedding lookup: `table[ids]` for `ids: [batch, seq]` int32 into `table: [vocab, dim]`, summed to a check value. */
export interface EmbeddingSpec {
  vocab: number;
  dim: number;
  batch: number;
  seq: number;
  table: Float32Array;
  ids: Int32Array;
}

/**
 * A CNN training step on `batch` images `[batch, 1, size, size]` (NCHW): conv 3×3 SAME
 * (1→c1) → relu → max-pool 2×2/2 → conv 3×3 SAME (c1→c2) → relu → max-pool 2×2/2 → linear
 * (c2·(size/4)² → classes, flattened channel-major as NCHW), mean softmax cross-entropy on
 * integer labels, one SGD step `p -= lr·g`. Conv weights `[out, in, 3, 3]`, linear `[out, in]`.
 */
export interface CnnSpec {
  batch: number;
  size: number;
  c1: number;
  c2: number;
  classes: number;
  conv1: LayerData;
  conv2: LayerData;
  linear: LayerData;
  x: Float32Array;
  labels: Int32Array;
  lr: number;
}

/** BatchNorm (Equinox's default "ema" mode) parameters and running state. */
export interface SeedNorm {
  weight: Float32Array;
  bias: Float32Array;
  /** The first-call flag (true: normalise with the batch statistics only). */
  first: boolean;
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * The seed example's training step (examples/stateful.ts, Equinox's "stateful operations"):
 * over a batch of `batch` examples `xs: [batch, 3]`, `BatchNorm(3)` → `SpectralNorm(Linear(3,
 * 32))` (one power iteration on stop_gradient(W), σ = uᵀWv) → relu → `BatchNorm(32)` →
 * `Linear(32, 32)` → relu → `Linear(32, 3)`; loss `mean((pred − ys)²)`; the BatchNorm and
 * SpectralNorm state updated; `optax.adam(learningRate)`. Returns the loss. Linear weights are
 * `[out, in]`; the initial values are wax's (JAX's initialisation for key 5678).
 */
export interface SeedSpec {
  norm1: SeedNorm;
  spectral: { w: Float32Array; b: Float32Array; u: Float32Array; v: Float32Array };
  norm2: SeedNorm;
  linear1: { w: Float32Array; b: Float32Array };
  linear2: { w: Float32Array; b: Float32Array };
  batch: number;
  xs: Float32Array;
  ys: Float32Array;
  learningRate: number;
}

export interface Peer {
  readonly name: string;
  /** How the peer runs (device, threads), printed under the table. */
  readonly info: string;
  /** Makes this peer's backend the active one (tfjs has one global backend). */
  activate?(): Promise<void>;
  tiny(x: Float32Array): Bench | Promise<Bench>;
  matmul(spec: MatmulSpec): Bench | Promise<Bench>;
  chain(x: Float32Array): Bench | Promise<Bench>;
  mlp(spec: MlpSpec): Bench | Promise<Bench>;
  /** Optional cases: a peer without the op (e.g. jax-js has no `scan`) leaves them out. */
  rnn?(spec: RnnSpec): Bench | Promise<Bench>;
  embedding?(spec: EmbeddingSpec): Bench | Promise<Bench>;
  /** A CNN training step (`CnnSpec`). */
  cnn?(spec: CnnSpec): Bench | Promise<Bench>;
  /** `argsort` of a float32 vector. */
  argsort?(x: Float32Array): Bench | Promise<Bench>;
  /** The seed example's training step (`SeedSpec`), jitted, and the same step run eagerly. */
  seed?(spec: SeedSpec): Bench | Promise<Bench>;
  seedEager?(spec: SeedSpec): Bench | Promise<Bench>;
}
