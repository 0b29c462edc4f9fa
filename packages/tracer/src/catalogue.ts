/**
 * The primitive catalogue: every primitive's name and the TypeScript type of its params.
 *
 * This is the one list of what a jaxpr may contain. The rule tables (JVP, transpose,
 * batching in `transforms/`, lowering in the compiler) are records over `PrimName`, so adding
 * a primitive here without its rules — or a rule for a primitive that is not here — is a
 * compile error. Param names follow JAX (snake_case), since they are printed in jaxprs.
 */
import type { ClosedJaxpr } from "./jaxpr";
import type { DType } from "./dtype";

/** A primitive without params. */
export type NoParams = { readonly [k: string]: never };

type Ints = readonly number[];

/** `((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))` as in JAX. */
export type DotDimensionNumbers = readonly [readonly [Ints, Ints], readonly [Ints, Ints]];

/** XLA's gather dimension numbers (JAX's `GatherDimensionNumbers`). */
export type GatherDimensionNumbers = {
  readonly offset_dims: Ints;
  readonly collapsed_slice_dims: Ints;
  readonly start_index_map: Ints;
  readonly operand_batching_dims: Ints;
  readonly start_indices_batching_dims: Ints;
};

/** XLA's scatter dimension numbers (JAX's `ScatterDimensionNumbers`). */
export type ScatterDimensionNumbers = {
  readonly update_window_dims: Ints;
  readonly inserted_window_dims: Ints;
  readonly scatter_dims_to_operand_dims: Ints;
  readonly operand_batching_dims: Ints;
  readonly scatter_indices_batching_dims: Ints;
};

/**
 * JAX's `GatherScatterMode`: `clip` clamps start indices so the whole slice is in bounds;
 * `fill_or_drop` returns `fill_value` for out-of-bounds gathers and drops out-of-bounds
 * scatter updates; `promise_in_bounds` is the caller's promise (wax clamps, as XLA may).
 */
export type GatherScatterMode = "clip" | "fill_or_drop" | "promise_in_bounds";

export type GatherParams = {
  readonly dimension_numbers: GatherDimensionNumbers;
  readonly slice_sizes: Ints;
  readonly mode: GatherScatterMode;
  /** Value of out-of-bounds slices in `fill_or_drop` mode (`null`: NaN for floats, INT_MIN / max for ints, as JAX). */
  readonly fill_value: number | null;
  readonly indices_are_sorted: boolean;
  readonly unique_indices: boolean;
};

export type ScatterParams = {
  readonly dimension_numbers: ScatterDimensionNumbers;
  readonly mode: GatherScatterMode;
  readonly indices_are_sorted: boolean;
  readonly unique_indices: boolean;
};

/** `cond`: operands are `[index: int32[], ...ops]`; `branches[index]` (clamped) runs on `ops`. */
export type CondParams = { readonly branches: readonly ClosedJaxpr[] };

/** `while`: operands are `[...cond_consts, ...body_consts, ...init]`. */
export type WhileParams = {
  readonly cond_jaxpr: ClosedJaxpr;
  readonly body_jaxpr: ClosedJaxpr;
  readonly cond_nconsts: number;
  readonly body_nconsts: number;
};

/**
 * `scan`: operands are `[...consts, ...init_carry, ...xs]`, outputs `[...final_carry, ...ys]`;
 * `jaxpr` maps `[...consts, ...carry, ...x_slices]` to `[...carry, ...y_slices]`.
 */
export type ScanParams = {
  readonly jaxpr: ClosedJaxpr;
  readonly length: number;
  readonly reverse: boolean;
  readonly unroll: number;
  readonly num_consts: number;
  readonly num_carry: number;
  /** Which operands are linear (set by the JVP rule for tangent operands, as JAX). */
  readonly linear: readonly boolean[];
  readonly _split_transpose: boolean;
};

/** `sort`: operands sorted together along `dimension` by the first `num_keys` (lexicographic). */
export type SortParams = { readonly dimension: number; readonly is_stable: boolean; readonly num_keys: number };

/** Every primitive and its params. */
export interface PrimitiveParamsMap {
  // elementwise, unary
  neg: NoParams;
  exp: NoParams;
  log: NoParams;
  log1p: NoParams;
  expm1: NoParams;
  sin: NoParams;
  cos: NoParams;
  tan: NoParams;
  tanh: NoParams;
  logistic: NoParams;
  sqrt: NoParams;
  rsqrt: NoParams;
  abs: NoParams;
  sign: NoParams;
  floor: NoParams;
  ceil: NoParams;
  erf: NoParams;
  erf_inv: NoParams;
  not: NoParams;
  square: NoParams;
  round: { readonly rounding_method: number };
  integer_pow: { readonly y: number };
  // elementwise, binary
  add: NoParams;
  sub: NoParams;
  mul: NoParams;
  div: NoParams;
  rem: NoParams;
  pow: NoParams;
  max: NoParams;
  min: NoParams;
  atan2: NoParams;
  eq: NoParams;
  ne: NoParams;
  lt: NoParams;
  le: NoParams;
  gt: NoParams;
  ge: NoParams;
  and: NoParams;
  or: NoParams;
  xor: NoParams;
  shift_left: NoParams;
  shift_right_logical: NoParams;
  shift_right_arithmetic: NoParams;
  select_n: NoParams;
  convert_element_type: { readonly new_dtype: DType; readonly weak_type: boolean };
  bitcast_convert_type: { readonly new_dtype: DType };
  stop_gradient: NoParams;
  /** Identity on its operands that no pass looks through (JAX's `optimization_barrier`). */
  optimization_barrier: NoParams;
  // structural
  broadcast_in_dim: { readonly shape: Ints; readonly broadcast_dimensions: Ints };
  reshape: { readonly new_sizes: Ints; readonly dimensions: null };
  transpose: { readonly permutation: Ints };
  squeeze: { readonly dimensions: Ints };
  slice: { readonly start_indices: Ints; readonly limit_indices: Ints; readonly strides: Ints | null };
  dynamic_slice: { readonly slice_sizes: Ints };
  dynamic_update_slice: NoParams;
  concatenate: { readonly dimension: number };
  pad: { readonly padding_config: readonly (readonly [number, number, number])[] };
  iota: { readonly dtype: DType; readonly shape: Ints; readonly dimension: number };
  rev: { readonly dimensions: Ints };
  // reductions
  reduce_sum: { readonly axes: Ints };
  reduce_prod: { readonly axes: Ints };
  reduce_max: { readonly axes: Ints };
  reduce_min: { readonly axes: Ints };
  argmax: { readonly axes: Ints; readonly index_dtype: DType };
  argmin: { readonly axes: Ints; readonly index_dtype: DType };
  cumsum: { readonly axis: number; readonly reverse: boolean };
  dot_general: {
    readonly dimension_numbers: DotDimensionNumbers;
    readonly precision: null;
    readonly preferred_element_type: DType | null;
  };
  // indexing
  gather: GatherParams;
  scatter: ScatterParams;
  "scatter-add": ScatterParams;
  "scatter-mul": ScatterParams;
  "scatter-min": ScatterParams;
  "scatter-max": ScatterParams;
  // sorting
  sort: SortParams;
  top_k: { readonly k: number };
  // random bits
  threefry2x32: NoParams;
  // collectives
  psum: { readonly axes: readonly string[] };
  pmax: { readonly axes: readonly string[] };
  pmin: { readonly axes: readonly string[] };
  axis_index: { readonly axis_name: string };
  all_gather: { readonly axis_name: string; readonly all_gather_dimension: number };
  psum_scatter: { readonly axis_name: string; readonly scatter_dimension: number };
  // higher-order
  custom_jvp_call: { readonly name: string; readonly call_jaxpr: ClosedJaxpr; readonly jvp: string; readonly jvp_id: number };
  custom_vjp_call: { readonly name: string; readonly call_jaxpr: ClosedJaxpr; readonly bwd: string; readonly vjp_id: number };
  /** The linear part of a linearized `custom_vjp_call`: inputs are `num_res` residuals, then tangents. */
  custom_lin: {
    readonly name: string;
    readonly bwd: string;
    readonly vjp_id: number;
    readonly res_tree_id: number;
    readonly num_res: number;
    readonly out_avals: readonly { readonly shape: Ints; readonly dtype: DType }[];
  };
  cond: CondParams;
  while: WhileParams;
  scan: ScanParams;
}

/** The name of a primitive. */
export type PrimName = keyof PrimitiveParamsMap;
/** The params of primitive `N`. */
export type ParamsOf<N extends PrimName> = PrimitiveParamsMap[N];
