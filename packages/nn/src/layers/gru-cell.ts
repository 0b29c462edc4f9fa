/** `GRUCell` (Equinox's `nn.GRUCell`): one step of a gated recurrent unit. */
import { Array, ArgumentError, ShapeError, lax, nn, np, random, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";

export interface GRUCellOptions {
  /** Add the biases `bias` and `biasN` (default true). */
  useBias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** PRNG key for the initialisation (required). */
  key: Array;
}

/**
 * One GRU step: `cell(x, h)` maps an input `[inputSize]` and a hidden state `[hiddenSize]` to
 * the next hidden state, with Equinox's (PyTorch's) gate equations:
 * `r = σ(W_ir x + b_r + W_hr h)`, `z = σ(W_iz x + b_z + W_hz h)`,
 * `n = tanh(W_in x + b_n' + r·(W_hn h + biasN))`, `h' = n + z·(h − n)`.
 * `weightIh [3h, in]`, `weightHh [3h, h]`, `bias [3h]`, `biasN [h]` are drawn
 * `uniform(-lim, lim)`, `lim = sqrt(1/hiddenSize)`, from `split(key, 4)` in that order, as
 * Equinox. Run it over a sequence with `lax.scan`; batch with `vmap`.
 */
export class GRUCell extends Module {
  weightIh: Array;
  weightHh: Array;
  bias: Array | null;
  biasN: Array | null;
  @field({ static: true }) inputSize: number;
  @field({ static: true }) hiddenSize: number;
  @field({ static: true }) useBias: boolean;

  constructor(inputSize: number, hiddenSize: number, opts: GRUCellOptions) {
    super();
    const { useBias = true, dtype = "float32", key } = opts ?? ({} as GRUCellOptions);
    if (!key) throw new ArgumentError("GRUCell: a PRNG key is required — pass { key: random.key(seed) }");
    checkSizes("GRUCell", inputSize, hiddenSize);
    const [ihkey, hhkey, bkey, bkey2] = random.split(key, 4);
    const lim = Math.sqrt(1 / hiddenSize);
    const init = (k: Array, shape: number[]) => random.uniform(k, shape, { minval: -lim, maxval: lim, dtype });
    this.weightIh = init(ihkey!, [3 * hiddenSize, inputSize]);
    this.weightHh = init(hhkey!, [3 * hiddenSize, hiddenSize]);
    this.bias = useBias ? init(bkey!, [3 * hiddenSize]) : null;
    this.biasN = useBias ? init(bkey2!, [hiddenSize]) : null;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.useBias = useBias;
  }

  static callParameters = ["input", "hidden"];

  /** The next hidden state `[hiddenSize]`; `key` is ignored. */
  __call__(input: ArrayLike, hidden: ArrayLike, _opts?: { key?: Array | null }): Array {
    const x = np.asarray(input);
    const h = np.asarray(hidden);
    checkStep("GRUCell", x, h, this.inputSize, this.hiddenSize);
    let ig = np.matmul(this.weightIh, x);
    if (this.bias !== null) ig = np.add(ig, this.bias);
    const [ir, iz, inew] = splitRows(ig, 3);
    const [hr, hz, hnew] = splitRows(np.matmul(this.weightHh, h), 3);
    const reset = nn.sigmoid(np.add(ir!, hr!));
    const update = nn.sigmoid(np.add(iz!, hz!));
    const candidate = np.tanh(np.add(inew!, np.multiply(reset, this.biasN !== null ? np.add(hnew!, this.biasN) : hnew!)));
    return np.add(candidate, np.multiply(update, np.subtract(h, candidate)));
  }
}

/** `jnp.split(v, n)` of a vector into `n` equal consecutive blocks. */
export function splitRows(v: Array, n: number): Array[] {
  const size = v.shape[0]! / n;
  return globalThis.Array.from({ length: n }, (_, i) => lax.slice(v, [i * size], [(i + 1) * size]));
}

export function checkSizes(name: string, inputSize: number, hiddenSize: number): void {
  if (!Number.isInteger(inputSize) || inputSize < 0)
    throw new ArgumentError(`${name}: inputSize must be a non-negative integer, got ${inputSize}`);
  if (!Number.isInteger(hiddenSize) || hiddenSize < 1)
    throw new ArgumentError(`${name}: hiddenSize must be a positive integer, got ${hiddenSize}`);
}

export function checkStep(name: string, x: Array, h: Array, inputSize: number, hiddenSize: number, what = "hidden"): void {
  if (x.ndim !== 1 || x.shape[0] !== inputSize) {
    throw new ShapeError(
      `${name}: expected an input of shape [${inputSize}], got ${x.aval} — a cell takes one time step of one example; scan over time with lax.scan and batch with vmap`,
    );
  }
  if (h.ndim !== 1 || h.shape[0] !== hiddenSize)
    throw new ShapeError(`${name}: expected ${what} of shape [${hiddenSize}], got ${h.aval} — start from np.zeros([${hiddenSize}])`);
}
