/**
 * The common optimizers as chains of transformations, with Optax's formulas and defaults:
 * `sgd`, `adam`, `adamw`, `rmsprop`. Each takes the learning rate (a number or a schedule)
 * or an options object.
 */
import { identity, type GradientTransformation, type ScalarOrSchedule } from "./base";
import { scaleByAdam, type ScaleByAdamOptions } from "./adam";
import { chain } from "./chain";
import { scaleByRms } from "./rms";
import { scaleByLearningRate } from "./scale";
import { trace } from "./trace";
import { addDecayedWeights } from "./weight-decay";

function options<T extends { learningRate: ScalarOrSchedule }>(arg: ScalarOrSchedule | T): T {
  return (typeof arg === "object" && arg !== null && "learningRate" in arg ? arg : { learningRate: arg }) as T;
}

export interface SgdOptions {
  learningRate: ScalarOrSchedule;
  /** Heavy-ball momentum (`trace`); none by default. */
  momentum?: number;
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent: `u = -lr * g`, or with momentum `t = g + m t`, `u = -lr * t`
 * (Nesterov: `u = -lr * (g + m t)`). State `[momentum or {}, {} or {count}]`.
 *
 * @example
 * const optim = sgd({ learningRate: 0.1, momentum: 0.9 });
 */
export function sgd(arg: ScalarOrSchedule | SgdOptions): GradientTransformation {
  const { learningRate, momentum, nesterov = false } = options<SgdOptions>(arg);
  return chain(momentum === undefined ? identity() : trace({ decay: momentum, nesterov }), scaleByLearningRate(learningRate));
}

export interface AdamOptions extends ScaleByAdamOptions {
  learningRate: ScalarOrSchedule;
}

/**
 * Adam: `chain(scaleByAdam({b1, b2, eps, epsRoot, nesterov}), scaleByLearningRate(lr))`, with
 * defaults b1 = 0.9, b2 = 0.999, eps = 1e-8 (outside the square root), epsRoot = 0.
 *
 * @example
 * const optim = adam(3e-4);
 * let optState = optim.init(filter(model, isInexactArray));
 * const [updates, next] = optim.update(grads, optState);
 */
export function adam(arg: ScalarOrSchedule | AdamOptions): GradientTransformation {
  const { learningRate, ...rest } = options<AdamOptions>(arg);
  return chain(scaleByAdam(rest), scaleByLearningRate(learningRate));
}

export interface AdamwOptions extends AdamOptions {
  /** Decoupled weight decay, multiplied by the learning rate. Default 1e-4 (Optax's, not PyTorch's 1e-2). */
  weightDecay?: ScalarOrSchedule;
}

/**
 * AdamW (Loshchilov & Hutter 2019): `u = -lr * (adamDirection + weightDecay * param)`. The
 * update needs the parameters: `optim.update(grads, state, filter(model, isInexactArray))`.
 */
export function adamw(arg: ScalarOrSchedule | AdamwOptions): GradientTransformation {
  const { learningRate, weightDecay = 1e-4, ...rest } = options<AdamwOptions>(arg);
  return chain(scaleByAdam(rest), addDecayedWeights(weightDecay), scaleByLearningRate(learningRate));
}

export interface RmspropOptions {
  learningRate: ScalarOrSchedule;
  /** Decay of the squared-gradient EMA. Default 0.9. */
  decay?: number;
  /** Default 1e-8, inside the square root unless `epsInSqrt` is false. */
  eps?: number;
  /** Initial value of the EMA. Default 0 (PyTorch's; TF uses 1). */
  initialScale?: number;
  epsInSqrt?: boolean;
  biasCorrection?: boolean;
  /** Momentum applied after the learning rate (`trace`); none by default. */
  momentum?: number;
  nesterov?: boolean;
}

/**
 * RMSProp (uncentred): `chain(scaleByRms(...), scaleByLearningRate(lr), trace or identity)`,
 * so `u = -lr * g / sqrt(nu + eps)` with `nu = 0.9 nu + 0.1 g²` by default.
 */
export function rmsprop(arg: ScalarOrSchedule | RmspropOptions): GradientTransformation {
  const { learningRate, decay, eps, initialScale, epsInSqrt, biasCorrection, momentum, nesterov = false } = options<RmspropOptions>(arg);
  return chain(
    scaleByRms({ decay, eps, initialScale, epsInSqrt, biasCorrection }),
    scaleByLearningRate(learningRate),
    momentum === undefined ? identity() : trace({ decay: momentum, nesterov }),
  );
}
