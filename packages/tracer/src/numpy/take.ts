/** `np.take`, `np.takeAlongAxis` and `np.flip`, built on `lax.gather` and `lax.rev` as in JAX. */
import type { Array } from "../array";
import { isInteger } from "../dtype";
import { ArgumentError, DTypeError, ShapeError } from "../errors";
import * as lax from "../lax";
import { parseMode } from "../lax-indexing";
import { array, asArray, type ArrayLike } from "../values";
import { normAxes, normAxis } from "./axes";
import { broadcastShapes } from "./promote";

/** Out-of-bounds handling of `take`/`takeAlongAxis`: JAX's modes plus numpy's `"wrap"` (for `take`). */
export type TakeMode = "fill" | "clip" | "wrap" | "promise_in_bounds";

/** Options of `np.take`. */
export interface TakeOptions {
  /** Axis to take along; `null` (default) takes from the flattened array. */
  axis?: number | null;
  /** Default `"fill"`: out-of-bounds indices give `fillValue` (NaN, INT_MIN, ...); negative indices count from the end. */
  mode?: TakeMode;
  fillValue?: number | null;
  uniqueIndices?: boolean;
  indicesAreSorted?: boolean;
}

/** Options of `np.takeAlongAxis`. */
export interface TakeAlongAxisOptions {
  /** Default `"fill"` (see `TakeOptions.mode`); `"wrap"` is not available here, as in JAX. */
  mode?: Exclude<TakeMode, "wrap">;
  fillValue?: number | null;
}

/** Integer index array from an Array, a JS number or a JS list; anything else is a clear error. */
function intIndices(op: string, x: ArrayLike): Array {
  if (typeof x === "number" || globalThis.Array.isArray(x)) {
    const flat = typeof x === "number" ? [x] : (x as unknown[]).flat(Infinity);
    if (!flat.every((v) => typeof v === "number" && Number.isInteger(v)))
      throw new DTypeError(`${op}: indices ${JSON.stringify(x)} must be integers`);
    return array(x, { dtype: "int32" });
  }
  const a = asArray(x);
  if (!isInteger(a.dtype))
    throw new DTypeError(`${op}: indices ${a.aval} have dtype ${a.dtype} — indices must be integers; cast them with .astype('int32')`);
  return a;
}

/** numpy's negative-index wrap (once) for signed indices. */
function wrapNegative(i: Array, size: number): Array {
  if (i.dtype === "uint32") return i;
  return lax.selectN(lax.lt(i, 0), i, lax.add(i, size));
}

const zerosOf = (like: Array, shape: readonly number[]) => lax.broadcastInDim(lax.convertElementType(asArray(0), like.dtype), shape, []);

/**
 * Takes elements of `a` at `indices` along `axis` (numpy's `take`; JAX's default `mode: "fill"`
 * gives NaN / INT_MIN for out-of-bounds indices). The result has `indices`' shape in place of
 * the axis.
 *
 * @example
 * np.take(x, array([2, 0], {dtype: "int32"}), {axis: 0})   // rows 2 and 0
 */
export function take(a: ArrayLike, indices: ArrayLike, opts: TakeOptions = {}): Array {
  let x = asArray(a);
  let idx = intIndices("take", indices);
  const { axis = null, mode = "fill" } = opts;
  if (axis === null) x = lax.reshape(x, [x.size]);
  const ax = axis === null ? 0 : normAxis("take", axis, x.ndim);
  const size = x.shape[ax]!;
  let gmode: "clip" | "fill_or_drop" | "promise_in_bounds";
  if (mode === "fill") {
    gmode = "fill_or_drop";
    idx = wrapNegative(idx, size);
  } else if (mode === "wrap") {
    gmode = "promise_in_bounds";
    if (idx.dtype !== "int32") idx = lax.convertElementType(idx, "int32");
    // floor modulo: non-negative for negative indices
    if (size > 0) idx = lax.rem(lax.add(lax.rem(idx, size), size), size);
  } else if (mode === "clip" || mode === "promise_in_bounds") gmode = mode;
  else throw new ArgumentError(`take: unknown mode ${JSON.stringify(mode)} — use "fill", "clip", "wrap" or "promise_in_bounds"`);
  const outShape = [...x.shape.slice(0, ax), ...idx.shape, ...x.shape.slice(ax + 1)];
  if (size === 0) {
    if (idx.size !== 0) throw new ShapeError(`take: cannot take ${idx.size} elements from axis ${ax} of size 0 of ${x.aval}`);
    return zerosOf(x, outShape);
  }
  if (idx.size === 0) return zerosOf(x, outShape);
  const nd = idx.ndim;
  const sliceSizes = x.shape.map((d, i) => (i === ax ? 1 : d));
  const offsetDims = [
    ...globalThis.Array.from({ length: ax }, (_, i) => i),
    ...globalThis.Array.from({ length: x.ndim - 1 - ax }, (_, i) => ax + nd + i),
  ];
  return lax.gather(x, lax.reshape(idx, [...idx.shape, 1]), { offsetDims, collapsedSliceDims: [ax], startIndexMap: [ax] }, sliceSizes, {
    mode: gmode,
    fillValue: opts.fillValue ?? null,
    uniqueIndices: opts.uniqueIndices,
    indicesAreSorted: opts.indicesAreSorted,
  });
}

/**
 * Takes elements of `arr` at `indices` along `axis`, pairing the other axes (numpy's
 * `take_along_axis`): `indices` has `arr`'s rank and broadcasts against it off the axis.
 * Default `mode: "fill"` (NaN / INT_MIN out of bounds; negative indices count from the end).
 *
 * @example
 * np.takeAlongAxis(x, np.argsort(x, {axis: 1}), 1)   // x sorted along axis 1
 */
export function takeAlongAxis(arr: ArrayLike, indices: ArrayLike, axis: number | null, opts: TakeAlongAxisOptions = {}): Array {
  const op = "takeAlongAxis";
  let a = asArray(arr);
  let idx = intIndices(op, indices);
  if (axis === null) {
    if (idx.ndim !== 1) throw new ShapeError(`${op}: indices must be 1-D when axis is null, got ${idx.aval}`);
    a = lax.reshape(a, [a.size]);
  }
  const rank = a.ndim;
  if (idx.ndim !== rank)
    throw new ShapeError(`${op}: indices ${idx.aval} and arr ${a.aval} must have the same rank — expand the indices with null axes`);
  const ax = axis === null ? 0 : normAxis(op, axis, rank);
  const mode = opts.mode ?? "fill";
  parseMode(op, mode, "fill_or_drop");
  if (idx.dtype !== "int32") idx = lax.convertElementType(idx, "int32");
  const axisSize = a.shape[ax]!;
  const arrShape = a.shape.map((d, i) => (i === ax ? 1 : d));
  const outShape = broadcastShapes(op, { shape: idx.shape, aval: idx.aval }, { shape: arrShape, aval: a.aval });
  if (axisSize === 0) return zerosOf(a, outShape);
  const indexDims = idx.shape.flatMap((d, i) => (i === ax || d !== 1 ? [i] : []));
  const gatherIndexShape = [...indexDims.map((i) => outShape[i]!), 1];
  const sliceSizes: number[] = [];
  const offsetDims: number[] = [];
  const startIndexMap: number[] = [];
  const collapsedSliceDims: number[] = [];
  const operandBatchingDims: number[] = [];
  const startIndicesBatchingDims: number[] = [];
  const squeezed: number[] = [];
  let gathered: Array | null = null;
  let newI = 0;
  let j = 0;
  for (let i = 0; i < rank; i++) {
    if (i === ax) {
      if (mode !== "promise_in_bounds") idx = wrapNegative(idx, axisSize);
      gathered = lax.reshape(idx, gatherIndexShape);
      sliceSizes.push(1);
      startIndexMap.push(newI);
      collapsedSliceDims.push(newI);
      newI++;
      j++;
    } else if (idx.shape[i] === 1) {
      // The whole axis of arr is taken (the index broadcasts over it).
      offsetDims.push(i);
      sliceSizes.push(arrShape[i]!);
      newI++;
    } else if (arrShape[i] === 1) {
      // arr broadcasts over the index: drop its size-1 axis.
      squeezed.push(i);
      j++;
    } else {
      sliceSizes.push(arrShape[i] === 0 ? 0 : 1);
      operandBatchingDims.push(newI);
      startIndicesBatchingDims.push(j);
      newI++;
      j++;
    }
  }
  const operand = squeezed.length > 0 ? lax.squeeze(a, squeezed) : a;
  return lax.gather(
    operand,
    gathered!,
    { offsetDims, collapsedSliceDims, startIndexMap, operandBatchingDims, startIndicesBatchingDims },
    sliceSizes,
    {
      mode: mode === "fill" ? "fill_or_drop" : mode,
      fillValue: opts.fillValue ?? null,
    },
  );
}

/**
 * Reverses the order of elements along `axis` (all axes by default), numpy's `flip`, as one
 * `rev`.
 */
export function flip(x: ArrayLike, axis?: number | readonly number[] | null): Array {
  const a = asArray(x);
  const axes = normAxes("flip", axis, a.ndim);
  return axes.length === 0 ? a : lax.rev(a, axes);
}
