/**
 * Dead-code elimination: drops equations whose outputs nothing uses (all primitives are
 * pure), and prunes higher-order primitives whose outputs are partly used, as JAX's DCE
 * rules do: unused `cond` outputs leave every branch; a `scan` or `while` loses the carries
 * no used output (nor, for `while`, the predicate) depends on, a scan its unused `ys`; then
 * operands no body reads are dropped. Bodies are pruned recursively.
 */
import { Var, type Atom, type ClosedJaxpr, type Eqn } from "@wax/tracer";
import { isEqn, mapSubJaxprs, rebuild, withSignature, type EqnOf } from "./rewrite";

/** `closed` without dead equations (its inputs and outputs unchanged). */
export function dce(closed: ClosedJaxpr): ClosedJaxpr {
  const live = new Set<Var>();
  for (const a of closed.jaxpr.outvars) if (a instanceof Var) live.add(a);
  return rebuild(closed, liveEqns(closed.jaxpr.eqns, live), closed.jaxpr.outvars);
}

/** The equations needed for the variables in `live` (which gains their inputs), pruned. */
function liveEqns(eqns: readonly Eqn[], live: Set<Var>): Eqn[] {
  const kept: Eqn[] = [];
  for (let k = eqns.length - 1; k >= 0; k--) {
    const e0 = eqns[k]!;
    if (!e0.outputs.some((v) => live.has(v))) continue;
    const e = prune(e0, live);
    kept.push(e);
    for (const a of e.inputs) if (a instanceof Var) live.add(a);
  }
  return kept.reverse();
}

/**
 * `closed` keeping only the outputs where `keepOut` holds (and the inputs where `keepIn`
 * holds, which must include every input the pruned body reads); returns which inputs the
 * pruned body reads.
 */
function pruneJaxpr(
  closed: ClosedJaxpr,
  keepOut: readonly boolean[],
  keepIn?: readonly boolean[],
): { closed: ClosedJaxpr; reads: boolean[] } {
  const j = closed.jaxpr;
  const outvars = j.outvars.filter((_, i) => keepOut[i]);
  const live = new Set<Var>();
  for (const a of outvars) if (a instanceof Var) live.add(a);
  const eqns = liveEqns(j.eqns, live);
  const reads = j.invars.map((v) => live.has(v));
  const invars = keepIn ? j.invars.filter((_, i) => keepIn[i]) : j.invars;
  const same = invars.length === j.invars.length && outvars.length === j.outvars.length;
  const pruned = rebuild(same ? closed : withSignature(closed, invars, outvars), eqns, outvars);
  return { closed: pruned, reads };
}

/** The equation with the outputs nothing in `live` needs removed, where its primitive allows. */
function prune(e: Eqn, live: Set<Var>): Eqn {
  if (isEqn(e, "cond")) return pruneCond(e, live);
  if (isEqn(e, "scan")) return pruneScan(e, live);
  if (isEqn(e, "while")) return pruneWhile(e, live);
  return mapSubJaxprs(e, dce);
}

const pick = <T>(xs: readonly T[], keep: readonly boolean[], offset = 0): T[] => xs.filter((_, i) => keep[offset + i]);

function pruneCond(e: EqnOf<"cond">, live: Set<Var>): Eqn {
  const used = e.outputs.map((v) => live.has(v));
  const [index, ...ops] = e.inputs;
  const first = e.params.branches.map((b) => pruneJaxpr(b, used));
  const opUsed = ops.map((_, i) => first.some((b) => b.reads[i]));
  const branches = e.params.branches.map((b) => pruneJaxpr(b, used, opUsed).closed);
  if (used.every(Boolean) && opUsed.every(Boolean) && branches.every((b, i) => b === e.params.branches[i])) return e;
  return { ...e, inputs: [index!, ...pick(ops, opUsed)], outputs: pick(e.outputs, used), params: { ...e.params, branches } };
}

/**
 * Carries live to a fixpoint: a carry is live when its output is used or the body needs its
 * input to compute a live carry or a used `ys` (and, for while, when the predicate reads it).
 */
function liveCarries(
  body: ClosedJaxpr,
  nConsts: number,
  nCarry: number,
  seed: boolean[],
  ysUsed: readonly boolean[],
): { carry: boolean[]; body: { closed: ClosedJaxpr; reads: boolean[] } } {
  const carry = [...seed];
  for (;;) {
    const r = pruneJaxpr(body, [...carry, ...ysUsed]);
    let changed = false;
    for (let c = 0; c < nCarry; c++) {
      if (!carry[c] && r.reads[nConsts + c]) {
        carry[c] = true;
        changed = true;
      }
    }
    if (!changed) return { carry, body: r };
  }
}

function pruneScan(e: EqnOf<"scan">, live: Set<Var>): Eqn {
  const p = e.params;
  const nConsts = p.num_consts;
  const nCarry = p.num_carry;
  const used = e.outputs.map((v) => live.has(v));
  const ysUsed = used.slice(nCarry);
  const { carry, body } = liveCarries(p.jaxpr, nConsts, nCarry, used.slice(0, nCarry), ysUsed);
  const constUsed = body.reads.slice(0, nConsts);
  const xsUsed = body.reads.slice(nConsts + nCarry);
  const keepIn = [...constUsed, ...carry, ...xsUsed];
  const keepOut = [...carry, ...ysUsed];
  const jaxpr = pruneJaxpr(p.jaxpr, keepOut, keepIn).closed;
  if (keepIn.every(Boolean) && keepOut.every(Boolean) && jaxpr === p.jaxpr) return e;
  const inputs: Atom[] = pick(e.inputs, keepIn);
  const numConsts = constUsed.filter(Boolean).length;
  const numCarry = carry.filter(Boolean).length;
  return {
    ...e,
    inputs,
    outputs: pick(e.outputs, keepOut),
    params: { ...p, jaxpr, num_consts: numConsts, num_carry: numCarry, linear: pick(p.linear, keepIn) },
  };
}

function pruneWhile(e: EqnOf<"while">, live: Set<Var>): Eqn {
  const p = e.params;
  const nc = p.cond_nconsts;
  const nb = p.body_nconsts;
  const nCarry = e.inputs.length - nc - nb;
  const cond = pruneJaxpr(p.cond_jaxpr, [true]);
  const seed = e.outputs.map((v, c) => live.has(v) || cond.reads[nc + c]!);
  const { carry, body } = liveCarries(p.body_jaxpr, nb, nCarry, seed, []);
  const condConstUsed = cond.reads.slice(0, nc);
  const bodyConstUsed = body.reads.slice(0, nb);
  const condJaxpr = pruneJaxpr(p.cond_jaxpr, [true], [...condConstUsed, ...carry]).closed;
  const bodyJaxpr = pruneJaxpr(p.body_jaxpr, carry, [...bodyConstUsed, ...carry]).closed;
  if (
    carry.every(Boolean) &&
    condConstUsed.every(Boolean) &&
    bodyConstUsed.every(Boolean) &&
    condJaxpr === p.cond_jaxpr &&
    bodyJaxpr === p.body_jaxpr
  )
    return e;
  const inputs = pick(e.inputs, [...condConstUsed, ...bodyConstUsed, ...carry]);
  return {
    ...e,
    inputs,
    outputs: pick(e.outputs, carry),
    params: {
      ...p,
      cond_jaxpr: condJaxpr,
      body_jaxpr: bodyJaxpr,
      cond_nconsts: condConstUsed.filter(Boolean).length,
      body_nconsts: bodyConstUsed.filter(Boolean).length,
    },
  };
}
