/**
 * Random XLA gathers and scatters (every kind of dimension number: offset/window dims,
 * collapsed/inserted dims, permuted start_index_map, operand/indices batching dims, size-0
 * and size-1 axes; indices in and out of bounds, negative ones included) and per-element
 * references written from XLA's operation semantics, independently of the interpreter (which
 * loops over index batches and precomputed window offsets).
 */
import { mulberry32 } from "../../../../test/support/seeded";

export type Mode = "clip" | "fill_or_drop" | "promise_in_bounds";

export interface GatherDims {
  offset_dims: number[];
  collapsed_slice_dims: number[];
  start_index_map: number[];
  operand_batching_dims: number[];
  start_indices_batching_dims: number[];
}

export interface ScatterDims {
  update_window_dims: number[];
  inserted_window_dims: number[];
  scatter_dims_to_operand_dims: number[];
  operand_batching_dims: number[];
  scatter_indices_batching_dims: number[];
}

export interface GatherCase {
  operandShape: number[];
  operand: number[];
  indicesShape: number[];
  indices: number[];
  dims: GatherDims;
  sliceSizes: number[];
  outShape: number[];
  mode: Mode;
}

export interface ScatterCase {
  operandShape: number[];
  operand: number[];
  indicesShape: number[];
  indices: number[];
  updatesShape: number[];
  updates: number[];
  dims: ScatterDims;
  mode: Mode;
}

const range = (n: number) => [...globalThis.Array(n).keys()];
export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Row-major multi-index of flat position `k` in `shape`. */
export function unravel(k: number, shape: readonly number[]): number[] {
  const out = shape.map(() => 0);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = k % shape[d]!;
    k = Math.floor(k / shape[d]!);
  }
  return out;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let k = 0;
  for (let d = 0; d < shape.length; d++) k = k * shape[d]! + idx[d]!;
  return k;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
/** A random subset of `xs` in random order. */
function someOf(r: () => number, xs: readonly number[], max = xs.length): number[] {
  const shuffled = [...xs].sort(() => r() - 0.5);
  return shuffled.slice(0, int(r, 0, Math.min(max, xs.length)));
}

/** Shared shape of a gather and its scatter dual: the operand, indices and the window. */
interface Layout {
  operandShape: number[];
  indicesShape: number[];
  windowSizes: number[];
  /** Operand dims indexed by the index vector, in index-vector order. */
  startIndexMap: number[];
  /** Operand dims dropped from the window (slice size 1). */
  collapsed: number[];
  operandBatching: number[];
  indicesBatching: number[];
  /** Positions of the window dims among the output (gather) / updates (scatter) dims. */
  windowPositions: number[];
}

function randomLayout(r: () => number): Layout {
  const rank = int(r, 1, 3);
  const operandShape = range(rank).map(() => pick(r, [0, 1, 2, 3, 4, 5]));
  const nb = int(r, 0, 2);
  const batchShape = range(nb).map(() => pick(r, [0, 1, 2, 3]));
  // Batching dims: pair some operand dims with batch dims of the indices (equal sizes).
  const operandBatching = nb > 0 ? someOf(r, range(rank), Math.min(nb, 1)).sort((a, b) => a - b) : [];
  const indicesBatching = someOf(r, range(nb), operandBatching.length).slice(0, operandBatching.length);
  if (indicesBatching.length < operandBatching.length) operandBatching.length = indicesBatching.length;
  operandBatching.forEach((d, i) => (batchShape[indicesBatching[i]!] = operandShape[d]!));
  const rest = range(rank).filter((d) => !operandBatching.includes(d));
  const startIndexMap = someOf(r, rest);
  const collapsed = someOf(r, rest)
    .filter((d) => operandShape[d]! >= 1)
    .sort((a, b) => a - b);
  const windowSizes = operandShape.map((s, d) => (operandBatching.includes(d) ? Math.min(1, s) : collapsed.includes(d) ? 1 : int(r, 0, s)));
  const nWin = rank - collapsed.length - operandBatching.length;
  const outRank = nWin + nb;
  const windowPositions = someOf(r, range(outRank), nWin).sort((a, b) => a - b);
  while (windowPositions.length < nWin) {
    const p = range(outRank).find((q) => !windowPositions.includes(q))!;
    windowPositions.push(p);
    windowPositions.sort((a, b) => a - b);
  }
  return {
    operandShape,
    indicesShape: [...batchShape, startIndexMap.length],
    windowSizes,
    startIndexMap,
    collapsed,
    operandBatching,
    indicesBatching,
    windowPositions,
  };
}

/** Index values: mostly in bounds for their slice, some past either end. */
function randomIndices(r: () => number, l: Layout, oob: number): number[] {
  const k = l.startIndexMap.length;
  return range(sizeOf(l.indicesShape)).map((i) => {
    const d = l.startIndexMap[i % k]!;
    const hi = l.operandShape[d]! - l.windowSizes[d]!;
    return r() < oob ? pick(r, [-3, -1, hi + 1, hi + 4]) : int(r, 0, Math.max(0, hi));
  });
}

const MODES: Mode[] = ["clip", "fill_or_drop", "promise_in_bounds"];

/** A random gather from `seed`; values are small integers (exact in every dtype). */
export function randomGather(seed: number, oob = 0.25): GatherCase {
  const r = mulberry32(seed);
  const l = randomLayout(r);
  const win = range(l.operandShape.length).filter((d) => !l.collapsed.includes(d) && !l.operandBatching.includes(d));
  const batch = l.indicesShape.slice(0, -1);
  const outRank = win.length + batch.length;
  const outShape: number[] = [];
  let b = 0;
  let w = 0;
  for (let o = 0; o < outRank; o++) outShape.push(l.windowPositions.includes(o) ? l.windowSizes[win[w++]!]! : batch[b++]!);
  return {
    operandShape: l.operandShape,
    operand: range(sizeOf(l.operandShape)).map(() => int(r, -50, 50)),
    indicesShape: l.indicesShape,
    indices: randomIndices(r, l, oob),
    dims: {
      offset_dims: l.windowPositions,
      collapsed_slice_dims: l.collapsed,
      start_index_map: l.startIndexMap,
      operand_batching_dims: l.operandBatching,
      start_indices_batching_dims: l.indicesBatching,
    },
    sliceSizes: l.windowSizes,
    outShape,
    mode: pick(r, MODES),
  };
}

/** A random scatter from `seed` (repeated indices are common: index ranges are small). */
export function randomScatter(seed: number, oob = 0.25): ScatterCase {
  const r = mulberry32(seed);
  const l = randomLayout(r);
  const win = range(l.operandShape.length).filter((d) => !l.collapsed.includes(d) && !l.operandBatching.includes(d));
  const batch = l.indicesShape.slice(0, -1);
  const rank = win.length + batch.length;
  const updatesShape: number[] = [];
  let b = 0;
  let w = 0;
  for (let o = 0; o < rank; o++) updatesShape.push(l.windowPositions.includes(o) ? l.windowSizes[win[w++]!]! : batch[b++]!);
  return {
    operandShape: l.operandShape,
    operand: range(sizeOf(l.operandShape)).map(() => int(r, -9, 9)),
    indicesShape: l.indicesShape,
    indices: randomIndices(r, l, oob),
    updatesShape,
    updates: range(sizeOf(updatesShape)).map(() => int(r, -9, 9)),
    dims: {
      update_window_dims: l.windowPositions,
      inserted_window_dims: l.collapsed,
      scatter_dims_to_operand_dims: l.startIndexMap,
      operand_batching_dims: l.operandBatching,
      scatter_indices_batching_dims: l.indicesBatching,
    },
    mode: pick(r, MODES),
  };
}

/** XLA's Gather, one output element at a time (clamped starts, or `fill` for a slice not entirely in bounds). */
export function referenceGather(c: GatherCase, fill: number): number[] {
  const { dims } = c;
  const k = c.indicesShape[c.indicesShape.length - 1]!;
  const batchShape = c.indicesShape.slice(0, -1);
  const win = range(c.operandShape.length).filter((d) => !dims.collapsed_slice_dims.includes(d) && !dims.operand_batching_dims.includes(d));
  return range(sizeOf(c.outShape)).map((o) => {
    const out = unravel(o, c.outShape);
    const batchIdx = out.filter((_, p) => !dims.offset_dims.includes(p));
    const offsetIdx = dims.offset_dims.map((p) => out[p]!);
    const start = c.operandShape.map(() => 0);
    let inBounds = true;
    for (let j = 0; j < k; j++) {
      const d = dims.start_index_map[j]!;
      const v = c.indices[ravel([...batchIdx, j], [...batchShape, k])]!;
      const hi = c.operandShape[d]! - c.sliceSizes[d]!;
      if (v < 0 || v > hi) inBounds = false;
      start[d] = Math.min(Math.max(v, 0), hi);
    }
    dims.operand_batching_dims.forEach((d, i) => (start[d] = batchIdx[dims.start_indices_batching_dims[i]!]!));
    if (c.mode === "fill_or_drop" && !inBounds) return fill;
    // wax's convention where XLA's is undefined: an empty operand gathers zeros.
    if (sizeOf(c.operandShape) === 0) return c.mode === "fill_or_drop" ? fill : 0;
    const full = start.map((s, d) => s + (win.includes(d) ? offsetIdx[win.indexOf(d)]! : 0));
    return c.operand[ravel(full, c.operandShape)]!;
  });
}

export type Combiner = (old: number, update: number) => number;

/**
 * XLA's Scatter, one update element at a time in row-major order of the updates (so with
 * repeated indices the later update is combined last); a window not entirely in bounds is
 * dropped unless the mode clamps it.
 */
export function referenceScatter(c: ScatterCase, combine: Combiner): number[] {
  const { dims } = c;
  const out = [...c.operand];
  const k = c.indicesShape[c.indicesShape.length - 1]!;
  const batchShape = c.indicesShape.slice(0, -1);
  const win = range(c.operandShape.length).filter((d) => !dims.inserted_window_dims.includes(d) && !dims.operand_batching_dims.includes(d));
  const windowSize = c.operandShape.map((_, d) => (win.includes(d) ? c.updatesShape[dims.update_window_dims[win.indexOf(d)]!]! : 1));
  for (let u = 0; u < sizeOf(c.updatesShape); u++) {
    const ui = unravel(u, c.updatesShape);
    const batchIdx = ui.filter((_, p) => !dims.update_window_dims.includes(p));
    const windowIdx = dims.update_window_dims.map((p) => ui[p]!);
    const start = c.operandShape.map(() => 0);
    let inBounds = true;
    for (let j = 0; j < k; j++) {
      const d = dims.scatter_dims_to_operand_dims[j]!;
      const v = c.indices[ravel([...batchIdx, j], [...batchShape, k])]!;
      const hi = c.operandShape[d]! - windowSize[d]!;
      if (v < 0 || v > hi) inBounds = false;
      start[d] = Math.min(Math.max(v, 0), hi);
    }
    if (!inBounds && c.mode !== "clip") continue;
    dims.operand_batching_dims.forEach((d, i) => (start[d] = batchIdx[dims.scatter_indices_batching_dims[i]!]!));
    const full = start.map((s, d) => s + (win.includes(d) ? windowIdx[win.indexOf(d)]! : 0));
    const at = ravel(full, c.operandShape);
    out[at] = combine(out[at]!, c.updates[u]!);
  }
  return out;
}

/** The combiners of the scatter family on exact small values. */
export const COMBINERS = {
  scatter: (_o: number, u: number) => u,
  "scatter-add": (o: number, u: number) => o + u,
  "scatter-mul": (o: number, u: number) => o * u,
  "scatter-min": (o: number, u: number) => Math.min(o, u),
  "scatter-max": (o: number, u: number) => Math.max(o, u),
} as const;

export type ScatterName = keyof typeof COMBINERS;

/** `lax` option names of a mode. */
export const apiMode = (m: Mode) => (m === "fill_or_drop" ? "fill" : m);

/** camelCase gather dimension numbers for `lax.gather`. */
export function gatherDimsApi(d: GatherDims) {
  return {
    offsetDims: d.offset_dims,
    collapsedSliceDims: d.collapsed_slice_dims,
    startIndexMap: d.start_index_map,
    operandBatchingDims: d.operand_batching_dims,
    startIndicesBatchingDims: d.start_indices_batching_dims,
  };
}

/** camelCase scatter dimension numbers for `lax.scatter*`. */
export function scatterDimsApi(d: ScatterDims) {
  return {
    updateWindowDims: d.update_window_dims,
    insertedWindowDims: d.inserted_window_dims,
    scatterDimsToOperandDims: d.scatter_dims_to_operand_dims,
    operandBatchingDims: d.operand_batching_dims,
    scatterIndicesBatchingDims: d.scatter_indices_batching_dims,
  };
}
