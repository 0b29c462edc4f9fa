/** The Jaxpr interpreter: binds each equation's primitive in the current trace. */
import { scalar, type Array } from "./array";
import { ArgumentError } from "./errors";
import { ClosedJaxpr, Literal, type Atom, type Jaxpr, type Var } from "./jaxpr";
import { bind } from "./trace";

/**
 * Evaluates a jaxpr on arguments. Under a transform this re-traces the program through it,
 * which is how transforms of staged code work.
 */
export function evalJaxpr(jaxpr: Jaxpr | ClosedJaxpr, args: readonly Array[], consts?: readonly Array[]): Array[] {
  const j = jaxpr instanceof ClosedJaxpr ? jaxpr.jaxpr : jaxpr;
  const cs = jaxpr instanceof ClosedJaxpr ? jaxpr.consts : (consts ?? []);
  if (args.length !== j.invars.length) {
    throw new ArgumentError(`evalJaxpr: the jaxpr takes ${j.invars.length} inputs but ${args.length} were given`);
  }
  const env = new Map<Var, Array>();
  j.constvars.forEach((v, i) => env.set(v, cs[i]!));
  j.invars.forEach((v, i) => {
    const a = args[i]!;
    if (!a.aval.equals(v.aval)) {
      throw new ArgumentError(`evalJaxpr: input ${i} is ${a.aval} but the jaxpr expects ${v.aval}`);
    }
    env.set(v, a);
  });
  const read = (a: Atom): Array => (a instanceof Literal ? scalar(a.value, a.aval.dtype, a.aval.weakType) : env.get(a)!);
  for (const e of j.eqns) {
    const outs = bind(e.prim, e.inputs.map(read), e.params);
    e.outputs.forEach((v, i) => env.set(v, outs[i]!));
  }
  return j.outvars.map(read);
}
