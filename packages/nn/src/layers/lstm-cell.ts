/** `LSTMCell` (Equinox's `nn.LSTMCell`): one step of a long short-term memory unit. */
import { Array, ArgumentError, nn, np, random, type ArrayLike, type DType } from "@wax/tracer";
import { Module, field } from "../module";
import { checkSizes, checkStep, splitRows } from "./gru-cell";

export interface LSTMCellOptions {
  /** Add the bias (default true). */
  useBias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** PRNG key for the initialisation (required). */
  key: Array;
}

/**
 * One LSTM step: `cell(x, [h, c])` returns the next `[h, c]`, with
 * `[i, f, g, o] = split(W_ih x + W_hh h + b, 4)`, `c' = σ(f)·c + σ(i)·tanh(g)`,
 * `h' = σ(o)·tanh(c')`. `weightIh [4h, in]`, `weightHh [4h, h]`, `bias [4h]` are drawn
 * `uniform(-lim, lim)`, `lim = sqrt(1/hiddenSize)`, from `split(key, 3)` in that order, as
 * Equinox. Run it over a sequence with `lax.scan`; batch with `vmap`.
 */
export class LSTMCell extends Module {
  weightIh: Array;
  weightHh: Array;
  bias: Array | null;
  @field({ static: true }) inputSize: number;
  @field({ static: true }) hiddenSize: number;
  @field({ static: true }) useBias: boolean;

  constructor(inputSize: number, hiddenSize: number, opts: LSTMCellOptions) {
    super();
    const { useBias = true, dtype = "float32", key } = opts ?? ({} as LSTMCellOptions);
    if (!key) throw new ArgumentError("LSTMCell: a PRNG key is required — pass { key: random.key(seed) }");
    checkSizes("LSTMCell", inputSize, hiddenSize);
    const [ihkey, hhkey, bkey] = random.split(key, 3);
    const lim = Math.sqrt(1 / hiddenSize);
    const init = (k: Array, shape: number[]) => random.uniform(k, shape, { minval: -lim, maxval: lim, dtype });
    this.weightIh = init(ihkey!, [4 * hiddenSize, inputSize]);
    this.weightHh = init(hhkey!, [4 * hiddenSize, hiddenSize]);
    this.bias = useBias ? init(bkey!, [4 * hiddenSize]) : null;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.useBias = useBias;
  }

  static callParameters = ["input", "hidden"];

  /** `hidden` is `[h, c]`, each `[hiddenSize]`; returns the next `[h, c]`. `key` is ignored. */
  __call__(input: ArrayLike, hidden: readonly [ArrayLike, ArrayLike], _opts?: { key?: Array | null }): [Array, Array] {
    if (!globalThis.Array.isArray(hidden) || hidden.length !== 2) {
      throw new ArgumentError("LSTMCell: hidden must be a pair [h, c] — start from [np.zeros([hiddenSize]), np.zeros([hiddenSize])]");
    }
    const x = np.asarray(input);
    const h = np.asarray(hidden[0]);
    const c = np.asarray(hidden[1]);
    checkStep("LSTMCell", x, h, this.inputSize, this.hiddenSize, "h");
    checkStep("LSTMCell", x, c, this.inputSize, this.hiddenSize, "c");
    let lin = np.add(np.matmul(this.weightIh, x), np.matmul(this.weightHh, h));
    if (this.bias !== null) lin = np.add(lin, this.bias);
    const [i, f, g, o] = splitRows(lin, 4);
    const cNext = np.add(np.multiply(nn.sigmoid(f!), c), np.multiply(nn.sigmoid(i!), np.tanh(g!)));
    const hNext = np.multiply(nn.sigmoid(o!), np.tanh(cNext));
    return [hNext, cNext];
  }
}
