/**
 * Algebraic simplification, IEEE-safe only: `x*1`, `x/1`, `x-0`, `neg(neg x)`, identity
 * reshapes/broadcasts/transposes/converts, `reshape∘reshape`, `transpose∘transpose`,
 * `select_n` with a literal predicate, `stop_gradient` (AD is done). Never `x*0 → 0`
 * (NaN, inf) nor `x+0 → x` (-0).
 */
import { ClosedJaxpr, Literal, Var, type Atom, type Eqn, type Params } from "@wax/tracer";
import { rebuild, Subst } from "./rewrite";

const isLit = (a: Atom, v: number): boolean => a instanceof Literal && a.value === v && !Object.is(a.value, -0);
const sameShape = (a: Atom, v: Var): boolean =>
  a.aval.dtype === v.aval.dtype && a.aval.shape.length === v.aval.shape.length && a.aval.shape.every((d, i) => d === v.aval.shape[i]);

export function simplify(closed: ClosedJaxpr): ClosedJaxpr {
  const subst = new Subst();
  const producer = new Map<Var, Eqn>();
  const eqns: Eqn[] = [];
  for (const e0 of closed.jaxpr.eqns) {
    let e = subst.eqn(e0);
    const out = e.outputs[0]!;
    const [x, y] = e.inputs;
    const forward = (a: Atom): boolean => {
      if (!sameShape(a, out)) return false;
      subst.set(out, a);
      return true;
    };
    const p = e.params;
    let done = false;
    switch (e.prim.name) {
      case "mul":
        done = (isLit(y!, 1) && forward(x!)) || (isLit(x!, 1) && forward(y!));
        break;
      case "div":
        done = isLit(y!, 1) && forward(x!);
        break;
      case "sub":
        done = isLit(y!, 0) && forward(x!);
        break;
      case "neg": {
        const pe = x instanceof Var ? producer.get(x) : undefined;
        done = pe?.prim.name === "neg" && forward(pe.inputs[0]!);
        break;
      }
      case "stop_gradient":
        done = forward(x!);
        break;
      case "convert_element_type":
      case "reshape":
      case "broadcast_in_dim":
        if (e.prim.name !== "broadcast_in_dim" || (p["broadcast_dimensions"] as number[]).every((d, i) => d === i)) done = forward(x!);
        if (!done && e.prim.name === "reshape" && x instanceof Var) {
          const pe = producer.get(x);
          if (pe?.prim.name === "reshape") e = { ...e, inputs: [pe.inputs[0]!] };
        }
        break;
      case "transpose": {
        const perm = p["permutation"] as number[];
        if (perm.every((v, i) => v === i)) done = forward(x!);
        else if (x instanceof Var) {
          const pe = producer.get(x);
          if (pe?.prim.name === "transpose") {
            const inner = pe.params["permutation"] as number[];
            const composed = perm.map((q) => inner[q]!);
            if (composed.every((v, i) => v === i)) done = forward(pe.inputs[0]!);
            else e = { ...e, inputs: [pe.inputs[0]!], params: { permutation: composed } as Params };
          }
        }
        break;
      }
      case "squeeze":
        done = (p["dimensions"] as number[]).length === 0 && forward(x!);
        break;
      case "reduce_sum":
      case "reduce_max":
      case "reduce_min":
      case "reduce_prod":
        done = (p["axes"] as number[]).length === 0 && forward(x!);
        break;
      case "select_n":
        if (x instanceof Literal) {
          const cases = e.inputs.slice(1);
          done = forward(cases[Math.min(Math.max(x.value, 0), cases.length - 1)]!);
        }
        break;
    }
    if (done) continue;
    for (const v of e.outputs) producer.set(v, e);
    eqns.push(e);
  }
  return rebuild(closed, eqns, closed.jaxpr.outvars.map((a) => subst.get(a)));
}
