/** Shape manipulation: reshape, transpose, squeeze, expandDims, concatenate, stack, ... */
import type { Array } from "../array";
import { shapeSize } from "../aval";
import { ShapeError } from "../errors";
import * as lax from "../lax";
import { asArray, type ArrayLike } from "../values";
import { normAxes, normAxis } from "./axes";
import { broadcastShapes, broadcastTo as bcast, promote } from "./promote";

/** Reshapes; one dimension may be -1 (inferred). */
export function reshape(x: ArrayLike, shape: readonly number[]): Array {
  const a = asArray(x);
  const neg = shape.filter((d) => d === -1).length;
  if (neg > 1) throw new ShapeError(`reshape: at most one dimension may be -1, got [${shape.join(",")}]`);
  let s = [...shape];
  if (neg === 1) {
    const known = shapeSize(shape.filter((d) => d !== -1));
    if (known === 0 || a.size % known !== 0) {
      throw new ShapeError(
        `reshape: cannot reshape ${a.aval} (${a.size} elements) to [${shape.join(",")}] — the known dimensions must divide the size`,
      );
    }
    s = shape.map((d) => (d === -1 ? a.size / known : d));
  }
  if (a.ndim === s.length && a.shape.every((d, i) => d === s[i])) return a;
  return lax.reshape(a, s);
}

export function ravel(x: ArrayLike): Array {
  return reshape(x, [-1]);
}

/** Permutes axes (default: reversed). */
export function transpose(x: ArrayLike, axes?: readonly number[]): Array {
  const a = asArray(x);
  const perm = axes ? axes.map((ax) => normAxis("transpose", ax, a.ndim)) : a.shape.map((_, i) => a.ndim - 1 - i);
  if (perm.length !== a.ndim || new Set(perm).size !== perm.length) {
    throw new ShapeError(
      `transpose: axes (${(axes ?? []).join(", ")}) do not match ${a.aval} of rank ${a.ndim} — give each axis exactly once`,
    );
  }
  if (perm.every((p, i) => p === i)) return a;
  return lax.transpose(a, perm);
}

export function swapaxes(x: ArrayLike, a1: number, a2: number): Array {
  const a = asArray(x);
  const perm = a.shape.map((_, i) => i);
  const i = normAxis("swapaxes", a1, a.ndim);
  const j = normAxis("swapaxes", a2, a.ndim);
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  return transpose(a, perm);
}

export function moveaxis(x: ArrayLike, source: number, destination: number): Array {
  const a = asArray(x);
  const s = normAxis("moveaxis", source, a.ndim);
  const d = normAxis("moveaxis", destination, a.ndim);
  const perm = a.shape.map((_, i) => i).filter((i) => i !== s);
  perm.splice(d, 0, s);
  return transpose(a, perm);
}

/** Removes size-1 axes (all of them, or those given). */
export function squeeze(x: ArrayLike, axis?: number | readonly number[]): Array {
  const a = asArray(x);
  const dims = axis === undefined ? a.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes("squeeze", axis, a.ndim);
  return dims.length === 0 ? a : lax.squeeze(a, dims);
}

/** Inserts size-1 axes at the given positions (in the output), via `broadcast_in_dim` as JAX does. */
export function expandDims(x: ArrayLike, axis: number | readonly number[]): Array {
  const a = asArray(x);
  const list = typeof axis === "number" ? [axis] : [...axis];
  const outNd = a.ndim + list.length;
  const dims = normAxes("expandDims", list, outNd);
  const shape: number[] = [];
  const bd: number[] = [];
  let k = 0;
  for (let i = 0; i < outNd; i++) {
    if (dims.includes(i)) shape.push(1);
    else {
      bd.push(i);
      shape.push(a.shape[k++]!);
    }
  }
  return lax.broadcastInDim(a, shape, bd);
}

export function broadcastTo(x: ArrayLike, shape: readonly number[]): Array {
  return bcast(x, shape, "broadcastTo");
}

/** The broadcast of several arrays against each other. */
export function broadcastArrays(...xs: ArrayLike[]): Array[] {
  const arrs = xs.map(asArray);
  const shape = broadcastShapes("broadcastArrays", ...arrs);
  return arrs.map((a) => bcast(a, shape, "broadcastArrays"));
}

export function concatenate(xs: readonly ArrayLike[], axis = 0): Array {
  if (xs.length === 0) throw new ShapeError("concatenate: needs at least one array");
  const arrs = promote(...xs);
  if (arrs[0]!.ndim === 0) throw new ShapeError("concatenate: zero-dimensional arrays cannot be concatenated — use stack");
  const ax = normAxis("concatenate", axis, arrs[0]!.ndim);
  return arrs.length === 1 ? arrs[0]! : lax.concatenate(arrs, ax);
}

/** Joins arrays along a new axis. */
export function stack(xs: readonly ArrayLike[], axis = 0): Array {
  if (xs.length === 0) throw new ShapeError("stack: needs at least one array");
  const arrs = promote(...xs);
  const s0 = arrs[0]!.aval;
  for (const a of arrs) {
    if (a.ndim !== s0.ndim || a.shape.some((d, i) => d !== s0.shape[i])) {
      throw new ShapeError(`stack: all arrays must have one shape, got ${arrs.map((b) => String(b.aval)).join(", ")}`);
    }
  }
  const ax = normAxis("stack", axis, s0.ndim + 1);
  return concatenate(
    arrs.map((a) => expandDims(a, ax)),
    ax,
  );
}

/** Pads with a constant: `padWidth` is one `[before, after]` per axis (or one pair for all). */
export function pad(
  x: ArrayLike,
  padWidth: number | readonly [number, number] | readonly (readonly [number, number])[],
  constantValue: number = 0,
): Array {
  const a = asArray(x);
  const widths: (readonly [number, number])[] =
    typeof padWidth === "number"
      ? a.shape.map(() => [padWidth, padWidth] as const)
      : typeof padWidth[0] === "number"
        ? a.shape.map(() => padWidth as readonly [number, number])
        : [...(padWidth as readonly (readonly [number, number])[])];
  if (widths.length !== a.ndim) throw new ShapeError(`pad: padWidth needs one [before, after] pair per axis of ${a.aval}`);
  const v = promote(a, constantValue)[1]!;
  return lax.pad(
    a,
    v,
    widths.map(([lo, hi]) => [lo, hi, 0] as const),
  );
}

/** Repeats the array `reps` times along each axis. */
export function tile(x: ArrayLike, reps: readonly number[]): Array {
  let a = asArray(x);
  const nd = Math.max(a.ndim, reps.length);
  a = reshape(a, [...new globalThis.Array<number>(nd - a.ndim).fill(1), ...a.shape]);
  const r = [...new globalThis.Array<number>(nd - reps.length).fill(1), ...reps];
  // broadcast to [r0, s0, r1, s1, ...] then merge pairs
  const inter = a.shape.flatMap((d, i) => [r[i]!, d]);
  const b = lax.broadcastInDim(
    a,
    inter,
    a.shape.map((_, i) => 2 * i + 1),
  );
  return reshape(
    b,
    a.shape.map((d, i) => d * r[i]!),
  );
}
