/**
 * `lax.reduceWindow` with JAX's calling convention and XLA's semantics: the operand is padded
 * (and base-dilated) with the init value, and each output element reduces one strided,
 * dilated window. There is no reduce_window primitive: it is built from primitives that
 * already trace, differentiate, batch and compile, in one of two ways.
 *
 * - Windows that tile the operand (stride = window, no window dilation: ordinary pooling)
 *   are a reshape to `[out₀, w₀, out₁, w₁, …]`: a sum is one `reduce_sum` (its gradient one
 *   broadcast), a max/min one fused loop over strided views under a custom JVP.
 * - Anything else (overlapping windows, dilations) is one strided `slice` per window offset,
 *   combined elementwise; the slices fuse into one compiled loop, and the gradient is a pad
 *   per offset (the transpose of a slice).
 *
 * Gradients match JAX's: `add` is linear (as `_reduce_window_sum_transpose_rule`), and
 * `max`/`min` send each window's cotangent to one element — the first extremum in row-major
 * window order, as XLA's `select_and_scatter_add` picks it — not split among ties.
 */
import type { Array } from "./array";
import { ArgumentError, ShapeError } from "./errors";
import { customJvp } from "./custom-jvp";
import * as lax from "./lax";
import { asArray, type ArrayLike } from "./values";

/** The reducing monoid: a name, or `lax.add` / `lax.max` / `lax.min` themselves. */
export type WindowComputation = "add" | "max" | "min" | ((x: Array, y: Array) => Array);

/** One `[low, high]` per operand dim, or lax's `"SAME"` / `"SAME_LOWER"` / `"VALID"`. */
export type WindowPadding = readonly (readonly [number, number])[] | "SAME" | "SAME_LOWER" | "VALID";

export interface ReduceWindowOptions {
  /** Dilation of the operand (holes filled with the init value) per dim. Default all 1. */
  baseDilation?: readonly number[];
  /** Dilation of the window per dim. Default all 1. */
  windowDilation?: readonly number[];
}

/**
 * Reduces every window of `operand` (`jax.lax.reduce_window`): output dim `i` has
 * `floor((paddedᵢ - spanᵢ) / strideᵢ) + 1` elements, `spanᵢ = windowDilationᵢ·(windowᵢ - 1) + 1`,
 * `paddedᵢ = baseDilationᵢ·(nᵢ - 1) + 1 + lowᵢ + highᵢ`. `initValue` fills the padding and joins
 * every reduction, as in XLA (use 0 for `add`, `-Infinity` for `max`).
 *
 * @example
 * // 2×2 max pooling with stride 2 of a [C, H, W] image
 * lax.reduceWindow(x, -Infinity, lax.max, [1, 2, 2], [1, 2, 2], "VALID")
 */
export function reduceWindow(
  operand: ArrayLike,
  initValue: number,
  computation: WindowComputation,
  windowDimensions: readonly number[],
  windowStrides: readonly number[],
  padding: WindowPadding,
  opts: ReduceWindowOptions = {},
): Array {
  const x = asArray(operand);
  const n = x.ndim;
  const op = monoid(computation);
  const baseDilation = opts.baseDilation ?? new globalThis.Array<number>(n).fill(1);
  const windowDilation = opts.windowDilation ?? new globalThis.Array<number>(n).fill(1);
  for (const [what, v] of [
    ["windowDimensions", windowDimensions],
    ["windowStrides", windowStrides],
    ["baseDilation", baseDilation],
    ["windowDilation", windowDilation],
  ] as const) {
    if (v.length !== n || v.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(
        `reduceWindow: ${what} [${v.join(", ")}] must have one positive integer per operand dim (operand ${x.aval}) — pass ${n} entries`,
      );
    }
  }
  const dilated = x.shape.map((s, i) => (s === 0 ? 0 : (s - 1) * baseDilation[i]! + 1));
  const span = windowDimensions.map((w, i) => (w - 1) * windowDilation[i]! + 1);
  const pads = typeof padding === "string" ? padtypeToPads(dilated, span, windowStrides, padding) : [...padding];
  if (pads.length !== n || pads.some((p) => p.length !== 2 || !Number.isInteger(p[0]) || !Number.isInteger(p[1]))) {
    throw new ShapeError(
      `reduceWindow: padding ${JSON.stringify(padding)} must be one [low, high] integer pair per operand dim (operand ${x.aval}), or "SAME"/"SAME_LOWER"/"VALID"`,
    );
  }
  const init = lax.convertElementType(initValue, x.dtype);
  const needsPad = pads.some(([lo, hi]) => lo !== 0 || hi !== 0) || baseDilation.some((d) => d !== 1);
  const padded = needsPad
    ? lax.pad(
        x,
        init,
        pads.map(([lo, hi], i) => [lo, hi, baseDilation[i]! - 1] as const),
      )
    : x;
  const outShape = padded.shape.map((s, i) => Math.max(0, Math.floor((s - span[i]!) / windowStrides[i]!) + 1));
  const tiled = windowDimensions.every((w, i) => w === windowStrides[i] && windowDilation[i] === 1) && outShape.every((o) => o > 0);
  if (tiled) return tiledWindows(padded, init, initValue, op, windowDimensions, outShape);
  let acc: Array | null = null;
  for (const offset of windowOffsets(windowDimensions)) {
    const start = offset.map((o, i) => o * windowDilation[i]!);
    const limit = start.map((s, i) => (outShape[i] === 0 ? s : s + (outShape[i]! - 1) * windowStrides[i]! + 1));
    const tap = lax.slice(padded, start, limit, windowStrides);
    acc = acc === null ? tap : op.combine(acc, tap);
  }
  const full = lax.broadcastInDim(init, outShape, []);
  if (acc === null) return full; // an empty window reduces to the init value
  return op.isIdentity(initValue) ? acc : op.combine(full, acc);
}

interface Monoid {
  name: "add" | "max" | "min";
  combine(acc: Array, x: Array): Array;
  isIdentity(v: number): boolean;
}

/**
 * Windows that tile the operand (stride = window, no dilation: ordinary pooling) are a
 * reshape to `[out₀, w₀, out₁, w₁, …]` and one reduction over the window axes, so the
 * gradient is one broadcast instead of a pad per window offset. For max/min the reduction
 * carries a custom JVP that sends each window's tangent to its first extremum in row-major
 * window order (XLA's select_and_scatter_add), not split among ties as `reduce_max`'s own.
 */
function tiledWindows(
  padded: Array,
  init: Array,
  initValue: number,
  op: Monoid,
  window: readonly number[],
  outShape: readonly number[],
): Array {
  const used = outShape.map((o, i) => o * window[i]!);
  const cropped = used.every((u, i) => u === padded.shape[i])
    ? padded
    : lax.slice(
        padded,
        used.map(() => 0),
        used,
      );
  // Only dims with a window wider than 1 are split (fewer, longer loops in the kernels).
  const split = lax.reshape(
    cropped,
    outShape.flatMap((o, i) => (window[i]! > 1 ? [o, window[i]!] : [o])),
  );
  const pattern = window.map((w) => (w > 1 ? "w" : "o")).join("");
  const axes = windowAxes(pattern);
  let out = axes.length === 0 ? split : op.name === "add" ? lax.reduceSum(split, axes) : extremumFirst(op.name, pattern)(split);
  if (!op.isIdentity(initValue)) out = op.name === "add" ? lax.add(out, init) : (op.name === "max" ? lax.max : lax.min)(out, init);
  return out;
}

const extremumFirstCache = new Map<string, (x: Array) => Array>();

/** The window axes of a split shape: `pattern` has a "w" per split dim (an out axis and a window axis) and an "o" per unsplit one. */
function windowAxes(pattern: string): number[] {
  const axes: number[] = [];
  let d = 0;
  for (const c of pattern) {
    if (c === "w") axes.push(d + 1);
    d += c === "w" ? 2 : 1;
  }
  return axes;
}

/** `reduce_max`/`reduce_min` over the window axes of a split shape (see `windowAxes`), the tangent taken at the first extremum. */
function extremumFirst(name: "max" | "min", pattern: string): (x: Array) => Array {
  const key = `${name}:${pattern}`;
  let f = extremumFirstCache.get(key);
  if (f) return f;
  const axes = windowAxes(pattern);
  // Forward: an elementwise extremum of one strided view per window offset (one fused loop
  // over the output), not a reduction over short window axes.
  const taps = (x: Array): Array[] =>
    windowOffsets(axes.map((a) => x.shape[a]!)).map((offset) => {
      const start = x.shape.map(() => 0);
      const limit = [...x.shape];
      axes.forEach((a, i) => {
        start[a] = offset[i]!;
        limit[a] = offset[i]! + 1;
      });
      return lax.squeeze(lax.slice(x, start, limit), axes);
    });
  const better = name === "max" ? lax.gt : lax.lt;
  const reduce = (x: Array) => taps(x).reduce((acc, v) => (name === "max" ? lax.max : lax.min)(acc, v));
  const g = customJvp(
    (x: Array) => reduce(x),
    ([x], [t]) => {
      const ans = reduce(x!);
      const keep = x!.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      // Row-major position of each element in its window, and of each window's first extremum.
      let position = lax.iota("int32", x!.shape, axes[0]!);
      for (const a of axes.slice(1)) position = lax.add(lax.mul(position, x!.shape[a]!), lax.iota("int32", x!.shape, a));
      const views = taps(x!);
      let best = views[0]!;
      let first = lax.broadcastInDim(lax.convertElementType(0, "int32"), ans.shape, []);
      views.slice(1).forEach((v, i) => {
        const moves = better(v, best);
        best = lax.selectN(moves, best, v);
        first = lax.selectN(moves, first, lax.broadcastInDim(lax.convertElementType(i + 1, "int32"), ans.shape, []));
      });
      // A reduction over a unit axis stores `first` once per window (a kernel boundary);
      // otherwise its select chain would be fused into, and recomputed by, every element of
      // the gradient's broadcast.
      first = lax.reduceMax(lax.reshape(first, [...first.shape, 1]), [first.ndim]);
      const chosen = lax.eq(position, lax.broadcastInDim(first, x!.shape, keep));
      const tzero = lax.broadcastInDim(lax.convertElementType(0, t!.dtype), x!.shape, []);
      const tangent = lax.reduceSum(lax.selectN(chosen, tzero, t!), axes);
      // The same trick for the reverse pass: the transpose of this unit broadcast is a
      // reduction that stores the incoming cotangent once per window before it is spread
      // over the window's elements (it is often a long fused expression, such as a conv's
      // input gradient).
      const unit = lax.reshape(
        lax.broadcastInDim(
          tangent,
          [...tangent.shape, 1],
          tangent.shape.map((_, i) => i),
        ),
        tangent.shape,
      );
      return [[ans], [unit]];
    },
    `reduce_window_${name}`,
  );
  f = (x: Array) => g(x);
  extremumFirstCache.set(key, f);
  return f;
}

function monoid(c: WindowComputation): Monoid {
  const name = c === lax.add ? "add" : c === lax.max ? "max" : c === lax.min ? "min" : c;
  // The running extremum only moves on a strict improvement, so ties keep the earliest element
  // and its gradient, as XLA's select_and_scatter_add (a plain `max` would split ties).
  if (name === "add") return { name, combine: lax.add, isIdentity: (v) => v === 0 };
  if (name === "max") return { name, combine: (acc, x) => lax.selectN(lax.gt(x, acc), acc, x), isIdentity: (v) => v === -Infinity };
  if (name === "min") return { name, combine: (acc, x) => lax.selectN(lax.lt(x, acc), acc, x), isIdentity: (v) => v === Infinity };
  throw new ArgumentError(
    `reduceWindow: computation must be "add", "max", "min" or lax.add/lax.max/lax.min, got ${typeof c === "function" ? c.name || "a function" : JSON.stringify(c)} — other monoids are not supported`,
  );
}

/** Every window offset, in row-major order. */
function windowOffsets(dims: readonly number[]): number[][] {
  return dims.reduce<number[][]>((acc, k) => acc.flatMap((o) => globalThis.Array.from({ length: k }, (_, j) => [...o, j])), [[]]);
}

/** lax's `padtype_to_pads`: "SAME" keeps `ceil(n/stride)` outputs, an odd pad's extra at the end ("SAME_LOWER": at the start). */
export function padtypeToPads(
  sizes: readonly number[],
  span: readonly number[],
  strides: readonly number[],
  padding: "SAME" | "SAME_LOWER" | "VALID",
): [number, number][] {
  if (padding === "VALID") return sizes.map(() => [0, 0]);
  return sizes.map((s, i) => {
    const out = Math.ceil(s / strides[i]!);
    const total = Math.max(0, (out - 1) * strides[i]! + span[i]! - s);
    const small = Math.floor(total / 2);
    return padding === "SAME" ? [small, total - small] : [total - small, small];
  });
}
