/** Deterministic inputs shared by every peer, and the FLOP/byte counts of each case. */
import type { CnnSpec, EmbeddingSpec, LayerData, MatmulSpec, MlpSpec, RnnSpec } from "./types";
import { mulberry32 } from "../test/support/seeded";

const rng = mulberry32;

export function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

export function matmulSpec(n: number, transposeB: boolean): MatmulSpec {
  return { n, transposeB, a: uniform(n * n, -1, 1, 11 + n), b: uniform(n * n, -1, 1, 23 + n) };
}

export const matmulFlops = (n: number): number => 2 * n ** 3;

/** Glorot-uniform weights, small biases, uniform inputs and targets. */
export function mlpSpec(batch: number, widths: number[]): MlpSpec {
  const layers: LayerData[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    const [fin, fout] = [widths[i]!, widths[i + 1]!];
    const lim = Math.sqrt(6 / (fin + fout));
    layers.push({ w: uniform(fin * fout, -lim, lim, 100 + i), b: uniform(fout, -0.1, 0.1, 200 + i) });
  }
  return {
    batch,
    widths,
    layers,
    x: uniform(batch * widths[0]!, -1, 1, 300),
    y: uniform(batch * widths.at(-1)!, -1, 1, 400),
    lr: 1e-3,
    b1: 0.9,
    b2: 0.999,
    eps: 1e-8,
  };
}

/** 6·batch·Σ(in·out): forward 2·, backward 4· (input and weight gradients). */
export function mlpFlops(spec: MlpSpec): number {
  let s = 0;
  for (let i = 0; i + 1 < spec.widths.length; i++) s += spec.widths[i]! * spec.widths[i + 1]!;
  return 6 * spec.batch * s;
}

/** First, last and sum of a result: cheap to compare across peers. */
export function summary(x: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return [x[0]!, x[x.length - 1]!, s];
}

export function rnnSpec(steps: number, mode: RnnSpec["mode"], grad: boolean, n = 8, hidden = 32): RnnSpec {
  const lim = 1 / Math.sqrt(hidden);
  return {
    steps,
    n,
    hidden,
    w: uniform(hidden * hidden, -lim, lim, 500),
    u: uniform(hidden * n, -lim, lim, 501),
    b: uniform(hidden, -0.1, 0.1, 502),
    xs: uniform(steps * n, -1, 1, 503),
    mode,
    grad,
  };
}

export function embeddingSpec(batch: number, seq: number, vocab = 1000, dim = 64): EmbeddingSpec {
  const r = rng(600);
  const ids = new Int32Array(batch * seq);
  for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(r() * vocab);
  return { vocab, dim, batch, seq, table: uniform(vocab * dim, -1, 1, 601), ids };
}

/** The CNN step of `CnnSpec` with He-uniform-ish weights, uniform images and labels 0..classes-1. */
export function cnnSpec(batch: number, size = 28, c1 = 16, c2 = 32, classes = 10): CnnSpec {
  const layer = (fin: number, n: number, seed: number): LayerData => {
    const lim = 1 / Math.sqrt(fin);
    return { w: uniform(n, -lim, lim, seed), b: uniform(n / fin, -lim, lim, seed + 1) };
  };
  const flat = c2 * (size / 4) ** 2;
  const labels = new Int32Array(batch);
  const r = rng(800);
  for (let i = 0; i < batch; i++) labels[i] = Math.floor(r() * classes);
  return {
    batch,
    size,
    c1,
    c2,
    classes,
    conv1: layer(9, c1 * 9, 801),
    conv2: layer(9 * c1, c2 * c1 * 9, 803),
    linear: layer(flat, classes * flat, 805),
    x: uniform(batch * size * size, -1, 1, 807),
    labels,
    lr: 0.01,
  };
}

/**
 * FLOPs of one CNN step: 2·MACs forward, and the backward's weight gradients (2·) and input
 * gradients (2·) except into the first layer's input, which no one needs.
 */
export function cnnFlops(s: CnnSpec): number {
  const conv1 = 2 * s.batch * s.size ** 2 * s.c1 * 9;
  const conv2 = 2 * s.batch * (s.size / 2) ** 2 * s.c2 * s.c1 * 9;
  const linear = 2 * s.batch * s.c2 * (s.size / 4) ** 2 * s.classes;
  return 2 * conv1 + 3 * conv2 + 3 * linear;
}
