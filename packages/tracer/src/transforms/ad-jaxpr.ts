/**
 * JVP and linearization of closed sub-jaxprs, the building blocks of the control-flow AD
 * rules (JAX's `ad.jvp_jaxpr` and `ad.linearize_jaxpr`, plus the small jaxpr surgery they
 * need). Sub-jaxprs are re-traced under a transform, as modern JAX does, so every rule of
 * every primitive in the body applies, control flow included.
 */
import { ConcreteArray, type Array } from "../array";
import type { Aval } from "../aval";
import { WaxError } from "../errors";
import { evalJaxpr } from "../interpreter";
import { ClosedJaxpr, Jaxpr, Var, type Atom } from "../jaxpr";
import { JaxprTrace, traceFlat } from "../staging";
import { currentTrace, Tracer, withTrace } from "../trace";
import { JVPTrace, JVPTracer } from "./jvp";
import type { MaybeZero } from "./rules";
import { instantiate, zerosLikeAval } from "./zeros";

// ---- helpers on jaxprs ----------------------------------------------------------------------

/** The aval of a tangent of a value of aval `a` (tangents are never weakly typed). */
export const tangentAval = (a: Aval): Aval => a.withWeak(false);
/** Whether a tangent is not a symbolic zero. */
export const isNonzero = (t: MaybeZero): t is Array => t !== null;
/** The elements of `xs` where `mask` is true. */
export const pick = <T>(xs: readonly T[], mask: readonly boolean[]): T[] => xs.filter((_, i) => mask[i]);
const sameMask = (a: readonly boolean[], b: readonly boolean[]) => a.every((x, i) => x === b[i]);
/** Elementwise `or` of two masks. */
export const orMask = (a: readonly boolean[], b: readonly boolean[]): boolean[] => a.map((x, i) => x || b[i]!);
/** A mask of `n` falses. */
export const falses = (n: number): boolean[] => globalThis.Array.from({ length: n }, () => false);
/** A mask of `n` trues. */
export const trues = (n: number): boolean[] => globalThis.Array.from({ length: n }, () => true);

/**
 * Sub-jaxprs traced here may only close over concrete arrays: the primitives hoist every
 * traced value their bodies capture into explicit operands, so a tracer constant would be a
 * value of an outer trace hiding inside a parameter.
 */
export function checkClosed(op: string, closed: ClosedJaxpr): ClosedJaxpr {
  closed.consts.forEach((c, i) => {
    if (!(c instanceof ConcreteArray)) {
      throw new WaxError(
        `${op}: constant ${i} of a sub-jaxpr is a traced ${c.aval} — this is a wax bug: traced values must be operands of control-flow primitives`,
      );
    }
  });
  return closed;
}

/** The same program with its inputs and outputs listed in another order (or some inputs unused). */
export function withSignature(closed: ClosedJaxpr, invars: readonly Var[], outvars: readonly Atom[] = closed.jaxpr.outvars): ClosedJaxpr {
  const j = closed.jaxpr;
  return new ClosedJaxpr(new Jaxpr(j.constvars, invars, j.eqns, outvars), closed.consts);
}

/** Keeps only the equations the outputs need (all primitives are pure). */
export function prune(j: Jaxpr, invars: readonly Var[], outvars: readonly Atom[]): Jaxpr {
  const live = new Set<Var>(outvars.filter((a): a is Var => a instanceof Var));
  const kept = [];
  for (let k = j.eqns.length - 1; k >= 0; k--) {
    const e = j.eqns[k]!;
    if (!e.outputs.some((v) => live.has(v))) continue;
    kept.push(e);
    for (const a of e.inputs) if (a instanceof Var) live.add(a);
  }
  return new Jaxpr(j.constvars, invars, kept.reverse(), outvars);
}

/** Variables of `j` that depend on any of `seeds`. */
export function dependents(j: Jaxpr, seeds: readonly Var[]): Set<Var> {
  const dep = new Set<Var>(seeds);
  for (const e of j.eqns) if (e.inputs.some((a) => a instanceof Var && dep.has(a))) e.outputs.forEach((v) => dep.add(v));
  return dep;
}

/** The jaxpr as a linear program of its `linear` inputs, its other inputs bound to `values`. */
export function bindNonlinear(closed: ClosedJaxpr, linear: readonly boolean[], values: readonly Array[]): ClosedJaxpr {
  const j = closed.jaxpr;
  const fixed = j.invars.filter((_, i) => !linear[i]);
  return new ClosedJaxpr(new Jaxpr([...j.constvars, ...fixed], pick(j.invars, linear), j.eqns, j.outvars), [...closed.consts, ...values]);
}

/**
 * Whether a JVP rule runs under `linearize`: its tangents then belong to a staging trace
 * created after the trace the rule runs in (the tangent trace of `linearizeFlat`), while
 * under `jvp` they are values of that trace or older ones.
 */
export function linearizing(tangents: readonly MaybeZero[]): boolean {
  const here = currentTrace().id;
  return tangents.some((t) => t instanceof Tracer && t.trace.id > here);
}

// ---- JVP and linearization of a sub-jaxpr ---------------------------------------------------

/** `closed` run under a fresh JVP trace: primal outputs and (possibly zero) tangents. */
function jvpEval(closed: ClosedJaxpr, primals: readonly Array[], tangents: readonly MaybeZero[]): [Array[], MaybeZero[]] {
  const trace = new JVPTrace(currentTrace(), "jvp");
  try {
    const ins = primals.map((p, i) => new JVPTracer(trace, p, tangents[i] ?? null));
    const pairs = withTrace(trace, () => evalJaxpr(closed, ins)).map((o) => trace.unpack(o));
    return [pairs.map(([p]) => p), pairs.map(([, t]) => t)];
  } finally {
    trace.alive = false;
  }
}

/** A jaxpr's JVP program and which of its outputs have tangents. */
export interface JvpJaxpr {
  /** `[...primals, ...tangents where inNz]` → `[...outputs, ...tangents where outNz]`. */
  jaxpr: ClosedJaxpr;
  /** Which outputs have a tangent output (nonzero, or instantiated as asked). */
  outNz: boolean[];
}

/** JAX's `jvp_jaxpr`: the joint primal-and-tangent program of `closed`. */
export function jvpJaxpr(op: string, closed: ClosedJaxpr, inNz: readonly boolean[], inst: readonly boolean[]): JvpJaxpr {
  const n = closed.inAvals.length;
  let outNz: boolean[] = [];
  const jaxpr = traceFlat(
    (...args) => {
      let k = n;
      const tangents = inNz.map((nz) => (nz ? args[k++]! : null));
      const [outs, touts] = jvpEval(closed, args.slice(0, n), tangents);
      outNz = touts.map((t, i) => t !== null || inst[i]!);
      return [...outs, ...touts.flatMap((t, i) => (outNz[i] ? [instantiate(t, tangentAval(outs[i]!.aval))] : []))];
    },
    [...closed.inAvals, ...pick(closed.inAvals, inNz).map(tangentAval)],
    "jvp",
    currentTrace(),
  );
  return { jaxpr: checkClosed(op, jaxpr), outNz };
}

/**
 * The least set of loop carries with nonzero tangents: those of the initial carry, plus
 * every carry the body gives a tangent to, until nothing changes (JAX's fixpoint).
 * `trace(carryNz)` transforms the body with tangents (instantiated) on the carries `carryNz`
 * and returns the result with the tangent pattern of its carry outputs; the result of the
 * last round, whose pattern is `carryNz` itself, is returned, so a body whose carries keep
 * their tangent pattern is traced once.
 */
export function carryFixpoint<T>(initNz: readonly boolean[], trace: (carryNz: boolean[]) => [T, boolean[]]): [boolean[], T] {
  let nz = [...initNz];
  for (;;) {
    const [result, outNz] = trace(nz);
    const next = orMask(nz, outNz);
    if (sameMask(next, nz)) return [nz, result];
    nz = next;
  }
}

/** A jaxpr split into its primal part (which also returns residuals) and its linear part. */
export interface LinearJaxpr {
  /** `[...inputs]` → `[...outputs, ...residuals]`. */
  primal: ClosedJaxpr;
  /** `[...residuals, ...tangents where inNz]` → `[...tangents where outNz]` (linear in the tangents). */
  linear: ClosedJaxpr;
  /** How many residuals the primal part returns after its outputs. */
  numRes: number;
  /** Which outputs have a tangent output of the linear part (nonzero, or instantiated as asked). */
  outNz: boolean[];
}

/**
 * Linearizes a sub-jaxpr (JAX's `linearize_jaxpr`): `linearizeFlat` on the body, inside a
 * staging trace, so the primal program is staged as a jaxpr too and returns the residuals
 * (the non-constant values the linear program reads) as extra outputs.
 */
export function linearizeJaxpr(op: string, closed: ClosedJaxpr, inNz: readonly boolean[], inst: readonly boolean[]): LinearJaxpr {
  const primalTrace = new JaxprTrace(currentTrace(), "linearize");
  try {
    const ins = closed.inAvals.map((a) => primalTrace.newArg(a));
    const tangentTrace = new JaxprTrace(primalTrace, "linearize");
    const trace = new JVPTrace(primalTrace, "linearize");
    let outs: Array[];
    let lin: ClosedJaxpr;
    let outNz: boolean[];
    try {
      const tanIns = ins.map((p, i) => (inNz[i] ? tangentTrace.newArg(tangentAval(p.aval)) : null));
      const pairs = withTrace(trace, () =>
        evalJaxpr(
          closed,
          ins.map((p, i) => new JVPTracer(trace, p, tanIns[i] ?? null)),
        ),
      ).map((o) => trace.unpack(o));
      outNz = pairs.map(([, t], i) => t !== null || inst[i]!);
      const touts = pairs.flatMap(([p, t], i) =>
        outNz[i] ? [t ?? withTrace(tangentTrace, () => zerosLikeAval(tangentAval(p.aval)))] : [],
      );
      lin = tangentTrace.finish(
        tanIns.filter((t) => t !== null).map((t) => t.variable),
        touts,
      );
      outs = pairs.map(([p]) => p);
    } finally {
      trace.alive = false;
      tangentTrace.alive = false;
    }
    // Constants of the linear program are residuals unless they are concrete arrays.
    const lj = lin.jaxpr;
    const isRes = lin.consts.map((c) => !(c instanceof ConcreteArray));
    const residuals = pick(lin.consts, isRes);
    const primal = checkClosed(
      op,
      primalTrace.finish(
        ins.map((t) => t.variable),
        [...outs, ...residuals],
      ),
    );
    const keep = isRes.map((r) => !r);
    const linear = new ClosedJaxpr(
      new Jaxpr(pick(lj.constvars, keep), [...pick(lj.constvars, isRes), ...lj.invars], lj.eqns, lj.outvars),
      pick(lin.consts, keep),
    );
    return { primal, linear, numRes: residuals.length, outNz };
  } finally {
    primalTrace.alive = false;
  }
}

/** Tangents listed for the `mask` positions only, spread back with `null` elsewhere. */
export function spread(vals: readonly Array[], mask: readonly boolean[]): MaybeZero[] {
  let k = 0;
  return mask.map((m) => (m ? vals[k++]! : null));
}
