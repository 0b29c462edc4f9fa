/**
 * Optax's core types: a `GradientTransformation` is a pair of pure functions, `init(params)`
 * giving a state pytree and `update(updates, state, params?)` giving new updates and state.
 * States are plain objects and JS arrays of arrays, so they go through `filterJit` and
 * `treeSerialiseLeaves` like any pytree.
 */
import { Array, np } from "@wax/tracer";

/**
 * A gradient transformation (Optax's `GradientTransformation`): `init` builds the state from
 * the parameters (a pytree that may have `null` holes, as `filter(model, isInexactArray)`
 * gives); `update` maps updates (gradients with the same holes) to new updates and a new
 * state. Both are pure and traceable.
 */
export interface GradientTransformation<S = unknown> {
  init(params: unknown): S;
  update<U>(updates: U, state: S, params?: unknown): [U, S];
}

/** The state of a stateless transformation (Optax's `EmptyState()`): no leaves. */
export type EmptyState = Record<string, never>;

/** A fresh `EmptyState`. */
export const emptyState = (): EmptyState => ({});

/** The state of a transformation that only counts its steps: an int32 scalar. */
export interface CountState {
  count: Array;
}

/**
 * A learning-rate (or weight-decay) schedule: maps the step count, an int32 scalar array
 * (traced inside `filterJit`), to a value. Must be built from array ops, not JS branching on
 * the count.
 */
export type Schedule = (count: Array) => Array | number;

/** A constant (JS number or scalar array) or a schedule. */
export type ScalarOrSchedule = number | Array | Schedule;

/** The int32 scalar 0 that step counters start at. */
export function zeroCount(): Array {
  return np.zeros([], "int32");
}

const INT32_MAX = 2147483647;

/**
 * `count + 1`, saturating at the int32 maximum instead of wrapping (Optax's
 * `safe_increment`), so a long run never sees a negative count.
 */
export function safeIncrement(count: Array): Array {
  return np.where(np.less(count, INT32_MAX), np.add(count, 1), np.full([], INT32_MAX, count.dtype));
}

/** `identity()`: passes updates through unchanged, with an empty state. */
export function identity(): GradientTransformation<EmptyState> {
  return {
    init: () => emptyState(),
    update: (updates, state) => [updates, state],
  };
}
