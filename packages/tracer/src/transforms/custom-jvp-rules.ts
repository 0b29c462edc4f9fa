/**
 * Transform rules of `custom_jvp_call`: forward mode runs the user's rule; batching makes a
 * new custom call whose function and rule are the vmapped originals. Imported only by the
 * rule tables, so it may depend on the transforms.
 */
import type { Array } from "../array";
import { callEntry, entries, register, type CustomJvpRule } from "../custom-jvp";
import type { BatchRules, JvpRules, TransposeRules } from "./rules";
import { vmap } from "./vmap";
import { instantiate } from "./zeros";

export const customJvpJvpRules: JvpRules<"custom_jvp_call"> = {
  custom_jvp_call: (primals, tangents, params) => {
    const e = entries[params.jvp_id]!;
    const ts = tangents.map((t, i) => instantiate(t, primals[i]!.aval));
    const [outs, touts] = e.jvp(primals, ts);
    return [outs, touts];
  },
};

/** A custom JVP call is never linear: its tangent program is made of the rule's own ops. */
export const customJvpTransposeRules: TransposeRules<"custom_jvp_call"> = { custom_jvp_call: null };

/**
 * Batched variants already registered, per entry id and (batch dims, axis size): every `vmap`
 * of `relu` reuses one entry instead of adding one per trace, so the registry stays bounded
 * by the distinct ways a function is batched.
 */
const batchedIds = new Map<number, Map<string, number>>();

// Batching: a custom call whose function and rule are the vmapped originals.
export const customJvpBatchRules: BatchRules<"custom_jvp_call"> = {
  custom_jvp_call: (axis, vals, dims, params) => {
    const key = `${dims.map((d) => (d === null ? "n" : d)).join(",")}/${axis.size}`;
    let variants = batchedIds.get(params.jvp_id);
    if (!variants) batchedIds.set(params.jvp_id, (variants = new Map<string, number>()));
    let id = variants.get(key);
    if (id === undefined) {
      const e = entries[params.jvp_id]!;
      const inAxes = dims.map((d) => d);
      const size = axis.size;
      const fnB = (...xs: Array[]) => vmap(e.fn, { inAxes, axisSize: size })(...xs) as Array[];
      const jvpB: CustomJvpRule = (ps, ts) =>
        vmap((p: Array[], t: Array[]) => e.jvp(p, t), { inAxes: [inAxes, inAxes], axisSize: size })(ps, ts) as [Array[], Array[]];
      id = register(e.name, fnB, jvpB);
      variants.set(key, id);
    }
    const outs = callEntry(id, vals);
    return [outs, outs.map(() => 0)];
  },
};
