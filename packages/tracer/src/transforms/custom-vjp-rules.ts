/**
 * Transform rules of `custom_vjp_call` and its linear companion `custom_lin`. Linearizing a
 * call runs `fwd` (in the parent trace) and stages `custom_lin(residuals, tangents)`, whose
 * transpose runs `bwd`; batching makes a new custom call whose function, `fwd` and `bwd` are
 * the vmapped originals. Imported only by the rule tables, so it may depend on the transforms.
 */
import type { Array } from "../array";
import { Aval } from "../aval";
import { callVjpEntry, customLin, linResidualTrees, registerVjp, residualTreeId, vjpEntries } from "../custom-vjp";
import { TransformError } from "../errors";
import * as lax from "../lax";
import { bind } from "../trace";
import type { BatchRules, JvpRules, MaybeZero, TransposeRules } from "./rules";
import { UndefinedPrimal } from "./rules";
import { vmap } from "./vmap";
import { instantiate, zerosLikeAval } from "./zeros";

export const customVjpJvpRules: JvpRules<"custom_vjp_call" | "custom_lin"> = {
  custom_vjp_call: (primals, tangents, params) => {
    const e = vjpEntries[params.vjp_id]!;
    const [outs, res, resTree] = e.fwd(primals);
    const ts = tangents.map((t, i) => instantiate(t, primals[i]!.aval.withWeak(false)));
    const touts = bind(customLin, [...res, ...ts], {
      name: e.name,
      bwd: `${e.name}_bwd`,
      vjp_id: params.vjp_id,
      res_tree_id: residualTreeId(params.vjp_id, resTree),
      num_res: res.length,
      out_avals: outs.map((o) => ({ shape: o.shape, dtype: o.dtype })),
    });
    return [outs, touts];
  },
  // Linear in the tangents (the residuals carry no tangent inside a linearized program).
  custom_lin: (primals, tangents, params) => {
    if (tangents.slice(0, params.num_res).some((t) => t !== null)) {
      throw new TransformError(
        `${params.name}: forward-mode differentiation of a custom_vjp rule's residuals is not supported — differentiate the function, not its linearization`,
      );
    }
    const outs = bind(customLin, primals, params);
    const ts = tangents.slice(params.num_res);
    if (ts.every((t) => t === null)) return [outs, outs.map(() => null)];
    const touts = bind(
      customLin,
      [...primals.slice(0, params.num_res), ...ts.map((t, i) => instantiate(t, primals[params.num_res + i]!.aval))],
      params,
    );
    return [outs, touts];
  },
};

export const customVjpTransposeRules: TransposeRules<"custom_vjp_call" | "custom_lin"> = {
  custom_vjp_call: null,
  custom_lin: (cts, args, params) => {
    const e = vjpEntries[params.vjp_id]!;
    const res = args.slice(0, params.num_res);
    if (res.some((r) => r instanceof UndefinedPrimal))
      throw new TransformError(`${params.name}: a custom_vjp rule's residuals cannot be linear inputs`);
    const g = cts.map((c, i) => c ?? zerosLikeAval(new Aval(params.out_avals[i]!.shape, params.out_avals[i]!.dtype)));
    const ctsIn = e.bwd(res as Array[], linResidualTrees[params.res_tree_id]!, g);
    const tangentArgs = args.slice(params.num_res);
    return [...res.map((): MaybeZero => null), ...tangentArgs.map((a, i) => (ctsIn[i] ? fit(ctsIn[i]!, a) : null))];
  },
};

/** A cotangent from `bwd` must have its argument's shape and dtype. */
function fit(ct: Array, arg: Array | UndefinedPrimal): Array {
  const aval = arg.aval;
  if (ct.shape.length !== aval.shape.length || ct.shape.some((d, i) => d !== aval.shape[i])) {
    throw new TransformError(
      `custom_vjp: bwd returned a cotangent of shape [${ct.shape.join(",")}] for an argument of shape [${aval.shape.join(",")}] — return one cotangent per argument, shaped like it`,
    );
  }
  return ct.dtype === aval.dtype ? ct : lax.convertElementType(ct, aval.dtype);
}

/** Batched variants per entry id and (batch dims, axis size), so vmap does not grow the registry per trace. */
const batchedIds = new Map<number, Map<string, number>>();

export const customVjpBatchRules: BatchRules<"custom_vjp_call" | "custom_lin"> = {
  custom_vjp_call: (axis, vals, dims, params) => {
    const key = `${dims.map((d) => (d === null ? "n" : d)).join(",")}/${axis.size}`;
    let variants = batchedIds.get(params.vjp_id);
    if (!variants) batchedIds.set(params.vjp_id, (variants = new Map<string, number>()));
    let id = variants.get(key);
    if (id === undefined) {
      const e = vjpEntries[params.vjp_id]!;
      const size = axis.size;
      const inAxes = [...dims];
      // Every output and residual of the batched function carries the batch on axis 0.
      const fwdB = (xs: Array[]) => {
        let resTree = null as unknown as ReturnType<typeof e.fwd>[2];
        const [outs, res] = vmap(
          (...ys: Array[]) => {
            const [o, r, t] = e.fwd(ys);
            resTree = t;
            return [o, r];
          },
          { inAxes, axisSize: size },
        )(...xs) as [Array[], Array[]];
        return [outs, res, resTree] as ReturnType<typeof e.fwd>;
      };
      const bwdB = (res: Array[], resTree: ReturnType<typeof e.fwd>[2], cts: Array[]) => {
        const nullMask: boolean[] = [];
        const got = vmap(
          (r: Array[], c: Array[]) => {
            const out = e.bwd(r, resTree, c);
            out.forEach((v, i) => (nullMask[i] = v === null));
            return out.map((v, i) => v ?? zerosLikeAval(e.inAvals[i]!.withWeak(false)));
          },
          { inAxes: [0, 0], axisSize: size },
        )(res, cts) as Array[];
        // Back to each input's batch dim; an unbatched input gets the sum over the batch.
        return got.map((g, i) => {
          if (nullMask[i]) return null as unknown as Array;
          const d = dims[i];
          if (d === null || d === undefined) return lax.reduceSum(g, [0]);
          if (d === 0) return g;
          const perm = g.shape.map((_, k) => k).slice(1);
          perm.splice(d, 0, 0);
          return lax.transpose(g, perm);
        });
      };
      const fnB = (xs: Array[]) => vmap((...ys: Array[]) => e.fn(ys), { inAxes, axisSize: size })(...xs) as Array[];
      const inAvals = vals.map((v) => v.aval);
      id = registerVjp({ name: e.name, inAvals, fn: fnB, fwd: fwdB, bwd: bwdB });
      variants.set(key, id);
    }
    const outs = callVjpEntry(id, vals);
    return [outs, outs.map(() => 0)];
  },
  custom_lin: (_axis, _vals, _dims, params) => {
    throw new TransformError(
      `${params.name}: vmap of a linearized custom_vjp function is not supported — vmap the function before differentiating it (vmap(grad(f)) or grad(vmap(f)))`,
    );
  },
};
