/**
 * Automatic differentiation of the control-flow primitives `cond`, `while` and `scan`
 * (JAX's `_cond_jvp`/`_cond_partial_eval`/`_cond_transpose`, `_while_loop_jvp`,
 * `_scan_jvp`/`_scan_partial_eval`/`_scan_transpose`).
 *
 * Forward mode (`jvp`) runs one joint primitive over (primal, tangent) operands, with a
 * fixpoint over which loop carries have nonzero tangents. Under reverse mode wax linearizes
 * directly (`linearizeFlat`): primal ops run in the parent trace while tangent ops are staged
 * into a linear jaxpr. There a joint loop cannot work (its primal outputs would be staged as
 * tangents), so the rules split each primitive in two: a primal one that runs in the parent
 * and also returns the residuals its linear part needs (stacked per iteration for `scan`, as
 * JAX does), and a linear one over the tangents and those residuals. The linear `scan` and
 * `cond` are then transposed by their own rules (a `scan` in the opposite direction, a `cond`
 * over the transposed branches), so the backward program is itself structured control flow.
 * `while` has no transpose: its trip count is dynamic, so there is nowhere to stack residuals.
 */
import type { Array } from "../array";
import type { Aval } from "../aval";
import { TransformError } from "../errors";
import { evalJaxpr } from "../interpreter";
import { ClosedJaxpr, Var } from "../jaxpr";
import type { ScanParams, WhileParams } from "../catalogue";
import { cond as condP, scan as scanP, whileP } from "../primitives/control-flow";
import { traceFlat } from "../staging";
import { bind, currentTrace } from "../trace";
import {
  bindNonlinear,
  carryFixpoint,
  checkClosed,
  dependents,
  falses,
  isNonzero,
  jvpJaxpr,
  linearizeJaxpr,
  linearizing,
  orMask,
  pick,
  prune,
  spread,
  tangentAval,
  trues,
  withSignature,
  type JvpJaxpr,
  type LinearJaxpr,
} from "./ad-jaxpr";
import { UndefinedPrimal, type JvpRule, type JvpRules, type MaybeZero, type TransposeRule, type TransposeRules } from "./rules";
import { backwardPass } from "./transpose";
import { addTangents, instantiate, zerosLikeAval } from "./zeros";

// ---- cond -----------------------------------------------------------------------------------

/** JVP of `cond` (JAX's `_cond_jvp`): a `cond` over the JVPs of the branches; the index has no tangent. */
const condJvp: JvpRule<"cond"> = ([index, ...ops], [, ...tans], { branches }) => {
  const inNz = tans.map(isNonzero);
  const nOut = branches[0]!.outAvals.length;
  const tanVals = tans.filter(isNonzero);
  const lin = linearizing(tans);
  const transform = (b: ClosedJaxpr, inst: boolean[]) => (lin ? linearizeJaxpr("cond", b, inNz, inst) : jvpJaxpr("cond", b, inNz, inst));
  // Output tangents are instantiated wherever any branch has one, so all branches agree; a
  // branch that already has that pattern is not traced again.
  const first = branches.map((b) => transform(b, falses(nOut)));
  const outNz = first.reduce((acc, t) => orMask(acc, t.outNz), falses(nOut));
  const done = first.map((t, i) => (t.outNz.every((nz, k) => nz === outNz[k]) ? t : transform(branches[i]!, outNz)));
  if (lin) return condLinearize(index!, ops, tanVals, branches, done as LinearJaxpr[], outNz);
  const res = bind(condP, [index!, ...ops, ...tanVals], { branches: (done as JvpJaxpr[]).map((t) => t.jaxpr) });
  return [res.slice(0, nOut), spread(res.slice(nOut), outNz)];
};

/**
 * Reverse mode of `cond` (JAX's `_cond_partial_eval`): a primal `cond` whose branches also
 * return residuals — every branch the same list, zeros in the slots of the other branches'
 * residuals (slots of one aval are shared between branches) — and a linear `cond` over
 * `[...residuals, ...tangents]`.
 */
function condLinearize(
  index: Array,
  ops: Array[],
  tanVals: Array[],
  branches: readonly ClosedJaxpr[],
  lins: LinearJaxpr[],
  outNz: boolean[],
): [Array[], MaybeZero[]] {
  const nOut = outNz.length;
  const slots: Aval[] = [];
  const slotOf = lins.map((l) => {
    const used = new Set<number>();
    return l.linear.jaxpr.invars.slice(0, l.numRes).map((v) => {
      let s = slots.findIndex((a, k) => !used.has(k) && a.equals(v.aval) && a.weakType === v.aval.weakType);
      if (s < 0) s = slots.push(v.aval) - 1;
      used.add(s);
      return s;
    });
  });
  const primalBranches = lins.map((l, b) =>
    checkClosed(
      "cond",
      traceFlat(
        (...xs) => {
          const r = evalJaxpr(l.primal, xs);
          const mine = new Map(slotOf[b]!.map((s, k) => [s, r[nOut + k]!]));
          return [...r.slice(0, nOut), ...slots.map((a, s) => mine.get(s) ?? zerosLikeAval(a))];
        },
        branches[b]!.inAvals,
        "linearize",
        currentTrace(),
      ),
    ),
  );
  const linearBranches = lins.map((l, b) => {
    const j = l.linear.jaxpr;
    const resVars = slots.map((a, s) => {
      const k = slotOf[b]!.indexOf(s);
      return k >= 0 ? j.invars[k]! : new Var(a);
    });
    return withSignature(l.linear, [...resVars, ...j.invars.slice(l.numRes)]);
  });
  const res = bind(condP, [index, ...ops], { branches: primalBranches });
  const touts = bind(condP, [index, ...res.slice(nOut), ...tanVals], { branches: linearBranches });
  return [res.slice(0, nOut), spread(touts, outNz)];
}

/** The transpose of a linear `cond`: a `cond` over the transposed branches (index and residuals stay). */
const condTranspose: TransposeRule<"cond"> = (cts, [index, ...ops], { branches }) => {
  if (index === undefined || index instanceof UndefinedPrimal)
    throw new TransformError("cond: the branch index is linear in a reverse-mode program — this is a wax bug");
  const lin = ops.map((o) => o instanceof UndefinedPrimal);
  if (cts.every((c) => c === null)) return [null, ...ops.map(() => null)];
  const res = ops.filter((o): o is Array => !(o instanceof UndefinedPrimal));
  const ctNz = cts.map(isNonzero);
  const ctVals = cts.filter(isNonzero);
  const linAvals = pick(ops, lin).map((o) => o.aval);
  const transposed = branches.map((b) =>
    checkClosed(
      "cond",
      traceFlat(
        (...xs) => {
          const cin = backwardPass(bindNonlinear(b, lin, xs.slice(0, res.length)), spread(xs.slice(res.length), ctNz));
          return cin.map((c, i) => instantiate(c, linAvals[i]!));
        },
        [...res, ...ctVals].map((x) => x.aval),
        "transpose",
        currentTrace(),
      ),
    ),
  );
  const out = bind(condP, [index, ...res, ...ctVals], { branches: transposed });
  return [null, ...spread(out, lin)];
};

// ---- while ----------------------------------------------------------------------------------

/**
 * Forward mode of `while`: one loop whose carry is (primal, tangent) for the carries with
 * nonzero tangents; `cond_jaxpr` sees only the primals. Under `linearize` the primal loop runs
 * in the parent and the joint loop is staged as the tangent program, where its transpose
 * raises JAX's error (there is no reverse mode for a dynamic trip count).
 */
const whileJvp: JvpRule<"while"> = (primals, tangents, params) => {
  const { cond_jaxpr, body_jaxpr, cond_nconsts: nc, body_nconsts: nb } = params;
  const cc = primals.slice(0, nc);
  const bc = primals.slice(nc, nc + nb);
  const init = primals.slice(nc + nb);
  const bcNz = tangents.slice(nc, nc + nb).map(isNonzero);
  const initT = tangents.slice(nc + nb);
  const [carryNz, { jaxpr: jb }] = carryFixpoint(initT.map(isNonzero), (nz) => {
    const j = jvpJaxpr("while", body_jaxpr, [...bcNz, ...nz], nz);
    return [j, j.outNz];
  });
  const nbt = bcNz.filter(Boolean).length;
  const nk = init.length;
  const nkt = carryNz.filter(Boolean).length;
  // jvpJaxpr orders inputs [bc, carry, bc_t, carry_t]; the loop wants [bc, bc_t, carry, carry_t].
  const v = jb.jaxpr.invars;
  const body = withSignature(jb, [
    ...v.slice(0, nb),
    ...v.slice(nb + nk, nb + nk + nbt),
    ...v.slice(nb, nb + nk),
    ...v.slice(nb + nk + nbt),
  ]);
  const cj = cond_jaxpr.jaxpr;
  const cond = withSignature(cond_jaxpr, [...cj.invars, ...pick(init, carryNz).map((x) => new Var(tangentAval(x.aval)))]);
  const carryT = pick(
    init.map((x, i) => instantiate(initT[i] ?? null, tangentAval(x.aval))),
    carryNz,
  );
  const operands = [...cc, ...bc, ...pick(tangents.slice(nc, nc + nb), bcNz).filter(isNonzero), ...init, ...carryT];
  const jointParams: WhileParams = { cond_jaxpr: cond, body_jaxpr: body, cond_nconsts: nc, body_nconsts: nb + nbt };
  if (linearizing(tangents)) {
    const outs = bind(whileP, primals, params);
    const joint = bind(whileP, operands, jointParams);
    return [outs, spread(joint.slice(nk), carryNz)];
  }
  const outs = bind(whileP, operands, jointParams);
  return [outs.slice(0, nk), spread(outs.slice(nk, nk + nkt), carryNz)];
};

/** JAX's `_while_transpose_error`. */
const whileTranspose: TransposeRule<"while"> = () => {
  throw new TransformError(
    "while: Reverse-mode differentiation does not work for lax.whileLoop or lax.foriLoop with dynamic start/stop values — " +
      "try using lax.scan, or using lax.foriLoop with static start/stop values (JS numbers)",
  );
};

// ---- scan -----------------------------------------------------------------------------------

/** Splits a scan's operands (or linearity flags, ...) into `[consts, carry, xs]`. */
function scanParts<T>(xs: readonly T[], p: ScanParams): [T[], T[], T[]] {
  return [xs.slice(0, p.num_consts), xs.slice(p.num_consts, p.num_consts + p.num_carry), xs.slice(p.num_consts + p.num_carry)];
}

/**
 * JVP of `scan` (JAX's `_scan_jvp`): a fixpoint finds the carries with nonzero tangents, then
 * either one joint scan over (primal, tangent) operands, or under `linearize` the split of
 * `scanLinearize`.
 */
const scanJvp: JvpRule<"scan"> = (primals, tangents, params) => {
  const body = params.jaxpr;
  const [, , xs] = scanParts(primals, params);
  const [constNz, initNz, xsNz] = scanParts(tangents.map(isNonzero), params);
  const nK = params.num_carry;
  const nY = body.outAvals.length - nK;
  const lin = linearizing(tangents);
  const [carryNz, traced] = carryFixpoint(initNz, (nz) => {
    const inNz = [...constNz, ...nz, ...xsNz];
    const inst = [...nz, ...falses(nY)];
    const t = lin ? linearizeJaxpr("scan", body, inNz, inst) : jvpJaxpr("scan", body, inNz, inst);
    return [t, t.outNz.slice(0, nK)];
  });
  const [, initT] = scanParts(tangents, params);
  const carryT = pick(
    initT.map((t, i) => instantiate(t, tangentAval(primals[params.num_consts + i]!.aval))),
    carryNz,
  );
  const [constT, , xsT] = scanParts(tangents, params);
  const tangentOps: [Array[], Array[], Array[]] = [constT.filter(isNonzero), carryT, xsT.filter(isNonzero)];
  if (lin) return scanLinearize(primals, tangentOps, params, traced as LinearJaxpr);

  // Joint scan over [consts, consts_t, carry, carry_t, xs, xs_t] → [carry, carry_t, ys, ys_t].
  const { jaxpr, outNz } = traced as JvpJaxpr;
  const [nC, nX] = [params.num_consts, xs.length];
  const [nCt, nKt, nXt] = tangentOps.map((t) => t.length) as [number, number, number];
  const iv = jaxpr.jaxpr.invars;
  const ov = jaxpr.jaxpr.outvars;
  const p = nC + nK + nX; // start of the tangent inputs
  const joint = withSignature(
    jaxpr,
    [
      ...iv.slice(0, nC),
      ...iv.slice(p, p + nCt),
      ...iv.slice(nC, nC + nK),
      ...iv.slice(p + nCt, p + nCt + nKt),
      ...iv.slice(nC + nK, p),
      ...iv.slice(p + nCt + nKt),
    ],
    [...ov.slice(0, nK), ...ov.slice(nK + nY, nK + nY + nKt), ...ov.slice(nK, nK + nY), ...ov.slice(nK + nY + nKt)],
  );
  const [linC, linK, linX] = scanParts(params.linear, params);
  const outs = bind(scanP, [...primals.slice(0, nC), ...tangentOps[0], ...primals.slice(nC, nC + nK), ...carryT, ...xs, ...tangentOps[2]], {
    ...params,
    jaxpr: joint,
    num_consts: nC + nCt,
    num_carry: nK + nKt,
    linear: [...linC, ...trues(nCt), ...linK, ...trues(nKt), ...linX, ...trues(nXt)],
  });
  const carryOut = outs.slice(0, nK);
  const carryTOut = outs.slice(nK, nK + nKt);
  const ys = outs.slice(nK + nKt, nK + nKt + nY);
  const ysT = outs.slice(nK + nKt + nY);
  return [
    [...carryOut, ...ys],
    [...spread(carryTOut, carryNz), ...spread(ysT, outNz.slice(nK))],
  ];
};

/**
 * Reverse mode of `scan` (JAX's `_scan_partial_eval`): the body is linearized once; a primal
 * scan runs its primal part in the parent trace and also returns, stacked per iteration as
 * extra `ys`, the residuals that vary across iterations; a linear scan (operands marked in
 * `linear`) runs the tangent part on `[loop-invariant residuals, const tangents | carry
 * tangents | xs tangents, residuals that are xs, stacked residuals]`. Loop-invariant residuals
 * (functions of the consts only) are computed once, outside the loop.
 */
function scanLinearize(
  primals: Array[],
  [constT, carryT, xsT]: [Array[], Array[], Array[]],
  params: ScanParams,
  lin: LinearJaxpr,
): [Array[], MaybeZero[]] {
  const nK = params.num_carry;
  const [consts, , xs] = scanParts(primals, params);
  const P = lin.primal.jaxpr;
  const nOut = P.outvars.length - lin.numRes;
  const resOut = P.outvars.slice(nOut);
  const [constIn, , xsIn] = scanParts(P.invars, params);
  const varying = dependents(P, P.invars.slice(params.num_consts));
  type Kind = "invariant" | "xs" | "stacked";
  const kinds: Kind[] = resOut.map((r) => (!(r instanceof Var) || !varying.has(r) ? "invariant" : xsIn.includes(r) ? "xs" : "stacked"));
  const of = (k: Kind) => kinds.map((x) => x === k);
  const invariantVals = evalJaxpr(new ClosedJaxpr(prune(P, constIn, pick(resOut, of("invariant"))), lin.primal.consts), consts);
  const forwardedXs = pick(resOut, of("xs")).map((r) => xs[xsIn.indexOf(r as Var)]!);
  const stackedOut = pick(resOut, of("stacked"));
  const primalBody = new ClosedJaxpr(prune(P, P.invars, [...P.outvars.slice(0, nOut), ...stackedOut]), lin.primal.consts);
  const res = bind(scanP, primals, { ...params, jaxpr: primalBody });
  const stackedVals = res.slice(nOut);

  const L = lin.linear.jaxpr;
  const resIn = L.invars.slice(0, lin.numRes);
  const [nCt, nKt, nXt] = [constT.length, carryT.length, xsT.length];
  const tIn = L.invars.slice(lin.numRes);
  const linearBody = withSignature(lin.linear, [
    ...pick(resIn, of("invariant")),
    ...tIn.slice(0, nCt),
    ...tIn.slice(nCt, nCt + nKt),
    ...tIn.slice(nCt + nKt),
    ...pick(resIn, of("xs")),
    ...pick(resIn, of("stacked")),
  ]);
  const nInv = invariantVals.length;
  const tangentParams: ScanParams = {
    jaxpr: linearBody,
    length: params.length,
    reverse: params.reverse,
    unroll: params.unroll,
    num_consts: nInv + nCt,
    num_carry: nKt,
    linear: [...falses(nInv), ...trues(nCt + nKt + nXt), ...falses(forwardedXs.length + stackedVals.length)],
    _split_transpose: false,
  };
  const touts = bind(scanP, [...invariantVals, ...constT, ...carryT, ...xsT, ...forwardedXs, ...stackedVals], tangentParams);
  const carryNz = lin.outNz.slice(0, nK);
  return [res.slice(0, nOut), [...spread(touts.slice(0, nKt), carryNz), ...spread(touts.slice(nKt), lin.outNz.slice(nK))]];
}

/**
 * The transpose of a linear `scan` (JAX's `_scan_transpose`): a scan in the opposite
 * direction whose carry is (cotangent accumulators of the linear consts, carry cotangent) and
 * whose xs are (nonzero ys cotangents, non-linear xs); its body is the backward pass of the
 * original body. Non-linear consts (residuals) stay consts.
 */
const scanTranspose: TransposeRule<"scan"> = (cts, args, params) => {
  if (cts.every((c) => c === null)) return args.map(() => null);
  const [linC, linK0, linX] = scanParts(
    args.map((a) => a instanceof UndefinedPrimal),
    params,
  );
  // Every carry is transposed as linear, as JAX does: a known carry of a linear scan is a
  // constant (zeros instantiated for a symbolic-zero tangent), and the body is linear in the
  // carry and the linear inputs jointly, so its value does not change the other cotangents.
  const linK = linK0.map(() => true);
  const [cArgs, kArgs, xArgs] = scanParts(args, params);
  const body = params.jaxpr;
  const nK = params.num_carry;
  const resC = cArgs.filter((a): a is Array => !(a instanceof UndefinedPrimal));
  const resX = xArgs.filter((a): a is Array => !(a instanceof UndefinedPrimal));
  const linConstAvals = pick(cArgs, linC).map((a) => a.aval);
  const carryAvals = kArgs.map((a) => a.aval);
  const xAvals = body.inAvals.slice(params.num_consts + nK);
  const linXAvals = pick(xAvals, linX);
  const yAvals = body.outAvals.slice(nK);
  const ctCarry = cts.slice(0, nK).map((c, i) => instantiate(c, carryAvals[i]!));
  const ctYs = cts.slice(nK);
  const ctYNz = ctYs.map(isNonzero);
  const ctYVals = ctYs.filter(isNonzero);
  const nRC = resC.length;
  const nA = linConstAvals.length;
  const linear = [...linC, ...linK, ...linX];
  const tBody = checkClosed(
    "scan",
    traceFlat(
      (...v) => {
        const rc = v.slice(0, nRC);
        const acc = v.slice(nRC, nRC + nA);
        const ck = v.slice(nRC + nA, nRC + nA + nK);
        const cy = v.slice(nRC + nA + nK, nRC + nA + nK + ctYVals.length);
        const rx = v.slice(nRC + nA + nK + ctYVals.length);
        const values = [...rc, ...rx]; // the non-linear inputs, in the body's order
        const cin = backwardPass(bindNonlinear(body, linear, values), [...ck, ...spread(cy, ctYNz)]);
        const ctConst = cin.slice(0, nA);
        const ctK = cin.slice(nA, nA + nK);
        const ctX = cin.slice(nA + nK);
        return [
          ...acc.map((a, i) => addTangents(a, ctConst[i] ?? null)!),
          ...ctK.map((c, i) => instantiate(c, carryAvals[i]!)),
          ...ctX.map((c, i) => instantiate(c, linXAvals[i]!)),
        ];
      },
      [
        ...resC.map((r) => r.aval),
        ...linConstAvals,
        ...carryAvals,
        ...pick(yAvals, ctYNz),
        ...pick(
          xAvals,
          linX.map((l) => !l),
        ),
      ],
      "transpose",
      currentTrace(),
    ),
  );
  const nCy = ctYVals.length;
  const out = bind(scanP, [...resC, ...linConstAvals.map((a) => zerosLikeAval(a)), ...ctCarry, ...ctYVals, ...resX], {
    jaxpr: tBody,
    length: params.length,
    reverse: !params.reverse,
    unroll: params.unroll,
    num_consts: nRC,
    num_carry: nA + nK,
    linear: [...falses(nRC), ...trues(nA + nK + nCy), ...falses(resX.length)],
    _split_transpose: false,
  });
  const ctConsts = out.slice(0, nA);
  const ctInit = out.slice(nA, nA + nK);
  const ctXs = out.slice(nA + nK);
  return [...spread(ctConsts, linC), ...ctInit.map((c, i) => (linK0[i] ? c : null)), ...spread(ctXs, linX)];
};

// ---- the tables' share ----------------------------------------------------------------------

/** JVP rules of the control-flow primitives (forward mode, and the linearization of reverse mode). */
export const controlFlowJvpRules: JvpRules<"cond" | "while" | "scan"> = { cond: condJvp, while: whileJvp, scan: scanJvp };

/** Transpose rules of the control-flow primitives; `while`'s raises JAX's reverse-mode error. */
export const controlFlowTransposeRules: TransposeRules<"cond" | "while" | "scan"> = {
  cond: condTranspose,
  while: whileTranspose,
  scan: scanTranspose,
};
