/** Shared machinery of the Jaxpr passes: substitution of atoms and canonical param keys. */
import { ClosedJaxpr, Jaxpr, Literal, Var, type Array, type Atom, type Eqn, type ParamValue } from "@wax/tracer";

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
  eqn(e: Eqn): Eqn {
    return { ...e, inputs: e.inputs.map((a) => this.get(a)) };
  }
}

/** Rebuilds a closed jaxpr from new equations/outputs, dropping constvars nothing uses. */
export function rebuild(closed: ClosedJaxpr, eqns: readonly Eqn[], outvars: readonly Atom[], extraConsts: [Var, Array][] = []): ClosedJaxpr {
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
  return new ClosedJaxpr(new Jaxpr(constvars, j.invars, eqns, outvars), consts);
}

/** A canonical string of params for CSE (sub-jaxprs by identity). */
export function paramsKey(params: Readonly<Record<string, ParamValue>>): string {
  const ids = new Map<object, number>();
  const enc = (v: ParamValue): string => {
    if (v === null) return "n";
    if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "boolean") return v ? "T" : "F";
    if (globalThis.Array.isArray(v)) return `(${(v as readonly ParamValue[]).map(enc).join(",")})`;
    let id = ids.get(v as object);
    if (id === undefined) {
      id = objectId(v as object);
      ids.set(v as object, id);
    }
    return `#${id}`;
  };
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${enc(params[k]!)}`)
    .join(";");
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

export function atomKey(a: Atom): string {
  if (a instanceof Literal) return `L${a.aval.dtype}:${Object.is(a.value, -0) ? "-0" : a.value}`;
  return `V${a.id}`;
}
