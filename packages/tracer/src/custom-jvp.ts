/**
 * `customJvp`: a function with a hand-written JVP (JAX's `jax.custom_jvp`), as `relu`
 * (derivative 0 at 0) and `softmax` use. Calls bind a `custom_jvp_call` primitive that
 * carries the function's jaxpr; the interpreter and the compiler run that jaxpr, forward
 * and reverse mode use the rule, and vmap batches both.
 */
import type { Array } from "./array";
import type { Aval } from "./aval";
import { ClosedJaxpr } from "./jaxpr";
import { evalJaxpr } from "./interpreter";
import { definePrimitive } from "./primitive";
import { traceFlat } from "./staging";
import { bind, currentTrace } from "./trace";
import { asArray, type ArrayLike } from "./values";

/** `(primals, tangents) → [outputs, output tangents]`, with ordinary ops. */
export type CustomJvpRule = (primals: Array[], tangents: Array[]) => [Array[], Array[]];

export interface Entry {
  name: string;
  fn: (...xs: Array[]) => Array[];
  jvp: CustomJvpRule;
  jaxprs: Map<string, ClosedJaxpr>;
}
/** Every custom-JVP function, by id (its calls carry the id as `jvp_id`). */
export const entries: Entry[] = [];

export const customJvpCall = definePrimitive("custom_jvp_call", {
  multipleResults: true,
  abstractEval(_avals, params) {
    return params.call_jaxpr.outAvals;
  },
  impl(args, params) {
    return evalJaxpr(params.call_jaxpr, args).map((o) => o.data);
  },
  ppParams: (p) => [
    ["name", p.name],
    ["call_jaxpr", p.call_jaxpr],
    ["jvp", p.jvp],
    ["symbolic_zeros", false],
  ],
});

const avalKey = (avals: readonly Aval[]) => avals.map((a) => `${a}${a.weakType ? "~" : ""}`).join(",");

/** Binds `custom_jvp_call` for entry `id`, tracing (and caching) its jaxpr at the arguments' avals. */
export function callEntry(id: number, args: Array[]): Array[] {
  const e = entries[id]!;
  const avals = args.map((a) => a.aval);
  const key = avalKey(avals);
  let jaxpr = e.jaxprs.get(key);
  if (!jaxpr) {
    jaxpr = traceFlat((...xs) => e.fn(...xs), avals, `customJvp(${e.name})`, currentTrace());
    if (jaxpr.consts.every((c) => c.concreteValue() !== null)) e.jaxprs.set(key, jaxpr);
  }
  const params = { name: e.name, call_jaxpr: jaxpr, jvp: `${e.name}_jvp`, jvp_id: id };
  return bind(customJvpCall, args, params);
}

/** How many custom-JVP functions (and batched variants of them) exist: bounded by the program, not by the number of calls. */
export function customJvpRegistrySize(): number {
  return entries.length;
}

/** Adds a custom-JVP function; returns its id. */
export function register(name: string, fn: (...xs: Array[]) => Array[], jvp: CustomJvpRule): number {
  entries.push({ name, fn, jvp, jaxprs: new Map() });
  return entries.length - 1;
}

/**
 * Wraps `fn` (arrays in, one array or a list out) with a custom JVP rule.
 *
 * @example
 * const relu = customJvp((x) => np.maximum(x, 0),
 *   ([x], [t]) => [[np.maximum(x, 0)], [np.where(x.gt(0), t, 0)]], "relu");
 */
export function customJvp(
  fn: (...xs: Array[]) => Array | Array[],
  jvp: CustomJvpRule,
  name = fn.name || "f",
): (...xs: ArrayLike[]) => Array {
  const listFn = (...xs: Array[]) => {
    const r = fn(...xs);
    return globalThis.Array.isArray(r) ? r : [r];
  };
  const id = register(name, listFn, jvp);
  return (...xs: ArrayLike[]) => {
    const outs = callEntry(id, xs.map(asArray));
    return outs.length === 1 ? outs[0]! : (outs as unknown as Array);
  };
}
