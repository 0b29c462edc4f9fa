/** Axis normalisation shared by the numpy-like ops. */
import { ShapeError } from "../errors";

/** Normalises a possibly negative axis for rank `ndim`; `op` names the operation in errors. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new ShapeError(`${op}: axis ${axis} is out of bounds for an array of rank ${ndim} — use an axis in [${-ndim}, ${ndim})`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** `null`/undefined → all axes; a number or list → sorted normalised axes. */
export function normAxes(op: string, axis: number | readonly number[] | null | undefined, ndim: number): number[] {
  if (axis === null || axis === undefined) return [...globalThis.Array(ndim).keys()];
  const list = typeof axis === "number" ? [axis] : axis;
  const out = list.map((a) => normAxis(op, a, ndim));
  if (new Set(out).size !== out.length) throw new ShapeError(`${op}: repeated axis in (${list.join(", ")})`);
  return out.sort((a, b) => a - b);
}
