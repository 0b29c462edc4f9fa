/** `chain`: composes gradient transformations in sequence (Optax's `optax.chain`). */
import { ArgumentError, PytreeError, treeStructure } from "@wax/tracer";
import type { GradientTransformation } from "./base";
import { isHole } from "./tree";

/**
 * An optimizer state that does not match its optimizer (a state from another optimizer, or
 * from `init` on parameters of another structure). `path` is where in the state it differs.
 */
export class OptimizerStateError extends PytreeError {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(
      `chain.update: the optimizer state at ${path} does not match this optimizer and these parameters — expected ${expected} (what init(params) gives), got ${got} — pass the state returned by this optimizer's init (or its last update), for parameters of the same structure`,
    );
  }
}

/** The state of `chain(...transforms)`: a tuple of each transformation's state. */
export type ChainState<T extends readonly GradientTransformation<unknown>[]> = {
  -readonly [K in keyof T]: T[K] extends GradientTransformation<infer S> ? S : never;
};

/**
 * Re-raises a failure inside transformation `i` as an `OptimizerStateError` when its state's
 * structure differs from a fresh `init(params)` (computed only on failure, so the happy path
 * costs nothing); other errors pass through unchanged.
 */
function explain(e: unknown, i: number, t: GradientTransformation<unknown>, state: unknown, params: unknown): unknown {
  if (e instanceof OptimizerStateError) return new OptimizerStateError(`[${i}]${e.path}`, e.expected, e.got);
  if (params === undefined || params === null) return e;
  let want;
  try {
    want = treeStructure(t.init(params), isHole);
  } catch {
    return e;
  }
  const got = treeStructure(state, isHole);
  return want.equals(got) ? e : new OptimizerStateError(`[${i}]`, want.toString(), got.toString());
}

/**
 * Applies `transforms` one after another. The state is a JS array (Optax's tuple) holding
 * each transformation's state in order; `params` is passed to every `update`.
 *
 * @example
 * const optim = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3));
 */
export function chain<const T extends readonly GradientTransformation<unknown>[]>(...transforms: T): GradientTransformation<ChainState<T>>;
export function chain(...transforms: GradientTransformation<unknown>[]): GradientTransformation<unknown[]> {
  return {
    init: (params) => transforms.map((t) => t.init(params)),
    update: (updates, state, params) => {
      if (!globalThis.Array.isArray(state) || state.length !== transforms.length) {
        const got = globalThis.Array.isArray(state) ? `${state.length} states` : typeof state;
        throw new ArgumentError(
          `chain.update: ${transforms.length} transformations but the state holds ${got} — pass the state returned by this optimizer's init (or its last update)`,
        );
      }
      let u: unknown = updates;
      const next = transforms.map((t, i) => {
        let u2, s2;
        try {
          [u2, s2] = t.update(u, state[i], params);
        } catch (e) {
          throw explain(e, i, t, state[i], params ?? updates);
        }
        u = u2;
        return s2;
      });
      return [u as typeof updates, next];
    },
  };
}
