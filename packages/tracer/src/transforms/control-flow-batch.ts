/**
 * Batching rules (vmap) of the control-flow primitives, after JAX's `_cond_batching_rule`,
 * `_while_loop_batching_rule` and `_scan_batching_rule`.
 *
 * A sub-jaxpr is batched by re-tracing it under a fresh `BatchTrace` (`batchJaxpr`): batched
 * inputs carry the batch axis first, and so do batched outputs. Which loop carries are
 * batched is a fixpoint (a carry is batched if its init is or if the body makes it so).
 * - `cond` with a batched index runs every branch and selects each lane's result
 *   (`select_n`); with an unbatched index it stays a `cond` of batched branches.
 * - `while` with a batched predicate runs until every lane is done, freezing finished lanes
 *   with a select; otherwise it stays a `while` of batched bodies.
 * - `scan` keeps its loop: batched `xs`/`ys` carry the batch axis second (after the scanned one).
 */
import { scalar, type Array } from "../array";
import { Aval } from "../aval";
import type { AxisFrame } from "../axis-env";
import { hoistConsts } from "../control-flow-tracing";
import { evalJaxpr } from "../interpreter";
import type { ClosedJaxpr } from "../jaxpr";
import * as lax from "../lax";
import * as P from "../primitives/all";
import { traceFlat } from "../staging";
import { bind, currentTrace, withTrace } from "../trace";
import { moveBatch } from "./batch-rules";
import type { BatchDims, BatchRules } from "./rules";
import { BatchTrace, BatchTracer } from "./vmap";

const batchedAval = (a: Aval, size: number) => new Aval([size, ...a.shape], a.dtype, a.weakType);
const orMask = (a: readonly boolean[], b: readonly boolean[]) => a.map((x, i) => x || b[i]!);
const sameMask = (a: readonly boolean[], b: readonly boolean[]) => a.every((x, i) => x === b[i]);
const dimsOf = (batched: readonly boolean[], at: number): BatchDims => batched.map((b) => (b ? at : null));

/**
 * Batches a closed jaxpr (JAX's `batching.batch_jaxpr`): traces it under a `BatchTrace` for
 * `axis` with the inputs flagged in `inBatched` carrying the batch axis first. An output is
 * batched (axis first) if it depends on a batched input or `instantiate` asks for it.
 *
 * @returns the batched jaxpr (its consts, if any, are concrete) and which outputs are batched.
 */
export function batchJaxpr(
  closed: ClosedJaxpr,
  axis: AxisFrame,
  inBatched: readonly boolean[],
  instantiate: boolean | readonly boolean[],
): { jaxpr: ClosedJaxpr; outBatched: boolean[] } {
  const size = axis.size;
  const outBatched: boolean[] = [];
  const avals = closed.inAvals.map((a, i) => (inBatched[i] ? batchedAval(a, size) : a));
  const jaxpr = traceFlat(
    (...args) => {
      const trace = new BatchTrace(currentTrace(), axis);
      try {
        const ins = args.map((a, i) => (inBatched[i] ? new BatchTracer(trace, a, 0) : a));
        const outs = withTrace(trace, () => evalJaxpr(closed, ins));
        return outs.map((o, j) => {
          const [v, d] = trace.unpack(o);
          outBatched[j] = d !== null || (typeof instantiate === "boolean" ? instantiate : instantiate[j]!);
          return outBatched[j] ? moveBatch(v, d, 0, size) : v;
        });
      } finally {
        trace.alive = false;
      }
    },
    avals,
    "vmap",
    currentTrace(),
  );
  return { jaxpr, outBatched };
}

/** Broadcasts a per-lane `pred` (`[size]`) to the shape of `x` (`[size, ...]`), as JAX's `_bcast_select`. */
function lanes(pred: Array, x: Array): Array {
  return pred.ndim === x.ndim ? pred : lax.broadcastInDim(pred, x.shape, [0]);
}

/** Batching rules of `cond`, `while` and `scan`, for the table in `tables.ts`. */
export const controlFlowBatchRules: BatchRules<"cond" | "while" | "scan"> = {
  cond: (axis, vals, dims, { branches }) => {
    const [index, ...ops] = vals;
    const [indexDim, ...opDims] = dims;
    const size = axis.size;
    if (indexDim !== null) {
      // A batched index: every branch runs on every lane and `select_n` picks each lane's
      // result. Each branch sees its operands through a select with their stop_gradient on the
      // lanes that do not take it, so reverse mode gets no NaNs from untaken branches (JAX #1052).
      const idx = lax.min(lax.max(moveBatch(index!, indexDim!, 0, size), scalar(0, "int32")), scalar(branches.length - 1, "int32"));
      const opsB = ops.map((x, i) => moveBatch(x, opDims[i]!, 0, size));
      const outsPerBranch = branches.map((br, k) => {
        const { jaxpr } = batchJaxpr(
          br,
          axis,
          opsB.map(() => true),
          true,
        );
        const taken = lax.eq(idx, scalar(k, "int32"));
        return evalJaxpr(
          jaxpr,
          opsB.map((x) => lax.selectN(lanes(taken, x), lax.stopGradient(x), x)),
        );
      });
      const outs = outsPerBranch[0]!.map((_, j) => {
        const cases = outsPerBranch.map((o) => o[j]!);
        return lax.selectN(lanes(idx, cases[0]!), ...cases);
      });
      return [outs, outs.map(() => 0)];
    }
    const inB = opDims.map((d) => d !== null);
    const opsM = ops.map((x, i) => (inB[i] ? moveBatch(x, opDims[i]!, 0, size) : x));
    const outB = branches.map((br) => batchJaxpr(br, axis, inB, false).outBatched).reduce(orMask);
    const { jaxprs, consts } = hoistConsts(branches.map((br) => batchJaxpr(br, axis, inB, outB).jaxpr));
    const outs = bind(P.cond, [index!, ...consts, ...opsM], { branches: jaxprs });
    return [outs, dimsOf(outB, 0)];
  },

  while: (axis, vals, dims, params) => {
    const { cond_jaxpr, body_jaxpr, cond_nconsts: cn, body_nconsts: bn } = params;
    const size = axis.size;
    const batched = dims.map((d) => d !== null);
    const cconstB = batched.slice(0, cn);
    const bconstB = batched.slice(cn, cn + bn);
    let carryB = batched.slice(cn + bn);
    // Fixpoint: a carry is batched if its init is or the body makes it so.
    for (;;) {
      const { outBatched } = batchJaxpr(body_jaxpr, axis, [...bconstB, ...carryB], carryB);
      if (sameMask(outBatched, carryB)) break;
      carryB = orMask(carryB, outBatched);
    }
    const predB = batchJaxpr(cond_jaxpr, axis, [...cconstB, ...carryB], false).outBatched[0]!;
    // A batched predicate: lanes finish at different trips, so every carry varies per lane.
    if (predB) carryB = carryB.map(() => true);
    const moved = vals.map((v, i) => {
      const carry = i >= cn + bn;
      return (carry ? carryB[i - cn - bn]! : batched[i]) ? moveBatch(v, dims[i]!, 0, size) : v;
    });
    const cconsts = moved.slice(0, cn);
    const bconsts = moved.slice(cn, cn + bn);
    const carry = moved.slice(cn + bn);
    const condB = batchJaxpr(cond_jaxpr, axis, [...cconstB, ...carryB], false).jaxpr;
    const bodyB = batchJaxpr(body_jaxpr, axis, [...bconstB, ...carryB], carryB).jaxpr;
    if (!predB) {
      const c = hoistConsts([condB]);
      const b = hoistConsts([bodyB]);
      const outs = bind(P.whileP, [...c.consts, ...cconsts, ...b.consts, ...bconsts, ...carry], {
        cond_jaxpr: c.jaxprs[0]!,
        body_jaxpr: b.jaxprs[0]!,
        cond_nconsts: c.consts.length + cn,
        body_nconsts: b.consts.length + bn,
      });
      return [outs, dimsOf(carryB, 0)];
    }
    // JAX: loop while any lane's predicate holds; the body also evaluates the predicate and
    // keeps the old carry on the lanes that are done.
    const avals = (xs: readonly Array[]) => xs.map((x) => x.aval);
    const anyCond = traceFlat(
      (...args) => [lax.reduceMax(evalJaxpr(condB, args)[0]!, [0])],
      [...avals(cconsts), ...avals(carry)],
      "vmap",
      currentTrace(),
    );
    const maskedBody = traceFlat(
      (...args) => {
        const cc = args.slice(0, cn);
        const bc = args.slice(cn, cn + bn);
        const old = args.slice(cn + bn);
        const live = evalJaxpr(condB, [...cc, ...old])[0]!;
        const next = evalJaxpr(bodyB, [...bc, ...old]);
        return next.map((x, j) => lax.selectN(lanes(live, x), old[j]!, x));
      },
      [...avals(cconsts), ...avals(bconsts), ...avals(carry)],
      "vmap",
      currentTrace(),
    );
    const c = hoistConsts([anyCond]);
    const b = hoistConsts([maskedBody]);
    const outs = bind(P.whileP, [...c.consts, ...cconsts, ...b.consts, ...cconsts, ...bconsts, ...carry], {
      cond_jaxpr: c.jaxprs[0]!,
      body_jaxpr: b.jaxprs[0]!,
      cond_nconsts: c.consts.length + cn,
      body_nconsts: b.consts.length + cn + bn,
    });
    return [outs, outs.map(() => 0)];
  },

  scan: (axis, vals, dims, params) => {
    const { jaxpr, num_consts: nc, num_carry: nk } = params;
    const size = axis.size;
    const batched = dims.map((d) => d !== null);
    const constB = batched.slice(0, nc);
    let carryB = batched.slice(nc, nc + nk);
    const xsB = batched.slice(nc + nk);
    const numYs = jaxpr.outAvals.length - nk;
    let body = batchJaxpr(jaxpr, axis, [...constB, ...carryB, ...xsB], [...carryB, ...new globalThis.Array<boolean>(numYs).fill(false)]);
    // Fixpoint over which carries are batched; the last pass's jaxpr is the one to bind.
    while (!sameMask(body.outBatched.slice(0, nk), carryB)) {
      carryB = orMask(carryB, body.outBatched.slice(0, nk));
      body = batchJaxpr(jaxpr, axis, [...constB, ...carryB, ...xsB], [...carryB, ...new globalThis.Array<boolean>(numYs).fill(false)]);
    }
    const ysB = body.outBatched.slice(nk);
    const args = vals.map((v, i) => {
      if (i < nc) return constB[i] ? moveBatch(v, dims[i]!, 0, size) : v;
      if (i < nc + nk) return carryB[i - nc] ? moveBatch(v, dims[i] ?? null, 0, size) : v;
      // xs keep the scanned axis first; their batch axis goes second.
      return xsB[i - nc - nk] ? moveBatch(v, dims[i]!, 1, size) : v;
    });
    const { jaxprs, consts } = hoistConsts([body.jaxpr]);
    const outs = bind(P.scan, [...consts, ...args], {
      ...params,
      jaxpr: jaxprs[0]!,
      num_consts: consts.length + nc,
      linear: [...consts.map(() => false), ...params.linear],
    });
    return [outs, [...dimsOf(carryB, 0), ...dimsOf(ysB, 1)]];
  },
};
