/**
 * `lax`: thin, strict wrappers over the primitives (no broadcasting or promotion: operands
 * must already agree, as in `jax.lax`). The numpy-like namespace is built on these.
 */
import { Array as ArrayClass, type Array } from "./array";
import { treeFlatten } from "./pytree";
import type { DType } from "./dtype";
import * as P from "./primitives/all";
import { bind, bind1 } from "./trace";
import { asArray, type ArrayLike } from "./values";

const a = asArray;
const un =
  (p: P.Primitive) =>
  (x: ArrayLike): Array =>
    bind1(p, [a(x)]);
const bin =
  (p: P.Primitive) =>
  (x: ArrayLike, y: ArrayLike): Array =>
    bind1(p, [a(x), a(y)]);

export const neg = un(P.neg);
export const exp = un(P.exp);
export const log = un(P.log);
export const log1p = un(P.log1p);
export const expm1 = un(P.expm1);
export const sin = un(P.sin);
export const cos = un(P.cos);
export const tan = un(P.tan);
export const tanh = un(P.tanh);
export const logistic = un(P.logistic);
export const sqrt = un(P.sqrt);
export const rsqrt = un(P.rsqrt);
export const abs = un(P.abs);
export const sign = un(P.sign);
export const floor = un(P.floor);
export const ceil = un(P.ceil);
export const erf = un(P.erfP);
export const erfInv = un(P.erfInvP);
export const not = un(P.not);
export const square = un(P.square);
export const stopGradient = un(P.stopGradient);

/** `rounding_method`: 0 rounds half away from zero (lax default), 1 to nearest even. */
export function round(x: ArrayLike, roundingMethod: 0 | 1 = 0): Array {
  return bind1(P.round, [a(x)], { rounding_method: roundingMethod });
}
export function integerPow(x: ArrayLike, y: number): Array {
  return bind1(P.integerPow, [a(x)], { y });
}

export const add = bin(P.add);
export const sub = bin(P.sub);
export const mul = bin(P.mul);
export const div = bin(P.div);
export const rem = bin(P.rem);
export const pow = bin(P.pow);
export const max = bin(P.max);
export const min = bin(P.min);
export const atan2 = bin(P.atan2);
export const eq = bin(P.eq);
export const ne = bin(P.ne);
export const lt = bin(P.lt);
export const le = bin(P.le);
export const gt = bin(P.gt);
export const ge = bin(P.ge);
export const and = bin(P.and);
export const or = bin(P.or);
export const xor = bin(P.xor);
export const shiftLeft = bin(P.shiftLeft);
export const shiftRightLogical = bin(P.shiftRightLogical);
export const shiftRightArithmetic = bin(P.shiftRightArithmetic);

/** `select_n(which, *cases)`: elementwise `cases[which]`. */
export function selectN(which: ArrayLike, ...cases: ArrayLike[]): Array {
  return bind1(P.selectN, [a(which), ...cases.map(a)]);
}

export function convertElementType(x: ArrayLike, newDtype: DType, weakType = false): Array {
  return bind1(P.convertElementType, [a(x)], { new_dtype: newDtype, weak_type: weakType });
}
export function bitcastConvertType(x: ArrayLike, newDtype: DType): Array {
  return bind1(P.bitcastConvertType, [a(x)], { new_dtype: newDtype });
}

export function broadcastInDim(x: ArrayLike, shape: readonly number[], broadcastDimensions: readonly number[]): Array {
  return bind1(P.broadcastInDim, [a(x)], { shape: [...shape], broadcast_dimensions: [...broadcastDimensions] });
}
export function reshape(x: ArrayLike, newSizes: readonly number[]): Array {
  return bind1(P.reshape, [a(x)], { new_sizes: [...newSizes], dimensions: null });
}
export function transpose(x: ArrayLike, permutation: readonly number[]): Array {
  return bind1(P.transpose, [a(x)], { permutation: [...permutation] });
}
export function squeeze(x: ArrayLike, dimensions: readonly number[]): Array {
  return bind1(P.squeeze, [a(x)], { dimensions: [...dimensions] });
}
export function slice(
  x: ArrayLike,
  startIndices: readonly number[],
  limitIndices: readonly number[],
  strides: readonly number[] | null = null,
): Array {
  return bind1(P.slice, [a(x)], {
    start_indices: [...startIndices],
    limit_indices: [...limitIndices],
    strides: strides ? [...strides] : null,
  });
}
export function dynamicSlice(x: ArrayLike, startIndices: readonly ArrayLike[], sliceSizes: readonly number[]): Array {
  return bind1(P.dynamicSlice, [a(x), ...startIndices.map(a)], { slice_sizes: [...sliceSizes] });
}
export function dynamicUpdateSlice(x: ArrayLike, update: ArrayLike, startIndices: readonly ArrayLike[]): Array {
  return bind1(P.dynamicUpdateSlice, [a(x), a(update), ...startIndices.map(a)]);
}
export function concatenate(xs: readonly ArrayLike[], dimension: number): Array {
  return bind1(P.concatenate, xs.map(a), { dimension });
}
/** `paddingConfig`: one `[low, high, interior]` per dimension (low/high may be negative). */
export function pad(x: ArrayLike, paddingValue: ArrayLike, paddingConfig: readonly (readonly [number, number, number])[]): Array {
  return bind1(P.pad, [a(x), a(paddingValue)], { padding_config: paddingConfig.map((c) => [...c]) });
}
export function iota(dtype: DType, shape: readonly number[], dimension = 0): Array {
  return bind1(P.iota, [], { dtype, shape: [...shape], dimension });
}

export function reduceSum(x: ArrayLike, axes: readonly number[]): Array {
  return bind1(P.reduceSum, [a(x)], { axes: [...axes] });
}
export function reduceMax(x: ArrayLike, axes: readonly number[]): Array {
  return bind1(P.reduceMax, [a(x)], { axes: [...axes] });
}
export function reduceMin(x: ArrayLike, axes: readonly number[]): Array {
  return bind1(P.reduceMin, [a(x)], { axes: [...axes] });
}
export function reduceProd(x: ArrayLike, axes: readonly number[]): Array {
  return bind1(P.reduceProd, [a(x)], { axes: [...axes] });
}
export function argmax(x: ArrayLike, axis: number, indexDtype: DType = "int32"): Array {
  return bind1(P.argmax, [a(x)], { axes: [axis], index_dtype: indexDtype });
}
export function argmin(x: ArrayLike, axis: number, indexDtype: DType = "int32"): Array {
  return bind1(P.argmin, [a(x)], { axes: [axis], index_dtype: indexDtype });
}
export function cumsum(x: ArrayLike, axis = 0, reverse = false): Array {
  return bind1(P.cumsum, [a(x)], { axis, reverse });
}

/** `dimensionNumbers = [[lhsContract, rhsContract], [lhsBatch, rhsBatch]]`. */
export function dotGeneral(
  x: ArrayLike,
  y: ArrayLike,
  dimensionNumbers: P.DotDimensionNumbers,
  preferredElementType: DType | null = null,
): Array {
  const [[lc, rc], [lb, rb]] = dimensionNumbers;
  const xa = a(x);
  return bind1(P.dotGeneral, [xa, a(y)], {
    dimension_numbers: [
      [[...lc], [...rc]],
      [[...lb], [...rb]],
    ],
    precision: null,
    preferred_element_type: preferredElementType ?? xa.dtype,
  });
}

/** Threefry-2x32 on uint32 operands (equal shapes or scalars): two uint32 outputs. */
export function threefry2x32(k1: ArrayLike, k2: ArrayLike, x1: ArrayLike, x2: ArrayLike): [Array, Array] {
  const [r0, r1] = bind(P.threefry2x32, [a(k1), a(k2), a(x1), a(x2)]);
  return [r0!, r1!];
}
export { sort, sortKeyVal, topK, type SortOptions } from "./lax-sort";
export { clamp } from "./lax-clamp";
export { reduceWindow, type ReduceWindowOptions, type WindowComputation, type WindowPadding } from "./lax-window";

export {
  gather,
  scatter,
  scatterAdd,
  scatterMul,
  scatterMin,
  scatterMax,
  rev,
  type GatherDimensionNumbers,
  type ScatterDimensionNumbers,
  type GatherScatterModeName,
  type GatherOptions,
  type ScatterOptions,
} from "./lax-indexing";

export { cond, switch_ as switch, whileLoop, foriLoop, scan, map, type ScanOptions, type Traced, type Returned } from "./control-flow";

/**
 * The identity on a pytree whose array leaves no compiler pass looks through (JAX's
 * `lax.optimization_barrier`): computations on the results are not merged with the same
 * computations on the inputs. Other leaves pass unchanged.
 */
export function optimizationBarrier<T>(tree: T): T {
  const [leaves, def] = treeFlatten(tree);
  const idx: number[] = [];
  leaves.forEach((l, i) => {
    if (l instanceof ArrayClass) idx.push(i);
  });
  if (idx.length === 0) return tree;
  const outs = bind(
    P.optimizationBarrier,
    idx.map((i) => leaves[i] as Array),
  );
  const full = leaves.slice();
  idx.forEach((i, k) => (full[i] = outs[k]));
  return def.unflatten(full) as T;
}
