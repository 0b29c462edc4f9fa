/**
 * Structured control flow: JAX's higher-order primitives `cond`, `while` and `scan`. Each
 * carries closed sub-jaxprs in its params; values the bodies close over are explicit leading
 * operands (JAX's `num_consts` / `cond_nconsts` / `body_nconsts`), so the sub-jaxprs' own
 * consts are normally empty. The user API is `control-flow.ts` (`lax.cond`, `lax.scan`, ...).
 *
 * Types are compared as JAX's `typematch` does: shape and dtype, ignoring weak types.
 */
import { ConcreteArray } from "../array";
import { Aval, shapeEqual } from "../aval";
import { allocate, type TypedArray } from "../dtype";
import { ArgumentError, DTypeError, ShapeError } from "../errors";
import { evalJaxpr } from "../interpreter";
import { definePrimitive } from "../primitive";
import { evalTrace, withTrace } from "../trace";

const list = (avals: readonly Aval[]) => `(${avals.map(String).join(", ")})`;

/**
 * Checks that `got` matches `want` element by element (shape and dtype); a shape difference
 * is a ShapeError, a dtype difference a DTypeError. `what(i)` names element `i`.
 */
export function checkAvals(op: string, what: string, want: readonly Aval[], got: readonly Aval[], hint: string): void {
  if (want.length !== got.length) {
    throw new ShapeError(`${op}: ${what}: expected ${want.length} values ${list(want)} but got ${got.length} ${list(got)} — ${hint}`);
  }
  want.forEach((w, i) => {
    const g = got[i]!;
    if (w.equals(g)) return;
    const Cls = shapeEqual(w.shape, g.shape) ? DTypeError : ShapeError;
    throw new Cls(`${op}: ${what}: value ${i} is ${g} but ${w} is expected — ${hint}`);
  });
}

/** Runs sub-jaxprs eagerly: the interpreter binds in the eval trace whatever trace is current. */
const eager = <T>(fn: () => T): T => withTrace(evalTrace, fn);

const data = (xs: readonly { data: TypedArray }[]) => xs.map((x) => x.data);

// ---- cond ---------------------------------------------------------------------------------

/**
 * `cond(index, *ops; branches)`: runs `branches[clamp(index, 0, n-1)]` on `ops`. The index is
 * an int32 scalar (`lax.cond` converts its predicate; `lax.switch` clamps as JAX does).
 */
export const cond = definePrimitive("cond", {
  multipleResults: true,
  abstractEval(avals, { branches }) {
    const [index, ...ops] = avals;
    if (branches.length === 0) throw new ArgumentError("cond: no branches — give cond at least one branch jaxpr");
    if (!index) throw new ArgumentError("cond: missing the branch index operand — the first operand is an int32 scalar index");
    if (index.ndim !== 0)
      throw new ShapeError(`cond: the branch index must be a scalar, got ${index} — pass one int32 index (lax.cond/lax.switch do this)`);
    if (index.dtype !== "int32")
      throw new DTypeError(`cond: the branch index must be int32, got ${index} — convert it with lax.convertElementType(index, "int32")`);
    branches.forEach((b, i) => checkAvals("cond", `operands of branch ${i}`, b.inAvals, ops, "pass the operands every branch jaxpr takes"));
    const outs = branches[0]!.outAvals;
    branches.forEach((b, i) =>
      checkAvals("cond", `outputs of branch ${i} vs branch 0`, outs, b.outAvals, "every branch must return the same types"),
    );
    // JAX's join: an output is weak only if it is weak in every branch.
    return outs.map((a, k) => a.withWeak(branches.every((b) => b.outAvals[k]!.weakType)));
  },
  impl([index, ...ops], { branches }) {
    const i = Math.min(Math.max(index!.data[0]!, 0), branches.length - 1);
    return data(eager(() => evalJaxpr(branches[i]!, ops)));
  },
  ppParams: (p) => [["branches", p.branches]],
});

// ---- while --------------------------------------------------------------------------------

/**
 * `while(*cond_consts, *body_consts, *init; cond_jaxpr, body_jaxpr, ...)`: while
 * `cond_jaxpr(cond_consts, carry)` is true, `carry = body_jaxpr(body_consts, carry)`.
 */
export const whileP = definePrimitive("while", {
  multipleResults: true,
  abstractEval(avals, { cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts }) {
    if (
      !Number.isInteger(cond_nconsts) ||
      !Number.isInteger(body_nconsts) ||
      cond_nconsts < 0 ||
      body_nconsts < 0 ||
      cond_nconsts + body_nconsts > avals.length
    ) {
      throw new ArgumentError(
        `while: cond_nconsts=${cond_nconsts} and body_nconsts=${body_nconsts} do not fit ${avals.length} operands — they count leading operands`,
      );
    }
    const cconsts = avals.slice(0, cond_nconsts);
    const bconsts = avals.slice(cond_nconsts, cond_nconsts + body_nconsts);
    const carry = avals.slice(cond_nconsts + body_nconsts);
    checkAvals(
      "while",
      "inputs of cond_jaxpr",
      cond_jaxpr.inAvals,
      [...cconsts, ...carry],
      "cond_jaxpr takes the cond consts then the carry",
    );
    const pred = cond_jaxpr.outAvals;
    if (pred.length !== 1 || pred[0]!.ndim !== 0 || pred[0]!.dtype !== "bool") {
      throw new DTypeError(
        `while: cond_jaxpr must return one bool scalar, got ${list(pred)} — make the loop condition a bool[] (e.g. i.lt(n))`,
      );
    }
    checkAvals(
      "while",
      "inputs of body_jaxpr",
      body_jaxpr.inAvals,
      [...bconsts, ...carry],
      "body_jaxpr takes the body consts then the carry",
    );
    checkAvals(
      "while",
      "body_jaxpr outputs vs the carry",
      carry,
      body_jaxpr.outAvals,
      "the body must return the carry with its types unchanged",
    );
    return body_jaxpr.outAvals;
  },
  impl(args, { cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts }) {
    const cconsts = args.slice(0, cond_nconsts);
    const bconsts = args.slice(cond_nconsts, cond_nconsts + body_nconsts);
    let carry: readonly ConcreteArray[] = args.slice(cond_nconsts + body_nconsts);
    eager(() => {
      while (evalJaxpr(cond_jaxpr, [...cconsts, ...carry])[0]!.data[0]) {
        carry = evalJaxpr(body_jaxpr, [...bconsts, ...carry]) as ConcreteArray[];
      }
    });
    return data(carry);
  },
  ppParams: (p) => [
    ["body_jaxpr", p.body_jaxpr],
    ["body_nconsts", p.body_nconsts],
    ["cond_jaxpr", p.cond_jaxpr],
    ["cond_nconsts", p.cond_nconsts],
  ],
});

// ---- scan ---------------------------------------------------------------------------------

/** The avals of one iteration's slices of `xs` (the leading `length` axis removed). */
export function sliceAval(x: Aval): Aval {
  return new Aval(x.shape.slice(1), x.dtype, x.weakType);
}

/** `ys` avals: each per-iteration `y` stacked along a new leading axis of `length`. */
export function stackAval(y: Aval, length: number): Aval {
  return new Aval([length, ...y.shape], y.dtype, y.weakType);
}

/**
 * `scan(*consts, *init, *xs; jaxpr, length, reverse, ...)`: for `i` in `0..length` (from the
 * end if `reverse`), `[carry, y_i] = jaxpr(consts, carry, xs[i])`; returns the final carry
 * and the `y_i` stacked (`ys[i]` is the output of the iteration that read `xs[i]`).
 */
export const scan = definePrimitive("scan", {
  multipleResults: true,
  abstractEval(avals, p) {
    const { jaxpr, length, num_consts: nc, num_carry: nk, linear, unroll } = p;
    if (!Number.isInteger(length) || length < 0) throw new ShapeError(`scan: length must be a non-negative integer, got ${length}`);
    if (!Number.isInteger(unroll) || unroll < 1) throw new ArgumentError(`scan: unroll must be a positive integer, got ${unroll}`);
    if (!Number.isInteger(nc) || !Number.isInteger(nk) || nc < 0 || nk < 0 || nc + nk > avals.length) {
      throw new ArgumentError(
        `scan: num_consts=${nc} and num_carry=${nk} do not fit ${avals.length} operands — they count leading operands`,
      );
    }
    if (linear.length !== avals.length)
      throw new ArgumentError(`scan: linear has ${linear.length} entries for ${avals.length} operands — give one per operand`);
    const xs = avals.slice(nc + nk);
    xs.forEach((x, i) => {
      if (x.ndim === 0 || x.shape[0] !== length) {
        throw new ShapeError(
          `scan: xs operand ${i} is ${x} but length is ${length} — every xs operand needs a leading axis of size length`,
        );
      }
    });
    const carry = avals.slice(nc, nc + nk);
    checkAvals(
      "scan",
      "inputs of jaxpr",
      jaxpr.inAvals,
      [...avals.slice(0, nc), ...carry, ...xs.map(sliceAval)],
      "jaxpr takes the consts, the carry, then one slice of each xs",
    );
    const outs = jaxpr.outAvals;
    if (outs.length < nk)
      throw new ArgumentError(`scan: jaxpr returns ${outs.length} values but num_carry is ${nk} — it must return the carry then the ys`);
    checkAvals(
      "scan",
      "jaxpr carry outputs vs the carry",
      carry,
      outs.slice(0, nk),
      "the body must return the carry with its types unchanged",
    );
    return [...outs.slice(0, nk), ...outs.slice(nk).map((y) => stackAval(y, length))];
  },
  impl(args, p, outAvals) {
    const { jaxpr, length, reverse, num_consts: nc, num_carry: nk } = p;
    const consts = args.slice(0, nc);
    let carry: readonly ConcreteArray[] = args.slice(nc, nc + nk);
    const xs = args.slice(nc + nk);
    const xAvals = jaxpr.inAvals.slice(nc + nk);
    const ys = outAvals.slice(nk).map((a) => allocate(a.dtype, a.size));
    eager(() => {
      for (let k = 0; k < length; k++) {
        const i = reverse ? length - 1 - k : k;
        const slices = xs.map((x, j) => {
          const n = xAvals[j]!.size;
          return new ConcreteArray(xAvals[j]!, x.data.subarray(i * n, (i + 1) * n));
        });
        const outs = evalJaxpr(jaxpr, [...consts, ...carry, ...slices]) as ConcreteArray[];
        carry = outs.slice(0, nk);
        outs.slice(nk).forEach((y, j) => ys[j]!.set(y.data as never, i * y.size));
      }
    });
    return [...data(carry), ...ys];
  },
  ppParams: (p) => [
    ["_split_transpose", p._split_transpose],
    ["jaxpr", p.jaxpr],
    ["length", p.length],
    ["linear", p.linear],
    ["num_carry", p.num_carry],
    ["num_consts", p.num_consts],
    ["reverse", p.reverse],
    ["unroll", p.unroll],
  ],
});
