/**
 * The backward pass: evaluates the transpose of a linear jaxpr (the tangent program from
 * `linearize`) on output cotangents, binding primitives in the current trace, so reverse
 * mode composes with every other transform (`grad(grad)`, `vmap(grad)`, `makeJaxpr(grad)`).
 */
import { scalar, type Array } from "../array";
import { TransformError } from "../errors";
import { Literal, Var, type Atom, type ClosedJaxpr } from "../jaxpr";
import * as lax from "../lax";
import { bind } from "../trace";
import { UndefinedPrimal, type MaybeZero } from "./rules";
import { transposeRuleOf } from "./tables";
import { addTangents } from "./zeros";

/** Sums a cotangent down to a rank-0 operand that was broadcast implicitly by a lax op. */
export function fitCotangent(ct: Array, aval: { ndim: number; shape: readonly number[] }): Array {
  if (aval.ndim === 0 && ct.ndim > 0)
    return lax.reduceSum(
      ct,
      ct.shape.map((_, i) => i),
    );
  return ct;
}

/** Cotangents of the jaxpr's inputs given cotangents of its outputs (`null` = zero). */
export function backwardPass(linear: ClosedJaxpr, cts: readonly MaybeZero[]): MaybeZero[] {
  const j = linear.jaxpr;
  const linearVars = new Set<Var>(j.invars);
  // Forward values of non-linear variables: the constants (residuals of the primal).
  const env = new Map<Var, Array>();
  j.constvars.forEach((v, i) => env.set(v, linear.consts[i]!));
  const nonLinear: number[] = [];
  j.eqns.forEach((e, k) => {
    if (e.inputs.some((a) => a instanceof Var && linearVars.has(a))) e.outputs.forEach((v) => linearVars.add(v));
    else nonLinear.push(k);
  });
  const read = (a: Atom): Array => (a instanceof Literal ? scalar(a.value, a.aval.dtype, a.aval.weakType) : env.get(a)!);
  for (const k of nonLinear) {
    const e = j.eqns[k]!;
    const outs = bind(e.prim, e.inputs.map(read), e.params);
    e.outputs.forEach((v, i) => env.set(v, outs[i]!));
  }

  const ctEnv = new Map<Var, Array>();
  const accum = (v: Var, ct: MaybeZero) => {
    if (ct === null || !linearVars.has(v)) return;
    const fitted = fitCotangent(ct, v.aval);
    ctEnv.set(v, addTangents(ctEnv.get(v) ?? null, fitted)!);
  };
  j.outvars.forEach((a, i) => {
    if (a instanceof Var) accum(a, cts[i] ?? null);
  });
  for (let k = j.eqns.length - 1; k >= 0; k--) {
    const e = j.eqns[k]!;
    if (!e.inputs.some((a) => a instanceof Var && linearVars.has(a))) continue;
    const ctsOut = e.outputs.map((v) => ctEnv.get(v) ?? null);
    if (ctsOut.every((c) => c === null)) continue;
    const rule = transposeRuleOf(e.prim);
    if (!rule) throw new TransformError(`${e.prim.name}: no transpose rule — it cannot appear linearly in a reverse-mode program`);
    const args = e.inputs.map((a) => (a instanceof Var && linearVars.has(a) ? new UndefinedPrimal(a.aval) : read(a)));
    const ctsIn = rule(ctsOut, args, e.params);
    e.inputs.forEach((a, i) => {
      if (a instanceof Var && linearVars.has(a)) accum(a, ctsIn[i] ?? null);
    });
  }
  return j.invars.map((v) => ctEnv.get(v) ?? null);
}
