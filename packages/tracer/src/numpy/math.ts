/** Elementwise numpy-like math: promotion, broadcasting, then one primitive. */
import type { Array } from "../array";
import { isFloat, isInteger } from "../dtype";
import { DTypeError } from "../errors";
import * as lax from "../lax";
import { asArray, type ArrayLike } from "../values";
import { broadcastShapes, broadcastTo, cast, promote, promoteInexact } from "./promote";

/** Broadcasts already-promoted operands against each other; rank-0 operands stay scalars. */
function broadcastAll(op: string, arrs: Array[]): Array[] {
  const shape = broadcastShapes(op, ...arrs);
  return arrs.map((a) => (a.ndim === 0 ? a : broadcastTo(a, shape, op)));
}

function binaryOp(op: string, f: (x: Array, y: Array) => Array, inexact = false) {
  return (x: ArrayLike, y: ArrayLike): Array => {
    const ps = inexact ? promoteInexact(x, y) : promote(x, y);
    const [a, b] = broadcastAll(op, ps) as [Array, Array];
    return f(a, b);
  };
}

function unaryOp(f: (x: Array) => Array, inexact = false) {
  return (x: ArrayLike): Array => f(inexact ? promoteInexact(x)[0]! : asArray(x));
}

// As jnp: on booleans `add` is logical or, `multiply` logical and, and `subtract` an error.
export const add = binaryOp("add", (x, y) => (x.dtype === "bool" ? lax.or(x, y) : lax.add(x, y)));
export const subtract = binaryOp("sub", (x, y) => {
  if (x.dtype === "bool")
    throw new DTypeError(
      `subtract: boolean operands ${x.aval} and ${y.aval} cannot be subtracted (as in numpy/JAX) — use logicalXor, or cast to int32 first`,
    );
  return lax.sub(x, y);
});
export const multiply = binaryOp("mul", (x, y) => (x.dtype === "bool" ? lax.and(x, y) : lax.mul(x, y)));
/** True division: integers promote to float (`jnp.divide`). */
export const divide = binaryOp("div", lax.div, true);
export const trueDivide = divide;
const floatPower = binaryOp("pow", lax.pow, true);
/**
 * `x ** y` (`jnp.power`): a JS integer exponent keeps an integer base's dtype (`integer_pow`,
 * as JAX does for Python ints); array exponents promote to float.
 */
export function power(x: ArrayLike, y: ArrayLike): Array {
  if (typeof y === "number" && Number.isInteger(y) && Math.abs(y) <= 1 << 16) return pow(x, y);
  const [a, b] = broadcastAll("pow", promote(x, y)) as [Array, Array];
  if (isInteger(a.dtype)) return intPower(a, b);
  return floatPower(x, y);
}

/**
 * Integer `x ** y` for integer arrays, JAX's `_pow_int_int`: six rounds of binary
 * exponentiation (more would overflow for any |x| > 1), `0 ** 0 = 1`.
 */
function intPower(x: Array, y: Array): Array {
  const c = (v: number, like: Array) => cast(asArray(v), like.dtype, true);
  const bc = (v: Array, like: Array) => (v.ndim === like.ndim ? v : lax.broadcastInDim(v, like.shape, []));
  const shape = x.ndim >= y.ndim ? x : y;
  let base = bc(x, shape);
  let e = bc(y, shape);
  let acc = lax.selectN(lax.and(lax.eq(base, c(0, base)), lax.ne(e, c(0, e))), bc(c(1, base), shape), bc(c(0, base), shape));
  for (let i = 0; i < 6; i++) {
    acc = lax.selectN(lax.ne(lax.and(e, c(1, e)), c(0, e)), acc, lax.mul(acc, base));
    base = lax.mul(base, base);
    e = lax.shiftRightLogical(e, c(1, e));
  }
  return acc;
}
export const maximum = binaryOp("max", lax.max);
export const minimum = binaryOp("min", lax.min);
export const arctan2 = binaryOp("atan2", lax.atan2, true);
export const equal = binaryOp("eq", lax.eq);
export const notEqual = binaryOp("ne", lax.ne);
export const less = binaryOp("lt", lax.lt);
export const lessEqual = binaryOp("le", lax.le);
export const greater = binaryOp("gt", lax.gt);
export const greaterEqual = binaryOp("ge", lax.ge);

function boolOrInt(op: string, x: Array): void {
  if (isFloat(x.dtype)) throw new DTypeError(`${op}: operand ${x.aval} must be bool or integer — compare floats first (e.g. x.gt(0))`);
}
export const logicalAnd = binaryOp("and", (x, y) => lax.and(toBool(x), toBool(y)));
export const logicalOr = binaryOp("or", (x, y) => lax.or(toBool(x), toBool(y)));
export const logicalXor = binaryOp("xor", (x, y) => lax.xor(toBool(x), toBool(y)));
export const logicalNot = (x: ArrayLike): Array => lax.not(toBool(asArray(x)));
export const bitwiseAnd = binaryOp("and", (x, y) => (boolOrInt("bitwiseAnd", x), lax.and(x, y)));
export const bitwiseOr = binaryOp("or", (x, y) => (boolOrInt("bitwiseOr", x), lax.or(x, y)));
export const bitwiseXor = binaryOp("xor", (x, y) => (boolOrInt("bitwiseXor", x), lax.xor(x, y)));
export const bitwiseNot = (x: ArrayLike): Array => lax.not(asArray(x));
export const leftShift = binaryOp("shift_left", lax.shiftLeft);
export const rightShift = binaryOp("shift_right", (x, y) =>
  x.dtype === "uint32" ? lax.shiftRightLogical(x, y) : lax.shiftRightArithmetic(x, y),
);

function toBool(x: Array): Array {
  return x.dtype === "bool" ? x : lax.ne(x, cast(asArray(0), x.dtype, x.weakType));
}

/** jnp replaces an integer divisor of 0 by 1, so integer remainders by zero are 0. */
function safeIntDivisor(y: Array): Array {
  if (isFloat(y.dtype)) return y;
  const zero = cast(asArray(0), y.dtype, true);
  return lax.selectN(lax.eq(y, zero), y, lax.broadcastInDim(cast(asArray(1), y.dtype, y.weakType), y.shape, []));
}

/** Python-style remainder: the result has the sign of the divisor (`jnp.remainder`). */
export const remainder = binaryOp("rem", (x, y0) => {
  const y = safeIntDivisor(y0);
  const r = lax.rem(x, y);
  const zero = cast(asArray(0), x.dtype, true);
  const fix = lax.and(lax.ne(r, zero), lax.ne(lax.lt(r, zero), lax.lt(y, zero)));
  return lax.selectN(fix, r, lax.add(r, y));
});
export const mod = remainder;
/** C-style remainder (sign of the dividend), `jnp.fmod`. */
export const fmod = binaryOp("rem", (x, y) => lax.rem(x, safeIntDivisor(y)));

export const negative = unaryOp(lax.neg);
export const exp = unaryOp(lax.exp, true);
export const log = unaryOp(lax.log, true);
export const log1p = unaryOp(lax.log1p, true);
export const expm1 = unaryOp(lax.expm1, true);
export const sin = unaryOp(lax.sin, true);
export const cos = unaryOp(lax.cos, true);
export const tan = unaryOp(lax.tan, true);
export const tanh = unaryOp(lax.tanh, true);
export const sqrt = unaryOp(lax.sqrt, true);
export const rsqrt = unaryOp(lax.rsqrt, true);
export const abs = unaryOp(lax.abs);
export const sign = unaryOp(lax.sign);
export const square = unaryOp(lax.square);
export const floor = unaryOp((x) => (isFloat(x.dtype) ? lax.floor(x) : x));
export const ceil = unaryOp((x) => (isFloat(x.dtype) ? lax.ceil(x) : x));
/** Rounds half to even, as `jnp.round`. */
export const round = unaryOp((x) => (isFloat(x.dtype) ? lax.round(x, 1) : x));
export const reciprocal = (x: ArrayLike): Array => divide(1, x);
export const exp2 = (x: ArrayLike): Array => floatPower(2, x);
export const log2 = (x: ArrayLike): Array => divide(log(x), Math.LN2);
export const log10 = (x: ArrayLike): Array => divide(log(x), Math.LN10);

/** `x ** y`; an integer JS exponent uses `integer_pow`, as JAX does for Python ints. */
export function pow(x: ArrayLike, y: ArrayLike): Array {
  if (typeof y === "number" && Number.isInteger(y) && Math.abs(y) <= 1 << 16) {
    const a = asArray(x);
    if (y === 2) return lax.square(a);
    if (y < 0 && isInteger(a.dtype)) throw new DTypeError(`pow: negative integer power ${y} of integer ${a.aval} — convert to float first`);
    return lax.integerPow(a, y);
  }
  return floatPower(x, y);
}

/** `where(cond, x, y)`: elements of `x` where `cond` is true, else of `y`; all broadcast. */
export function where(cond: ArrayLike, x: ArrayLike, y: ArrayLike): Array {
  const c = toBool(asArray(cond));
  const [a, b] = promote(x, y) as [Array, Array];
  const shape = broadcastShapes("select_n", c, a, b);
  const bc = (v: Array) => broadcastTo(v, shape, "select_n");
  return lax.selectN(c.ndim === 0 ? c : bc(c), bc(b), bc(a));
}

/** Limits values to `[lo, hi]` (either may be null). */
export function clip(x: ArrayLike, lo: ArrayLike | null = null, hi: ArrayLike | null = null): Array {
  let r = asArray(x);
  if (lo !== null) r = maximum(r, lo);
  if (hi !== null) r = minimum(r, hi);
  return r;
}

export function isnan(x: ArrayLike): Array {
  const a = asArray(x);
  return lax.ne(a, a); // only NaN differs from itself
}
export function isinf(x: ArrayLike): Array {
  const a = asArray(x);
  if (!isFloat(a.dtype)) return lax.ne(a, a);
  return lax.eq(lax.abs(a), cast(asArray(Infinity), a.dtype, a.weakType));
}
export function isfinite(x: ArrayLike): Array {
  const a = asArray(x);
  if (!isFloat(a.dtype)) return lax.eq(a, a);
  return lax.lt(lax.abs(a), cast(asArray(Infinity), a.dtype, a.weakType));
}
