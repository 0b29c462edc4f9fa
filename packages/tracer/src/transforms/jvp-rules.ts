/**
 * JVP rules of every differentiable primitive (JAX's `ad.defjvp` family). Rules compute
 * tangents with ordinary ops, so the same rule serves `jvp` and `linearize`.
 */
import { scalar, type Array } from "../array";
import { isFloat } from "../dtype";
import * as lax from "../lax";
import type { ParamsOf, PrimName, Primitive } from "../primitive";
import * as P from "../primitives/all";
import { bind, bind1 } from "../trace";
import type { JvpRule, JvpRules, MaybeZero, CoreRuleNames } from "./rules";
import { addTangents, instantiate, zerosLikeAval } from "./zeros";

const lit = (v: number, like: Array) => scalar(v, like.dtype, true);

/** Each nonzero tangent mapped through `f(tangent, index)`, summed. */
function sumTerms(tangents: MaybeZero[], f: (t: Array, i: number) => Array): MaybeZero {
  let acc: MaybeZero = null;
  tangents.forEach((t, i) => {
    if (t !== null) acc = addTangents(acc, f(t, i));
  });
  return acc;
}

/** Primitive applied to primals, tangent from `tangentOf(ans)`. */
function defJvp<N extends PrimName>(
  prim: Primitive<N>,
  ...terms: ((t: Array, ans: Array, primals: Array[], params: ParamsOf<N>) => Array)[]
): JvpRule<N> {
  return (primals, tangents, params) => {
    const ans = bind1(prim, primals, params);
    const t = sumTerms(tangents, (ti, i) => terms[i]!(ti, ans, primals, params));
    return [[ans], [t]];
  };
}

/** A linear primitive: the tangent is the primitive applied to the tangents (zeros instantiated). */
function defLinear<N extends PrimName>(prim: Primitive<N>, nonLinearArgs: number[] = []): JvpRule<N> {
  return (primals, tangents, params) => {
    const outs = bind(prim, primals, params);
    if (tangents.every((t, i) => t === null || nonLinearArgs.includes(i))) return [outs, outs.map(() => null)];
    const targs = primals.map((p, i) => (nonLinearArgs.includes(i) ? p : instantiate(tangents[i] ?? null, p.aval)));
    return [outs, bind(prim, targs, params)];
  };
}

/** Outputs have no tangent (integer/boolean results, piecewise-constant functions). */
function defZero<N extends PrimName>(prim: Primitive<N>): JvpRule<N> {
  return (primals, _t, params) => {
    const outs = bind(prim, primals, params);
    return [outs, outs.map(() => null)];
  };
}

// ---- helpers of several rules ---------------------------------------------------------------

function fill(v: number, like: Array): Array {
  return lax.broadcastInDim(lit(v, like), like.shape, []);
}

/** JAX's balanced tie-breaking: at x == y each operand gets half of its tangent. */
function minMaxJvp<N extends "max" | "min">(prim: Primitive<N>, pick: (x: Array, y: Array) => Array): JvpRule<N> {
  return ([x, y], [tx = null, ty = null], params) => {
    const ans = bind1(prim, [x!, y!], params);
    const shapeLike = ans;
    const wx = lax.selectN(pick(x!, y!), lax.selectN(lax.eq(x!, y!), fill(0, shapeLike), fill(0.5, shapeLike)), fill(1, shapeLike));
    const wy = lax.sub(fill(1, shapeLike), wx);
    const t = sumTerms([tx ?? null, ty ?? null], (ti, i) => lax.mul(ti, i === 0 ? wx : wy));
    return [[ans], [t]];
  };
}

/** Tangent of max/min: the mean of the tangents at the positions of the extremum (ties split). */
function extremumJvp<N extends "reduce_max" | "reduce_min">(prim: Primitive<N>): JvpRule<N> {
  return ([x], [t = null], params) => {
    const ans = bind1(prim, [x!], params);
    if (t === null) return [[ans], [null]];
    const axes = params.axes;
    const keep = x!.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const ansB = lax.broadcastInDim(ans, x!.shape, keep);
    const loc = lax.convertElementType(lax.eq(x!, ansB), x!.dtype);
    const counts = lax.reduceSum(loc, axes);
    return [[ans], [lax.div(lax.reduceSum(lax.mul(t, loc), axes), counts)]];
  };
}

/**
 * Product and its tangent by pairwise halving (as JAX's reduce_prod JVP): exact at zeros,
 * where `prod · Σ t/x` would give 0·∞. Operates on `[n, ...rest]` with the reduced axes
 * flattened in front.
 */
function prodPairwise(x: Array, t: Array): [Array, Array] {
  const n = x.shape[0]!;
  const rest = x.shape.slice(1);
  if (n === 1) return [lax.reshape(x, rest), lax.reshape(t, rest)];
  let xx = x;
  let tt = t;
  if (n % 2 === 1) {
    const cfg = [[0, 1, 0] as const, ...rest.map(() => [0, 0, 0] as const)];
    xx = lax.pad(x, lit(1, x), cfg);
    tt = lax.pad(t, lit(0, t), cfg);
  }
  const h = xx.shape[0]! / 2;
  const half = (a: Array, k: number) => lax.slice(a, [k * h, ...rest.map(() => 0)], [(k + 1) * h, ...rest]);
  const [p1, t1] = prodPairwise(half(xx, 0), half(tt, 0));
  const [p2, t2] = prodPairwise(half(xx, 1), half(tt, 1));
  return [lax.mul(p1, p2), lax.add(lax.mul(t1, p2), lax.mul(p1, t2))];
}

/**
 * add/sub: a symbolic-zero tangent is not instantiated when the other one already has the
 * output's shape (so tangent programs, and scan bodies built from them, carry no zeros).
 */
function addSubJvp<N extends "add" | "sub">(prim: Primitive<N>): JvpRule<N> {
  const linear = defLinear(prim);
  return (primals, tangents, params) => {
    const [tx, ty] = tangents;
    if ((tx == null) === (ty == null)) return linear(primals, tangents, params);
    const ans = bind1(prim, primals, params);
    const t = (tx ?? ty)!;
    if (!t.aval.equals(ans.aval.withWeak(t.aval.weakType))) return linear(primals, tangents, params);
    return [[ans], [tx != null || prim.name === "add" ? t : lax.neg(t)]];
  };
}

/** pmax/pmin select one instance's value: the mean of the tangents of the instances that attain it. */
function pExtremumJvp<N extends "pmax" | "pmin">(p: Primitive<N>): JvpRule<N> {
  return ([x], [t = null], params) => {
    const ans = bind1(p, [x!], params);
    if (t === null) return [[ans], [null]];
    const loc = lax.convertElementType(lax.eq(x!, ans), x!.dtype);
    const num = bind1(P.psum, [lax.mul(t, loc)], { axes: params.axes });
    const den = bind1(P.psum, [loc], { axes: params.axes });
    return [[ans], [lax.div(num, den)]];
  };
}

export const coreJvpRules: JvpRules<CoreRuleNames> = {
  // ---- elementwise ------------------------------------------------------------------------
  neg: defJvp(P.neg, (t) => lax.neg(t)),
  exp: defJvp(P.exp, (t, ans) => lax.mul(t, ans)),
  log: defJvp(P.log, (t, _a, [x]) => lax.div(t, x!)),
  log1p: defJvp(P.log1p, (t, _a, [x]) => lax.div(t, lax.add(x!, lit(1, x!)))),
  expm1: defJvp(P.expm1, (t, ans) => lax.mul(t, lax.add(ans, lit(1, ans)))),
  sin: defJvp(P.sin, (t, _a, [x]) => lax.mul(t, lax.cos(x!))),
  cos: defJvp(P.cos, (t, _a, [x]) => lax.neg(lax.mul(t, lax.sin(x!)))),
  tan: defJvp(P.tan, (t, ans) => lax.mul(t, lax.add(lit(1, ans), lax.square(ans)))),
  tanh: defJvp(P.tanh, (t, ans) => lax.mul(t, lax.sub(lit(1, ans), lax.square(ans)))),
  logistic: defJvp(P.logistic, (t, ans) => lax.mul(t, lax.mul(ans, lax.sub(lit(1, ans), ans)))),
  sqrt: defJvp(P.sqrt, (t, ans) => lax.div(lax.mul(t, lit(0.5, ans)), ans)),
  rsqrt: defJvp(P.rsqrt, (t, ans, [x]) => lax.mul(t, lax.div(lax.mul(ans, lit(-0.5, ans)), x!))),
  // JAX: select(x >= 0, t, -t), so the derivative at 0 is +1.
  abs: defJvp(P.abs, (t, _a, [x]) => lax.selectN(lax.ge(x!, lit(0, x!)), lax.neg(t), t)),
  erf: defJvp(P.erfP, (t, _a, [x]) => lax.mul(t, lax.mul(lit(2 / Math.sqrt(Math.PI), x!), lax.exp(lax.neg(lax.square(x!)))))),
  erf_inv: defJvp(P.erfInvP, (t, ans) => lax.mul(t, lax.mul(lit(Math.sqrt(Math.PI) / 2, ans), lax.exp(lax.square(ans))))),
  square: defJvp(P.square, (t, _a, [x]) => lax.mul(t, lax.mul(lit(2, x!), x!))),
  integer_pow: ([x], [t = null], params) => {
    const y = params.y;
    const ans = lax.integerPow(x!, y);
    if (t === null || y === 0) return [[ans], [null]];
    const d = y === 1 ? lit(1, x!) : y === 2 ? lax.mul(lit(2, x!), x!) : lax.mul(lit(y, x!), lax.integerPow(x!, y - 1));
    return [[ans], [lax.mul(t, d)]];
  },
  sign: defZero(P.sign),
  floor: defZero(P.floor),
  ceil: defZero(P.ceil),
  round: defZero(P.round),
  stop_gradient: defZero(P.stopGradient),
  // Tangents pass beside the barrier: it only has to stop passes on the primal program.
  optimization_barrier: (primals, tangents) => [bind(P.optimizationBarrier, primals), tangents],

  add: addSubJvp(P.add),
  sub: addSubJvp(P.sub),
  mul: defJvp(
    P.mul,
    (t, _a, [, y]) => lax.mul(t, y!),
    (t, _a, [x]) => lax.mul(x!, t),
  ),
  div: defJvp(
    P.div,
    (t, _a, [, y]) => lax.div(t, y!),
    (t, ans, [, y]) => lax.neg(lax.mul(t, lax.div(ans, y!))),
  ),
  // d/dx x^y = y x^(y-1); d/dy = log(x) x^y, with log(0) replaced by 0 as JAX does.
  pow: defJvp(
    P.pow,
    // JAX's _pow_jvp_lhs: y · x^(y-1), with the exponent 1 where y == 0 (x^0 ≡ 1 has slope 0).
    (t, _a, [x, y]) => {
      const yMinus1 = lax.selectN(lax.eq(y!, lit(0, y!)), lax.sub(y!, lit(1, y!)), lax.broadcastInDim(lit(1, y!), y!.shape, []));
      return lax.mul(t, lax.mul(y!, lax.pow(x!, yMinus1)));
    },
    (t, ans, [x]) => {
      const safeX = lax.selectN(lax.eq(x!, lit(0, x!)), x!, lax.broadcastInDim(lit(1, x!), x!.shape, []));
      return lax.mul(t, lax.mul(lax.log(safeX), ans));
    },
  ),
  max: minMaxJvp(P.max, (x, y) => lax.gt(x, y)),
  min: minMaxJvp(P.min, (x, y) => lax.lt(x, y)),
  // rem(x, y) = x - y * trunc(x / y)
  rem: defJvp(
    P.rem,
    // a rank-0 x broadcasts against y: so does its tangent
    (t, ans) => (t.ndim === ans.ndim ? t : lax.broadcastInDim(t, ans.shape, [])),
    (t, _a, [x, y]) => {
      const q = lax.div(x!, y!);
      return lax.neg(lax.mul(t, lax.mul(lax.sign(q), lax.floor(lax.abs(q)))));
    },
  ),
  atan2: defJvp(
    P.atan2,
    (t, _a, [x, y]) => lax.mul(t, lax.div(y!, lax.add(lax.square(x!), lax.square(y!)))),
    (t, _a, [x, y]) => lax.neg(lax.mul(t, lax.div(x!, lax.add(lax.square(x!), lax.square(y!))))),
  ),

  eq: defZero(P.eq),
  ne: defZero(P.ne),
  lt: defZero(P.lt),
  le: defZero(P.le),
  gt: defZero(P.gt),
  ge: defZero(P.ge),
  and: defZero(P.and),
  or: defZero(P.or),
  xor: defZero(P.xor),
  not: defZero(P.not),
  shift_left: defZero(P.shiftLeft),
  shift_right_logical: defZero(P.shiftRightLogical),
  shift_right_arithmetic: defZero(P.shiftRightArithmetic),
  iota: defZero(P.iota),
  argmax: defZero(P.argmax),
  argmin: defZero(P.argmin),
  threefry2x32: defZero(P.threefry2x32),
  bitcast_convert_type: defZero(P.bitcastConvertType),
  axis_index: defZero(P.axisIndex),

  select_n: ([pred, ...cases], [, ...tcases], params) => {
    const ans = bind1(P.selectN, [pred!, ...cases], params);
    if (tcases.every((t) => t === null) || !isFloat(ans.dtype)) return [[ans], [null]];
    return [[ans], [lax.selectN(pred!, ...tcases.map((t, i) => instantiate(t ?? null, cases[i]!.aval)))]];
  },
  convert_element_type: ([x], [t = null], params) => {
    const ans = bind1(P.convertElementType, [x!], params);
    if (t === null || !isFloat(x!.dtype) || !isFloat(ans.dtype)) return [[ans], [null]];
    return [[ans], [lax.convertElementType(t, ans.dtype, false)]];
  },

  // ---- structural (linear) ----------------------------------------------------------------
  broadcast_in_dim: defLinear(P.broadcastInDim),
  reshape: defLinear(P.reshape),
  transpose: defLinear(P.transpose),
  squeeze: defLinear(P.squeeze),
  slice: defLinear(P.slice),
  concatenate: defLinear(P.concatenate),
  reduce_sum: defLinear(P.reduceSum),
  cumsum: defLinear(P.cumsum),
  psum: defLinear(P.psum),
  all_gather: defLinear(P.allGather),
  psum_scatter: defLinear(P.psumScatter),
  // Index operands are not differentiated.
  dynamic_slice: ([x, ...idx], [t = null], params) => {
    const ans = bind1(P.dynamicSlice, [x!, ...idx], params);
    return [[ans], [t ? bind1(P.dynamicSlice, [t, ...idx], params) : null]];
  },
  dynamic_update_slice: ([x, u, ...idx], [tx = null, tu = null], params) => {
    const ans = bind1(P.dynamicUpdateSlice, [x!, u!, ...idx], params);
    if (!tx && !tu) return [[ans], [null]];
    return [[ans], [bind1(P.dynamicUpdateSlice, [instantiate(tx ?? null, x!.aval), instantiate(tu ?? null, u!.aval), ...idx], params)]];
  },
  pad: ([x, v], [tx = null, tv = null], params) => {
    const ans = bind1(P.pad, [x!, v!], params);
    if (!tx && !tv) return [[ans], [null]];
    return [[ans], [bind1(P.pad, [instantiate(tx ?? null, x!.aval), instantiate(tv ?? null, v!.aval)], params)]];
  },

  // ---- reductions -------------------------------------------------------------------------
  reduce_max: extremumJvp(P.reduceMax),
  reduce_min: extremumJvp(P.reduceMin),
  reduce_prod: ([x], [t = null], params) => {
    const ans = bind1(P.reduceProd, [x!], params);
    if (t === null) return [[ans], [null]];
    const axes = params.axes;
    const keep = x!.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const n = axes.reduce((acc, a) => acc * x!.shape[a]!, 1);
    if (n === 0) return [[ans], [zerosLikeAval(ans.aval)]];
    const front = (a: Array) => lax.reshape(lax.transpose(a, [...axes, ...keep]), [n, ...keep.map((i) => x!.shape[i]!)]);
    const [, tp] = prodPairwise(front(x!), front(t));
    return [[ans], [tp]];
  },

  // ---- dot_general (bilinear) -------------------------------------------------------------
  dot_general: ([x, y], [tx = null, ty = null], params) => {
    const ans = bind1(P.dotGeneral, [x!, y!], params);
    const t = sumTerms([tx ?? null, ty ?? null], (ti, i) => bind1(P.dotGeneral, i === 0 ? [ti, y!] : [x!, ti], params));
    return [[ans], [t]];
  },

  pmax: pExtremumJvp(P.pmax),
  pmin: pExtremumJvp(P.pmin),
};

export { zerosLikeAval };
