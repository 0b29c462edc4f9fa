/**
 * Indexing primitives with XLA's semantics: `gather`, the `scatter` family (`scatter`,
 * `scatter-add`, `scatter-mul`, `scatter-min`, `scatter-max`) and `rev`.
 *
 * As in JAX, the index vector is the last dimension of the indices; every other dimension of
 * the indices is a batch dimension. Modes follow JAX's `GatherScatterMode`: `clip` clamps each
 * start index so the whole slice is in bounds; `fill_or_drop` gives `fill_value` for a gathered
 * slice that is not entirely in bounds and drops a scattered window that is not;
 * `promise_in_bounds` is the caller's promise, and wax then does what XLA's CPU backend does
 * (gather clamps, scatter drops). Scatter applies the updates in their row-major order, so
 * repeated indices and overlapping windows combine deterministically (for `scatter`, the
 * last update wins) — XLA leaves that order unspecified.
 */
import { Aval, shapeSize, stridesOf } from "../aval";
import type { GatherDimensionNumbers, GatherScatterMode, ScatterDimensionNumbers } from "../catalogue";
import { allocate, isFloat, type DType, type TypedArray } from "../dtype";
import { definePrimitive, type Primitive } from "../primitive";
import { checkAxes } from "./checks";
import { checkScatter, gatherShape, operandWindowDims } from "./indexing-checks";
import { affineGather } from "./structural";

export { operandWindowDims };

type Ints = readonly number[];
type ScatterName = "scatter" | "scatter-add" | "scatter-mul" | "scatter-min" | "scatter-max";

/** JAX's default fill of out-of-bounds gathers: NaN, INT_MIN, UINT_MAX or `true`. */
export function defaultFillValue(dtype: DType): number {
  if (isFloat(dtype)) return NaN;
  if (dtype === "int32") return -2147483648;
  if (dtype === "uint32") return 4294967295;
  return 1;
}

/** The gather that reads back what a scatter with `dn` writes (JAX's scatter → gather duality). */
export function scatterToGatherDims(dn: ScatterDimensionNumbers): GatherDimensionNumbers {
  return {
    offset_dims: dn.update_window_dims,
    collapsed_slice_dims: dn.inserted_window_dims,
    start_index_map: dn.scatter_dims_to_operand_dims,
    operand_batching_dims: dn.operand_batching_dims,
    start_indices_batching_dims: dn.scatter_indices_batching_dims,
  };
}

/** The scatter that writes where a gather with `dn` reads. */
export function gatherToScatterDims(dn: GatherDimensionNumbers): ScatterDimensionNumbers {
  return {
    update_window_dims: dn.offset_dims,
    inserted_window_dims: dn.collapsed_slice_dims,
    scatter_dims_to_operand_dims: dn.start_index_map,
    operand_batching_dims: dn.operand_batching_dims,
    scatter_indices_batching_dims: dn.start_indices_batching_dims,
  };
}

/**
 * Window size of each operand dim of a scatter: 1 for inserted and batching dims (0 in an empty
 * dim, where no window fits), so these are also the slice sizes of the gather that reads back
 * the windows.
 */
export function scatterWindowSizes(operand: Aval, updates: Aval, dn: ScatterDimensionNumbers): number[] {
  const win = operandWindowDims(operand.ndim, dn.inserted_window_dims, dn.operand_batching_dims);
  const sizes = operand.shape.map((d) => Math.min(1, d));
  win.forEach((d, j) => (sizes[d] = updates.shape[dn.update_window_dims[j]!]!));
  return sizes;
}

// ---- interpreter --------------------------------------------------------------------------

/** Offsets of every element of a window (row-major over `sizes`) for two stride sets. */
function windowOffsets(sizes: Ints, stridesA: Ints, stridesB: Ints): [Float64Array, Float64Array] {
  const n = shapeSize(sizes);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const idx = sizes.map(() => 0);
  for (let k = 0; k < n; k++) {
    let oa = 0;
    let ob = 0;
    for (let j = 0; j < sizes.length; j++) {
      oa += idx[j]! * stridesA[j]!;
      ob += idx[j]! * stridesB[j]!;
    }
    a[k] = oa;
    b[k] = ob;
    for (let j = sizes.length - 1; j >= 0; j--) {
      if (++idx[j]! < sizes[j]!) break;
      idx[j] = 0;
    }
  }
  return [a, b];
}

/**
 * Start of the slice/window of batch element `g` in each operand dim, or `null` when a drop /
 * fill mode finds it out of bounds. `bIdx` is `g` as a multi-index over the indices' batch dims.
 */
function startOf(
  idx: TypedArray,
  g: number,
  bIdx: Ints,
  shape: Ints,
  sizes: Ints,
  map: Ints,
  obd: Ints,
  ibd: Ints,
  clamp: boolean,
): number[] | null {
  const start = shape.map(() => 0);
  const k = map.length;
  for (let j = 0; j < k; j++) {
    const d = map[j]!;
    const hi = shape[d]! - sizes[d]!;
    const v = idx[g * k + j]!;
    if (clamp) start[d] = Math.min(Math.max(v, 0), hi);
    else if (v < 0 || v > hi) return null;
    else start[d] = v;
  }
  obd.forEach((d, i) => (start[d] = bIdx[ibd[i]!]!));
  return start;
}

/** Iterates over the batch elements of indices shaped `[...batch, k]` with their multi-index. */
function forEachBatch(batch: Ints, f: (g: number, bIdx: readonly number[]) => void): void {
  const n = shapeSize(batch);
  const bIdx = batch.map(() => 0);
  for (let g = 0; g < n; g++) {
    f(g, bIdx);
    for (let j = batch.length - 1; j >= 0; j--) {
      if (++bIdx[j]! < batch[j]!) break;
      bIdx[j] = 0;
    }
  }
}

function dot(a: Ints, b: Ints): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

// ---- printing -----------------------------------------------------------------------------

const MODE_NAMES: Record<GatherScatterMode, string> = {
  clip: "GatherScatterMode.CLIP",
  fill_or_drop: "GatherScatterMode.FILL_OR_DROP",
  promise_in_bounds: "GatherScatterMode.PROMISE_IN_BOUNDS",
};

const pyTuple = (xs: Ints) => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`);
const pyNumber = (v: number) => (Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v));

/** `GatherDimensionNumbers(offset_dims=(1,), ...)`, as JAX prints it. */
export function gatherDimsStr(dn: GatherDimensionNumbers): string {
  return `GatherDimensionNumbers(offset_dims=${pyTuple(dn.offset_dims)}, collapsed_slice_dims=${pyTuple(dn.collapsed_slice_dims)}, start_index_map=${pyTuple(dn.start_index_map)}, operand_batching_dims=${pyTuple(dn.operand_batching_dims)}, start_indices_batching_dims=${pyTuple(dn.start_indices_batching_dims)})`;
}

/** `ScatterDimensionNumbers(update_window_dims=(), ...)`, as JAX prints it. */
export function scatterDimsStr(dn: ScatterDimensionNumbers): string {
  return `ScatterDimensionNumbers(update_window_dims=${pyTuple(dn.update_window_dims)}, inserted_window_dims=${pyTuple(dn.inserted_window_dims)}, scatter_dims_to_operand_dims=${pyTuple(dn.scatter_dims_to_operand_dims)}, operand_batching_dims=${pyTuple(dn.operand_batching_dims)}, scatter_indices_batching_dims=${pyTuple(dn.scatter_indices_batching_dims)})`;
}

// ---- gather -------------------------------------------------------------------------------

/** XLA's Gather: operands `[operand, indices]` (the index vector is the last dim of `indices`). */
export const gather = definePrimitive("gather", {
  abstractEval([operand, indices], p) {
    return [new Aval(gatherShape(operand!, indices!, p), operand!.dtype, operand!.weakType)];
  },
  impl([operand, indices], p, [out]) {
    const dn = p.dimension_numbers;
    const x = operand!;
    const res = allocate(out!.dtype, out!.size);
    if (out!.size === 0) return [res];
    const fill = p.fill_value ?? defaultFillValue(x.dtype);
    // Nothing is in bounds of an empty operand: fill (or zeros, when not filling).
    if (x.size === 0) return [res.fill(p.mode === "fill_or_drop" ? fill : 0)];
    const batch = indices!.shape.slice(0, -1);
    const win = operandWindowDims(x.ndim, dn.collapsed_slice_dims, dn.operand_batching_dims);
    const xs = stridesOf(x.shape);
    const os = stridesOf(out!.shape);
    const batchPos = out!.shape.map((_, i) => i).filter((i) => !dn.offset_dims.includes(i));
    const [winX, winOut] = windowOffsets(
      win.map((d) => p.slice_sizes[d]!),
      win.map((d) => xs[d]!),
      dn.offset_dims.map((i) => os[i]!),
    );
    const clamp = p.mode !== "fill_or_drop";
    forEachBatch(batch, (g, bIdx) => {
      const start = startOf(
        indices!.data,
        g,
        bIdx,
        x.shape,
        p.slice_sizes,
        dn.start_index_map,
        dn.operand_batching_dims,
        dn.start_indices_batching_dims,
        clamp,
      );
      const outBase = bIdx.reduce((acc, v, j) => acc + v * os[batchPos[j]!]!, 0);
      if (start === null) {
        for (let k = 0; k < winOut.length; k++) res[outBase + winOut[k]!] = fill;
        return;
      }
      const xBase = dot(start, xs);
      for (let k = 0; k < winOut.length; k++) res[outBase + winOut[k]!] = x.data[xBase + winX[k]!]!;
    });
    return [res];
  },
  ppParams: (p) => [
    ["dimension_numbers", gatherDimsStr(p.dimension_numbers)],
    ["fill_value", p.fill_value === null ? null : pyNumber(p.fill_value)],
    ["indices_are_sorted", p.indices_are_sorted],
    ["mode", MODE_NAMES[p.mode]],
    ["slice_sizes", p.slice_sizes],
    ["unique_indices", p.unique_indices],
  ],
});

// ---- scatter family -----------------------------------------------------------------------

type Combine = (old: number, update: number) => number;

/** Each scatter's combiner per dtype class (bool: or/and; ints wrap when stored). */
const COMBINERS: Record<ScatterName, (dtype: DType) => Combine> = {
  scatter: () => (_o, u) => u,
  "scatter-add": (d) => (d === "bool" ? (o, u) => (o || u ? 1 : 0) : (o, u) => o + u),
  "scatter-mul": (d) => (d === "bool" ? (o, u) => (o && u ? 1 : 0) : isFloat(d) ? (o, u) => o * u : (o, u) => Math.imul(o, u)),
  // NaN propagates, as lax.max/min.
  "scatter-min": () => (o, u) => (Number.isNaN(o) || Number.isNaN(u) ? NaN : Math.min(o, u)),
  "scatter-max": () => (o, u) => (Number.isNaN(o) || Number.isNaN(u) ? NaN : Math.max(o, u)),
};

function defineScatter<N extends ScatterName>(name: N): Primitive<N> {
  return definePrimitive(name, {
    abstractEval([operand, indices, updates], p) {
      checkScatter(name, operand!, indices!, updates!, p.dimension_numbers, p.mode);
      return [new Aval(operand!.shape, operand!.dtype, operand!.weakType)];
    },
    impl([operand, indices, updates], p) {
      const dn = p.dimension_numbers;
      const x = operand!;
      const u = updates!;
      const res = x.data.slice();
      if (x.size === 0) return [res];
      const combine = COMBINERS[name](x.dtype);
      const batch = indices!.shape.slice(0, -1);
      const win = operandWindowDims(x.ndim, dn.inserted_window_dims, dn.operand_batching_dims);
      const sizes = scatterWindowSizes(x.aval, u.aval, dn);
      const xs = stridesOf(x.shape);
      const bs = stridesOf(batch);
      const clamp = p.mode === "clip";
      // Start offset of each batch element's window (NaN: dropped, as XLA drops it).
      const bases = new Float64Array(shapeSize(batch));
      forEachBatch(batch, (g, bIdx) => {
        const start = startOf(
          indices!.data,
          g,
          bIdx,
          x.shape,
          sizes,
          dn.scatter_dims_to_operand_dims,
          dn.operand_batching_dims,
          dn.scatter_indices_batching_dims,
          clamp,
        );
        bases[g] = start === null ? NaN : dot(start, xs);
      });
      // Updates apply in their row-major order (the compiled loop's), which decides between
      // overlapping windows: each update dim steps the batch element or the window offset.
      const gStep: number[] = [];
      const xStep: number[] = [];
      let b = 0;
      let w = 0;
      u.shape.forEach((_, i) => {
        const isWin = dn.update_window_dims.includes(i);
        gStep.push(isWin ? 0 : bs[b++]!);
        xStep.push(isWin ? xs[win[w++]!]! : 0);
      });
      const idx = u.shape.map(() => 0);
      let g = 0;
      let off = 0;
      for (let k = 0; k < u.size; k++) {
        const base = bases[g]!;
        if (!Number.isNaN(base)) res[base + off] = combine(res[base + off]!, u.data[k]!);
        for (let d = u.ndim - 1; d >= 0; d--) {
          idx[d]!++;
          g += gStep[d]!;
          off += xStep[d]!;
          if (idx[d]! < u.shape[d]!) break;
          g -= gStep[d]! * u.shape[d]!;
          off -= xStep[d]! * u.shape[d]!;
          idx[d] = 0;
        }
      }
      return [res];
    },
    ppParams: (p) => [
      ["dimension_numbers", scatterDimsStr(p.dimension_numbers)],
      ["indices_are_sorted", p.indices_are_sorted],
      ["mode", MODE_NAMES[p.mode]],
      ["unique_indices", p.unique_indices],
    ],
  });
}

/** XLA's Scatter family: operands `[operand, indices, updates]`; `scatter` replaces, the others combine. */
export const scatter = defineScatter("scatter");
export const scatterAdd = defineScatter("scatter-add");
export const scatterMul = defineScatter("scatter-mul");
export const scatterMin = defineScatter("scatter-min");
export const scatterMax = defineScatter("scatter-max");

// ---- rev ----------------------------------------------------------------------------------

/** Reverses the operand along `dimensions`. */
export const rev = definePrimitive("rev", {
  abstractEval([x], p) {
    checkAxes("rev", x!, p.dimensions);
    return [x!];
  },
  impl([x], p, [out]) {
    const s = stridesOf(x!.shape);
    let offset = 0;
    const strides = s.map((v, d) => {
      if (!p.dimensions.includes(d)) return v;
      offset += (x!.shape[d]! - 1) * v;
      return -v;
    });
    return [affineGather(x!.data, out!.shape, strides, offset, out!.dtype)];
  },
});
