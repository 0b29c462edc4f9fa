/** `injectHyperparams`: hyperparameters in the optimizer state (Optax's `inject_hyperparams`). */
import { Array, ArgumentError, asArray, isFloat, np, treeLeaves } from "@wax/tracer";
import { safeIncrement, zeroCount, type GradientTransformation, type Schedule } from "./base";

/** The state of an injected optimizer, with Optax's fields. */
export interface InjectHyperparamsState<S = unknown> {
  count: Array;
  /** Scalar arrays by name: change one between steps with `treeAt`. */
  hyperparams: Record<string, Array>;
  innerState: S;
}

function floatDtypeOf(tree: unknown) {
  const first = treeLeaves(tree).find((x): x is Array => x instanceof Array);
  return first && isFloat(first.dtype) ? first.dtype : "float32";
}

/**
 * Wraps an optimizer factory so its numeric hyperparameters live in the state as scalar
 * arrays (`state.hyperparams.learningRate`) and schedules are evaluated at `state.count` each
 * step. Booleans and other values stay static. As in Optax, the hyperparameters take the
 * dtype of the first parameter leaf.
 *
 * Unlike Optax, only the options you pass become hyperparameters (JS cannot read a function's
 * defaults): write `injectHyperparams(adam)({ learningRate: 1e-3, b1: 0.9 })` to expose `b1`.
 *
 * @example
 * const optim = injectHyperparams(adam)({ learningRate: 1e-3 });
 * let state = optim.init(params);
 * state = treeAt((s) => s.hyperparams.learningRate, state, array(1e-4));
 */
export function injectHyperparams<A>(
  factory: (opts: A) => GradientTransformation,
): (opts: Exclude<A, number | Array | Schedule>) => GradientTransformation<InjectHyperparamsState> {
  type O = Exclude<A, number | Array | Schedule>;
  return (opts: O) => {
    if (typeof opts !== "object" || opts === null) {
      throw new ArgumentError(
        `injectHyperparams: pass the hyperparameters as an options object, e.g. injectHyperparams(adam)({ learningRate: 1e-3 }), got ${String(opts)}`,
      );
    }
    const numeric: Record<string, number | Array> = {};
    const scheduled: Record<string, Schedule> = {};
    const other: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(opts)) {
      if (typeof v === "function") scheduled[k] = v as Schedule;
      else if (typeof v === "number" || v instanceof Array) numeric[k] = v;
      else other[k] = v;
    }
    const atCount = (count: Array, dtype: string) =>
      Object.fromEntries(Object.entries(scheduled).map(([k, f]) => [k, np.astype(asArray(f(count)), dtype as "float32")]));
    const inner = (hyperparams: Record<string, Array>) => factory({ ...other, ...hyperparams } as A);
    return {
      init: (params) => {
        const dtype = floatDtypeOf(params);
        const hyperparams = {
          ...Object.fromEntries(Object.entries(numeric).map(([k, v]) => [k, np.astype(asArray(v), dtype)])),
          ...atCount(zeroCount(), dtype),
        };
        return { count: zeroCount(), hyperparams, innerState: inner(hyperparams).init(params) };
      },
      update: (updates, state, params) => {
        if (typeof state !== "object" || state === null || !("hyperparams" in state)) {
          throw new ArgumentError(
            "injectHyperparams.update: the state has no hyperparams — pass the state returned by this optimizer's init (or its last update)",
          );
        }
        const dtype = floatDtypeOf(updates);
        const hyperparams = {
          ...Object.fromEntries(Object.entries(state.hyperparams).map(([k, v]) => [k, np.astype(v, dtype)])),
          ...atCount(state.count, dtype),
        };
        const [u, innerState] = inner(hyperparams).update(updates, state.innerState, params);
        return [u, { count: safeIncrement(state.count), hyperparams, innerState }];
      },
    };
  };
}
