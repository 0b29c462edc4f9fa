/**
 * Inlining: replaces `custom_jvp_call` and `custom_vjp_call` equations by their bodies, inside loop and branch
 * bodies too. Once differentiation is done the custom rule is no longer needed, and the
 * kernels see ordinary primitives.
 */
import type { Array, ClosedJaxpr, Eqn, Var } from "@wax/tracer";
import { isEqn, mapSubJaxprs, rebuild, splice, Subst } from "./rewrite";

/** `closed` with every `custom_jvp_call` / `custom_vjp_call` replaced by its body. */
export function inline(closed: ClosedJaxpr): ClosedJaxpr {
  const subst = new Subst();
  const eqns: Eqn[] = [];
  const consts: [Var, Array][] = [];
  for (const e0 of closed.jaxpr.eqns) {
    const e = mapSubJaxprs(subst.eqn(e0), inline);
    if (!isEqn(e, "custom_jvp_call") && !isEqn(e, "custom_vjp_call")) {
      eqns.push(e);
      continue;
    }
    const outs = splice(e.params.call_jaxpr, e.inputs, eqns, consts);
    e.outputs.forEach((v, i) => subst.set(v, outs[i]!));
  }
  return rebuild(
    closed,
    eqns,
    closed.jaxpr.outvars.map((a) => subst.get(a)),
    consts,
  );
}
