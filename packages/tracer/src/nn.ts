/** Activation functions and friends, as `jax.nn`. */
import type { Array } from "./array";
import type { DType } from "./dtype";
import * as lax from "./lax";
import * as np from "./numpy/index";
import { promoteInexact } from "./numpy/promote";
import { asArray, type ArrayLike } from "./values";
import { customJvp } from "./custom-jvp";
import { reduceArgs } from "./numpy/axes";

const inexact = (x: ArrayLike): Array => promoteInexact(x)[0]!;

/**
 * `max(x, 0)`, with JAX's custom JVP: the derivative is 0 at 0 (not the 0.5 that `max`'s
 * tie rule would give).
 */
export const relu = customJvp(
  (x) => np.maximum(x, 0),
  ([x], [t]) => [[np.maximum(x!, 0)], [lax.selectN(np.greater(x!, 0), np.zerosLike(t!), t!)]],
  "relu",
);

/** `min(max(x, 0), 6)`, with JAX's custom JVP: the derivative is 0 at 0 and at 6. */
export const relu6 = customJvp(
  (x) => np.minimum(np.maximum(x, 0), 6),
  ([x], [t]) => [[np.minimum(np.maximum(x!, 0), 6)], [np.where(np.logicalAnd(np.greater(x!, 0), np.less(x!, 6)), t!, np.zerosLike(t!))]],
  "relu6",
);

export function sigmoid(x: ArrayLike): Array {
  return lax.logistic(inexact(x));
}

const softplusRaw = (a: Array): Array => np.add(lax.log1p(lax.exp(lax.neg(lax.abs(a)))), np.maximum(a, 0));
const replaceInf = (a: Array): Array => np.where(np.isinf(a), 0, a);

/**
 * `log(1 + exp(x))`, computed stably as `log1p(exp(-|x|)) + max(x, 0)` (JAX's
 * `logaddexp(x, 0)`), with `logaddexp`'s custom JVP `t · exp(x - softplus(x))` (infinities
 * replaced by 0), so the derivative at 0 is 0.5, not the 0 of the formula's `abs`/`max` ties.
 */
const softplusJvp = customJvp(
  (a) => softplusRaw(a),
  ([a], [t]) => {
    const out = softplusRaw(a!);
    return [[out], [np.multiply(t!, lax.exp(np.subtract(replaceInf(a!), replaceInf(out))))]];
  },
  "softplus",
);
export function softplus(x: ArrayLike): Array {
  return softplusJvp(inexact(x));
}

/** `log σ(x) = -softplus(-x)` (JAX's `log_sigmoid`). */
export function logSigmoid(x: ArrayLike): Array {
  return np.negative(softplus(np.negative(inexact(x))));
}

/** Scaled ELU (Klambauer et al. 2017): `scale · elu(x, alpha)` with JAX's constants. */
export function selu(x: ArrayLike): Array {
  return np.multiply(1.0507009873554804934193349852946, elu(x, 1.6732632423543772848170429916717));
}

/** `max(x, 0) + alpha · expm1(min(x, 0) / alpha)` (JAX's `celu`). */
export function celu(x: ArrayLike, alpha = 1): Array {
  const a = inexact(x);
  return np.add(np.maximum(a, 0), np.multiply(alpha, lax.expm1(np.divide(np.minimum(a, 0), alpha))));
}

/** `x` clipped to [-1, 1] by `where`s, as JAX (derivative 1 at ±1). */
export function hardTanh(x: ArrayLike): Array {
  const a = inexact(x);
  return np.where(np.greater(a, 1), 1, np.where(np.less(a, -1), -1, a));
}

/** `relu6(x + 3) / 6` (JAX's `hard_sigmoid`). */
export function hardSigmoid(x: ArrayLike): Array {
  return np.divide(relu6(np.add(inexact(x), 3)), 6);
}

/** `x · hardSigmoid(x)` (JAX's `hard_silu` / `hard_swish`). */
export function hardSilu(x: ArrayLike): Array {
  const a = inexact(x);
  return np.multiply(a, hardSigmoid(a));
}

export function silu(x: ArrayLike): Array {
  const a = inexact(x);
  return np.multiply(a, lax.logistic(a));
}
export const swish = silu;

/** GELU; `approximate` (default, as JAX) uses the tanh form, otherwise the exact erf form. */
export function gelu(x: ArrayLike, approximate = true): Array {
  const a = inexact(x);
  if (approximate) {
    const c = Math.sqrt(2 / Math.PI);
    const inner = np.multiply(c, np.add(a, np.multiply(0.044715, np.multiply(a, np.square(a)))));
    return np.multiply(np.multiply(0.5, a), np.add(1, lax.tanh(inner)));
  }
  return np.multiply(np.multiply(0.5, a), np.add(1, lax.erf(np.multiply(a, Math.SQRT1_2))));
}

export function leakyRelu(x: ArrayLike, negativeSlope = 0.01): Array {
  const a = inexact(x);
  return np.where(np.greaterEqual(a, 0), a, np.multiply(negativeSlope, a));
}

/** `x` for `x > 0`, `alpha (exp(x) - 1)` otherwise; as JAX, the derivative at 0 is `alpha` (the negative branch's). */
export function elu(x: ArrayLike, alpha = 1): Array {
  const a = inexact(x);
  // JAX's safe_x = where(x > 0, 0, x): no min/max tie, so the gradient at 0 is the expm1 branch's.
  const safe = np.where(np.greater(a, 0), 0, a);
  return np.where(np.greater(a, 0), a, np.multiply(alpha, lax.expm1(safe)));
}

/** `log(sum(exp(x)))` along `axis`, stable (max subtracted, as a stop-gradient constant). */
export function logsumexp(
  x: ArrayLike,
  axis?: number | readonly number[] | null | { axis?: number | readonly number[] | null; keepdims?: boolean },
  options?: { keepdims?: boolean },
): Array {
  // JAX's `logsumexp(a, axis)`: the axis positionally, or an options object.
  const opts = reduceArgs<{ axis?: number | readonly number[] | null; keepdims?: boolean }>("logsumexp", axis, options, {
    keepdims: "boolean",
  });
  const a = inexact(x);
  const m = np.max(a, { axis: opts.axis, keepdims: true });
  // Where the max is infinite (all -inf, or +inf present), shift by 0 instead.
  const finiteM = lax.stopGradient(np.where(np.isfinite(m), m, 0));
  const s = np.sum(lax.exp(np.subtract(a, finiteM)), { axis: opts.axis, keepdims: true });
  const out = np.add(lax.log(s), finiteM);
  return opts.keepdims ? out : np.squeeze(out, opts.axis === null || opts.axis === undefined ? undefined : opts.axis);
}

/** `x - logsumexp(x)` along `axis` (default last). */
export function logSoftmax(x: ArrayLike, axis: number | readonly number[] = -1): Array {
  const a = inexact(x);
  const shifted = np.subtract(a, lax.stopGradient(np.max(a, { axis, keepdims: true })));
  return np.subtract(shifted, lax.log(np.sum(lax.exp(shifted), { axis, keepdims: true })));
}

function softmaxRaw(a: Array, axis: number | readonly number[]): Array {
  const e = lax.exp(np.subtract(a, lax.stopGradient(np.max(a, { axis, keepdims: true }))));
  return np.divide(e, np.sum(e, { axis, keepdims: true }));
}

const softmaxByAxis = new Map<string, (x: ArrayLike) => Array>();

/**
 * `exp(x) / sum(exp(x))` along `axis` (default last), with JAX's custom JVP
 * `y · (t − Σ y·t)`.
 */
export function softmax(x: ArrayLike, axis: number | readonly number[] = -1): Array {
  const key = String(axis);
  let f = softmaxByAxis.get(key);
  if (!f) {
    f = customJvp(
      (a) => softmaxRaw(a, axis),
      ([a], [t]) => {
        const y = softmaxRaw(a!, axis);
        return [[y], [np.multiply(y, np.subtract(t!, np.sum(np.multiply(y, t!), { axis, keepdims: true })))]];
      },
      "softmax",
    );
    softmaxByAxis.set(key, f);
  }
  return f(inexact(x));
}

/** One-hot encoding of integer labels along a new last axis. */
export function oneHot(x: ArrayLike, numClasses: number, dtype: DType = "float32"): Array {
  const a = asArray(x);
  const classes = lax.iota(a.dtype === "uint32" ? "uint32" : "int32", [numClasses]);
  const lbl = np.expandDims(np.astype(a, classes.dtype), -1);
  return np.astype(np.equal(lbl, classes), dtype);
}

/** Normalises to zero mean and unit variance along `axis`. */
export function standardize(x: ArrayLike, axis: number | readonly number[] = -1, eps = 1e-5): Array {
  const a = inexact(x);
  const mean = np.mean(a, { axis, keepdims: true });
  const v = np.variance(a, { axis, keepdims: true });
  return np.multiply(np.subtract(a, mean), lax.rsqrt(np.add(v, eps)));
}

export { dotProductAttention, type DotProductAttentionOptions } from "./attention";
