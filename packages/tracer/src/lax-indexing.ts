/**
 * `lax.gather`, the `lax.scatter` family and `lax.rev`: XLA's indexing operations with JAX's
 * calling conventions, dimension numbers as camelCase objects.
 */
import type { Array } from "./array";
import type {
  GatherDimensionNumbers as GatherDims,
  GatherScatterMode,
  ScatterDimensionNumbers as ScatterDims,
  ScatterParams,
} from "./catalogue";
import { ArgumentError } from "./errors";
import * as P from "./primitives/indexing";
import { bind1 } from "./trace";
import { asArray, type ArrayLike } from "./values";

/**
 * XLA's gather dimension numbers (JAX's `GatherDimensionNumbers`), for indices whose last
 * dimension is the index vector.
 */
export interface GatherDimensionNumbers {
  /** Output dimensions that hold the slice (the operand dims neither collapsed nor batching, in order). */
  offsetDims: readonly number[];
  /** Operand dimensions sliced with size 1 and dropped from the output. */
  collapsedSliceDims: readonly number[];
  /** Operand dimension each component of the index vector starts. */
  startIndexMap: readonly number[];
  /** Operand dimensions paired one-to-one with `startIndicesBatchingDims` (default none). */
  operandBatchingDims?: readonly number[];
  /** Batch dimensions of the indices matched with `operandBatchingDims`. */
  startIndicesBatchingDims?: readonly number[];
}

/** XLA's scatter dimension numbers (JAX's `ScatterDimensionNumbers`). */
export interface ScatterDimensionNumbers {
  /** Dimensions of the updates that hold the window (the operand dims neither inserted nor batching, in order). */
  updateWindowDims: readonly number[];
  /** Operand dimensions of window size 1 that have no dimension in the updates. */
  insertedWindowDims: readonly number[];
  /** Operand dimension each component of the index vector starts. */
  scatterDimsToOperandDims: readonly number[];
  /** Operand dimensions paired one-to-one with `scatterIndicesBatchingDims` (default none). */
  operandBatchingDims?: readonly number[];
  /** Batch dimensions of the indices matched with `operandBatchingDims`. */
  scatterIndicesBatchingDims?: readonly number[];
}

/**
 * How out-of-bounds indices behave (JAX's `GatherScatterMode`): `"clip"` clamps the start so
 * the slice is in bounds; `"fill"` / `"drop"` / `"fill_or_drop"` fill out-of-bounds gathered
 * slices with `fillValue` and drop out-of-bounds scattered windows; `"promise_in_bounds"`
 * promises they are in bounds (wax then clamps gathers and drops scatters, as XLA on CPU).
 */
export type GatherScatterModeName = "clip" | "fill" | "drop" | "fill_or_drop" | "promise_in_bounds";

/** Options of `lax.gather`. */
export interface GatherOptions {
  /** Default `"clip"`. */
  mode?: GatherScatterModeName;
  /** Value of out-of-bounds slices in fill mode (default NaN, INT_MIN, UINT_MAX or true, as JAX). */
  fillValue?: number | null;
  indicesAreSorted?: boolean;
  uniqueIndices?: boolean;
}

/** Options of the `lax.scatter` family. */
export interface ScatterOptions {
  /** Default `"fill_or_drop"`: out-of-bounds windows are dropped. */
  mode?: GatherScatterModeName;
  indicesAreSorted?: boolean;
  uniqueIndices?: boolean;
}

/** Parses a user's mode name (JAX's `GatherScatterMode.from_any`). */
export function parseMode(op: string, mode: GatherScatterModeName | undefined, dflt: GatherScatterMode): GatherScatterMode {
  if (mode === undefined) return dflt;
  if (mode === "clip" || mode === "promise_in_bounds" || mode === "fill_or_drop") return mode;
  if (mode === "fill" || mode === "drop") return "fill_or_drop";
  throw new ArgumentError(
    `${op}: unknown mode ${JSON.stringify(mode)} — use "clip", "fill", "drop", "fill_or_drop" or "promise_in_bounds"`,
  );
}

function intList(op: string, obj: object, key: string, optional: boolean): readonly number[] {
  const v = (obj as Record<string, unknown>)[key];
  if (v === undefined && optional) return [];
  if (!globalThis.Array.isArray(v) || !v.every((d) => typeof d === "number" && Number.isInteger(d))) {
    throw new ArgumentError(`${op}: dimensionNumbers.${key} must be a list of integers, got ${JSON.stringify(v)}`);
  }
  return [...(v as number[])];
}

function checkKeys(op: string, obj: object, allowed: readonly string[]): void {
  if (typeof obj !== "object" || obj === null)
    throw new ArgumentError(`${op}: dimensionNumbers must be an object with ${allowed.join(", ")}`);
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      throw new ArgumentError(
        `${op}: unknown dimensionNumbers field ${JSON.stringify(k)} — the fields are ${allowed.join(", ")} (camelCase)`,
      );
    }
  }
}

const GATHER_KEYS = ["offsetDims", "collapsedSliceDims", "startIndexMap", "operandBatchingDims", "startIndicesBatchingDims"];
const SCATTER_KEYS = [
  "updateWindowDims",
  "insertedWindowDims",
  "scatterDimsToOperandDims",
  "operandBatchingDims",
  "scatterIndicesBatchingDims",
];

/** The primitive's (snake_case) gather dimension numbers from the API's camelCase object. */
export function gatherDims(op: string, dn: GatherDimensionNumbers): GatherDims {
  checkKeys(op, dn, GATHER_KEYS);
  return {
    offset_dims: intList(op, dn, "offsetDims", false),
    collapsed_slice_dims: intList(op, dn, "collapsedSliceDims", false),
    start_index_map: intList(op, dn, "startIndexMap", false),
    operand_batching_dims: intList(op, dn, "operandBatchingDims", true),
    start_indices_batching_dims: intList(op, dn, "startIndicesBatchingDims", true),
  };
}

/** The primitive's (snake_case) scatter dimension numbers from the API's camelCase object. */
export function scatterDims(op: string, dn: ScatterDimensionNumbers): ScatterDims {
  checkKeys(op, dn, SCATTER_KEYS);
  return {
    update_window_dims: intList(op, dn, "updateWindowDims", false),
    inserted_window_dims: intList(op, dn, "insertedWindowDims", false),
    scatter_dims_to_operand_dims: intList(op, dn, "scatterDimsToOperandDims", false),
    operand_batching_dims: intList(op, dn, "operandBatchingDims", true),
    scatter_indices_batching_dims: intList(op, dn, "scatterIndicesBatchingDims", true),
  };
}

/**
 * Gathers slices of `operand` at the start indices in `startIndices` (XLA's Gather; the last
 * dimension of `startIndices` is the index vector).
 *
 * @example
 * // rows 2 and 0 of a [4, 3] table: [[...x[2]], [...x[0]]]
 * lax.gather(x, array([[2], [0]], {dtype: "int32"}),
 *   {offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0]}, [1, 3])
 */
export function gather(
  operand: ArrayLike,
  startIndices: ArrayLike,
  dimensionNumbers: GatherDimensionNumbers,
  sliceSizes: readonly number[],
  opts: GatherOptions = {},
): Array {
  const mode = parseMode("gather", opts.mode, "clip");
  return bind1(P.gather, [asArray(operand), asArray(startIndices)], {
    dimension_numbers: gatherDims("gather", dimensionNumbers),
    slice_sizes: [...sliceSizes],
    mode,
    fill_value: mode === "fill_or_drop" ? (opts.fillValue ?? null) : null,
    indices_are_sorted: opts.indicesAreSorted ?? false,
    unique_indices: opts.uniqueIndices ?? false,
  });
}

type ScatterPrim = typeof P.scatter | typeof P.scatterAdd | typeof P.scatterMul | typeof P.scatterMin | typeof P.scatterMax;

function scatterWith(prim: ScatterPrim, op: string) {
  return (
    operand: ArrayLike,
    scatterIndices: ArrayLike,
    updates: ArrayLike,
    dimensionNumbers: ScatterDimensionNumbers,
    opts: ScatterOptions = {},
  ): Array => {
    const params: ScatterParams = {
      dimension_numbers: scatterDims(op, dimensionNumbers),
      mode: parseMode(op, opts.mode, "fill_or_drop"),
      indices_are_sorted: opts.indicesAreSorted ?? false,
      unique_indices: opts.uniqueIndices ?? false,
    };
    return bind1(prim as typeof P.scatter, [asArray(operand), asArray(scatterIndices), asArray(updates)], params);
  };
}

/**
 * Writes `updates` into windows of `operand` at `scatterIndices` (XLA's Scatter). Updates are
 * applied in order, so with duplicate indices the last one wins.
 *
 * @example
 * // x with rows 0 and 2 replaced: updates [2, 3], indices [[0], [2]]
 * lax.scatter(x, idx, u, {updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0]})
 */
export const scatter = scatterWith(P.scatter, "scatter");
/** `lax.scatter` that adds the updates (duplicates accumulate). */
export const scatterAdd = scatterWith(P.scatterAdd, "scatter-add");
/** `lax.scatter` that multiplies by the updates. */
export const scatterMul = scatterWith(P.scatterMul, "scatter-mul");
/** `lax.scatter` that keeps the minimum of the operand and the updates. */
export const scatterMin = scatterWith(P.scatterMin, "scatter-min");
/** `lax.scatter` that keeps the maximum of the operand and the updates. */
export const scatterMax = scatterWith(P.scatterMax, "scatter-max");

/** Reverses `operand` along `dimensions` (`lax.rev`). */
export function rev(operand: ArrayLike, dimensions: readonly number[]): Array {
  return bind1(P.rev, [asArray(operand)], { dimensions: [...dimensions] });
}
