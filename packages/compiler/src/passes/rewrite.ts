/**
 * Shared machinery of the Jaxpr passes: substitution of atoms, canonical param keys, typed
 * access to an equation's params, the sub-jaxprs of higher-order primitives (every pass
 * recurses into them), and splicing a jaxpr's body into another.
 */
import {
  ClosedJaxpr,
  Jaxpr,
  Literal,
  Var,
  type Array,
  type Atom,
  type Eqn,
  type ParamsOf,
  type ParamValue,
  type PrimName,
  type Primitive,
} from "@wax/tracer";

/** A substitution from variables to the atoms that replace them. */
export class Subst {
  private readonly map = new Map<Var, Atom>();
  set(v: Var, a: Atom): void {
    this.map.set(v, a);
  }
  get(a: Atom): Atom {
    if (a instanceof Literal) return a;
    let cur: Atom = a;
    for (let seen = 0; cur instanceof Var && this.map.has(cur); seen++) {
      cur = this.map.get(cur)!;
      if (seen > 1_000_000) throw new Error("substitution cycle");
    }
    return cur;
  }
  /** `e` with its inputs substituted (`e` itself when none changes). */
  eqn(e: Eqn): Eqn {
    const inputs = e.inputs.map((a) => this.get(a));
    return inputs.every((a, i) => a === e.inputs[i]) ? e : { ...e, inputs };
  }
}

/** Rebuilds a closed jaxpr from new equations/outputs, dropping constvars nothing uses. */
export function rebuild(
  closed: ClosedJaxpr,
  eqns: readonly Eqn[],
  outvars: readonly Atom[],
  extraConsts: [Var, Array][] = [],
): ClosedJaxpr {
  const j = closed.jaxpr;
  const used = new Set<Var>();
  for (const e of eqns) for (const a of e.inputs) if (a instanceof Var) used.add(a);
  for (const a of outvars) if (a instanceof Var) used.add(a);
  const constvars: Var[] = [];
  const consts: Array[] = [];
  j.constvars.forEach((v, i) => {
    if (used.has(v)) {
      constvars.push(v);
      consts.push(closed.consts[i]!);
    }
  });
  for (const [v, c] of extraConsts) {
    if (used.has(v)) {
      constvars.push(v);
      consts.push(c);
    }
  }
  // Unchanged: the same object, so sub-jaxprs keep their identity (CSE keys them by it).
  const same = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (same(eqns, j.eqns) && same(outvars, j.outvars) && same(constvars, j.constvars)) return closed;
  return new ClosedJaxpr(new Jaxpr(constvars, j.invars, eqns, outvars), consts);
}

const isList = (v: ParamValue): v is readonly ParamValue[] => globalThis.Array.isArray(v);

/** A canonical string of params for CSE (plain records by value, sub-jaxprs by identity). */
export function paramsKey(params: object): string {
  const enc = (v: ParamValue): string => {
    if (v === null) return "n";
    if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "boolean") return v ? "T" : "F";
    if (isList(v)) return `(${v.map(enc).join(",")})`;
    if (v instanceof Jaxpr || v instanceof ClosedJaxpr) return `#${objectId(v)}`;
    return `{${record(v)}}`;
  };
  const record = (r: { readonly [k: string]: ParamValue }): string =>
    Object.keys(r)
      .sort()
      .map((k) => `${k}=${enc(r[k]!)}`)
      .join(";");
  return record(params as { readonly [k: string]: ParamValue });
}

const objIds = new WeakMap<object, number>();
let nextId = 1;
function objectId(o: object): number {
  let id = objIds.get(o);
  if (id === undefined) {
    id = nextId++;
    objIds.set(o, id);
  }
  return id;
}

/** A canonical string of an atom for CSE (variables by identity, literals by dtype and value). */
export function atomKey(a: Atom): string {
  if (a instanceof Literal) return `L${a.aval.dtype}:${Object.is(a.value, -0) ? "-0" : a.value}`;
  return `V${a.id}`;
}

/** An equation of primitive `N`, its params typed. */
export type EqnOf<N extends PrimName> = Eqn & { readonly prim: Primitive<N>; readonly params: ParamsOf<N> };

/** Whether `e` applies primitive `name` (narrowing its params to that primitive's). */
export function isEqn<N extends PrimName>(e: Eqn, name: N): e is EqnOf<N> {
  return e.prim.name === name;
}

/** The closed sub-jaxprs an equation carries (branches, loop bodies, custom rule bodies). */
export function subJaxprs(e: Eqn): readonly ClosedJaxpr[] {
  if (isEqn(e, "cond")) return e.params.branches;
  if (isEqn(e, "while")) return [e.params.cond_jaxpr, e.params.body_jaxpr];
  if (isEqn(e, "scan")) return [e.params.jaxpr];
  if (isEqn(e, "custom_jvp_call")) return [e.params.call_jaxpr];
  if (isEqn(e, "custom_vjp_call")) return [e.params.call_jaxpr];
  return [];
}

/**
 * `e` with each sub-jaxpr replaced by `f(sub)`, which must keep its signature (inputs and
 * outputs); `e` itself when nothing changed.
 */
export function mapSubJaxprs(e: Eqn, f: (j: ClosedJaxpr) => ClosedJaxpr): Eqn {
  const subs = subJaxprs(e);
  if (subs.length === 0) return e;
  const mapped = subs.map(f);
  if (mapped.every((j, i) => j === subs[i])) return e;
  if (isEqn(e, "cond")) return { ...e, params: { ...e.params, branches: mapped } };
  if (isEqn(e, "while")) return { ...e, params: { ...e.params, cond_jaxpr: mapped[0]!, body_jaxpr: mapped[1]! } };
  if (isEqn(e, "scan")) return { ...e, params: { ...e.params, jaxpr: mapped[0]! } };
  if (isEqn(e, "custom_jvp_call")) return { ...e, params: { ...e.params, call_jaxpr: mapped[0]! } };
  if (isEqn(e, "custom_vjp_call")) return { ...e, params: { ...e.params, call_jaxpr: mapped[0]! } };
  return e;
}

/**
 * Appends the equations of `body` applied to `inputs` to `eqns`, with fresh variables (so a
 * body spliced twice stays in SSA form); its consts go to `consts`. Returns its outputs.
 */
export function splice(body: ClosedJaxpr, inputs: readonly Atom[], eqns: Eqn[], consts: [Var, Array][]): Atom[] {
  const j = body.jaxpr;
  const subst = new Subst();
  const local = new Map<Var, Var>();
  const fresh = (v: Var): Var => {
    let n = local.get(v);
    if (!n) {
      n = new Var(v.aval);
      local.set(v, n);
    }
    return n;
  };
  j.constvars.forEach((v, i) => consts.push([fresh(v), body.consts[i]!]));
  j.invars.forEach((v, i) => subst.set(fresh(v), inputs[i]!));
  for (const e of j.eqns)
    eqns.push({ ...e, inputs: e.inputs.map((a) => (a instanceof Var ? subst.get(fresh(a)) : a)), outputs: e.outputs.map(fresh) });
  return j.outvars.map((o) => (o instanceof Var ? subst.get(fresh(o)) : o));
}

/** `closed` with other inputs and outputs (a subset, in order), the same equations. */
export function withSignature(closed: ClosedJaxpr, invars: readonly Var[], outvars: readonly Atom[]): ClosedJaxpr {
  const j = closed.jaxpr;
  return new ClosedJaxpr(new Jaxpr(j.constvars, invars, j.eqns, outvars), closed.consts);
}
