/** `MultiSteps`: gradient accumulation over k mini-steps (Optax's `optax.MultiSteps`). */
import { Array, lax, np } from "@wax/tracer";
import { safeIncrement, zeroCount, type GradientTransformation } from "./base";
import { fullLikeTree, mapUpdates } from "./tree";

/** The state of `MultiSteps`, with Optax's fields. */
export interface MultiStepsState<S = unknown> {
  /** Mini-steps accumulated since the last real update (int32 scalar). */
  miniStep: Array;
  /** Real (inner) updates done so far (int32 scalar). */
  gradientStep: Array;
  innerOptState: S;
  accGrads: unknown;
}

export interface MultiStepsOptions {
  /** Mini-steps per update: a number, or a schedule of `gradientStep` (Optax's `every_k_schedule`). */
  everyKSchedule: number | ((gradientStep: Array) => Array | number);
  /** Accumulate the mean of the gradients (default, as Optax) rather than their sum. */
  useGradMean?: boolean;
}

/**
 * Accumulates gradients over `everyKSchedule` calls and applies the inner optimizer on the
 * last of them; the other calls return zero updates. A `lax.cond` chooses, so one compiled step
 * serves both kinds of call.
 *
 * @example
 * const optim = new MultiSteps(optax.adam(1e-3), { everyKSchedule: 4 });
 * let optState = optim.init(params);
 * [updates, optState] = optim.update(grads, optState, params);
 */
export class MultiSteps<S = unknown> implements GradientTransformation<MultiStepsState<S>> {
  readonly #opt: GradientTransformation<S>;
  readonly #everyK: (step: Array) => Array | number;
  readonly #useGradMean: boolean;

  constructor(opt: GradientTransformation<S>, opts: MultiStepsOptions) {
    this.#opt = opt;
    const k = opts.everyKSchedule;
    this.#everyK = typeof k === "function" ? k : () => k;
    this.#useGradMean = opts.useGradMean ?? true;
    this.init = this.init.bind(this);
    this.update = this.update.bind(this) as typeof this.update;
  }

  init(params: unknown): MultiStepsState<S> {
    return {
      miniStep: zeroCount(),
      gradientStep: zeroCount(),
      innerOptState: this.#opt.init(params),
      accGrads: fullLikeTree("MultiSteps.init", params, 0),
    };
  }

  update<U>(updates: U, state: MultiStepsState<S>, params?: unknown): [U, MultiStepsState<S>] {
    const kSteps = this.#everyK(state.gradientStep);
    const n = np.add(state.miniStep, 1);
    const accGrads = this.#useGradMean
      ? mapUpdates(
          "MultiSteps",
          (g, acc) => np.add(acc!, np.divide(np.subtract(g, acc!), np.astype(n, acc!.dtype))),
          updates,
          state.accGrads,
        )
      : mapUpdates("MultiSteps", (g, acc) => np.add(acc!, g), updates, state.accGrads);
    const [out, next] = lax.cond(
      np.less(state.miniStep, np.subtract(kSteps, 1)),
      (acc: unknown, inner: unknown) => {
        const zeros = fullLikeTree("MultiSteps", acc, 0);
        return [
          zeros,
          { miniStep: safeIncrement(state.miniStep), gradientStep: state.gradientStep, innerOptState: inner, accGrads: acc },
        ] as const;
      },
      (acc: unknown, inner: unknown) => {
        const [u, s] = this.#opt.update(acc, inner as S, params);
        return [
          u,
          {
            miniStep: zeroCount(),
            gradientStep: safeIncrement(state.gradientStep),
            innerOptState: s,
            accGrads: fullLikeTree("MultiSteps", acc, 0),
          },
        ] as const;
      },
      accGrads as unknown,
      state.innerOptState as unknown,
    );
    return [out as U, next as MultiStepsState<S>];
  }

  /** True right after a call that applied the inner optimizer (Optax's `has_updated`). */
  hasUpdated(state: MultiStepsState<S>): Array {
    return np.logicalAnd(np.equal(state.miniStep, 0), np.greater(state.gradientStep, 0));
  }
}
