/**
 * Learning-rate schedules (Optax's `optax.schedules`): functions of the int32 step count made
 * of array ops only, so they run eagerly and inside `filterJit` alike. Each also accepts a JS
 * number for convenience (`schedule(100)`).
 */
import { Array, ArgumentError, np } from "@wax/tracer";

/** A schedule built here: callable on the traced count or on a JS number. */
export type BuiltSchedule = (count: Array | number) => Array;

/** Always `value`. */
export function constantSchedule(value: number): BuiltSchedule {
  return () => np.asarray(value);
}

export interface PolynomialScheduleOptions {
  initValue: number;
  endValue: number;
  power: number;
  /** Steps from `initValue` to `endValue`; ≤ 0 gives a constant `initValue`. */
  transitionSteps: number;
  /** Steps held at `initValue` first. Default 0 (negative values count as 0). */
  transitionBegin?: number;
}

/** `(init - end) * (1 - c/steps)^power + end`, with `c = clip(count - begin, 0, steps)`. */
export function polynomialSchedule(opts: PolynomialScheduleOptions): BuiltSchedule {
  const { initValue, endValue, power, transitionSteps } = opts;
  const begin = Math.max(0, opts.transitionBegin ?? 0);
  if (transitionSteps <= 0) return () => np.asarray(initValue);
  return (count) => {
    const c = np.clip(np.subtract(count, begin), 0, transitionSteps);
    const frac = np.subtract(1, np.divide(c, transitionSteps));
    return np.add(np.multiply(initValue - endValue, np.pow(frac, power)), endValue);
  };
}

/** Linear from `initValue` to `endValue` over `transitionSteps`, after `transitionBegin` steps. */
export function linearSchedule(opts: Omit<PolynomialScheduleOptions, "power">): BuiltSchedule {
  return polynomialSchedule({ ...opts, power: 1 });
}

/**
 * `initValue` times the product of the `scales` of every boundary the count has reached
 * (`count >= boundary`). `boundariesAndScales` maps step → non-negative factor.
 *
 * @example
 * piecewiseConstantSchedule(0.1, { 100: 0.1, 200: 0.5 }) // 0.1, then 0.01 at 100, 0.005 at 200
 */
export function piecewiseConstantSchedule(initValue: number, boundariesAndScales: Record<number, number> = {}): BuiltSchedule {
  const entries = Object.entries(boundariesAndScales)
    .map(([b, s]) => [Number(b), s] as const)
    .sort((a, b) => a[0] - b[0]);
  for (const [b, s] of entries) {
    if (!(s >= 0)) {
      throw new ArgumentError(`piecewiseConstantSchedule: the scale at boundary ${b} is ${s} — scales must be non-negative`);
    }
  }
  return (count) => {
    let v: Array = np.asarray(initValue);
    for (const [threshold, s] of entries) {
      const indicator = np.maximum(0, np.sign(np.subtract(threshold, count)));
      v = np.add(np.multiply(v, indicator), np.multiply(np.multiply(np.subtract(1, indicator), s), v));
    }
    return v;
  };
}

export interface ExponentialDecayOptions {
  initValue: number;
  /** Steps over which the value is multiplied by `decayRate` once; ≤ 0 gives a constant. */
  transitionSteps: number;
  decayRate: number;
  /** Steps held at `initValue` first. Default 0. */
  transitionBegin?: number;
  /** Decay in whole steps of `transitionSteps` (`floor`). Default false. */
  staircase?: boolean;
  /** A bound the value never passes (a floor when decaying, a ceiling when growing). */
  endValue?: number;
}

/** `initValue * decayRate^((count - begin) / transitionSteps)`, `initValue` before `begin`. */
export function exponentialDecay(opts: ExponentialDecayOptions): BuiltSchedule {
  const { initValue, transitionSteps, decayRate, staircase = false, endValue } = opts;
  const begin = Math.max(0, opts.transitionBegin ?? 0);
  if (transitionSteps <= 0 || decayRate === 0) return () => np.asarray(initValue);
  return (count) => {
    const decreased = np.subtract(count, begin);
    let p = np.divide(decreased, transitionSteps);
    if (staircase) p = np.floor(p);
    let v = np.where(np.lessEqual(decreased, 0), initValue, np.multiply(initValue, np.power(decayRate, p)));
    if (endValue !== undefined) v = decayRate < 1 ? np.maximum(v, endValue) : np.minimum(v, endValue);
    return v;
  };
}

export interface CosineDecayOptions {
  initValue: number;
  /** Steps to decay over (> 0); the value stays at `alpha * initValue` after. */
  decaySteps: number;
  /** The final value as a fraction of `initValue`. Default 0. */
  alpha?: number;
  /** Power applied to the cosine factor. Default 1. */
  exponent?: number;
}

/** `initValue * ((1 - alpha) * (½(1 + cos(π c / decaySteps)))^exponent + alpha)`, `c = min(count, decaySteps)` (Loshchilov & Hutter 2016). */
export function cosineDecaySchedule(opts: CosineDecayOptions): BuiltSchedule {
  const { initValue, decaySteps, alpha = 0, exponent = 1 } = opts;
  if (!(decaySteps > 0)) throw new ArgumentError(`cosineDecaySchedule: decaySteps is ${decaySteps} — it must be positive`);
  return (count) => {
    const c = np.minimum(np.astype(count, "float32"), decaySteps);
    const cosine = np.multiply(0.5, np.add(1, np.cos(np.divide(np.multiply(Math.PI, c), decaySteps))));
    const decayed = np.add(np.multiply(1 - alpha, np.pow(cosine, exponent)), alpha);
    return np.multiply(initValue, decayed);
  };
}

/**
 * Runs `schedules[0]` until `boundaries[0]`, then `schedules[1]` on the steps since that
 * boundary, and so on (Optax's `join_schedules`).
 */
export function joinSchedules(schedules: readonly BuiltSchedule[], boundaries: readonly number[]): BuiltSchedule {
  if (schedules.length !== boundaries.length + 1) {
    throw new ArgumentError(
      `joinSchedules: ${schedules.length} schedules need ${schedules.length - 1} boundaries, got ${boundaries.length}`,
    );
  }
  return (count) => {
    let out = schedules[0]!(count);
    boundaries.forEach((b, i) => {
      out = np.where(np.less(count, b), out, schedules[i + 1]!(np.subtract(count, b)));
    });
    return out;
  };
}

export interface WarmupCosineDecayOptions {
  initValue: number;
  peakValue: number;
  /** Steps of linear warm-up from `initValue` to `peakValue`. */
  warmupSteps: number;
  /** Total steps, warm-up included. */
  decaySteps: number;
  /** Value at the end of the decay. Default 0. */
  endValue?: number;
  exponent?: number;
}

/** Linear warm-up to `peakValue`, then cosine decay to `endValue` at step `decaySteps`. */
export function warmupCosineDecaySchedule(opts: WarmupCosineDecayOptions): BuiltSchedule {
  const { initValue, peakValue, warmupSteps, decaySteps, endValue = 0, exponent = 1 } = opts;
  const alpha = peakValue === 0 ? 0 : endValue / peakValue;
  return joinSchedules(
    [
      linearSchedule({ initValue, endValue: peakValue, transitionSteps: warmupSteps }),
      cosineDecaySchedule({ initValue: peakValue, decaySteps: decaySteps - warmupSteps, alpha, exponent }),
    ],
    [warmupSteps],
  );
}
