/** The pass pipeline: inline once, then simplify, CSE, fold and DCE to a fixpoint. */
import type { ClosedJaxpr } from "@wax/tracer";
import { cse } from "./cse";
import { dce } from "./dce";
import { fold } from "./fold";
import { inline } from "./inline";
import { simplify } from "./simplify";

export interface PassStats {
  /** Equation count before and after each pass, in order. */
  steps: { pass: string; eqns: number }[];
}

export function optimize(closed: ClosedJaxpr, stats?: PassStats): ClosedJaxpr {
  const record = (pass: string, j: ClosedJaxpr) => stats?.steps.push({ pass, eqns: j.jaxpr.eqns.length });
  let j = inline(closed);
  record("inline", j);
  for (let round = 0; round < 8; round++) {
    const before = j.jaxpr.eqns.length;
    const beforeConsts = j.consts.length;
    j = simplify(j);
    record("simplify", j);
    j = cse(j);
    record("cse", j);
    j = fold(j);
    record("fold", j);
    j = dce(j);
    record("dce", j);
    if (j.jaxpr.eqns.length === before && j.consts.length === beforeConsts) break;
  }
  return j;
}
