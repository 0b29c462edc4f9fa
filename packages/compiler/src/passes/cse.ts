/** Common-subexpression elimination: one equation per (primitive, params, inputs), inside sub-jaxprs too. */
import type { ClosedJaxpr, Eqn } from "@wax/tracer";
import { atomKey, mapSubJaxprs, paramsKey, rebuild, Subst } from "./rewrite";

/** `closed` with repeated equations computed once. */
export function cse(closed: ClosedJaxpr): ClosedJaxpr {
  const subst = new Subst();
  const seen = new Map<string, Eqn>();
  const eqns: Eqn[] = [];
  for (const e0 of closed.jaxpr.eqns) {
    const e = mapSubJaxprs(subst.eqn(e0), cse);
    const key = `${e.prim.name}|${paramsKey(e.params)}|${e.inputs.map(atomKey).join(",")}`;
    const prev = seen.get(key);
    if (prev) {
      e.outputs.forEach((v, i) => subst.set(v, prev.outputs[i]!));
      continue;
    }
    seen.set(key, e);
    eqns.push(e);
  }
  return rebuild(
    closed,
    eqns,
    closed.jaxpr.outvars.map((a) => subst.get(a)),
  );
}
