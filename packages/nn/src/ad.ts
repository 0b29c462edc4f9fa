/** Filtered differentiation: Equinox's `filter_grad` / `filter_value_and_grad`. */
import { ArgumentError, valueAndGrad } from "@wax/tracer";
import { combine, isInexactArray, partition } from "./filters";

export interface FilterGradOptions {
  /** The function returns `[loss, aux]`; aux comes back alongside the gradient. */
  hasAux?: boolean;
}

/**
 * `filterValueAndGrad(f)(x, ...rest)` → `[value, grads]` (`[[value, aux], grads]` with
 * `hasAux`). Differentiates with respect to the floating-point array leaves of the first
 * argument only; `grads` has the first argument's structure with `null` at every other leaf
 * (integer arrays, flags, strings). Later arguments are not differentiated.
 */
export function filterValueAndGrad(f: (...args: any[]) => unknown, opts: FilterGradOptions = {}): (...args: any[]) => [unknown, any] {
  return (...args: unknown[]) => {
    if (args.length === 0) throw new ArgumentError("filterValueAndGrad: the function needs at least one argument to differentiate with respect to");
    const [x, ...rest] = args;
    const [diff, nondiff] = partition(x, isInexactArray);
    return valueAndGrad((d: unknown) => f(combine(d, nondiff), ...rest), { hasAux: opts.hasAux })(diff);
  };
}

/**
 * `filterGrad(f)(x, ...rest)` → gradient with respect to the floating-point arrays of `x`
 * (`[grads, aux]` with `hasAux`), `null` elsewhere.
 *
 * @example
 * const [grads, state2] = filterGrad(computeLoss, { hasAux: true })(model, state, xs, ys);
 */
export function filterGrad(f: (...args: any[]) => unknown, opts: FilterGradOptions = {}): (...args: any[]) => any {
  const vg = filterValueAndGrad(f, opts);
  return (...args: unknown[]) => {
    const [v, g] = vg(...args);
    return opts.hasAux ? [g, (v as [unknown, unknown])[1]] : g;
  };
}
