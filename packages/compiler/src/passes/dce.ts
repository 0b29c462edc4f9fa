/** Dead-code elimination: drops equations whose outputs nothing uses (all primitives are pure). */
import { ClosedJaxpr, Var, type Eqn } from "@wax/tracer";
import { rebuild } from "./rewrite";

export function dce(closed: ClosedJaxpr): ClosedJaxpr {
  const j = closed.jaxpr;
  const live = new Set<Var>();
  for (const a of j.outvars) if (a instanceof Var) live.add(a);
  const kept: Eqn[] = [];
  for (let k = j.eqns.length - 1; k >= 0; k--) {
    const e = j.eqns[k]!;
    if (!e.outputs.some((v) => live.has(v))) continue;
    kept.push(e);
    for (const a of e.inputs) if (a instanceof Var) live.add(a);
  }
  kept.reverse();
  return rebuild(closed, kept, j.outvars);
}
