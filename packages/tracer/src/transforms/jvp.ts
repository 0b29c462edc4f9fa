/**
 * Forward mode (`jvp`) and linearization. A `JVPTrace` carries (primal, tangent) pairs and
 * applies each primitive's JVP rule in its parent trace. When the tangents are tracers of a
 * staging trace created just before it, the tangent computation is recorded as a linear
 * jaxpr while the primal one runs in the parent: that is `linearize`, the first half of
 * reverse mode (modern JAX's "direct linearize").
 */
import { Array, ConcreteArray } from "../array";
import { Aval } from "../aval";
import { isFloat } from "../dtype";
import { TransformError } from "../errors";
import type { ClosedJaxpr } from "../jaxpr";
import type { ParamsOf, PrimName, Primitive } from "../primitive";
import { JaxprTrace } from "../staging";
import { bind, currentTrace, Trace, Tracer, withTrace } from "../trace";
import type { MaybeZero } from "./rules";
import { jvpRuleOf } from "./tables";
import { zerosLikeAval } from "./zeros";

export class JVPTracer extends Tracer {
  constructor(
    readonly trace: JVPTrace,
    readonly primal: Array,
    readonly tangent: MaybeZero,
  ) {
    super();
  }
  get aval(): Aval {
    return this.primal.aval;
  }
  /** Outside of jit the primal is concrete, so Python-style control flow works (as in JAX). */
  override concreteValue(): ConcreteArray | null {
    return this.primal.concreteValue();
  }
}

export class JVPTrace extends Trace {
  constructor(
    parent: Trace,
    readonly transformName: string,
  ) {
    super(parent);
  }

  unpack(x: Array): [Array, MaybeZero] {
    if (x instanceof JVPTracer && x.trace === this) return [x.primal, x.tangent];
    return [x, null];
  }

  processPrimitive<N extends PrimName>(prim: Primitive<N>, args: readonly Array[], params: ParamsOf<N>): Array[] {
    const primals: Array[] = [];
    const tangents: MaybeZero[] = [];
    for (const a of args) {
      const [p, t] = this.unpack(a);
      primals.push(p);
      tangents.push(t);
    }
    const parent = this.parent!;
    if (tangents.every((t) => t === null)) {
      const outs = withTrace(parent, () => bind(prim, primals, params));
      return outs.map((o) => this.wrap(o, null, prim));
    }
    const rule = jvpRuleOf(prim);
    if (!rule) throw new TransformError(`${prim.name}: no JVP rule — ${prim.name} cannot be differentiated`);
    const [outs, touts] = withTrace(parent, () => rule(primals, tangents, params));
    return outs.map((o, i) => this.wrap(o, touts[i] ?? null, prim));
  }

  private wrap(primal: Array, tangent: MaybeZero, prim: Primitive): JVPTracer {
    const t = new JVPTracer(this, primal, tangent);
    t.sourceOp = prim.name;
    return t;
  }
}

/** Float tangents only: integer/bool values have symbolic-zero (float0) tangents. */
export function hasTangent(aval: Aval): boolean {
  return isFloat(aval.dtype);
}

/** Forward mode on flat arrays: `[outputs, output tangents]` (tangents instantiated as zeros). */
export function jvpFlat(f: (...xs: Array[]) => Array[], primals: Array[], tangents: MaybeZero[]): [Array[], Array[]] {
  const trace = new JVPTrace(currentTrace(), "jvp");
  try {
    const ins = primals.map((p, i) => new JVPTracer(trace, p, hasTangent(p.aval) ? (tangents[i] ?? null) : null));
    const outs = withTrace(trace, () => f(...ins));
    const res = outs.map((o) => trace.unpack(o));
    return [res.map((r) => r[0]), res.map(([p, t]) => t ?? zerosLikeAval(p.aval))];
  } finally {
    trace.alive = false;
  }
}

export interface Linearized {
  /** Primal outputs (values of the parent trace). */
  outs: Array[];
  /** The linear map from input tangents (float inputs only, in order) to output tangents. */
  linear: ClosedJaxpr;
  /** Which inputs have a tangent input in `linear`. */
  inputHasTangent: boolean[];
  /** Which outputs have a (possibly zero) tangent output; `false` = symbolic zero. */
  outputNonzero: boolean[];
  /** Extra values `f` returned besides the flat outputs (e.g. aux), unwrapped to primals. */
  aux: unknown;
}

/**
 * Linearizes `f` at `primals`. `f` returns `[flatOutputs, aux]`; aux leaves that are this
 * trace's tracers are replaced by their primals (as `has_aux` does in JAX).
 */
export function linearizeFlat(
  f: (...xs: Array[]) => [Array[], unknown],
  primals: Array[],
  transformName: string,
  stripAux: (aux: unknown, strip: (x: Array) => Array) => unknown,
): Linearized {
  const parent = currentTrace();
  const tangentTrace = new JaxprTrace(parent, transformName);
  const trace = new JVPTrace(parent, transformName);
  try {
    const inputHasTangent = primals.map((p) => hasTangent(p.aval));
    const tanIns = primals.map((p, i) => (inputHasTangent[i] ? tangentTrace.newArg(p.aval.withWeak(false)) : null));
    const ins = primals.map((p, i) => new JVPTracer(trace, p, tanIns[i] ?? null));
    const [outs, aux] = withTrace(trace, () => f(...ins));
    const pairs = outs.map((o) => trace.unpack(o));
    const outputNonzero = pairs.map(([, t]) => t !== null);
    const nonzeroTangents = pairs.filter(([, t]) => t !== null).map(([, t]) => t!);
    const linear = tangentTrace.finish(
      tanIns.filter((t) => t !== null).map((t) => t!.variable),
      nonzeroTangents,
    );
    return {
      outs: pairs.map(([p]) => p),
      linear,
      inputHasTangent,
      outputNonzero,
      aux: stripAux(aux, (x) => trace.unpack(x)[0]),
    };
  } finally {
    trace.alive = false;
    tangentTrace.alive = false;
  }
}
