/**
 * numpy indexing: `index(x, ...idx)` (= `x.get(...idx)`, numpy's `x[idx]`) and JAX's update
 * syntax `at(x, ...idx).set(v)` (= `x.at(...idx).set(v)`, JAX's `x.at[idx].set(v)`).
 *
 * An index is an integer (negative counts from the end), a slice string `"start:stop:step"`
 * (any nonzero step, negative steps reverse), `null` (a new axis), `"..."` (the remaining
 * axes), an integer Array or JS list (advanced indexing: numpy's broadcasting of several index
 * arrays; negative entries count from the end) or a concrete boolean mask. Static slices and
 * ints lower to `slice`/`rev`/`squeeze`, a traced integer scalar to `dynamic_slice` (as JAX;
 * its batching rule makes `vmap` of it one `gather`), index arrays to one `gather`, and updates
 * to one `scatter`. Reads clamp out-of-bounds array indices, updates drop them (JAX's modes).
 */
import { Array } from "../array";
import { isInteger } from "../dtype";
import { ArgumentError, ConcretizationError, DTypeError, ShapeError } from "../errors";
import * as lax from "../lax";
import { parseMode, type GatherOptions, type ScatterOptions } from "../lax-indexing";
import type { GatherDimensionNumbers as GatherDims } from "../catalogue";
import * as P from "../primitives/indexing";
import { bind1 } from "../trace";
import { array, asArray, type ArrayLike } from "../values";
import { broadcastShapes, cast } from "./promote";
import { expandDims } from "./shape";

/** A nested JS list of integers (or booleans, for a mask) used as an index array. */
export type IndexList = readonly (number | boolean | IndexList)[];

/** One entry of an index: integer, `"start:stop:step"`, `null`, `"..."`, an index Array or a JS list. */
export type Index = number | string | null | Array | IndexList;

type Entry =
  | { kind: "none" }
  | { kind: "slice"; axis: number; start: number; step: number; len: number }
  /** A static integer, already counted from the start. */
  | { kind: "int"; axis: number; value: number }
  /** An integer Array (any rank; rank 0 is a scalar index). */
  | { kind: "array"; axis: number; arr: Array };

/** Python's `slice.indices` + length: start, step and number of elements of `"a:b:c"` on `size`. */
function parseSlice(spec: string, size: number): { start: number; step: number; len: number } {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3)
    throw new ShapeError(`index: cannot parse slice "${spec}" — use "start:stop" or "start:stop:step"`);
  const num = (s: string | undefined): number | null => {
    if (s === undefined || s.trim() === "") return null;
    const v = Number(s);
    if (!Number.isInteger(v)) throw new ShapeError(`index: "${s}" in slice "${spec}" is not an integer`);
    return v;
  };
  const step = num(parts[2]) ?? 1;
  if (step === 0) throw new ShapeError(`index: slice "${spec}" has step 0 — the step must be nonzero`);
  const [lo, hi] = step > 0 ? [0, size] : [-1, size - 1];
  const norm = (v: number | null, dflt: number) => (v === null ? dflt : Math.min(Math.max(v < 0 ? v + size : v, lo), hi));
  const start = norm(num(parts[0]), step > 0 ? 0 : size - 1);
  const stop = norm(num(parts[1]), step > 0 ? size : -1);
  const len = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
  return { start, step, len };
}

/** An index array from a JS list or Array: integer (or concrete bool) dtype, else a clear error. */
function indexArray(i: Array | IndexList): Array {
  if (i instanceof Array) {
    if (!isInteger(i.dtype) && i.dtype !== "bool") {
      throw new DTypeError(`index: index array ${i.aval} has dtype ${i.dtype} — indices must be integers; cast them with .astype('int32')`);
    }
    return i;
  }
  const flat = (i as unknown[]).flat(Infinity);
  if (flat.length > 0 && flat.every((v) => typeof v === "boolean")) return array(i as IndexList);
  if (!flat.every((v) => typeof v === "number" && Number.isInteger(v))) {
    throw new DTypeError(`index: index list ${JSON.stringify(i)} must hold integers (or only booleans, for a mask)`);
  }
  return array(i as IndexList, { dtype: "int32" });
}

/** The coordinates of a concrete mask's true elements, one int32 array per mask dimension (`np.nonzero`). */
function maskIndices(mask: Array): Array[] {
  const c = mask.concreteValue();
  if (c === null) {
    throw new ConcretizationError(
      `index: a boolean mask ${mask.aval} must be concrete (the result's shape depends on its values) — use np.where(mask, x, 0) to select under a transform`,
    );
  }
  const coords: number[][] = mask.shape.map(() => []);
  const strides = mask.shape.map((_, d) => mask.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  c.data.forEach((v, k) => {
    if (v) strides.forEach((s, d) => coords[d]!.push(Math.floor(k / s) % mask.shape[d]!));
  });
  return coords.map((cs) => array(Int32Array.from(cs)));
}

/** Parses an index against `x`'s shape: one entry per index element, ellipsis expanded, trailing `":"` added. */
function parse(x: Array, idx: readonly Index[]): { entries: Entry[]; contiguous: boolean } {
  if (idx.filter((i) => i === "...").length > 1) throw new ShapeError('index: at most one ellipsis ("...")');
  // Masks become their coordinate arrays first (each consumes mask.ndim axes).
  const items: (Index | Array)[] = [];
  const masks = new Map<Array, Array>();
  for (const i of idx) {
    if (i instanceof Array || globalThis.Array.isArray(i)) {
      const a = indexArray(i as Array | IndexList);
      if (a.dtype !== "bool") items.push(a);
      else if (a.ndim === 0)
        throw new ShapeError("index: a scalar boolean index is not supported — use null to insert an axis, or np.where to select");
      else {
        const coords = maskIndices(a);
        if (coords.length > 0) masks.set(coords[0]!, a);
        items.push(...coords);
      }
    } else items.push(i);
  }
  const consumed = items.filter((i) => i !== null && i !== "...").length;
  if (consumed > x.ndim) throw new ShapeError(`index: too many indices (${consumed}) for ${x.aval} of rank ${x.ndim}`);
  // numpy: advanced indices (arrays, and ints among them) separated by anything else move to the front.
  const advPos = items.flatMap((i, k) => (i instanceof Array || typeof i === "number" ? [k] : []));
  const contiguous = advPos.length === 0 || advPos[advPos.length - 1]! - advPos[0]! === advPos.length - 1;
  const full: (Index | Array)[] = [];
  for (const i of items) {
    if (i === "...") for (let k = 0; k < x.ndim - consumed; k++) full.push(":");
    else full.push(i);
  }
  while (full.filter((i) => i !== null).length < x.ndim) full.push(":");
  let axis = 0;
  const entries = full.map((i): Entry => {
    if (i === null) return { kind: "none" };
    const size = x.shape[axis]!;
    const ax = axis++;
    if (typeof i === "number") {
      if (!Number.isInteger(i) || i < -size || i >= size)
        throw new ShapeError(`index: index ${i} is out of bounds for axis ${ax} with size ${size} of ${x.aval}`);
      return { kind: "int", axis: ax, value: i < 0 ? i + size : i };
    }
    if (typeof i === "string") return { kind: "slice", axis: ax, ...parseSlice(i, size) };
    if (i instanceof Array) {
      const mask = masks.get(i);
      if (mask && mask.shape.some((d, k) => d !== x.shape[ax + k])) {
        throw new ShapeError(
          `index: boolean mask ${mask.aval} does not match axes ${ax}..${ax + mask.ndim - 1} of ${x.aval} — a mask needs the shape of the axes it selects`,
        );
      }
      return { kind: "array", axis: ax, arr: i };
    }
    throw new ShapeError(
      `index: unsupported index ${String(i)} — use an integer, a "start:stop:step" string, null, "...", or an integer array`,
    );
  });
  return { entries, contiguous };
}

/** numpy's negative-index wrap (once), on int32: `i < 0 ? i + size : i`; unsigned indices pass. */
function normalizeIndex(i: Array, size: number): Array {
  if (i.dtype === "uint32") return i;
  const a = i.dtype === "int32" ? i : lax.convertElementType(i, "int32");
  const c = a.concreteValue();
  if (c !== null && c.data.every((v) => v >= 0)) return a;
  return lax.selectN(lax.lt(a, 0), a, lax.add(a, size));
}

/** A gather over the whole operand that reads `x[idx]` (JAX's `_Indexer`). */
interface Indexer {
  indices: Array;
  dnums: GatherDims;
  sliceSizes: number[];
  /** The gather's output shape: the result without the `null` axes. */
  gatherShape: number[];
  /** Positions of the `null` axes in the result. */
  newAxes: number[];
  /** No index arrays: every start is distinct and in order. */
  basic: boolean;
}

/** Builds the gather of `x[idx]` (JAX's `_index_to_gather`, with negative indices wrapped). */
function toGather(x: Array, entries: readonly Entry[], contiguous: boolean): Indexer {
  const adv = entries.filter((e): e is Entry & { kind: "int" | "array" } => e.kind === "int" || e.kind === "array");
  const advArrs = adv.map((e) => {
    if (x.shape[e.axis] === 0) throw new ShapeError(`index: cannot index axis ${e.axis} of size 0 of ${x.aval} with an integer or array`);
    return e.kind === "int" ? asArray(e.value) : normalizeIndex(e.arr, x.shape[e.axis]!);
  });
  const B = advArrs.length > 0 ? broadcastShapes("index", ...advArrs) : [];
  const batchShape: number[] = [];
  const gatherShape: number[] = [];
  const newAxes: number[] = [];
  const offsetDims: number[] = [];
  const comps: { axis: number; arr: Array; at: number }[] = [];
  const sliceSizes = x.shape.map(() => 1);
  let placed = false;
  let outPos = 0;
  const placeAdvanced = () => {
    placed = true;
    adv.forEach((e, k) => comps.push({ axis: e.axis, arr: advArrs[k]!, at: batchShape.length + B.length - advArrs[k]!.ndim }));
    batchShape.push(...B);
    gatherShape.push(...B);
    outPos += B.length;
  };
  if (!contiguous && adv.length > 0) placeAdvanced();
  for (const e of entries) {
    if (e.kind === "none") newAxes.push(outPos++);
    else if (e.kind === "slice") {
      if (e.step === 1) {
        if (e.start !== 0) comps.push({ axis: e.axis, arr: asArray(e.start), at: batchShape.length });
        sliceSizes[e.axis] = e.len;
        offsetDims.push(gatherShape.length);
      } else {
        // A strided slice reads one element per index: its positions become a batch dim.
        const pos = Int32Array.from({ length: e.len }, (_, k) => e.start + k * e.step);
        comps.push({ axis: e.axis, arr: array(pos), at: batchShape.length });
        batchShape.push(e.len);
      }
      gatherShape.push(e.len);
      outPos++;
    } else if (!placed) placeAdvanced();
  }
  const n = batchShape.length;
  const int32 = (a: Array) => (a.dtype === "int32" ? a : lax.convertElementType(a, "int32"));
  const parts = comps.map((c) =>
    lax.broadcastInDim(
      int32(c.arr),
      [...batchShape, 1],
      c.arr.shape.map((_, k) => c.at + k),
    ),
  );
  const indices = parts.length === 0 ? array(new Int32Array(0)) : parts.length === 1 ? parts[0]! : lax.concatenate(parts, n);
  const collapsed = entries.flatMap((e) =>
    e.kind === "int" || e.kind === "array" || (e.kind === "slice" && e.step !== 1) ? [e.axis] : [],
  );
  return {
    indices,
    dnums: {
      offset_dims: offsetDims,
      collapsed_slice_dims: collapsed.sort((a, b) => a - b),
      start_index_map: comps.map((c) => c.axis),
      operand_batching_dims: [],
      start_indices_batching_dims: [],
    },
    sliceSizes,
    gatherShape,
    newAxes,
    basic: !entries.some((e) => e.kind === "array"),
  };
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Reads `x[idx]` through one gather with the given mode. */
function gatherRead(x: Array, entries: readonly Entry[], contiguous: boolean, opts: GatherOptions): Array {
  const ix = toGather(x, entries, contiguous);
  let r: Array;
  if (sizeOf(ix.gatherShape) === 0) r = lax.broadcastInDim(lax.convertElementType(asArray(0), x.dtype), ix.gatherShape, []);
  else if (ix.indices.size === 0 && ix.sliceSizes.every((s, d) => s === x.shape[d])) r = x;
  else {
    const mode = parseMode("index", opts.mode, "promise_in_bounds");
    r = bind1(P.gather, [x, ix.indices], {
      dimension_numbers: ix.dnums,
      slice_sizes: ix.sliceSizes,
      mode,
      fill_value: mode === "fill_or_drop" ? (opts.fillValue ?? null) : null,
      indices_are_sorted: opts.indicesAreSorted ?? ix.basic,
      unique_indices: opts.uniqueIndices ?? ix.basic,
    });
  }
  return ix.newAxes.length > 0 ? expandDims(r, ix.newAxes) : r;
}

/**
 * numpy indexing, `x[idx]`: `index(x, 0, ":", "1:3", null, "...")` is `x[0, :, 1:3, None, ...]`,
 * `index(x, idxArray)` gathers rows, `index(x, rows, cols)` broadcasts the two index arrays.
 * Out-of-bounds index arrays (and traced scalars) are clamped, as JAX's reads are.
 */
export function index(x: ArrayLike, ...idx: Index[]): Array {
  const a = asArray(x);
  const { entries, contiguous } = parse(a, idx);
  const advanced = entries.some((e) => e.kind === "array" && e.arr.ndim > 0);
  if (advanced) return gatherRead(a, entries, contiguous, {});
  // Basic indexing: reverse the negative-step axes, then one static slice, dynamic_slice for
  // traced scalars, squeeze the integer axes, insert the new ones.
  const rev: number[] = [];
  const start: number[] = [];
  const limit: number[] = [];
  const strides: number[] = [];
  const drop: number[] = [];
  const newAxes: number[] = [];
  const dynamic: [number, Array][] = [];
  let outPos = 0;
  for (const e of entries) {
    if (e.kind === "none") {
      newAxes.push(outPos++);
      continue;
    }
    const size = a.shape[e.axis]!;
    if (e.kind === "slice") {
      let s = e.start;
      let step = e.step;
      if (step < 0) {
        rev.push(e.axis);
        s = size - 1 - s;
        step = -step;
      }
      if (e.len === 0) s = 0;
      start.push(s);
      limit.push(e.len === 0 ? 0 : s + (e.len - 1) * step + 1);
      strides.push(step);
      outPos++;
    } else {
      if (e.kind === "int") {
        start.push(e.value);
        limit.push(e.value + 1);
      } else {
        start.push(0);
        limit.push(size);
        dynamic.push([e.axis, e.arr]);
      }
      strides.push(1);
      drop.push(e.axis);
    }
  }
  let r: Array = rev.length > 0 ? lax.rev(a, rev) : a;
  const trivial = start.every((s, k) => s === 0 && limit[k] === a.shape[k] && strides[k] === 1);
  if (!trivial) r = lax.slice(r, start, limit, strides.every((s) => s === 1) ? null : strides);
  if (dynamic.length > 0) {
    const sizes = r.shape.map((d, k) => (dynamic.some(([ax]) => ax === k) ? 1 : d));
    const starts = r.shape.map((_, k) => {
      const hit = dynamic.find(([ax]) => ax === k);
      return hit ? normalizeIndex(hit[1], r.shape[k]!) : asArray(0);
    });
    r = lax.dynamicSlice(r, starts, sizes);
  }
  if (drop.length > 0) r = lax.squeeze(r, drop);
  if (newAxes.length > 0) r = expandDims(r, newAxes);
  return r;
}

/** Options of `x.at(...).get()` (JAX's `.at[].get(mode=..., fill_value=...)`). */
export type AtGetOptions = GatherOptions;

/** Options of `x.at(...).set/add/mul/min/max` (JAX's scatter options; default mode drops out-of-bounds updates). */
export type AtUpdateOptions = ScatterOptions;

type ScatterPrim = typeof P.scatter | typeof P.scatterAdd | typeof P.scatterMul | typeof P.scatterMin | typeof P.scatterMax;

/**
 * JAX's `x.at[idx]`: functional updates of the elements `x[idx]` would read. Every method
 * returns a new array; with repeated indices `set` keeps the last update and `add`/`mul`/
 * `min`/`max` combine all of them. Out-of-bounds updates are dropped (negative indices count
 * from the end first); `get()` reads like `x.get(...)` with an optional mode.
 *
 * @example
 * x.at(1).set(0)            // x with row 1 zeroed
 * x.at(idx).add(1)          // one added at each index (repeats add up)
 * x.at("::2", 0).mul(2)
 */
export class IndexUpdateRef {
  constructor(
    readonly array: Array,
    readonly idx: readonly Index[],
  ) {}

  /** `x[idx]`; `mode: "fill"` gives `fillValue` (default NaN / INT_MIN) for out-of-bounds indices instead of clamping. */
  get(opts: AtGetOptions = {}): Array {
    if (opts.mode === undefined || opts.mode === "promise_in_bounds") return index(this.array, ...this.idx);
    const { entries, contiguous } = parse(this.array, this.idx);
    return gatherRead(this.array, entries, contiguous, opts);
  }
  /** `x` with `x[idx] = values` (broadcast to the indexed shape). */
  set(values: ArrayLike, opts: AtUpdateOptions = {}): Array {
    return this.update(P.scatter, values, opts);
  }
  /** `x` with `x[idx] += values`. */
  add(values: ArrayLike, opts: AtUpdateOptions = {}): Array {
    return this.update(P.scatterAdd, values, opts);
  }
  /** `x` with `x[idx] *= values`. */
  mul(values: ArrayLike, opts: AtUpdateOptions = {}): Array {
    return this.update(P.scatterMul, values, opts);
  }
  /** Alias of `mul` (JAX's name). */
  multiply(values: ArrayLike, opts: AtUpdateOptions = {}): Array {
    return this.mul(values, opts);
  }
  /** `x` with `x[idx] = minimum(x[idx], values)`. */
  min(values: ArrayLike, opts: AtUpdateOptions = {}): Array {
    return this.update(P.scatterMin, values, opts);
  }
  /** `x` with `x[idx] = maximum(x[idx], values)`. */
  max(values: ArrayLike, opts: AtUpdateOptions = {}): Array {
    return this.update(P.scatterMax, values, opts);
  }

  private update(prim: ScatterPrim, values: ArrayLike, opts: AtUpdateOptions): Array {
    const x = this.array;
    const { entries, contiguous } = parse(x, this.idx);
    const ix = toGather(x, entries, contiguous);
    if (sizeOf(ix.gatherShape) === 0) return x;
    const finalShape = [...ix.gatherShape];
    for (const p of ix.newAxes) finalShape.splice(p, 0, 1);
    const v = asArray(values);
    const op = `at(...).${prim.name === "scatter" ? "set" : prim.name.slice("scatter-".length)}`;
    const lead = finalShape.length - v.ndim;
    if (lead < 0 || v.shape.some((d, i) => d !== 1 && d !== finalShape[lead + i])) {
      throw new ShapeError(
        `${op}: cannot broadcast the values ${v.aval} to the indexed shape [${finalShape.join(",")}] — give values of that shape or one that broadcasts to it`,
      );
    }
    const vc = cast(v, x.dtype, x.weakType);
    const full = lax.broadcastInDim(
      vc,
      finalShape,
      vc.shape.map((_, i) => finalShape.length - vc.ndim + i),
    );
    const updates = ix.newAxes.length > 0 ? lax.reshape(full, ix.gatherShape) : full;
    return bind1(prim as typeof P.scatter, [x, ix.indices, updates], {
      dimension_numbers: P.gatherToScatterDims(ix.dnums),
      mode: parseMode(op, opts.mode, "fill_or_drop"),
      indices_are_sorted: opts.indicesAreSorted ?? ix.basic,
      unique_indices: opts.uniqueIndices ?? ix.basic,
    });
  }
}

/** JAX's `x.at[idx]` as a function: `at(x, ...idx).set(v)` (the method form is `x.at(...idx)`). */
export function at(x: ArrayLike, ...idx: Index[]): IndexUpdateRef {
  const a = asArray(x);
  if (idx.length === 0) throw new ArgumentError("at: give at least one index — x.at(...idx).set(v)");
  return new IndexUpdateRef(a, idx);
}
