/**
 * Constant folding: equations whose inputs are all known (literals or concrete constants)
 * run now in the interpreter, inside loop and branch bodies too. Scalars become literals;
 * bigger results become constants, but only when that does not grow the constant data (a
 * broadcast of a scalar stays a cheap fill instead of becoming a large constant). Loops are
 * not run at compile time (their trip count is the program's business, as in JAX).
 */
import { ClosedJaxpr, ConcreteArray, Literal, Var, bind, evalTrace, scalar, withTrace, type Array, type Eqn } from "@wax/tracer";
import { mapSubJaxprs, rebuild, Subst } from "./rewrite";

/** Primitives never folded: loops run in the compiled program. */
const NOT_FOLDED = new Set(["while", "scan"]);

/** `closed` with its equations of known inputs evaluated. */
export function fold(closed: ClosedJaxpr): ClosedJaxpr {
  const j = closed.jaxpr;
  const known = new Map<Var, ConcreteArray>();
  j.constvars.forEach((v, i) => {
    const c = closed.consts[i]!.concreteValue();
    if (c) known.set(v, c);
  });
  const subst = new Subst();
  const eqns: Eqn[] = [];
  const extra: [Var, Array][] = [];
  for (const e0 of j.eqns) {
    const e = mapSubJaxprs(subst.eqn(e0), fold);
    const vals = e.inputs.map((a) => (a instanceof Literal ? scalar(a.value, a.aval.dtype, a.aval.weakType) : known.get(a)));
    const inSize = vals.reduce((n, v) => n + (v && v.ndim > 0 ? v.size : 0), 0);
    const outSize = e.outputs.reduce((n, v) => n + v.aval.size, 0);
    if (!NOT_FOLDED.has(e.prim.name) && vals.every((v) => v !== undefined) && outSize <= Math.max(1, inSize)) {
      const outs = withTrace(evalTrace, () => bind(e.prim, vals as ConcreteArray[], e.params));
      e.outputs.forEach((v, i) => {
        const c = outs[i]!.concreteValue()!;
        if (c.ndim === 0) subst.set(v, new Literal(c.data[0]!, v.aval));
        else {
          known.set(v, c);
          extra.push([v, c]);
        }
      });
      continue;
    }
    eqns.push(e);
  }
  return rebuild(
    closed,
    eqns,
    j.outvars.map((a) => subst.get(a)),
    extra,
  );
}
