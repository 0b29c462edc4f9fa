/**
 * Transform rules of `sort` and `top_k`.
 *
 * JVP of `sort`: the tangents follow the primal permutation. JAX sorts an extra iota and
 * gathers the tangents with it; wax sorts the tangents by the same keys instead
 * (`sort(keys..., tangents...)`): the sort is stable and deterministic, so the permutation
 * is the primal's, and the tangent program stays a `sort`, which is linear in its non-key
 * operands. Its transpose undoes the permutation: with `perm` the keys' argsort, sorting the
 * cotangents by `perm` sends position `i` back to `perm[i]`.
 *
 * JVP of `top_k`: the tangent at the selected indices, picked with a one-hot mask over the
 * last axis (linear in the tangent: a select and a sum, both transposable).
 */
import { scalar, type Array } from "../array";
import { ShapeError, TransformError } from "../errors";
import * as lax from "../lax";
import * as P from "../primitives/all";
import { bind } from "../trace";
import { moveBatch } from "./batch-rules";
import { UndefinedPrimal, type BatchRules, type JvpRules, type MaybeZero, type TransposeRules } from "./rules";

type SortNames = "sort" | "top_k";

const range = (n: number) => globalThis.Array.from({ length: n }, (_, i) => i);

export const sortJvpRules: JvpRules<SortNames> = {
  sort: (primals, tangents, params) => {
    const outs = bind(P.sort, primals, params);
    const carried = range(tangents.length).filter((i) => tangents[i] !== null);
    if (carried.length === 0) return [outs, outs.map(() => null)];
    const keys = primals.slice(0, params.num_keys);
    const permuted = bind(P.sort, [...keys, ...carried.map((i) => tangents[i]!)], params).slice(keys.length);
    const touts: MaybeZero[] = outs.map(() => null);
    carried.forEach((i, j) => (touts[i] = permuted[j]!));
    return [outs, touts];
  },
  top_k: ([x], [t], params) => {
    const [values, indices] = bind(P.topK, [x!], params);
    if (t === null || t === undefined) return [[values!, indices!], [null, null]];
    const lead = x!.ndim - 1;
    const full = [...x!.shape.slice(0, lead), params.k, x!.shape[lead]!];
    const keep = range(lead);
    const hit = lax.eq(lax.broadcastInDim(indices!, full, [...keep, lead]), lax.iota("int32", full, lead + 1));
    const zeros = lax.broadcastInDim(scalar(0, t.dtype, t.weakType), full, []);
    const picked = lax.selectN(hit, zeros, lax.broadcastInDim(t, full, [...keep, lead + 1]));
    return [
      [values!, indices!],
      [lax.reduceSum(picked, [lead + 1]), null],
    ];
  },
};

export const sortTransposeRules: TransposeRules<SortNames> = {
  sort: (cts, args, params) => {
    const nk = params.num_keys;
    const keys = args.slice(0, nk);
    if (keys.some((k) => k instanceof UndefinedPrimal)) {
      throw new TransformError("sort: a key operand is linear in the tangent program — sort is only linear in its non-key operands; mark the keys with stopGradient");
    }
    const linear = range(args.length).filter((i) => i >= nk && args[i] instanceof UndefinedPrimal && cts[i] !== null && cts[i] !== undefined);
    const res: MaybeZero[] = args.map(() => null);
    if (linear.length === 0) return res;
    const shape = (keys[0] as Array).shape;
    const iota = lax.iota("int32", shape, params.dimension);
    const perm = bind(P.sort, [...(keys as Array[]), iota], params)[nk]!;
    const back = bind(P.sort, [perm, ...linear.map((i) => cts[i]!)], { dimension: params.dimension, is_stable: true, num_keys: 1 });
    linear.forEach((i, j) => (res[i] = back[j + 1]!));
    return res;
  },
  top_k: null,
};

export const sortBatchRules: BatchRules<SortNames> = {
  sort: (axis, vals, dims, params) => {
    const args = vals.map((v, i) => moveBatch(v, dims[i] ?? null, 0, axis.size));
    const outs = bind(P.sort, args, { ...params, dimension: params.dimension + 1 });
    return [outs, outs.map(() => 0)];
  },
  top_k: (axis, [x], [d], params) => {
    if (x!.ndim === 1) {
      throw new ShapeError("top_k: the operand of each vmapped example is a scalar — top_k works along the last axis of an array of rank ≥ 1");
    }
    const outs = bind(P.topK, [moveBatch(x!, d ?? null, 0, axis.size)], params);
    return [outs, [0, 0]];
  },
};
