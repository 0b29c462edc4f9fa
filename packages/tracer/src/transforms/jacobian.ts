/**
 * `jacfwd`, `jacrev` and `hessian`, as JAX's: a `vmap` of `jvp` over the standard basis of the
 * inputs (forward) or of `vjp` over the standard basis of the outputs (reverse). The result is
 * a pytree shaped like the output whose leaves are pytrees shaped like the input (JAX's
 * `tree_transpose`), each leaf of shape `out.shape + in.shape`.
 */
import { Array } from "../array";
import { isFloat } from "../dtype";
import { TransformError } from "../errors";
import * as lax from "../lax";
import { eye } from "../numpy/creation";
import { astype, reshape } from "../numpy/index";
import { treeFlatten, type TreeDef } from "../pytree";
import { asArray } from "../values";
import { jvp, vjpWithOptions } from "./grad";
import type { AnyFn, ArgnumsOf, AuxOf, GradsOf, HasAux } from "./types";
import { vmap } from "./vmap";

export interface JacobianOptions {
  /** Which positional argument(s) to differentiate (default 0); a list gives a tuple of Jacobians. */
  argnums?: number | readonly number[];
  /** `f` returns `[output, aux]`; the result is `[jacobian, aux]`. */
  hasAux?: boolean;
}

/** The Jacobian of an `Array`-valued function: the gradient's structure, each leaf `out.shape + in.shape`; `unknown` for pytree outputs. */
export type JacobianResult<F extends AnyFn, O> = (HasAux<O> extends true ? AuxOut<ReturnType<F>> : ReturnType<F>) extends Array
  ? HasAux<O> extends true
    ? [GradsOf<Parameters<F>, ArgnumsOf<O>>, AuxOf<ReturnType<F>>]
    : GradsOf<Parameters<F>, ArgnumsOf<O>>
  : unknown;
type AuxOut<R> = R extends readonly [infer X, unknown] ? X : unknown;

function leavesOf(op: string, tree: unknown, what: string): [Array[], TreeDef] {
  const [leaves, def] = treeFlatten(tree);
  return [
    leaves.map((l, i) => {
      if (l instanceof Array) return l;
      if (typeof l === "number") return asArray(l);
      throw new TransformError(
        `${op}: ${what} leaf ${i} of ${def} is a ${l === null ? "null" : typeof l}, not an array — ${op} differentiates arrays only`,
      );
    }),
    def,
  ];
}

/** One block of the identity per leaf: leaf `i` gets rows of `eye(n)` reshaped to `[n, ...shape_i]`. */
function basis(leaves: readonly Array[]): Array[] {
  const n = leaves.reduce((s, l) => s + l.size, 0);
  const id = eye(n, n, 0, "float32");
  let off = 0;
  return leaves.map((l) => {
    const cols = lax.slice(id, [0, off], [n, off + l.size]);
    off += l.size;
    return astype(reshape(cols, [n, ...l.shape]), l.dtype);
  });
}

function prepare(op: string, args: unknown[], opts: JacobianOptions) {
  const argnums = opts.argnums ?? 0;
  const nums = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const n of nums) {
    if (!Number.isInteger(n) || n < 0 || n >= args.length)
      throw new TransformError(`${op}: argnums ${n} is out of range for a call with ${args.length} arguments`);
  }
  const diff = nums.map((n) => args[n]);
  const [inLeaves, inDef] = leavesOf(op, diff, "input");
  inLeaves.forEach((l, i) => {
    if (!isFloat(l.dtype))
      throw new TransformError(
        `${op}: input leaf ${i} has dtype ${l.dtype}, but ${op} requires float inputs — convert it with astype("float32") or leave it out of argnums`,
      );
  });
  const single = typeof argnums === "number";
  return { nums, diff, inLeaves, inDef, single };
}

/** Reassembles flat blocks `block(i, j)` (out leaf i, in leaf j) into JAX's nested structure. */
function assemble(
  outDef: TreeDef,
  inDef: TreeDef,
  nOut: number,
  nIn: number,
  single: boolean,
  block: (i: number, j: number) => Array,
): unknown {
  return outDef.unflatten(
    globalThis.Array.from({ length: nOut }, (_, i) => {
      const perArg = inDef.unflatten(globalThis.Array.from({ length: nIn }, (_, j) => block(i, j))) as unknown[];
      return single ? perArg[0] : perArg;
    }),
  );
}

/**
 * Jacobian by reverse mode (one `vjp` per output element, batched by `vmap`): efficient for
 * functions with few outputs and many inputs.
 *
 * @example
 * jacrev((x: Array) => x.mul(x))(array([1, 2]))   // [[2, 0], [0, 4]]
 */
export function jacrev<F extends AnyFn, const O extends JacobianOptions = Record<string, never>>(
  f: F,
  opts?: O,
): (...args: Parameters<F>) => JacobianResult<F, O>;
export function jacrev(f: AnyFn, opts: JacobianOptions = {}): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => {
    const { nums, diff, inLeaves, inDef, single } = prepare("jacrev", args, opts);
    const g = (...d: unknown[]) => {
      const full = args.slice();
      nums.forEach((n, k) => (full[n] = d[k]));
      return f(...full) as unknown;
    };
    const [out, pullback, aux] = vjpWithOptions(g, diff, { hasAux: opts.hasAux }, "jacrev");
    const [outLeaves, outDef] = leavesOf("jacrev", out, "output");
    outLeaves.forEach((l, i) => {
      if (!isFloat(l.dtype)) throw new TransformError(`jacrev: output leaf ${i} has dtype ${l.dtype}, but jacrev requires float outputs`);
    });
    // rows[j]: the cotangents of input leaf j for every output element, [m, ...in_j.shape].
    const rows = vmap((...cts: Array[]) => treeFlatten(pullback(outDef.unflatten(cts)))[0] as Array[])(...basis(outLeaves)) as Array[];
    const offsets = outLeaves.map((_, i) => outLeaves.slice(0, i).reduce((s, l) => s + l.size, 0));
    const jac = assemble(outDef, inDef, outLeaves.length, inLeaves.length, single, (i, j) => {
      const r = rows[j]!;
      const o = outLeaves[i]!;
      const part = lax.slice(r, [offsets[i]!, ...r.shape.slice(1).map(() => 0)], [offsets[i]! + o.size, ...r.shape.slice(1)]);
      return reshape(part, [...o.shape, ...inLeaves[j]!.shape]);
    });
    return opts.hasAux ? [jac, aux] : jac;
  };
}

/**
 * Jacobian by forward mode (one `jvp` per input element, batched by `vmap`): efficient for
 * functions with few inputs and many outputs.
 */
export function jacfwd<F extends AnyFn, const O extends JacobianOptions = Record<string, never>>(
  f: F,
  opts?: O,
): (...args: Parameters<F>) => JacobianResult<F, O>;
export function jacfwd(f: AnyFn, opts: JacobianOptions = {}): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => {
    const { nums, diff, inLeaves, inDef, single } = prepare("jacfwd", args, opts);
    const call = (d: unknown[]) => {
      const full = args.slice();
      nums.forEach((n, k) => (full[n] = d[k]));
      return f(...full) as unknown;
    };
    const split = (res: unknown): [unknown, unknown] => {
      if (!opts.hasAux) return [res, undefined];
      if (!globalThis.Array.isArray(res) || res.length !== 2)
        throw new TransformError(`jacfwd: with hasAux the function must return [output, aux], got ${typeof res}`);
      return [res[0], res[1]];
    };
    const primal = (...d: unknown[]) => split(call(d))[0];
    let outDef: TreeDef | null = null;
    // As JAX: one vmap of jvp over the basis, the primal output unbatched (outAxes null).
    const [outLeaves, cols] = vmap(
      (...ts: Array[]) => {
        const [o, t] = jvp(primal, diff, inDef.unflatten(ts) as unknown[]);
        const [os, def] = leavesOf("jacfwd", o, "output");
        outDef = def;
        return [os, leavesOf("jacfwd", t, "tangent")[0]];
      },
      { outAxes: [null, 0] },
    )(...basis(inLeaves)) as [Array[], Array[]];
    // The aux is not differentiated: a plain call gives it.
    const aux = opts.hasAux ? split(call(diff))[1] : undefined;
    const offsets = inLeaves.map((_, j) => inLeaves.slice(0, j).reduce((s, l) => s + l.size, 0));
    const jac = assemble(outDef!, inDef, outLeaves.length, inLeaves.length, single, (i, j) => {
      const c = cols[i]!;
      const inShape = inLeaves[j]!.shape;
      const outShape = outLeaves[i]!.shape;
      const part = lax.slice(c, [offsets[j]!, ...c.shape.slice(1).map(() => 0)], [offsets[j]! + inLeaves[j]!.size, ...c.shape.slice(1)]);
      const r = reshape(part, [...inShape, ...outShape]);
      // [...in, ...out] → [...out, ...in]
      const perm = [...outShape.map((_, k) => inShape.length + k), ...inShape.map((_, k) => k)];
      return perm.every((p, k) => p === k) ? r : lax.transpose(r, perm);
    });
    return opts.hasAux ? [jac, aux] : jac;
  };
}

/**
 * The Hessian, `jacfwd(jacrev(f))` as in JAX (forward-over-reverse); `argnums` and `hasAux`
 * as in `jacrev`. For a scalar function of `x` of shape `s`, the result has shape `s + s`.
 */
export function hessian<F extends AnyFn, const O extends JacobianOptions = Record<string, never>>(
  f: F,
  opts?: O,
): (...args: Parameters<F>) => JacobianResult<F, O>;
export function hessian(f: AnyFn, opts: JacobianOptions = {}): (...args: unknown[]) => unknown {
  return jacfwd(jacrev(f, opts) as AnyFn, opts) as (...args: unknown[]) => unknown;
}
