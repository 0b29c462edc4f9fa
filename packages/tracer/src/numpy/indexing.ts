/**
 * Basic indexing: `index(x, 0, ":", "1:3", null, "...")` as numpy's `x[0, :, 1:3, None, ...]`.
 * Integers (negative count from the end) pick and drop an axis, strings `"start:stop:step"`
 * slice (positive steps), `null` inserts a new axis, `"..."` stands for the remaining axes.
 * A traced integer scalar picks with `dynamic_slice` (clamped to the bounds, as in JAX).
 */
import { Array } from "../array";
import { isInteger } from "../dtype";
import { ShapeError } from "../errors";
import * as lax from "../lax";
import { asArray } from "../values";
import { expandDims } from "./shape";

export type Index = number | string | null | Array;

function parseSlice(spec: string, size: number): [number, number, number] {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3) throw new ShapeError(`index: cannot parse slice "${spec}" — use "start:stop" or "start:stop:step"`);
  const num = (s: string | undefined, def: number): number => {
    if (s === undefined || s.trim() === "") return def;
    const v = Number(s);
    if (!Number.isInteger(v)) throw new ShapeError(`index: "${s}" in slice "${spec}" is not an integer`);
    return v;
  };
  const step = num(parts[2], 1);
  if (step <= 0) throw new ShapeError(`index: slice "${spec}" has step ${step} — only positive steps are supported`);
  const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const start = clampIdx(num(parts[0], 0));
  const stop = Math.max(start, clampIdx(num(parts[1], size)));
  return [start, stop, step];
}

export function index(x: Array, ...idx: Index[]): Array {
  const a = asArray(x);
  const consumed = idx.filter((i) => i !== null && i !== "...").length;
  if (consumed > a.ndim) throw new ShapeError(`index: too many indices (${consumed}) for ${a.aval} of rank ${a.ndim}`);
  if (idx.filter((i) => i === "...").length > 1) throw new ShapeError("index: at most one ellipsis (\"...\")");
  const full: Index[] = [];
  for (const i of idx) {
    if (i === "...") for (let k = 0; k < a.ndim - consumed; k++) full.push(":");
    else full.push(i);
  }
  while (full.filter((i) => i !== null).length < a.ndim) full.push(":");
  const start: number[] = [];
  const limit: number[] = [];
  const strides: number[] = [];
  const dropAxes: number[] = [];
  const newAxes: number[] = [];
  const dynamic: [number, Array][] = [];
  let axis = 0;
  let outPos = 0;
  for (const i of full) {
    if (i === null) {
      newAxes.push(outPos++);
      continue;
    }
    const size = a.shape[axis]!;
    if (typeof i === "number") {
      if (!Number.isInteger(i) || i < -size || i >= size) {
        throw new ShapeError(`index: index ${i} is out of bounds for axis ${axis} with size ${size} of ${a.aval}`);
      }
      const k = i < 0 ? i + size : i;
      start.push(k);
      limit.push(k + 1);
      strides.push(1);
      dropAxes.push(axis);
    } else if (typeof i === "string") {
      const [s, e, st] = parseSlice(i, size);
      start.push(s);
      limit.push(e);
      strides.push(st);
      outPos++;
    } else if (i instanceof Array) {
      if (i.ndim !== 0 || !isInteger(i.dtype)) throw new ShapeError(`index: array index ${i.aval} must be an integer scalar (gather with arrays is not supported)`);
      start.push(0);
      limit.push(size);
      strides.push(1);
      dynamic.push([axis, i]);
      dropAxes.push(axis);
    } else {
      throw new ShapeError(`index: unsupported index ${String(i)} — use an integer, a "start:stop:step" string, null or "..."`);
    }
    axis++;
  }
  let r: Array = a;
  const trivial = start.every((s, k) => s === 0 && limit[k] === a.shape[k] && strides[k] === 1);
  if (!trivial) r = lax.slice(r, start, limit, strides.every((s) => s === 1) ? null : strides);
  if (dynamic.length > 0) {
    const sizes = r.shape.map((d, k) => (dynamic.some(([ax]) => ax === k) ? 1 : d));
    const starts = r.shape.map((_, k) => {
      const hit = dynamic.find(([ax]) => ax === k);
      if (!hit) return asArray(0);
      // negative indices count from the end, as numpy's
      const idxArr = hit[1].dtype === "int32" ? hit[1] : lax.convertElementType(hit[1], "int32");
      return lax.selectN(lax.lt(idxArr, 0), idxArr, lax.add(idxArr, r.shape[k]!));
    });
    r = lax.dynamicSlice(r, starts, sizes);
  }
  if (dropAxes.length > 0) r = lax.squeeze(r, dropAxes);
  if (newAxes.length > 0) r = expandDims(r, newAxes);
  return r;
}
