/** Filtered differentiation: Equinox's `filter_grad` / `filter_value_and_grad`. */
import { ArgumentError, valueAndGrad, type AnyFn, type AuxOf, type Array } from "@wax/tracer";
import { combine, isInexactArray, partition } from "./filters";

/**
 * The gradient `filterGrad` gives for a first argument of type `T`: the same type (a Module's
 * gradient is a Module of the same class, with `null` where a leaf is not a float array).
 */
export type FilterGrads<T> = T;

/** What `filterGrad(f, opts)` returns when called: the gradient (with `hasAux`, `[gradient, aux]`). */
export type FilterGradResult<F extends AnyFn, O> = O extends { hasAux: true }
  ? [FilterGrads<Parameters<F>[0]>, AuxOf<ReturnType<F>>]
  : FilterGrads<Parameters<F>[0]>;

/** What `filterValueAndGrad(f, opts)` returns when called: `[value, gradient]` (value `[loss, aux]` with `hasAux`). */
export type FilterValueAndGradResult<F extends AnyFn, O> = [
  O extends { hasAux: true } ? [Array, AuxOf<ReturnType<F>>] : Array,
  FilterGrads<Parameters<F>[0]>,
];

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
export function filterValueAndGrad<F extends AnyFn, const O extends FilterGradOptions = Record<string, never>>(
  f: F,
  opts?: O,
): (...args: Parameters<F>) => FilterValueAndGradResult<F, O>;
export function filterValueAndGrad(
  f: (...args: unknown[]) => unknown,
  opts: FilterGradOptions = {},
): (...args: unknown[]) => [unknown, unknown] {
  return (...args: unknown[]) => {
    if (args.length === 0)
      throw new ArgumentError("filterValueAndGrad: the function needs at least one argument to differentiate with respect to");
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
export function filterGrad<F extends AnyFn, const O extends FilterGradOptions = Record<string, never>>(
  f: F,
  opts?: O,
): (...args: Parameters<F>) => FilterGradResult<F, O>;
export function filterGrad(f: AnyFn, opts: FilterGradOptions = {}): (...args: unknown[]) => unknown {
  const vg = filterValueAndGrad(f, opts) as (...args: unknown[]) => [unknown, unknown];
  return (...args: unknown[]) => {
    const [v, g] = vg(...args);
    return opts.hasAux ? [g, (v as [unknown, unknown])[1]] : g;
  };
}
