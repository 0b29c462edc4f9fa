/** Axis normalisation shared by the numpy-like ops. */
import { ArgumentError, ShapeError } from "../errors";

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

/** An axis argument as JAX users write it: one axis, several, or all (`null`/omitted). */
export type AxisArg = number | readonly number[] | null | undefined;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (globalThis.Array.isArray(v)) return `[${v.map(describe).join(", ")}]`;
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v === "string"
    ? JSON.stringify(v)
    : `${typeof v} ${String(v as number | bigint | boolean | symbol | undefined | ((...args: never[]) => unknown))}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

function checkAxis(op: string, axis: unknown): AxisArg {
  if (axis === undefined || axis === null || Number.isInteger(axis)) return axis as AxisArg;
  if (globalThis.Array.isArray(axis) && axis.every((a) => Number.isInteger(a))) return axis as number[];
  throw new ArgumentError(
    `${op}: axis must be an integer, a list of integers or null, got ${describe(axis)} — e.g. ${op}(x, -1) or ${op}(x, {axis: [0, 1]})`,
  );
}

/**
 * Reads a reduction's arguments as JAX's keywords: `op(x, axis)`, `op(x, axis, opts)` or
 * `op(x, {axis, ...opts})`. Unknown option names (`axes`, `keepDims`) and values of an
 * unexpected type are errors, so a typo never silently reduces every axis.
 */
export function reduceArgs<T extends { axis?: unknown }>(
  op: string,
  arg: unknown,
  opts: unknown,
  allowed: Record<string, "boolean" | "number" | "string">,
): T {
  let o: Record<string, unknown>;
  if (arg === undefined || arg === null || typeof arg === "number" || globalThis.Array.isArray(arg)) {
    if (opts !== undefined && !isPlainObject(opts))
      throw new ArgumentError(`${op}: options must be an object, got ${describe(opts)} — e.g. ${op}(x, 1, {keepdims: true})`);
    if (opts !== undefined && "axis" in opts && arg !== undefined)
      throw new ArgumentError(`${op}: axis given twice (positionally and in the options) — give it once`);
    o = { ...(opts ?? {}), ...(arg === undefined ? {} : { axis: arg }) };
  } else if (isPlainObject(arg)) {
    if (opts !== undefined)
      throw new ArgumentError(`${op}: unexpected argument ${describe(opts)} after the options object — put every option in one object`);
    o = arg;
  } else {
    throw new ArgumentError(
      `${op}: expected an axis (integer or list of integers) or an options object, got ${describe(arg)} — e.g. ${op}(x, -1) or ${op}(x, {axis: 0, keepdims: true})`,
    );
  }
  const names = ["axis", ...Object.keys(allowed)];
  for (const [k, v] of Object.entries(o)) {
    if (k === "axis") {
      checkAxis(op, v);
      continue;
    }
    const want = allowed[k];
    if (want === undefined) {
      const hint = k === "axes" ? "axis" : names.find((n) => n.toLowerCase() === k.toLowerCase());
      throw new ArgumentError(
        `${op}: unknown option "${k}" — ${hint ? `did you mean "${hint}"? ` : ""}the options are ${names.join(", ")} (JAX's keyword names)`,
      );
    }
    if (v !== undefined && typeof v !== want) throw new ArgumentError(`${op}: option ${k} must be a ${want}, got ${describe(v)}`);
  }
  return o as T;
}
