/**
 * The types transforms give back, so `grad(loss)(w)` is an `Array` and `vmap(f)(xs)` has `f`'s
 * result type (as jax-js's `grad`/`vmap` are typed): no `unknown` to cast at every call.
 */
import type { Array } from "../array";

/** A function a transform can take. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFn = (...args: any[]) => any;

/**
 * A pytree of type `T` with its array leaves transformed (gradients, batched values): arrays
 * and JS numbers (which transforms trace) become `Array`s, JS arrays and tuples map element by
 * element, other nodes (plain objects, Modules) keep their type, as their array fields stay
 * arrays.
 */
export type ArrayTree<T> = 0 extends 1 & T
  ? any // eslint-disable-line @typescript-eslint/no-explicit-any -- an untyped argument stays untyped
  : unknown extends T
    ? unknown
    : [Array] extends [T]
      ? Array // `ArrayLike` and other unions that accept an Array: the transform gives an Array
      : MapTree<T>;

type MapTree<T> = T extends Array
  ? Array
  : T extends number
    ? Array
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: ArrayTree<T[K]> }
      : T;

/** The gradients for `argnums` `N` of parameters `P` (one tree, or a tuple for a list). */
export type GradsOf<P extends readonly unknown[], N> = N extends number
  ? ArrayTree<P[N]>
  : N extends readonly number[]
    ? { -readonly [K in keyof N]: ArrayTree<P[N[K] & number]> }
    : ArrayTree<P[0]>;

/** The aux of a `hasAux` function returning `[loss, aux]`. */
export type AuxOf<R> = R extends readonly [unknown, infer A] ? A : unknown;

/** `argnums` of an options type (0 when absent). */
export type ArgnumsOf<O> = O extends { argnums: infer N } ? N : 0;

/** Whether an options type sets `hasAux: true`. */
export type HasAux<O> = O extends { hasAux: true } ? true : false;

/** What `grad(f, opts)` returns when called. */
export type GradResult<F extends AnyFn, O> =
  HasAux<O> extends true ? [GradsOf<Parameters<F>, ArgnumsOf<O>>, AuxOf<ReturnType<F>>] : GradsOf<Parameters<F>, ArgnumsOf<O>>;

/** What `valueAndGrad(f, opts)` returns when called: `[value, grads]` (value `[loss, aux]` with `hasAux`). */
export type ValueAndGradResult<F extends AnyFn, O> = [
  HasAux<O> extends true ? [Array, AuxOf<ReturnType<F>>] : Array,
  GradsOf<Parameters<F>, ArgnumsOf<O>>,
];
