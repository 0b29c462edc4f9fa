/**
 * Transform rules of `sort` and `top_k`, as JAX's: the tangents follow the primal
 * permutation through a gather (`sort` gets it by sorting an extra iota, `top_k` returns it),
 * so neither primitive is ever linear in a tangent program (no transpose rules); batching
 * moves the batch dimension to the front.
 */
import { ShapeError } from "../errors";
import * as lax from "../lax";
import { takeAlongAxis } from "../numpy/take";
import * as P from "../primitives/all";
import { bind } from "../trace";
import { moveBatch } from "./batch-rules";
import type { BatchRules, JvpRules, TransposeRules } from "./rules";

type SortNames = "sort" | "top_k";

/** JVP rules of `sort` and `top_k`. */
export const sortJvpRules: JvpRules<SortNames> = {
  sort: (primals, tangents, params) => {
    if (tangents.every((t) => t === null)) {
      const outs = bind(P.sort, primals, params);
      return [outs, outs.map(() => null)];
    }
    // JAX's rule: sort an iota along with the operands to get the permutation, then gather
    // every tangent with it (linear in the tangent; its transpose is a scatter-add).
    const iota = lax.iota("int32", primals[0]!.shape, params.dimension);
    const outs = bind(P.sort, [...primals, iota], params);
    const perm = outs.pop()!;
    return [outs, tangents.map((t) => (t === null ? null : takeAlongAxis(t, perm, params.dimension, { mode: "promise_in_bounds" })))];
  },
  top_k: ([x], [t], params) => {
    const [values, indices] = bind(P.topK, [x!], params);
    if (t === null || t === undefined)
      return [
        [values!, indices!],
        [null, null],
      ];
    return [
      [values!, indices!],
      [takeAlongAxis(t, indices!, -1, { mode: "promise_in_bounds" }), null],
    ];
  },
};

/** `sort` and `top_k` never appear linearly in a tangent program. */
export const sortTransposeRules: TransposeRules<SortNames> = {
  sort: null,
  top_k: null,
};

/** Batching rules of `sort` and `top_k` (batch dimension moved to the front). */
export const sortBatchRules: BatchRules<SortNames> = {
  sort: (axis, vals, dims, params) => {
    const args = vals.map((v, i) => moveBatch(v, dims[i] ?? null, 0, axis.size));
    const outs = bind(P.sort, args, { ...params, dimension: params.dimension + 1 });
    return [outs, outs.map(() => 0)];
  },
  top_k: (axis, [x], [d], params) => {
    if (x!.ndim === 1) {
      throw new ShapeError(
        "top_k: the operand of each vmapped example is a scalar — top_k works along the last axis of an array of rank ≥ 1",
      );
    }
    const outs = bind(P.topK, [moveBatch(x!, d ?? null, 0, axis.size)], params);
    return [outs, [0, 0]];
  },
};
