/**
 * Staging: tracing a function into a Jaxpr. `JaxprTrace` records every primitive applied to
 * its tracers; values that are not its tracers become constants (scalars inline as literals,
 * other arrays — captured concrete arrays or tracers of enclosing transforms — as constvars).
 */
import { Array, ConcreteArray } from "./array";
import { Aval } from "./aval";
import { ArgumentError } from "./errors";
import { ClosedJaxpr, Jaxpr, Literal, Var, type Atom, type Eqn } from "./jaxpr";
import type { ParamsOf, PrimName, Primitive } from "./primitive";
import { treeFlatten, type TreeDef } from "./pytree";
import { Trace, Tracer, withTrace } from "./trace";
import { asArray } from "./values";

export class JaxprTracer extends Tracer {
  constructor(
    readonly trace: JaxprTrace,
    readonly aval: Aval,
    readonly variable: Var,
  ) {
    super();
  }
}

export class JaxprTrace extends Trace {
  readonly eqns: Eqn[] = [];
  private readonly constVars = new Map<Array, Var>();
  constructor(
    parent: Trace,
    readonly transformName: string,
  ) {
    super(parent);
  }

  newArg(aval: Aval): JaxprTracer {
    return new JaxprTracer(this, aval, new Var(aval));
  }

  /** The atom standing for `x` in this jaxpr. */
  atom(x: Array): Atom {
    if (x instanceof JaxprTracer && x.trace === this) return x.variable;
    if (x instanceof ConcreteArray && x.ndim === 0) return new Literal(x.data[0]!, x.aval);
    let v = this.constVars.get(x);
    if (v === undefined) {
      v = new Var(x.aval);
      this.constVars.set(x, v);
    }
    return v;
  }

  processPrimitive<N extends PrimName>(prim: Primitive<N>, args: readonly Array[], params: ParamsOf<N>): Array[] {
    const inputs = args.map((a) => this.atom(a));
    const outAvals = prim.abstractEval(
      inputs.map((a) => a.aval),
      params,
    );
    const outputs = outAvals.map((a) => new Var(a));
    this.eqns.push({ prim, inputs, outputs, params });
    return outputs.map((v) => {
      const t = new JaxprTracer(this, v.aval, v);
      t.sourceOp = prim.name;
      return t;
    });
  }

  /** Closes the trace: the jaxpr from `invars` to `outs`, with the captured constants. */
  finish(invars: readonly Var[], outs: readonly Array[]): ClosedJaxpr {
    const outvars = outs.map((o) => this.atom(o));
    const consts = [...this.constVars.keys()];
    const constvars = consts.map((c) => this.constVars.get(c)!);
    return new ClosedJaxpr(new Jaxpr(constvars, invars, this.eqns, outvars), consts);
  }
}

/**
 * Traces `fn` (a function of flat arrays to flat arrays) at the given input avals, in a new
 * staging trace on top of the current one.
 */
export function traceFlat(
  fn: (...args: Array[]) => readonly Array[],
  inAvals: readonly Aval[],
  transformName = "makeJaxpr",
  parent: Trace,
): ClosedJaxpr {
  const trace = new JaxprTrace(parent, transformName);
  const ins = inAvals.map((a) => trace.newArg(a));
  try {
    const outs = withTrace(trace, () => fn(...ins));
    return trace.finish(
      ins.map((t) => t.variable),
      outs,
    );
  } finally {
    trace.alive = false;
  }
}

export interface TracedFunction {
  jaxpr: ClosedJaxpr;
  inTree: TreeDef;
  outTree: TreeDef;
}

/** Whether a pytree leaf is traced by makeJaxpr: arrays, JS numbers and booleans (as JAX). */
function isTracedLeaf(x: unknown): x is Array | number | boolean {
  return x instanceof Array || typeof x === "number" || typeof x === "boolean";
}

/**
 * Traces a function of pytrees. Array leaves, JS numbers (weak scalars) and booleans are
 * inputs; other leaves (strings, functions, ...) are passed through unchanged. Output leaves
 * must be arrays or numbers.
 */
export function traceFunction(
  fn: (...args: unknown[]) => unknown,
  args: readonly unknown[],
  parent: Trace,
  transformName = "makeJaxpr",
): TracedFunction {
  const [leaves, inTree] = treeFlatten(args);
  const dynIdx: number[] = [];
  const avals: Aval[] = [];
  leaves.forEach((l, i) => {
    if (isTracedLeaf(l)) {
      dynIdx.push(i);
      avals.push(asArray(l).aval);
    }
  });
  let outTree: TreeDef | null = null;
  const jaxpr = traceFlat(
    (...ins) => {
      const full = leaves.slice();
      dynIdx.forEach((j, k) => (full[j] = ins[k]));
      const out = fn(...(inTree.unflatten(full) as unknown[]));
      const [outLeaves, tree] = treeFlatten(out);
      outTree = tree;
      return outLeaves.map((l, i) => {
        if (!isTracedLeaf(l)) {
          throw new ArgumentError(
            `${transformName}: output leaf ${i} of ${tree} is a ${typeof l}, not an array — return arrays (or numbers) only`,
          );
        }
        return asArray(l);
      });
    },
    avals,
    transformName,
    parent,
  );
  return { jaxpr, inTree, outTree: outTree! };
}
