/**
 * Traces and tracers, in the "stackless" style of modern JAX: one current trace; `bind`
 * hands a primitive to it; a trace treats any value that is not one of its own tracers as
 * a constant. A transform's rules bind on its parent trace. Traces are invalidated when
 * their scope ends, so a leaked tracer is caught the next time it is used.
 */
import { Array, ConcreteArray } from "./array";
import type { Aval } from "./aval";
import { ConcretizationError, TracerLeakError, WaxError } from "./errors";
import type { ParamsOf, PrimName, Primitive } from "./primitive";
import { eagerKernels } from "./eager-dispatch";

let traceCounter = 0;

export abstract class Trace {
  /**
   * Creation order. Traces nest in creation order, so among the traces of a primitive's
   * operands and the current trace, the newest one handles it (JAX's "top trace"). This is
   * what lets a linearization's tangent trace, created inside a transform, receive tangent
   * ops while its parent is current.
   */
  readonly id = ++traceCounter;
  /** False once the transform that owns this trace has returned. */
  alive = true;
  constructor(readonly parent: Trace | null) {}
  /** Applies `prim` to `args` (a mix of this trace's tracers and constants). */
  abstract processPrimitive<N extends PrimName>(prim: Primitive<N>, args: readonly Array[], params: ParamsOf<N>): Array[];
  /** Name of the transform, for error messages (`makeJaxpr`, `jit`, `grad`, `vmap`). */
  abstract get transformName(): string;
}

export abstract class Tracer extends Array {
  abstract readonly trace: Trace;
  /** Name of the primitive that produced this tracer (for error messages). */
  sourceOp: string | null = null;

  override concreteValue(): ConcreteArray | null {
    return null;
  }

  protected override concretizationError(what: string): Error {
    if (!this.trace.alive) return leakError(this, what);
    const src = this.sourceOp ? ` (the output of \`${this.sourceOp}\`)` : " (an input)";
    return new ConcretizationError(
      `${what}: the value of traced ${this.aval}${src} is not known while tracing under ` +
        `${this.trace.transformName} — use np.where/lax.selectN instead of branching on it, ` +
        `or pass it as a static value (a JS number/boolean) so it is known at trace time`,
    );
  }
}

export function leakError(t: Tracer, what: string): TracerLeakError {
  const src = t.sourceOp ? ` produced by \`${t.sourceOp}\`` : "";
  return new TracerLeakError(
    `${what}: a tracer ${t.aval}${src} under ${t.trace.transformName} was used after its ` +
      `trace ended (it leaked, e.g. through a closure, a global or an object mutated inside ` +
      `the traced function) — return values from the function instead of storing them`,
  );
}

/**
 * The bottom trace: applies primitives eagerly, through installed kernels where there are
 * some (see `eager-dispatch.ts`), else with the reference interpreter.
 */
export class EvalTrace extends Trace {
  constructor() {
    super(null);
  }
  get transformName(): string {
    return "eager evaluation";
  }
  processPrimitive<N extends PrimName>(prim: Primitive<N>, args: readonly Array[], params: ParamsOf<N>): Array[] {
    const concrete = args.map((a) => {
      const c = a.concreteValue();
      if (c === null) {
        throw new WaxError(
          `${prim.name}: got a tracer of an active ${(a as Tracer).trace.transformName} outside of it — this is a wax bug or a tracer passed between transforms`,
        );
      }
      return c;
    });
    const outAvals = prim.abstractEval(
      concrete.map((c) => c.aval),
      params,
    );
    const kernels = eagerKernels();
    const datas =
      (kernels !== null ? kernels(prim as Primitive, concrete, params, outAvals) : null) ?? prim.impl(concrete, params, outAvals);
    return outAvals.map((aval, i) => new ConcreteArray(aval, datas[i]!));
  }
}

export const evalTrace = new EvalTrace();
let current: Trace = evalTrace;

export function currentTrace(): Trace {
  return current;
}

/** Runs `fn` with `trace` current, restoring the previous trace afterwards. */
export function withTrace<T>(trace: Trace, fn: () => T): T {
  const prev = current;
  current = trace;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Applies a primitive in the current trace. Single-result primitives return a 1-array. */
export function bind<N extends PrimName>(prim: Primitive<N>, args: readonly Array[], params: ParamsOf<N> = {} as ParamsOf<N>): Array[] {
  let top = current;
  for (const a of args) {
    if (a instanceof Tracer) {
      if (!a.trace.alive) throw leakError(a, prim.name);
      if (a.trace.id > top.id) top = a.trace;
    }
  }
  return top.processPrimitive(prim, args, params);
}

/** `bind` for a single-result primitive. */
export function bind1<N extends PrimName>(prim: Primitive<N>, args: readonly Array[], params: ParamsOf<N> = {} as ParamsOf<N>): Array {
  return bind(prim, args, params)[0]!;
}

/** Type guard. */
export function isTracer(x: unknown): x is Tracer {
  return x instanceof Tracer;
}

export type { Aval };
