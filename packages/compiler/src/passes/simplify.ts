/**
 * Algebraic simplification, IEEE-safe only: `x*1`, `x/1`, `x-0`, `neg(neg x)`, identity
 * reshapes/broadcasts/transposes/converts, `reshape∘reshape`, `transpose∘transpose`,
 * `select_n` with a literal predicate, `cond` with a literal index (the branch is inlined),
 * `stop_gradient` (AD is done); inside loop and branch bodies too. Never `x*0 → 0`
 * (NaN, inf) nor `x+0 → x` (-0).
 */
import { ClosedJaxpr, Literal, Var, type Array, type Atom, type Eqn } from "@wax/tracer";
import { isEqn, mapSubJaxprs, rebuild, splice, Subst } from "./rewrite";

const isLit = (a: Atom, v: number): boolean => a instanceof Literal && a.value === v && !Object.is(a.value, -0);
const sameShape = (a: Atom, v: Var): boolean =>
  a.aval.dtype === v.aval.dtype && a.aval.shape.length === v.aval.shape.length && a.aval.shape.every((d, i) => d === v.aval.shape[i]);
const isIdentityPerm = (perm: readonly number[]) => perm.every((v, i) => v === i);

/** `closed` with the simplifications above applied (once; the pipeline iterates). */
export function simplify(closed: ClosedJaxpr): ClosedJaxpr {
  const subst = new Subst();
  const producer = new Map<Var, Eqn>();
  const eqns: Eqn[] = [];
  const consts: [Var, Array][] = [];
  for (const e0 of closed.jaxpr.eqns) {
    let e = mapSubJaxprs(subst.eqn(e0), simplify);
    const out = e.outputs[0];
    const [x, y] = e.inputs;
    const forward = (a: Atom): boolean => {
      if (!out || !sameShape(a, out)) return false;
      subst.set(out, a);
      return true;
    };
    const producedBy = (a: Atom | undefined): Eqn | undefined => (a instanceof Var ? producer.get(a) : undefined);
    let done = false;
    if (isEqn(e, "mul")) done = (isLit(y!, 1) && forward(x!)) || (isLit(x!, 1) && forward(y!));
    else if (isEqn(e, "div")) done = isLit(y!, 1) && forward(x!);
    else if (isEqn(e, "sub")) done = isLit(y!, 0) && forward(x!);
    else if (isEqn(e, "neg")) {
      const pe = producedBy(x);
      done = pe !== undefined && isEqn(pe, "neg") && forward(pe.inputs[0]!);
    } else if (isEqn(e, "stop_gradient") || isEqn(e, "convert_element_type")) done = forward(x!);
    else if (isEqn(e, "broadcast_in_dim")) done = isIdentityPerm(e.params.broadcast_dimensions) && forward(x!);
    else if (isEqn(e, "reshape")) {
      done = forward(x!);
      const pe = producedBy(x);
      if (!done && pe && isEqn(pe, "reshape")) e = { ...e, inputs: [pe.inputs[0]!] };
    } else if (isEqn(e, "transpose")) {
      const perm = e.params.permutation;
      const pe = producedBy(x);
      if (isIdentityPerm(perm)) done = forward(x!);
      else if (pe && isEqn(pe, "transpose")) {
        const inner = pe.params.permutation;
        const composed = perm.map((q) => inner[q]!);
        if (isIdentityPerm(composed)) done = forward(pe.inputs[0]!);
        else e = { ...e, inputs: [pe.inputs[0]!], params: { permutation: composed } };
      }
    } else if (isEqn(e, "squeeze")) done = e.params.dimensions.length === 0 && forward(x!);
    else if (isEqn(e, "reduce_sum") || isEqn(e, "reduce_max") || isEqn(e, "reduce_min") || isEqn(e, "reduce_prod"))
      done = e.params.axes.length === 0 && forward(x!);
    else if (isEqn(e, "select_n")) {
      if (x instanceof Literal) {
        const cases = e.inputs.slice(1);
        done = forward(cases[Math.min(Math.max(x.value, 0), cases.length - 1)]!);
      }
    } else if (isEqn(e, "cond") && x instanceof Literal) {
      // A known branch index: the branch's equations replace the cond.
      const branches = e.params.branches;
      const outs = splice(branches[Math.min(Math.max(x.value, 0), branches.length - 1)]!, e.inputs.slice(1), eqns, consts);
      e.outputs.forEach((v, i) => subst.set(v, outs[i]!));
      continue;
    }
    if (done) continue;
    for (const v of e.outputs) producer.set(v, e);
    eqns.push(e);
  }
  return rebuild(
    closed,
    eqns,
    closed.jaxpr.outvars.map((a) => subst.get(a)),
    consts,
  );
}
