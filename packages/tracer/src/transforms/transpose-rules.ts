/** Transpose rules of the linear primitives (what `backwardPass` runs for each equation). */
import { scalar, type Array } from "../array";
import type { Aval } from "../aval";
import * as lax from "../lax";
import * as P from "../primitives/all";
import type { DotDimensionNumbers } from "../catalogue";
import { bind1 } from "../trace";
import { UndefinedPrimal, type TransposeRules, type CoreRuleNames } from "./rules";
import { zerosLikeAval } from "./zeros";

const isUndef = (x: unknown): x is UndefinedPrimal => x instanceof UndefinedPrimal;
const avalOf = (x: Array | UndefinedPrimal): Aval => x.aval;

// ---- dot_general --------------------------------------------------------------------------

function freeDims(ndim: number, used: readonly number[]): number[] {
  return globalThis.Array.from({ length: ndim }, (_, i) => i).filter((i) => !used.includes(i));
}
const rankIn = (xs: readonly number[], v: number) => [...xs].sort((p, q) => p - q).indexOf(v);

/**
 * Cotangent of one operand: contract the output cotangent with the other operand over the
 * other operand's free dims (batch dims stay batch), then permute back to the operand's order.
 */
function dotTransposeOperand(ct: Array, other: Array, operand: Aval, dims: DotDimensionNumbers, which: 0 | 1): Array {
  const [[lc, rc], [lb, rb]] = dims;
  const [mc, oc, mb, ob] = which === 0 ? [lc, rc, lb, rb] : [rc, lc, rb, lb];
  const nb = lb.length;
  const lfree = freeDims(which === 0 ? operand.ndim : other.ndim, [...lc, ...lb]);
  const rfree = freeDims(which === 0 ? other.ndim : operand.ndim, [...rc, ...rb]);
  const ownFree = which === 0 ? lfree : rfree;
  const otherFree = which === 0 ? rfree : lfree;
  // positions of the other operand's free dims in the output
  const otherFreePos = otherFree.map((_, k) => (which === 0 ? nb + lfree.length + k : nb + k));
  const batchPos = mb.map((_, k) => k);
  const r = bind1(P.dotGeneral, [ct, other], {
    dimension_numbers: [
      [otherFreePos, otherFree],
      [batchPos, [...ob]],
    ],
    precision: null,
    preferred_element_type: operand.dtype,
  });
  // r's dims: [batch (in mb order), own free (sorted), own contracting in sorted order of oc]
  const pos = new globalThis.Array<number>(operand.ndim);
  mb.forEach((d, k) => (pos[d] = k));
  ownFree.forEach((d, k) => (pos[d] = nb + k));
  mc.forEach((d, k) => (pos[d] = nb + ownFree.length + rankIn(oc, oc[k]!)));
  return pos.every((p, i) => p === i) ? r : lax.transpose(r, pos);
}

export const coreTransposeRules: TransposeRules<CoreRuleNames> = {
  add: ([ct = null], args) => args.map(() => ct ?? null),
  sub: ([ct = null], args) => args.map((_, i) => (ct === null ? null : i === 0 ? ct : lax.neg(ct))),
  neg: ([ct]) => [ct ? lax.neg(ct) : null],
  mul: ([ct = null], args) => {
    const [x, y] = args as [Array | UndefinedPrimal, Array | UndefinedPrimal];
    if (ct === null) return [null, null];
    if (isUndef(x) && isUndef(y)) throw new Error("mul: both operands linear — not a linear program");
    return isUndef(x) ? [lax.mul(ct, y as Array), null] : [null, lax.mul(x as Array, ct)];
  },
  div: ([ct = null], [, y]) => [ct ? lax.div(ct, y as Array) : null, null],
  convert_element_type: ([ct = null], [x]) => [ct ? lax.convertElementType(ct, avalOf(x!).dtype, avalOf(x!).weakType) : null],

  select_n: ([ct = null], [pred, ...cases]) => {
    if (ct === null) return [null, ...cases.map(() => null)];
    const zeros = zerosLikeAval(ct.aval);
    return [null, ...cases.map((c, i) => (isUndef(c) ? lax.selectN(pred as Array, ...cases.map((_, j) => (j === i ? ct : zeros))) : null))];
  },

  // ---- structural ---------------------------------------------------------------------------

  broadcast_in_dim: ([ct = null], [x], params) => {
    if (ct === null) return [null];
    const a = avalOf(x!);
    const bd = params.broadcast_dimensions;
    const newAxes = ct.shape.map((_, i) => i).filter((i) => !bd.includes(i));
    const expanded = bd.filter((d, i) => a.shape[i] === 1 && ct.shape[d] !== 1);
    const axes = [...newAxes, ...expanded].sort((p, q) => p - q);
    const summed = axes.length > 0 ? lax.reduceSum(ct, axes) : ct;
    return [summed.shape.length === a.ndim && summed.shape.every((d, i) => d === a.shape[i]) ? summed : lax.reshape(summed, a.shape)];
  },
  reshape: ([ct = null], [x]) => [ct ? lax.reshape(ct, avalOf(x!).shape) : null],
  squeeze: ([ct = null], [x]) => [ct ? lax.reshape(ct, avalOf(x!).shape) : null],
  transpose: ([ct = null], _a, params) => {
    if (ct === null) return [null];
    const perm = params.permutation;
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [lax.transpose(ct, inv)];
  },
  slice: ([ct = null], [x], params) => {
    if (ct === null) return [null];
    const a = avalOf(x!);
    const start = params.start_indices;
    const strides = params.strides ?? start.map(() => 1);
    const cfg = a.shape.map((size, i) => {
      const n = ct.shape[i]!;
      const s = strides[i]!;
      const used = n === 0 ? 0 : (n - 1) * s + 1;
      return [start[i]!, size - start[i]! - used, n === 0 ? 0 : s - 1] as const;
    });
    // A zero-length slice: pad gives zeros of the operand's shape only when n >= 1 along each axis.
    if (ct.size === 0) return [zerosLikeAval(a)];
    return [lax.pad(ct, scalar(0, ct.dtype), cfg)];
  },
  pad: ([ct = null], [x, v], params) => {
    if (ct === null) return [null, null];
    const cfg = params.padding_config;
    const a = avalOf(x!);
    // Undo negative padding (cropping) by padding the cotangent with zeros, then slice out the operand.
    const unCrop = cfg.map(([lo, hi]) => [Math.max(0, -lo), Math.max(0, -hi), 0] as const);
    const widened = unCrop.some(([l, h]) => l > 0 || h > 0) ? lax.pad(ct, scalar(0, ct.dtype), unCrop) : ct;
    const start = cfg.map(([lo]) => Math.max(0, lo));
    const strides = cfg.map(([, , interior]) => interior + 1);
    const limit = a.shape.map((d, i) => (d === 0 ? start[i]! : start[i]! + (d - 1) * strides[i]! + 1));
    const tx = lax.slice(widened, start, limit, strides.every((s) => s === 1) ? null : strides);
    const tv = isUndef(v!)
      ? lax.sub(
          lax.reduceSum(
            ct,
            ct.shape.map((_, i) => i),
          ),
          lax.reduceSum(
            tx,
            tx.shape.map((_, i) => i),
          ),
        )
      : null;
    return [isUndef(x!) ? tx : null, tv];
  },
  concatenate: ([ct = null], args, params) => {
    if (ct === null) return args.map(() => null);
    const dim = params.dimension;
    let off = 0;
    return args.map((x) => {
      const a = avalOf(x);
      const start = ct.shape.map((_, i) => (i === dim ? off : 0));
      const limit = ct.shape.map((d, i) => (i === dim ? off + a.shape[dim]! : d));
      off += a.shape[dim]!;
      return isUndef(x) ? lax.slice(ct, start, limit) : null;
    });
  },
  reduce_sum: ([ct = null], [x], params) => {
    if (ct === null) return [null];
    const a = avalOf(x!);
    const axes = params.axes;
    return [
      lax.broadcastInDim(
        ct,
        a.shape,
        a.shape.map((_, i) => i).filter((i) => !axes.includes(i)),
      ),
    ];
  },
  cumsum: ([ct = null], _a, params) => [ct ? lax.cumsum(ct, params.axis as number, !params.reverse) : null],
  dynamic_slice: ([ct = null], [x, ...idx]) => {
    if (ct === null) return [null, ...idx.map(() => null)];
    return [lax.dynamicUpdateSlice(zerosLikeAval(avalOf(x!)), ct, idx as Array[]), ...idx.map(() => null)];
  },
  dynamic_update_slice: ([ct = null], [x, u, ...idx]) => {
    if (ct === null) return [null, null, ...idx.map(() => null)];
    const ua = avalOf(u!);
    const tx = isUndef(x!) ? lax.dynamicUpdateSlice(ct, zerosLikeAval(ua), idx as Array[]) : null;
    const tu = isUndef(u!) ? lax.dynamicSlice(ct, idx as Array[], ua.shape) : null;
    return [tx, tu, ...idx.map(() => null)];
  },

  dot_general: ([ct = null], [x, y], params) => {
    if (ct === null) return [null, null];
    const dims = params.dimension_numbers;
    return [
      isUndef(x!) ? dotTransposeOperand(ct, y as Array, x.aval, dims, 0) : null,
      isUndef(y!) ? dotTransposeOperand(ct, x as Array, y.aval, dims, 1) : null,
    ];
  },

  // ---- collectives --------------------------------------------------------------------------

  // psum is psum + pbroadcast: its transpose sums over the named axes again (JAX).
  psum: ([ct = null], _a, params) => [ct ? bind1(P.psum, [ct], params) : null],
  all_gather: ([ct = null], _a, params) => [
    ct ? bind1(P.psumScatter, [ct], { axis_name: params.axis_name, scatter_dimension: params.all_gather_dimension }) : null,
  ],
  psum_scatter: ([ct = null], _a, params) => [
    ct ? bind1(P.allGather, [ct], { axis_name: params.axis_name, all_gather_dimension: params.scatter_dimension }) : null,
  ],
  // never linear in a tangent program
  exp: null,
  log: null,
  log1p: null,
  expm1: null,
  sin: null,
  cos: null,
  tan: null,
  tanh: null,
  logistic: null,
  sqrt: null,
  rsqrt: null,
  abs: null,
  sign: null,
  floor: null,
  ceil: null,
  erf: null,
  erf_inv: null,
  not: null,
  square: null,
  round: null,
  integer_pow: null,
  rem: null,
  pow: null,
  max: null,
  min: null,
  atan2: null,
  eq: null,
  ne: null,
  lt: null,
  le: null,
  gt: null,
  ge: null,
  and: null,
  or: null,
  xor: null,
  shift_left: null,
  shift_right_logical: null,
  shift_right_arithmetic: null,
  bitcast_convert_type: null,
  stop_gradient: null,
  optimization_barrier: null,
  iota: null,
  reduce_prod: null,
  reduce_max: null,
  reduce_min: null,
  argmax: null,
  argmin: null,
  threefry2x32: null,
  pmax: null,
  pmin: null,
  axis_index: null,
};
