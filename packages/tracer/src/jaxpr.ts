/**
 * The Jaxpr IR: typed variables, literals, equations, and JAX's text format.
 *
 * `{ lambda <consts> ; <inputs>. let <eqns> in (<outputs>) }`, with names `a..z, ba, bb, ...`
 * given in print order and shared across nested jaxprs, unused outputs printed `_`.
 */
import { formatElement } from "./array";
import { ArgumentError } from "./errors";
import type { Aval } from "./aval";
import type { Array } from "./array";
import type { ParamValue, Params, Primitive } from "./primitive";
import { brk, concat, type Doc, format, group, join, nest, nil, text } from "./pretty";

let varCounter = 0;

/** A variable: an SSA value of a jaxpr. Identity is the object. */
export class Var {
  readonly id = varCounter++;
  constructor(readonly aval: Aval) {}
}

/** A scalar constant inlined in an equation (`2.0:f32[]`). */
export class Literal {
  constructor(
    readonly value: number,
    readonly aval: Aval,
  ) {}
  toString(): string {
    return `${literalStr(this.value, this.aval)}:${this.aval}`;
  }
}

export type Atom = Var | Literal;

export interface Eqn {
  readonly prim: Primitive;
  readonly inputs: readonly Atom[];
  readonly outputs: readonly Var[];
  readonly params: Params;
}

export class Jaxpr {
  constructor(
    readonly constvars: readonly Var[],
    readonly invars: readonly Var[],
    readonly eqns: readonly Eqn[],
    readonly outvars: readonly Atom[],
  ) {}
  get inAvals(): Aval[] {
    return this.invars.map((v) => v.aval);
  }
  get outAvals(): Aval[] {
    return this.outvars.map((v) => v.aval);
  }
  /** JAX's text format. */
  toString(): string {
    return format(ppJaxpr(this, new PpContext()));
  }
}

/** A jaxpr with values for its constvars. */
export class ClosedJaxpr {
  constructor(
    readonly jaxpr: Jaxpr,
    readonly consts: readonly Array[],
  ) {
    if (consts.length !== jaxpr.constvars.length) {
      throw new ArgumentError(`ClosedJaxpr: ${jaxpr.constvars.length} constvars but ${consts.length} consts`);
    }
  }
  get inAvals(): Aval[] {
    return this.jaxpr.inAvals;
  }
  get outAvals(): Aval[] {
    return this.jaxpr.outAvals;
  }
  toString(): string {
    return this.jaxpr.toString();
  }
}

// ---- printing -----------------------------------------------------------------------------

function literalStr(value: number, aval: Aval): string {
  if (aval.dtype === "bool") return value ? "True" : "False";
  return formatElement(value, aval.dtype);
}

/** Names in base 26 with 'a' as digit 0 and no leading 'a': a..z, ba, bb, ... (as JAX). */
function encodeName(n: number): string {
  if (n === 0) return "a";
  let s = "";
  while (n > 0) {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

class PpContext {
  private names = new Map<Var, string>();
  private counter = 0;
  name(v: Var): string {
    let n = this.names.get(v);
    if (n === undefined) {
      n = encodeName(this.counter++);
      this.names.set(v, n);
    }
    return n;
  }
}

function ppAtom(a: Atom, ctx: PpContext): string {
  return a instanceof Literal ? a.toString() : ctx.name(a);
}

function ppBinders(vs: readonly Var[], ctx: PpContext, used?: Set<Var>): Doc {
  return nest(
    2,
    group(
      join(
        group(brk()),
        vs.map((v) => text(`${used && !used.has(v) ? "_" : ctx.name(v)}:${v.aval}`)),
      ),
    ),
  );
}

function isJaxpr(v: ParamValue): v is Jaxpr {
  return v instanceof Jaxpr;
}

/** Python's `str` of a param value: tuples `(0, 1)`, `(0,)`, `None`, `True`. */
export function paramStr(v: ParamValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return v;
  if (globalThis.Array.isArray(v)) {
    const items = (v as readonly ParamValue[]).map(paramStr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  if (v instanceof Jaxpr || v instanceof ClosedJaxpr) return v.toString();
  return `{${Object.entries(v)
    .map(([k, x]) => `'${k}': ${paramStr(x)}`)
    .join(", ")}}`;
}

/** A tuple of jaxprs (`cond`'s branches), one per line when it does not fit: JAX's `pp_jaxprs`. */
function ppJaxprs(js: readonly (Jaxpr | ClosedJaxpr)[], ctx: PpContext): Doc {
  const docs = js.map((j) => ppJaxpr(j instanceof ClosedJaxpr ? j.jaxpr : j, ctx));
  return group(concat(nest(2, concat(text("("), brk(""), join(brk(), docs))), brk(""), text(")")));
}

function ppParam(k: string, v: ParamValue, ctx: PpContext): Doc {
  if (isJaxpr(v)) return concat(text(`${k}=`), ppJaxpr(v, ctx));
  if (v instanceof ClosedJaxpr) return concat(text(`${k}=`), ppJaxpr(v.jaxpr, ctx));
  if (globalThis.Array.isArray(v) && v.length > 0 && v.every((j) => j instanceof Jaxpr || j instanceof ClosedJaxpr)) {
    return concat(text(`${k}=`), ppJaxprs(v as readonly (Jaxpr | ClosedJaxpr)[], ctx));
  }
  return text(`${k}=${paramStr(v)}`);
}

function ppEqn(e: Eqn, ctx: PpContext, used: Set<Var>): Doc {
  // Outputs are named before params' sub-jaxprs and inputs, as in JAX.
  const lhs = e.outputs.length > 0 ? concat(ppBinders(e.outputs, ctx, used), text(" = ")) : nil;
  const kvs = e.prim.ppParams(e.params);
  const params =
    kvs.length === 0
      ? nil
      : group(
          concat(
            nest(
              2,
              concat(
                text("["),
                brk(""),
                join(
                  brk(),
                  kvs.map(([k, v]) => ppParam(k, v, ctx)),
                ),
              ),
            ),
            brk(""),
            text("]"),
          ),
        );
  const rhs =
    e.inputs.length > 0
      ? concat(
          text(" "),
          nest(
            2,
            group(
              join(
                group(brk()),
                e.inputs.map((a) => text(ppAtom(a, ctx))),
              ),
            ),
          ),
        )
      : nil;
  return concat(lhs, text(e.prim.name), params, rhs);
}

function usedVars(j: Jaxpr): Set<Var> {
  const used = new Set<Var>();
  for (const e of j.eqns) for (const a of e.inputs) if (a instanceof Var) used.add(a);
  for (const a of j.outvars) if (a instanceof Var) used.add(a);
  return used;
}

function ppJaxpr(j: Jaxpr, ctx: PpContext): Doc {
  const consts = ppBinders(j.constvars, ctx);
  const invars = ppBinders(j.invars, ctx);
  const used = usedVars(j);
  const eqns = join(
    brk("; "),
    j.eqns.map((e) => ppEqn(e, ctx, used)),
  );
  const outs = concat(
    text("("),
    nest(
      2,
      group(
        join(
          concat(text(","), group(brk())),
          j.outvars.map((a) => text(ppAtom(a, ctx))),
        ),
      ),
    ),
    text(j.outvars.length === 1 ? ",)" : ")"),
  );
  return concat(
    group(
      nest(2, concat(text("{ lambda "), consts, text("; "), invars, text(". let"), nest(2, concat(brk(), eqns)), brk(), text("in "), outs)),
    ),
    text(" }"),
  );
}
