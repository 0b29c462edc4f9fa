/**
 * Shape rules of the indexing primitives: XLA's constraints on gather and scatter dimension
 * numbers, each violation a `ShapeError`/`DTypeError` naming the op, the dims and the shapes.
 */
import type { Aval } from "../aval";
import type { GatherDimensionNumbers, GatherScatterMode, ScatterDimensionNumbers } from "../catalogue";
import { isInteger } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { shapeStr } from "./checks";

type Ints = readonly number[];

const MODES: readonly GatherScatterMode[] = ["clip", "fill_or_drop", "promise_in_bounds"];

/** Operand dims that are sliced as windows (neither collapsed/inserted nor batching), in order. */
export function operandWindowDims(rank: number, ...excluded: Ints[]): number[] {
  const out: number[] = [];
  for (let d = 0; d < rank; d++) if (!excluded.some((e) => e.includes(d))) out.push(d);
  return out;
}

const tup = (xs: Ints) => shapeStr(xs);

function checkIndices(op: string, indices: Aval, which: string): void {
  if (!isInteger(indices.dtype)) {
    throw new DTypeError(`${op}: ${which} ${indices} must have an integer dtype, not ${indices.dtype} — cast them with .astype('int32')`);
  }
  if (indices.ndim < 1) {
    throw new ShapeError(
      `${op}: ${which} ${indices} must have rank >= 1 (the last dimension is the index vector) — reshape a scalar index to [1]`,
    );
  }
}

function checkSorted(op: string, name: string, dims: Ints, rank: number, what: string): void {
  dims.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 0 || d >= rank)
      throw new ShapeError(`${op}: ${name} ${tup(dims)} has ${d}, out of range for ${what} of rank ${rank}`);
    if (i > 0 && d <= dims[i - 1]!) throw new ShapeError(`${op}: ${name} ${tup(dims)} must be sorted and without repeats`);
  });
}

function checkUnique(op: string, name: string, dims: Ints, rank: number, what: string): void {
  const seen = new Set<number>();
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d >= rank)
      throw new ShapeError(`${op}: ${name} ${tup(dims)} has ${d}, out of range for ${what} of rank ${rank}`);
    if (seen.has(d)) throw new ShapeError(`${op}: ${name} ${tup(dims)} repeats dimension ${d}`);
    seen.add(d);
  }
}

function checkDisjoint(op: string, aName: string, a: Ints, bName: string, b: Ints): void {
  const both = a.find((d) => b.includes(d));
  if (both !== undefined) throw new ShapeError(`${op}: dimension ${both} is in both ${aName} ${tup(a)} and ${bName} ${tup(b)}`);
}

function checkMode(op: string, mode: unknown): void {
  if (!MODES.includes(mode as GatherScatterMode)) throw new ShapeError(`${op}: mode ${String(mode)} is not one of ${MODES.join(", ")}`);
}

/** The batching dims pair operand dims with indices dims of equal size. */
function checkBatching(op: string, operand: Aval, obd: Ints, indices: Aval, ibd: Ints, ibdName: string): void {
  checkUnique(op, ibdName, ibd, indices.ndim - 1, `the batch dimensions of indices ${indices}`);
  if (obd.length !== ibd.length) {
    throw new ShapeError(`${op}: operand_batching_dims ${tup(obd)} and ${ibdName} ${tup(ibd)} must have the same length`);
  }
  obd.forEach((d, i) => {
    const e = ibd[i]!;
    if (operand.shape[d] !== indices.shape[e]) {
      throw new ShapeError(
        `${op}: operand batching dimension ${d} of ${operand} (size ${operand.shape[d]}) must equal indices dimension ${e} of ${indices} (size ${indices.shape[e]})`,
      );
    }
  });
}

/** The output shape of a gather, after checking its operands and params. */
export function gatherShape(
  operand: Aval,
  indices: Aval,
  p: { dimension_numbers: GatherDimensionNumbers; slice_sizes: Ints; mode: GatherScatterMode },
): number[] {
  const op = "gather";
  const dn = p.dimension_numbers;
  const sizes = p.slice_sizes;
  checkMode(op, p.mode);
  checkIndices(op, indices, "indices");
  if (sizes.length !== operand.ndim) {
    throw new ShapeError(`${op}: slice_sizes ${tup(sizes)} must have one entry per dimension of the operand ${operand}`);
  }
  sizes.forEach((s, d) => {
    // A batching dim always has slice size 1, also when it is empty (vmap over a size-0 batch):
    // the indices then have an empty batch dim too, so no slice is ever taken.
    const emptyBatch = s === 1 && operand.shape[d] === 0 && dn.operand_batching_dims.includes(d);
    if (!Number.isInteger(s) || s < 0 || (s > operand.shape[d]! && !emptyBatch)) {
      throw new ShapeError(
        `${op}: slice_sizes ${tup(sizes)} has ${s} for dimension ${d} of ${operand} — each slice size must be in [0, ${operand.shape[d]}]`,
      );
    }
  });
  const nIdx = indices.shape[indices.ndim - 1]!;
  if (dn.start_index_map.length !== nIdx) {
    throw new ShapeError(
      `${op}: start_index_map ${tup(dn.start_index_map)} has ${dn.start_index_map.length} entries but the index vector (last dimension of ${indices}) has ${nIdx}`,
    );
  }
  checkUnique(op, "start_index_map", dn.start_index_map, operand.ndim, `operand ${operand}`);
  checkSorted(op, "collapsed_slice_dims", dn.collapsed_slice_dims, operand.ndim, `operand ${operand}`);
  checkSorted(op, "operand_batching_dims", dn.operand_batching_dims, operand.ndim, `operand ${operand}`);
  checkDisjoint(op, "collapsed_slice_dims", dn.collapsed_slice_dims, "operand_batching_dims", dn.operand_batching_dims);
  checkDisjoint(op, "start_index_map", dn.start_index_map, "operand_batching_dims", dn.operand_batching_dims);
  for (const d of [...dn.collapsed_slice_dims, ...dn.operand_batching_dims]) {
    if (sizes[d]! > 1) throw new ShapeError(`${op}: slice_sizes ${tup(sizes)} must be 0 or 1 in collapsed or batching dimension ${d}`);
  }
  checkBatching(op, operand, dn.operand_batching_dims, indices, dn.start_indices_batching_dims, "start_indices_batching_dims");
  const win = operandWindowDims(operand.ndim, dn.collapsed_slice_dims, dn.operand_batching_dims);
  if (dn.offset_dims.length !== win.length) {
    throw new ShapeError(
      `${op}: offset_dims ${tup(dn.offset_dims)} must have one entry per operand dimension that is neither collapsed nor batching (${win.length}: ${tup(win)})`,
    );
  }
  const batch = indices.shape.slice(0, -1);
  const rank = batch.length + win.length;
  checkSorted(op, "offset_dims", dn.offset_dims, rank, "the output");
  const out: number[] = [];
  let b = 0;
  let w = 0;
  for (let i = 0; i < rank; i++) out.push(dn.offset_dims.includes(i) ? sizes[win[w++]!]! : batch[b++]!);
  return out;
}

/** Checks a scatter's operands and dimension numbers. */
export function checkScatter(
  op: string,
  operand: Aval,
  indices: Aval,
  updates: Aval,
  dn: ScatterDimensionNumbers,
  mode: GatherScatterMode,
): void {
  checkMode(op, mode);
  checkIndices(op, indices, "scatter indices");
  if (updates.dtype !== operand.dtype) {
    throw new DTypeError(`${op}: updates ${updates} must have the operand's dtype ${operand.dtype} — convert them with astype`);
  }
  const nIdx = indices.shape[indices.ndim - 1]!;
  const sdod = dn.scatter_dims_to_operand_dims;
  if (sdod.length !== nIdx) {
    throw new ShapeError(
      `${op}: scatter_dims_to_operand_dims ${tup(sdod)} has ${sdod.length} entries but the index vector (last dimension of ${indices}) has ${nIdx}`,
    );
  }
  checkUnique(op, "scatter_dims_to_operand_dims", sdod, operand.ndim, `operand ${operand}`);
  checkSorted(op, "update_window_dims", dn.update_window_dims, updates.ndim, `updates ${updates}`);
  checkSorted(op, "inserted_window_dims", dn.inserted_window_dims, operand.ndim, `operand ${operand}`);
  checkSorted(op, "operand_batching_dims", dn.operand_batching_dims, operand.ndim, `operand ${operand}`);
  checkDisjoint(op, "inserted_window_dims", dn.inserted_window_dims, "operand_batching_dims", dn.operand_batching_dims);
  checkDisjoint(op, "scatter_dims_to_operand_dims", sdod, "operand_batching_dims", dn.operand_batching_dims);
  checkBatching(op, operand, dn.operand_batching_dims, indices, dn.scatter_indices_batching_dims, "scatter_indices_batching_dims");
  const win = operandWindowDims(operand.ndim, dn.inserted_window_dims, dn.operand_batching_dims);
  if (dn.update_window_dims.length !== win.length) {
    throw new ShapeError(
      `${op}: update_window_dims ${tup(dn.update_window_dims)} must have one entry per operand dimension that is neither inserted nor batching (${win.length}: ${tup(win)})`,
    );
  }
  const batch = indices.shape.slice(0, -1);
  if (updates.ndim !== win.length + batch.length) {
    throw new ShapeError(
      `${op}: updates ${updates} must have rank ${win.length + batch.length} (${win.length} window dimensions + the ${batch.length} batch dimensions of indices ${indices})`,
    );
  }
  let b = 0;
  let w = 0;
  updates.shape.forEach((s, i) => {
    if (dn.update_window_dims.includes(i)) {
      const d = win[w++]!;
      if (s > operand.shape[d]!)
        throw new ShapeError(
          `${op}: update window dimension ${i} of ${updates} (size ${s}) is larger than operand dimension ${d} of ${operand} (size ${operand.shape[d]})`,
        );
    } else {
      const want = batch[b++]!;
      if (s !== want)
        throw new ShapeError(
          `${op}: update scatter dimension ${i} of ${updates} (size ${s}) must equal batch dimension ${b - 1} of indices ${indices} (size ${want})`,
        );
    }
  });
}
