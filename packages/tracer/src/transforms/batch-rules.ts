/**
 * Batching rules (vmap) of every primitive. Most rules move the batch dimension to the front
 * and shift the primitive's axis parameters by one; collectives over the vmap's own axis
 * name become reductions over the batch dimension.
 */
import { scalar, type Array } from "../array";
import type { AxisFrame } from "../axis-env";
import { TransformError } from "../errors";
import * as lax from "../lax";
import { moveaxis } from "../numpy/shape";
import type { ParamsOf, PrimName, Primitive } from "../primitive";
import * as P from "../primitives/all";
import type { DotDimensionNumbers } from "../primitives/dot-general";
import { bind, bind1 } from "../trace";
import { dynamicSliceViaGather, dynamicUpdateSliceViaScatter } from "./indexing-rules";
import type { BatchDims, BatchRule, BatchRules, CoreRuleNames } from "./rules";

/** Moves the batch dim of `x` to position `to` (broadcasting it in if `x` is unbatched). */
export function moveBatch(x: Array, d: number | null, to: number, size: number): Array {
  if (d === null) {
    const shape = [...x.shape];
    shape.splice(to, 0, size);
    return lax.broadcastInDim(
      x,
      shape,
      x.shape.map((_, k) => (k < to ? k : k + 1)),
    );
  }
  return d === to ? x : moveaxis(x, d, to);
}

const toFront = (x: Array, d: number | null, size: number) => moveBatch(x, d, 0, size);
const shift = (axes: readonly number[]) => axes.map((a) => a + 1);

/**
 * n-ary elementwise ops (lax semantics: equal shapes, rank-0 operands broadcast): batched
 * operands go to dim 0; unbatched non-scalar operands are broadcast; unbatched scalars stay.
 * When every batched operand already shares one dim and nothing else needs broadcasting,
 * the dim is kept as is.
 */
function elementwiseRule<N extends PrimName>(prim: Primitive<N>): BatchRule<N> {
  // select_n's cases must all have the output shape: only its predicate may stay a scalar.
  const scalarOk = (i: number) => prim.name !== "select_n" || i === 0;
  return (axis, vals, dims, params) => {
    const perEx = vals.map((v, i) => (dims[i] === null ? v.ndim : v.ndim - 1));
    const rank = Math.max(...perEx);
    const batchedDims = dims.filter((d): d is number => d !== null);
    const same = batchedDims.every((d) => d === batchedDims[0]);
    const simple = same && vals.every((v, i) => (dims[i] === null ? v.ndim === 0 && scalarOk(i) : perEx[i] === rank));
    if (simple) {
      const outs = bind(prim, vals, params);
      return [outs, outs.map(() => batchedDims[0]!)];
    }
    let perExShape: readonly number[] = [];
    vals.forEach((v, i) => {
      if (perEx[i] === rank && rank > 0) perExShape = dims[i] === null ? v.shape : v.shape.filter((_, k) => k !== dims[i]);
    });
    const args = vals.map((v, i) => {
      const d = dims[i]!;
      if (dims[i] === null) {
        if (v.ndim === 0 && scalarOk(i)) return v;
        return lax.broadcastInDim(
          v,
          [axis.size, ...perExShape],
          v.shape.map((_, k) => k + 1 + (perExShape.length - v.ndim)),
        );
      }
      const front = toFront(v, d, axis.size);
      return perEx[i] === 0 && rank > 0 ? lax.broadcastInDim(front, [axis.size, ...perExShape], [0]) : front;
    });
    const outs = bind(prim, args, params);
    return [outs, outs.map(() => 0)];
  };
}

const ELEMENTWISE_RULES: BatchRules<
  | "neg"
  | "exp"
  | "log"
  | "log1p"
  | "expm1"
  | "sin"
  | "cos"
  | "tan"
  | "tanh"
  | "logistic"
  | "sqrt"
  | "rsqrt"
  | "abs"
  | "sign"
  | "floor"
  | "ceil"
  | "round"
  | "erf"
  | "erf_inv"
  | "not"
  | "integer_pow"
  | "square"
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "rem"
  | "pow"
  | "max"
  | "min"
  | "atan2"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "and"
  | "or"
  | "xor"
  | "shift_left"
  | "shift_right_logical"
  | "shift_right_arithmetic"
  | "select_n"
  | "convert_element_type"
  | "bitcast_convert_type"
  | "stop_gradient"
  | "threefry2x32"
> = {
  neg: elementwiseRule(P.neg),
  exp: elementwiseRule(P.exp),
  log: elementwiseRule(P.log),
  log1p: elementwiseRule(P.log1p),
  expm1: elementwiseRule(P.expm1),
  sin: elementwiseRule(P.sin),
  cos: elementwiseRule(P.cos),
  tan: elementwiseRule(P.tan),
  tanh: elementwiseRule(P.tanh),
  logistic: elementwiseRule(P.logistic),
  sqrt: elementwiseRule(P.sqrt),
  rsqrt: elementwiseRule(P.rsqrt),
  abs: elementwiseRule(P.abs),
  sign: elementwiseRule(P.sign),
  floor: elementwiseRule(P.floor),
  ceil: elementwiseRule(P.ceil),
  round: elementwiseRule(P.round),
  erf: elementwiseRule(P.erfP),
  erf_inv: elementwiseRule(P.erfInvP),
  not: elementwiseRule(P.not),
  integer_pow: elementwiseRule(P.integerPow),
  square: elementwiseRule(P.square),
  add: elementwiseRule(P.add),
  sub: elementwiseRule(P.sub),
  mul: elementwiseRule(P.mul),
  div: elementwiseRule(P.div),
  rem: elementwiseRule(P.rem),
  pow: elementwiseRule(P.pow),
  max: elementwiseRule(P.max),
  min: elementwiseRule(P.min),
  atan2: elementwiseRule(P.atan2),
  eq: elementwiseRule(P.eq),
  ne: elementwiseRule(P.ne),
  lt: elementwiseRule(P.lt),
  le: elementwiseRule(P.le),
  gt: elementwiseRule(P.gt),
  ge: elementwiseRule(P.ge),
  and: elementwiseRule(P.and),
  or: elementwiseRule(P.or),
  xor: elementwiseRule(P.xor),
  shift_left: elementwiseRule(P.shiftLeft),
  shift_right_logical: elementwiseRule(P.shiftRightLogical),
  shift_right_arithmetic: elementwiseRule(P.shiftRightArithmetic),
  select_n: elementwiseRule(P.selectN),
  convert_element_type: elementwiseRule(P.convertElementType),
  bitcast_convert_type: elementwiseRule(P.bitcastConvertType),
  stop_gradient: elementwiseRule(P.stopGradient),
  threefry2x32: elementwiseRule(P.threefry2x32),
};
/**
 * Fallback for rare cases (per-instance dynamic indices, batched pad values): apply the
 * primitive to each instance and stack the results. Correct, but size × the work.
 */
function unbatchedLoop<N extends PrimName>(
  prim: Primitive<N>,
  axis: AxisFrame,
  vals: Array[],
  dims: BatchDims,
  params: ParamsOf<N>,
): [Array[], BatchDims] {
  const per: Array[][] = [];
  for (let b = 0; b < axis.size; b++) {
    const args = vals.map((v, i) => {
      const d = dims[i]!;
      if (dims[i] === null) return v;
      const start = v.shape.map((_, k) => (k === d ? b : 0));
      const limit = v.shape.map((s, k) => (k === d ? b + 1 : s));
      return lax.reshape(
        lax.slice(v, start, limit),
        v.shape.filter((_, k) => k !== d),
      );
    });
    per.push(bind(prim, args, params));
  }
  const nOut = per[0]!.length;
  const outs = globalThis.Array.from({ length: nOut }, (_, o) =>
    lax.concatenate(
      per.map((r) =>
        lax.broadcastInDim(
          r[o]!,
          [1, ...r[o]!.shape],
          r[o]!.shape.map((_, k) => k + 1),
        ),
      ),
      0,
    ),
  );
  return [outs, outs.map(() => 0)];
}

/** Positional reduction for this vmap's name; the other names go on to the parent trace. */
function collectiveRule<N extends "psum" | "pmax" | "pmin">(
  prim: Primitive<N>,
  reduce: (x: Array, axes: number[]) => Array,
  constant: (x: Array, size: number) => Array,
): BatchRule<N> {
  return (axis, [x], [d = null], params) => {
    const names = params.axes;
    if (!names.includes(axis.name)) return [[bind1(prim, [x!], params)], [d!]];
    const rest = names.filter((n) => n !== axis.name);
    let r = d === null ? constant(x!, axis.size) : reduce(x!, [d!]);
    if (rest.length > 0) r = bind1(prim, [r], { ...params, axes: rest });
    return [[r], [null]];
  };
}

function reductionRule<N extends "reduce_sum" | "reduce_max" | "reduce_min" | "reduce_prod" | "argmax" | "argmin">(
  p: Primitive<N>,
): BatchRule<N> {
  return (axis, [x], [d = null], params) => [[bind1(p, [toFront(x!, d!, axis.size)], { ...params, axes: shift(params.axes) })], [0]];
}

export const coreBatchRules: BatchRules<CoreRuleNames> = {
  ...ELEMENTWISE_RULES,
  optimization_barrier: (_axis, vals, dims) => [bind(P.optimizationBarrier, vals), dims],
  // ---- structural -------------------------------------------------------------------------

  broadcast_in_dim: (axis, [x], [d = null], params) => {
    const shape = params.shape;
    const bd = params.broadcast_dimensions;
    const out = bind1(P.broadcastInDim, [toFront(x!, d!, axis.size)], {
      shape: [axis.size, ...shape],
      broadcast_dimensions: [0, ...shift(bd)],
    });
    return [[out], [0]];
  },
  reshape: (axis, [x], [d = null], params) => [
    [bind1(P.reshape, [toFront(x!, d!, axis.size)], { ...params, new_sizes: [axis.size, ...params.new_sizes] })],
    [0],
  ],
  transpose: (axis, [x], [d = null], params) => [
    [bind1(P.transpose, [toFront(x!, d!, axis.size)], { permutation: [0, ...shift(params.permutation)] })],
    [0],
  ],
  squeeze: (axis, [x], [d = null], params) => [
    [bind1(P.squeeze, [toFront(x!, d!, axis.size)], { dimensions: shift(params.dimensions) })],
    [0],
  ],
  slice: (axis, [x], [d = null], params) => {
    const strides = params.strides;
    return [
      [
        bind1(P.slice, [toFront(x!, d!, axis.size)], {
          start_indices: [0, ...params.start_indices],
          limit_indices: [axis.size, ...params.limit_indices],
          strides: strides ? [1, ...strides] : null,
        }),
      ],
      [0],
    ];
  },
  concatenate: (axis, vals, dims, params) => [
    [
      bind1(
        P.concatenate,
        vals.map((v, i) => toFront(v, dims[i]!, axis.size)),
        { dimension: params.dimension + 1 },
      ),
    ],
    [0],
  ],
  pad: (axis, [x, v], [dx, dv], params) => {
    if (dv !== null) return unbatchedLoop(P.pad, axis, [x!, v!], [dx!, dv!], params);
    const cfg = params.padding_config;
    return [[bind1(P.pad, [toFront(x!, dx!, axis.size), v!], { padding_config: [[0, 0, 0], ...cfg] })], [0]];
  },
  dynamic_slice: (axis, [x, ...idx], [dx, ...didx], params) => {
    // Batched starts: one gather (JAX's rule), so vmap(x.get(i)) is a single gather.
    if (didx.some((d) => d !== null)) return dynamicSliceViaGather(axis, [x!, ...idx], [dx!, ...didx], params);
    const out = bind1(P.dynamicSlice, [toFront(x!, dx!, axis.size), scalar(0, "int32"), ...idx], {
      slice_sizes: [axis.size, ...params.slice_sizes],
    });
    return [[out], [0]];
  },
  dynamic_update_slice: (axis, [x, u, ...idx], [dx, du, ...didx], params) => {
    if (didx.some((d) => d !== null)) return dynamicUpdateSliceViaScatter(axis, [x!, u!, ...idx], [dx!, du!, ...didx], params);
    const out = bind1(P.dynamicUpdateSlice, [toFront(x!, dx!, axis.size), toFront(u!, du!, axis.size), scalar(0, "int32"), ...idx]);
    return [[out], [0]];
  },
  iota: () => {
    throw new TransformError("iota: has no operands, so it is never batched");
  },

  // ---- reductions ---------------------------------------------------------------------------

  reduce_sum: reductionRule(P.reduceSum),
  reduce_max: reductionRule(P.reduceMax),
  reduce_min: reductionRule(P.reduceMin),
  reduce_prod: reductionRule(P.reduceProd),
  argmax: reductionRule(P.argmax),
  argmin: reductionRule(P.argmin),
  cumsum: (axis, [x], [d = null], params) => [[bind1(P.cumsum, [toFront(x!, d!, axis.size)], { ...params, axis: params.axis + 1 })], [0]],

  // ---- dot_general --------------------------------------------------------------------------

  dot_general: (axis, [x, y], [dx, dy], params) => {
    const [[lc, rc], [lb, rb]] = params.dimension_numbers;
    const nb = lb.length;
    let dims: DotDimensionNumbers;
    let outDim: number;
    let a = x!;
    let b = y!;
    if (dx !== null && dy !== null) {
      a = toFront(a, dx!, axis.size);
      b = toFront(b, dy!, axis.size);
      dims = [
        [shift(lc), shift(rc)],
        [
          [0, ...shift(lb)],
          [0, ...shift(rb)],
        ],
      ];
      outDim = 0;
    } else if (dx !== null) {
      // The batch dim becomes lhs's first free dim: output position nb.
      a = toFront(a, dx!, axis.size);
      dims = [
        [shift(lc), [...rc]],
        [shift(lb), [...rb]],
      ];
      outDim = nb;
    } else {
      b = toFront(b, dy!, axis.size);
      const lhsFree = x!.ndim - lc.length - lb.length;
      dims = [
        [[...lc], shift(rc)],
        [[...lb], shift(rb)],
      ];
      outDim = nb + lhsFree;
    }
    return [[bind1(P.dotGeneral, [a, b], { ...params, dimension_numbers: dims as never })], [outDim]];
  },

  // ---- collectives --------------------------------------------------------------------------

  psum: collectiveRule(
    P.psum,
    (x, axes) => lax.reduceSum(x, axes),
    (x, size) => lax.mul(x, scalar(size, x.dtype, x.weakType)),
  ),
  pmax: collectiveRule(
    P.pmax,
    (x, axes) => lax.reduceMax(x, axes),
    (x) => x,
  ),
  pmin: collectiveRule(
    P.pmin,
    (x, axes) => lax.reduceMin(x, axes),
    (x) => x,
  ),

  axis_index: (axis, _vals, _dims, params) => {
    if (params.axis_name !== axis.name) return [[bind1(P.axisIndex, [], params)], [null]];
    return [[lax.iota("int32", [axis.size], 0)], [0]];
  },
  all_gather: (axis, [x], [d = null], params) => {
    if (params.axis_name !== axis.name) {
      if (d === null) return [[bind1(P.allGather, [x!], params)], [null]];
      const dim = params.all_gather_dimension;
      return [[bind1(P.allGather, [toFront(x!, d, axis.size)], { ...params, all_gather_dimension: dim + 1 })], [0]];
    }
    return [[moveBatch(x!, d!, params.all_gather_dimension, axis.size)], [null]];
  },
  psum_scatter: (axis, [x], [d = null], params) => {
    const dim = params.scatter_dimension;
    if (params.axis_name !== axis.name) {
      if (d === null) return [[bind1(P.psumScatter, [x!], params)], [null]];
      return [[bind1(P.psumScatter, [toFront(x!, d, axis.size)], { ...params, scatter_dimension: dim + 1 })], [0]];
    }
    // result_i = Σ_j x_j[..., i, ...]: sum over the batch dim, then the scattered dim becomes the batch dim.
    if (d === null) {
      const scaled = lax.mul(x!, scalar(axis.size, x!.dtype, x!.weakType));
      return [[scaled], [dim]];
    }
    const summed = lax.reduceSum(x!, [d!]);
    return [[summed], [d! < dim ? dim - 1 : dim]];
  },
};
