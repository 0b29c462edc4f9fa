/** `makeJaxpr`: the user-facing way to see what a function traces to. */
import type { ClosedJaxpr } from "./jaxpr";
import { traceFunction, type TracedFunction } from "./staging";
import { currentTrace } from "./trace";

/**
 * Returns a function that traces `fn` at the given arguments and returns its Jaxpr.
 *
 * Array leaves (and JS numbers, as weak-typed scalars) of the arguments become the jaxpr's
 * inputs; arrays the function closes over become constvars.
 *
 * @example
 * String(makeJaxpr((x, y) => x.add(y))(np.ones([10, 3]), np.ones([3])))
 * // "{ lambda ; a:f32[10,3] b:f32[3]. let c:f32[1,3] = broadcast_in_dim[...] b; ... }"
 */
export function makeJaxpr<A extends unknown[]>(
  fn: (...args: A) => unknown,
): (...args: A) => ClosedJaxpr & { outTree: TracedFunction["outTree"] } {
  return (...args: A) => {
    const t = traceFunction(fn as (...a: unknown[]) => unknown, args, currentTrace(), "makeJaxpr");
    return Object.assign(t.jaxpr, { outTree: t.outTree });
  };
}
