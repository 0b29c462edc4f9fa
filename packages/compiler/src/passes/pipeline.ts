/**
 * The pass pipeline: inline once, then simplify, CSE, fold and DCE to a fixpoint (every pass
 * also works inside loop and branch bodies).
 */
import type { ClosedJaxpr } from "@wax/tracer";
import { cse } from "./cse";
import { dce } from "./dce";
import { fold } from "./fold";
import { inline } from "./inline";
import { simplify } from "./simplify";
import { subJaxprs } from "./rewrite";

/** Equations of `closed`, those of its sub-jaxprs included. */
function size(closed: ClosedJaxpr): number {
  return closed.jaxpr.eqns.reduce((n, e) => n + 1 + subJaxprs(e).reduce((m, j) => m + size(j), 0), 0);
}

/** What the pipeline did, pass by pass. */
export interface PassStats {
  /** Equation count before and after each pass, in order. */
  steps: { pass: string; eqns: number }[];
}

/** `closed` optimized by the passes; `stats` (if given) records the equation count after each. */
export function optimize(closed: ClosedJaxpr, stats?: PassStats): ClosedJaxpr {
  const record = (pass: string, j: ClosedJaxpr) => stats?.steps.push({ pass, eqns: j.jaxpr.eqns.length });
  let j = inline(closed);
  record("inline", j);
  for (let round = 0; round < 8; round++) {
    const before = size(j);
    const beforeConsts = j.consts.length;
    j = simplify(j);
    record("simplify", j);
    j = cse(j);
    record("cse", j);
    j = fold(j);
    record("fold", j);
    j = dce(j);
    record("dce", j);
    if (size(j) === before && j.consts.length === beforeConsts) break;
  }
  return j;
}
