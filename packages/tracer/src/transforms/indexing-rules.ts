/**
 * Transform rules of `gather`, the `scatter` family and `rev` (JAX's `lax/slicing.py` rules).
 *
 * - JVP: `gather` and `scatter-add` are linear; `scatter-mul` is linear in the operand, and its
 *   update tangent uses the product of the other updates at each position (exact with zeros
 *   and repeats); `scatter-min/max` split a position's tangent evenly among the operand and
 *   updates that attain the result (as `max`); `scatter` with repeated indices uses JAX's id
 *   trick (scatter ids, gather them back, mask, then scatter-add) so its tangent program needs
 *   only `scatter-add`.
 * - Transpose: `gather` ↔ `scatter-add`; `scatter` (unique indices) and `scatter-mul` (in the
 *   operand); `rev` → `rev`.
 * - Batching: modern JAX's, with `operand_batching_dims`/`start_indices_batching_dims` when
 *   both operand and indices are batched, so `vmap` of a gather or scatter stays one gather or
 *   scatter. `dynamic_slice`/`dynamic_update_slice` with batched indices become one gather /
 *   scatter the same way (JAX's rules).
 */
import { scalar, type Array } from "../array";
import { Aval } from "../aval";
import type { GatherParams, GatherScatterMode, ScatterParams } from "../catalogue";
import { TransformError } from "../errors";
import * as lax from "../lax";
import { moveaxis } from "../numpy/shape";
import type { ParamsOf, Primitive } from "../primitive";
import * as P from "../primitives/indexing";
import { bind1 } from "../trace";
import {
  UndefinedPrimal,
  type BatchDims,
  type BatchRule,
  type BatchRules,
  type JvpRules,
  type MaybeZero,
  type TransposeRules,
} from "./rules";
import { instantiate, zerosLikeAval } from "./zeros";

type ScatterName = "scatter" | "scatter-add" | "scatter-mul" | "scatter-min" | "scatter-max";
type IndexingNames = "gather" | ScatterName | "rev";

const isUndef = (x: unknown): x is UndefinedPrimal => x instanceof UndefinedPrimal;
const shift = (dims: readonly number[]) => dims.map((d) => d + 1);
const fill = (v: number, like: Aval) => lax.broadcastInDim(scalar(v, like.dtype), like.shape, []);

/** Moves the batch dim of `x` to the front, broadcasting an unbatched `x` to `size` copies. */
function toFront(x: Array, d: number | null, size: number): Array {
  if (d === null)
    return lax.broadcastInDim(
      x,
      [size, ...x.shape],
      x.shape.map((_, k) => k + 1),
    );
  return d === 0 ? x : moveaxis(x, d, 0);
}

/**
 * The gather reading back the windows a scatter writes (one slice per update), with the mode
 * that matches the scatter's out-of-bounds behaviour: a dropped window reads `fillValue`.
 */
function inverseGather(x: Array, indices: Array, operand: Aval, updates: Aval, p: ScatterParams, fillValue: number | null): Array {
  const mode: GatherScatterMode = p.mode === "clip" ? "clip" : "fill_or_drop";
  return bind1(P.gather, [x, indices], {
    dimension_numbers: P.scatterToGatherDims(p.dimension_numbers),
    slice_sizes: P.scatterWindowSizes(operand, updates, p.dimension_numbers),
    mode,
    fill_value: mode === "fill_or_drop" ? fillValue : null,
    indices_are_sorted: p.indices_are_sorted,
    unique_indices: p.unique_indices,
  });
}

const scatterAdd = (x: Array, idx: Array, u: Array, p: ScatterParams) => bind1(P.scatterAdd, [x, idx, u], p);
const asFloat = (b: Array, like: Array) => lax.convertElementType(b, like.dtype);

// ---- JVP ----------------------------------------------------------------------------------

/** `scatter` with repeated indices: which update wins is tracked by scattering update ids (JAX). */
function scatterJvpGeneral(x: Array, idx: Array, u: Array, tx: Array, tu: Array, p: ScatterParams): [Array, Array] {
  const dn = p.dimension_numbers;
  const idsShape = u.shape.map((d, i) => (dn.update_window_dims.includes(i) ? 1 : d));
  const n = idsShape.reduce((a, b) => a * b, 1);
  const ids = lax.broadcastInDim(
    lax.add(lax.reshape(lax.iota("uint32", [n]), idsShape), scalar(1, "uint32")),
    u.shape,
    u.shape.map((_, i) => i),
  );
  const scatteredIds = bind1(P.scatter, [fill(0, new Aval(x.shape, "uint32")), idx, ids], p);
  const gatheredIds = inverseGather(scatteredIds, idx, x.aval, u.aval, p, 0);
  const keepOperand = lax.eq(scatteredIds, scalar(0, "uint32"));
  const won = lax.eq(ids, gatheredIds);
  const mask = (pred: Array, v: Array) => lax.selectN(pred, fill(0, v.aval), v);
  // The primal stays a scatter (a scatter-add of masked values would turn a winning -0 into 0).
  const out = bind1(P.scatter, [x, idx, u], p);
  const tout = scatterAdd(mask(keepOperand, tx), idx, mask(won, tu), p);
  return [out, tout];
}

/**
 * Tangent of `scatter-mul` in its updates: `x[j] · Σ_k t_k · Π_{l≠k} u_l` over the updates `k`
 * at position `j`, with the products of the other updates computed without dividing by zero
 * (the count of zero updates decides which terms survive).
 */
function scatterMulUpdatesTangent(x: Array, idx: Array, u: Array, tu: Array, p: ScatterParams): Array {
  if (p.unique_indices) return lax.mul(x, scatterAdd(fill(0, x.aval), idx, tu, p));
  const nz = lax.ne(u, scalar(0, u.dtype));
  const prodNz = bind1(P.scatterMul, [fill(1, x.aval), idx, lax.selectN(nz, fill(1, u.aval), u)], p);
  const zeros = scatterAdd(fill(0, x.aval), idx, lax.selectN(nz, fill(1, u.aval), fill(0, u.aval)), p);
  const prodAt = inverseGather(prodNz, idx, x.aval, u.aval, p, 0);
  const zerosAt = inverseGather(zeros, idx, x.aval, u.aval, p, 0);
  const others = lax.selectN(
    nz,
    lax.selectN(lax.eq(zerosAt, scalar(1, u.dtype)), fill(0, u.aval), prodAt),
    lax.selectN(lax.eq(zerosAt, scalar(0, u.dtype)), fill(0, u.aval), lax.div(prodAt, u)),
  );
  return lax.mul(x, scatterAdd(fill(0, x.aval), idx, lax.mul(tu, others), p));
}

/** `scatter-min/max`: each position's tangent is the mean of the tangents of the values that attain it. */
function scatterExtremumJvp<N extends "scatter-min" | "scatter-max">(prim: Primitive<N>) {
  return ([x, idx, u]: Array[], [tx, , tu]: MaybeZero[], p: ParamsOf<N>): [Array[], MaybeZero[]] => {
    const ans = bind1(prim, [x!, idx!, u!], p);
    if (!tx && !tu) return [[ans], [null]];
    const hitU = lax.eq(u!, inverseGather(ans, idx!, x!.aval, u!.aval, p, null));
    const retained = lax.eq(x!, ans);
    const count = lax.add(scatterAdd(fill(0, x!.aval), idx!, asFloat(hitU, u!), p), asFloat(retained, x!));
    const txKept = lax.selectN(retained, fill(0, x!.aval), instantiate(tx ?? null, x!.aval));
    const tuKept = lax.selectN(hitU, fill(0, u!.aval), instantiate(tu ?? null, u!.aval));
    const t = lax.div(scatterAdd(txKept, idx!, tuKept, p), lax.max(count, scalar(1, x!.dtype)));
    return [[ans], [t]];
  };
}

/** JVP rules of the indexing primitives (see the module comment). */
export const indexingJvpRules: JvpRules<IndexingNames> = {
  gather: ([x, idx], [tx], p) => {
    const ans = bind1(P.gather, [x!, idx!], p);
    if (!tx) return [[ans], [null]];
    return [[ans], [bind1(P.gather, [tx, idx!], { ...p, fill_value: p.mode === "fill_or_drop" ? 0 : null })]];
  },
  "scatter-add": ([x, idx, u], [tx, , tu], p) => {
    const ans = scatterAdd(x!, idx!, u!, p);
    if (!tx && !tu) return [[ans], [null]];
    return [[ans], [scatterAdd(instantiate(tx ?? null, x!.aval), idx!, instantiate(tu ?? null, u!.aval), p)]];
  },
  "scatter-mul": ([x, idx, u], [tx, , tu], p) => {
    const ans = bind1(P.scatterMul, [x!, idx!, u!], p);
    let t: MaybeZero = tx ? bind1(P.scatterMul, [tx, idx!, u!], p) : null;
    if (tu) {
      const tUpd = scatterMulUpdatesTangent(x!, idx!, u!, tu, p);
      t = t ? lax.add(t, tUpd) : tUpd;
    }
    return [[ans], [t]];
  },
  "scatter-min": scatterExtremumJvp(P.scatterMin),
  "scatter-max": scatterExtremumJvp(P.scatterMax),
  scatter: ([x, idx, u], [tx, , tu], p) => {
    if (!tx && !tu) return [[bind1(P.scatter, [x!, idx!, u!], p)], [null]];
    const txi = instantiate(tx ?? null, x!.aval);
    const tui = instantiate(tu ?? null, u!.aval);
    if (p.unique_indices) return [[bind1(P.scatter, [x!, idx!, u!], p)], [bind1(P.scatter, [txi, idx!, tui], p)]];
    const [out, tout] = scatterJvpGeneral(x!, idx!, u!, txi, tui, p);
    return [[out], [tout]];
  },
  rev: ([x], [t], p) => [[bind1(P.rev, [x!], p)], [t ? bind1(P.rev, [t], p) : null]],
};

// ---- transpose ----------------------------------------------------------------------------

/** Transpose rules of the indexing primitives (`scatter-min/max` are never linear). */
export const indexingTransposeRules: TransposeRules<IndexingNames> = {
  gather: ([ct = null], [x, idx], p) => {
    if (ct === null || !isUndef(x)) return [null, null];
    // wax's gather clamps unless it fills, so its transpose clamps too.
    const zeros = zerosLikeAval(x.aval);
    return [
      bind1(P.scatterAdd, [zeros, idx as Array, ct], {
        dimension_numbers: P.gatherToScatterDims(p.dimension_numbers),
        mode: p.mode === "fill_or_drop" ? "fill_or_drop" : "clip",
        indices_are_sorted: p.indices_are_sorted,
        unique_indices: p.unique_indices,
      }),
      null,
    ];
  },
  "scatter-add": ([ct = null], [x, idx, u], p) => {
    if (ct === null) return [null, null, null];
    const ua = u!.aval;
    return [isUndef(x) ? ct : null, null, isUndef(u) ? inverseGather(ct, idx as Array, x!.aval, ua, p, 0) : null];
  },
  "scatter-mul": ([ct = null], args, p) => {
    const [x, idx, u] = args as [Array | UndefinedPrimal, Array | UndefinedPrimal, Array | UndefinedPrimal];
    if (isUndef(u))
      throw new TransformError(
        "scatter-mul: its updates appear linearly in a reverse-mode program — this is a wax bug (the JVP keeps them nonlinear)",
      );
    if (ct === null) return [null, null, null];
    return [isUndef(x) ? bind1(P.scatterMul, [ct, idx as Array, u as Array], p) : null, null, null];
  },
  scatter: ([ct = null], [x, idx, u], p) => {
    if (!p.unique_indices)
      throw new TransformError(
        "scatter: transposing a scatter with possibly repeated indices is not defined — this is a wax bug (its JVP uses scatter-add)",
      );
    if (ct === null) return [null, null, null];
    const ua = u!.aval;
    const tx = isUndef(x) ? bind1(P.scatter, [ct, idx as Array, fill(0, ua)], p) : null;
    const tu = isUndef(u) ? inverseGather(ct, idx as Array, x!.aval, ua, p, 0) : null;
    return [tx, null, tu];
  },
  "scatter-min": null,
  "scatter-max": null,
  rev: ([ct = null], _args, p) => [ct ? bind1(P.rev, [ct], p) : null],
};

// ---- batching -----------------------------------------------------------------------------

/** JAX's `_gather_batching_rule`: the result's batch dim is 0. */
function gatherBatch(size: number, x: Array, dx: number | null, idx: Array, di: number | null, p: GatherParams): Array {
  const dn = p.dimension_numbers;
  if (di === null) {
    return bind1(P.gather, [toFront(x, dx, size), idx], {
      ...p,
      dimension_numbers: {
        offset_dims: [0, ...shift(dn.offset_dims)],
        collapsed_slice_dims: shift(dn.collapsed_slice_dims),
        start_index_map: shift(dn.start_index_map),
        operand_batching_dims: shift(dn.operand_batching_dims),
        start_indices_batching_dims: dn.start_indices_batching_dims,
      },
      slice_sizes: [size, ...p.slice_sizes],
    });
  }
  if (dx === null) {
    return bind1(P.gather, [x, toFront(idx, di, size)], {
      ...p,
      dimension_numbers: { ...dn, offset_dims: shift(dn.offset_dims), start_indices_batching_dims: shift(dn.start_indices_batching_dims) },
    });
  }
  return bind1(P.gather, [toFront(x, dx, size), toFront(idx, di, size)], {
    ...p,
    dimension_numbers: {
      offset_dims: shift(dn.offset_dims),
      collapsed_slice_dims: shift(dn.collapsed_slice_dims),
      start_index_map: shift(dn.start_index_map),
      operand_batching_dims: [0, ...shift(dn.operand_batching_dims)],
      start_indices_batching_dims: [0, ...shift(dn.start_indices_batching_dims)],
    },
    slice_sizes: [1, ...p.slice_sizes],
  });
}

/** JAX's `_scatter_batching_rule`: operand and updates get the batch dim in front. */
function scatterBatch<N extends ScatterName>(prim: Primitive<N>, size: number, vals: Array[], dims: BatchDims, p: ScatterParams): Array {
  const [x, idx, u] = vals as [Array, Array, Array];
  const [dx, di, du] = dims as [number | null, number | null, number | null];
  const dn = p.dimension_numbers;
  const operand = toFront(x, dx, size);
  const updates = toFront(u, du, size);
  const bind = (indices: Array, dimension_numbers: ScatterParams["dimension_numbers"]) =>
    bind1(prim as Primitive<"scatter">, [operand, indices, updates], { ...p, dimension_numbers });
  if (di === null) {
    return bind(idx, {
      update_window_dims: [0, ...shift(dn.update_window_dims)],
      inserted_window_dims: shift(dn.inserted_window_dims),
      scatter_dims_to_operand_dims: shift(dn.scatter_dims_to_operand_dims),
      operand_batching_dims: shift(dn.operand_batching_dims),
      scatter_indices_batching_dims: dn.scatter_indices_batching_dims,
    });
  }
  return bind(toFront(idx, di, size), {
    update_window_dims: shift(dn.update_window_dims),
    inserted_window_dims: shift(dn.inserted_window_dims),
    scatter_dims_to_operand_dims: shift(dn.scatter_dims_to_operand_dims),
    operand_batching_dims: [0, ...shift(dn.operand_batching_dims)],
    scatter_indices_batching_dims: [0, ...shift(dn.scatter_indices_batching_dims)],
  });
}

function scatterRule<N extends ScatterName>(prim: Primitive<N>): BatchRule<N> {
  return (axis, vals, dims, p) => [[scatterBatch(prim, axis.size, vals, dims, p)], [0]];
}

/** Batching rules of the indexing primitives: the result's batch dim is 0 (`rev` keeps its own). */
export const indexingBatchRules: BatchRules<IndexingNames> = {
  gather: (axis, [x, idx], [dx, di], p) => [[gatherBatch(axis.size, x!, dx!, idx!, di!, p)], [0]],
  scatter: scatterRule(P.scatter),
  "scatter-add": scatterRule(P.scatterAdd),
  "scatter-mul": scatterRule(P.scatterMul),
  "scatter-min": scatterRule(P.scatterMin),
  "scatter-max": scatterRule(P.scatterMax),
  rev: (_axis, [x], [d], p) => [[bind1(P.rev, [x!], { dimensions: p.dimensions.map((k) => (k >= d! ? k + 1 : k)) })], [d!]],
};

/**
 * The start indices of a `dynamic_slice`/`dynamic_update_slice` with some batched ones as one
 * `[size, rank]` index array (JAX's `_batch_dynamic_slice_indices`).
 */
function stackStarts(size: number, idx: Array[], dims: BatchDims): Array {
  const dtype = idx.every((i) => i.dtype === "uint32") ? "uint32" : "int32";
  const cols = idx.map((i, k) => {
    const c = i.dtype === dtype ? i : lax.convertElementType(i, dtype);
    return lax.broadcastInDim(c, [size, 1], dims[k] === null ? [] : [0]);
  });
  return cols.length === 1 ? cols[0]! : lax.concatenate(cols, 1);
}

const range = (n: number) => globalThis.Array.from({ length: n }, (_, i) => i);

/** Whether a start index is the constant 0 (a start a gather need not be given). */
const isZero = (i: Array, d: number | null) => d === null && i.concreteValue()?.data[0] === 0;

/**
 * Batching of `dynamic_slice` with batched start indices: one gather (JAX's rule), without
 * the starts that are constant zeros (a row lookup `x[i]` indexes one dim).
 */
export const dynamicSliceViaGather: BatchRule<"dynamic_slice"> = (axis, [x, ...idx], [dx, ...didx], p) => {
  const dims = range(p.slice_sizes.length);
  const used = dims.filter((d) => !isZero(idx[d]!, didx[d]!));
  const out = gatherBatch(
    axis.size,
    x!,
    dx!,
    stackStarts(
      axis.size,
      used.map((d) => idx[d]!),
      used.map((d) => didx[d]!),
    ),
    0,
    {
      dimension_numbers: {
        offset_dims: dims,
        collapsed_slice_dims: [],
        start_index_map: used,
        operand_batching_dims: [],
        start_indices_batching_dims: [],
      },
      slice_sizes: p.slice_sizes,
      mode: "clip",
      fill_value: null,
      // Each instance reads its own slice only when the operand is batched too.
      indices_are_sorted: dx !== null,
      unique_indices: dx !== null,
    },
  );
  return [[out], [0]];
};

/** Batching of `dynamic_update_slice` with batched start indices: one scatter (JAX's rule). */
export const dynamicUpdateSliceViaScatter: BatchRule<"dynamic_update_slice"> = (axis, [x, u, ...idx], [dx, du, ...didx]) => {
  const r = x!.ndim - (dx === null ? 0 : 1);
  const dims = range(r);
  const out = scatterBatch(P.scatter, axis.size, [x!, stackStarts(axis.size, idx, didx), u!], [dx!, 0, du!], {
    dimension_numbers: {
      update_window_dims: dims,
      inserted_window_dims: [],
      scatter_dims_to_operand_dims: dims,
      operand_batching_dims: [],
      scatter_indices_batching_dims: [],
    },
    mode: "clip",
    indices_are_sorted: true,
    unique_indices: true,
  });
  return [[out], [0]];
};
