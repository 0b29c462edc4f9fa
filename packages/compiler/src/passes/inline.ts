/**
 * Inlining: replaces `custom_jvp_call` equations by their bodies. Once differentiation is
 * done the custom rule is no longer needed, and the kernels see ordinary primitives.
 */
import { ClosedJaxpr, Var, type Array, type Eqn } from "@wax/tracer";
import { rebuild, Subst } from "./rewrite";

const CALL_PRIMITIVES = new Set(["custom_jvp_call"]);

export function inline(closed: ClosedJaxpr): ClosedJaxpr {
  const subst = new Subst();
  const eqns: Eqn[] = [];
  const extraConsts: [Var, Array][] = [];
  const visit = (e: Eqn): void => {
    const inputs = e.inputs.map((a) => subst.get(a));
    if (!CALL_PRIMITIVES.has(e.prim.name)) {
      eqns.push({ ...e, inputs });
      return;
    }
    const body = e.params["call_jaxpr"] as ClosedJaxpr;
    const j = body.jaxpr;
    // Fresh variables for the body so a body inlined twice stays in SSA form.
    const local = new Map<Var, Var>();
    const fresh = (v: Var): Var => {
      let n = local.get(v);
      if (!n) {
        n = new Var(v.aval);
        local.set(v, n);
      }
      return n;
    };
    j.constvars.forEach((v, i) => extraConsts.push([fresh(v), body.consts[i]!]));
    j.invars.forEach((v, i) => subst.set(fresh(v), inputs[i]!));
    for (const be of j.eqns) {
      const ins = be.inputs.map((a) => (a instanceof Var ? subst.get(fresh(a)) : a));
      visit({ ...be, inputs: ins, outputs: be.outputs.map(fresh) });
    }
    e.outputs.forEach((v, i) => {
      const o = j.outvars[i]!;
      subst.set(v, o instanceof Var ? subst.get(fresh(o)) : o);
    });
  };
  for (const e of closed.jaxpr.eqns) visit(e);
  return rebuild(closed, eqns, closed.jaxpr.outvars.map((a) => subst.get(a)), extraConsts);
}
