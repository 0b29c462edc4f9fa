/**
 * Reverse and forward mode on pytrees: `vjp`, `grad`, `valueAndGrad`, `jvp`.
 * Reverse mode = linearize (JVP with a staged tangent program) + backward pass.
 */
import { Array, scalar } from "../array";
import { isFloat } from "../dtype";
import { TransformError } from "../errors";
import { treeFlatten, type TreeDef } from "../pytree";
import { asArray } from "../values";
import { jvpFlat, linearizeFlat } from "./jvp";
import type { MaybeZero } from "./rules";
import { backwardPass } from "./transpose";
import { zerosLikeAval } from "./zeros";
import type { AnyFn, ArrayTree, GradResult, ValueAndGradResult } from "./types";

function flattenArrays(op: string, tree: unknown, what: string): [Array[], TreeDef] {
  const [leaves, def] = treeFlatten(tree);
  const arrs = leaves.map((l, i) => {
    if (l instanceof Array) return l;
    if (typeof l === "number") return asArray(l);
    throw new TransformError(
      `${op}: ${what} leaf ${i} of ${def} is a ${l === null ? "null" : typeof l}, not an array — ${op} differentiates arrays only; use filterGrad to skip other leaves`,
    );
  });
  return [arrs, def];
}

/** Applies aux-stripping to every leaf of a pytree. */
function stripTree(tree: unknown, strip: (x: Array) => Array): unknown {
  const [leaves, def] = treeFlatten(tree);
  return def.unflatten(leaves.map((l) => (l instanceof Array ? strip(l) : l)));
}

export interface VjpOptions {
  hasAux?: boolean;
}

/**
 * `vjp(f, ...primals)` → `[out, vjpFn]` (or `[out, vjpFn, aux]` with `hasAux`); `vjpFn(ct)`
 * returns one cotangent pytree per primal.
 */
export function vjp<A extends unknown[], R>(f: (...args: A) => R, ...primals: A): [ArrayTree<R>, (ct: ArrayTree<R>) => ArrayTree<A>] {
  const [out, fn] = vjpWithOptions(f, primals, {});
  return [out as ArrayTree<R>, fn as (ct: ArrayTree<R>) => ArrayTree<A>];
}

/** `vjp` of a function returning `[output, aux]`: → `[out, vjpFn, aux]` (JAX's `has_aux=True`). */
export function vjpWithAux<A extends unknown[], R, X>(
  f: (...args: A) => readonly [R, X],
  ...primals: A
): [ArrayTree<R>, (ct: ArrayTree<R>) => ArrayTree<A>, X] {
  return vjpWithOptions(f, primals, { hasAux: true }) as [ArrayTree<R>, (ct: ArrayTree<R>) => ArrayTree<A>, X];
}

export function vjpWithOptions(
  f: (...args: never[]) => unknown,
  primals: readonly unknown[],
  opts: VjpOptions,
  op = "vjp",
): [unknown, (ct: unknown) => unknown[], unknown] {
  const [flatIn, inTree] = flattenArrays(op, primals, "input");
  let outTree: TreeDef | null = null;
  const lin = linearizeFlat(
    (...xs) => {
      const args = inTree.unflatten(xs) as unknown[];
      const res = (f as (...a: unknown[]) => unknown)(...args);
      let out = res;
      let aux: unknown = undefined;
      if (opts.hasAux) {
        if (!globalThis.Array.isArray(res) || res.length !== 2) {
          throw new TransformError(`${op}: with hasAux the function must return [output, aux], got ${typeof res}`);
        }
        [out, aux] = res as [unknown, unknown];
      }
      const [flatOut, tree] = flattenArrays(op, out, "output");
      outTree = tree;
      return [flatOut, aux];
    },
    flatIn,
    op,
    (aux, strip) => (aux === undefined ? undefined : stripTree(aux, strip)),
  );
  const outVal = outTree!.unflatten(lin.outs);
  const vjpFn = (ct: unknown): unknown[] => {
    const [cts] = flattenArrays(op, ct, "cotangent");
    if (cts.length !== lin.outs.length) throw new TransformError(`${op}: the cotangent must have the output's structure ${outTree}`);
    cts.forEach((c, i) => {
      if (!c.aval.equals(lin.outs[i]!.aval))
        throw new TransformError(`${op}: cotangent leaf ${i} is ${c.aval} but the output is ${lin.outs[i]!.aval}`);
    });
    const ctIn = backwardPass(
      lin.linear,
      cts.filter((_, i) => lin.outputNonzero[i]),
    );
    let k = 0;
    const flat = flatIn.map((p, i) => {
      if (!lin.inputHasTangent[i]) return zerosLikeAval(p.aval);
      const c: MaybeZero = ctIn[k++] ?? null;
      return c ?? zerosLikeAval(p.aval.withWeak(false));
    });
    return inTree.unflatten(flat) as unknown[];
  };
  return [outVal, vjpFn, lin.aux];
}

export interface GradOptions {
  /** Which positional argument(s) to differentiate (default 0). */
  argnums?: number | readonly number[];
  /** `f` returns `[loss, aux]`; aux is returned alongside the gradient. */
  hasAux?: boolean;
}

/**
 * `valueAndGrad(f, {argnums, hasAux})(...args)` → `[value, grads]` (or `[[value, aux], grads]`
 * with `hasAux`, as JAX). `f` must return a float scalar.
 */
export function valueAndGrad<F extends AnyFn, const O extends GradOptions = Record<string, never>>(
  f: F,
  opts?: O,
): (...args: Parameters<F>) => ValueAndGradResult<F, O>;
export function valueAndGrad(f: AnyFn, opts: GradOptions = {}): (...args: unknown[]) => [unknown, unknown] {
  return (...args: unknown[]) => {
    const argnums = opts.argnums ?? 0;
    const nums = typeof argnums === "number" ? [argnums] : [...argnums];
    for (const n of nums) {
      if (!Number.isInteger(n) || n < 0 || n >= args.length) {
        throw new TransformError(`grad: argnums ${n} is out of range for a call with ${args.length} arguments`);
      }
    }
    nums.forEach((n) => {
      const [leaves, def] = treeFlatten(args[n]);
      leaves.forEach((l, i) => {
        if (l instanceof Array && !isFloat(l.dtype)) {
          throw new TransformError(
            `grad: argument ${n} leaf ${i} of ${def} has dtype ${l.dtype}, but grad requires float inputs — convert it with astype('float32'), or pass it as a non-differentiated argument (argnums)`,
          );
        }
      });
    });
    const diffArgs = nums.map((n) => args[n]);
    const [out, vjpFn, aux] = vjpWithOptions(
      (...d: unknown[]) => {
        const full = args.slice();
        nums.forEach((n, k) => (full[n] = d[k]));
        return f(...full);
      },
      diffArgs,
      { hasAux: opts.hasAux },
      "grad",
    );
    if (!(out instanceof Array) || out.ndim !== 0 || !isFloat(out.dtype)) {
      const desc = out instanceof Array ? String(out.aval) : typeof out;
      throw new TransformError(
        `grad: the function must return a float scalar, but it returned ${desc} — reduce it (e.g. .sum() or .mean()), or use vjp for non-scalar outputs`,
      );
    }
    const [g] = [vjpFn(scalar(1, out.dtype))];
    const grads = typeof argnums === "number" ? g[0] : g;
    return [opts.hasAux ? [out, aux] : out, grads];
  };
}

/**
 * `grad(f, {argnums, hasAux})(...args)` → gradient (or `[gradient, aux]` with `hasAux`), typed
 * like the differentiated argument(s): `grad((w: Array) => ...)(w)` is an `Array`.
 */
export function grad<F extends AnyFn, const O extends GradOptions = Record<string, never>>(
  f: F,
  opts?: O,
): (...args: Parameters<F>) => GradResult<F, O>;
export function grad(f: AnyFn, opts: GradOptions = {}): (...args: unknown[]) => unknown {
  const vg = valueAndGrad(f, opts) as (...args: unknown[]) => [unknown, unknown];
  return (...args: unknown[]) => {
    const [v, g] = vg(...args);
    return opts.hasAux ? [g, (v as [unknown, unknown])[1]] : g;
  };
}

/** Forward mode: `jvp(f, primals, tangents)` → `[out, outTangent]` (pytrees like the output). */
export function jvp(f: (...args: never[]) => unknown, primals: readonly unknown[], tangents: readonly unknown[]): [unknown, unknown] {
  const [flatIn, inTree] = flattenArrays("jvp", primals, "primal");
  const [flatT, tTree] = flattenArrays("jvp", tangents, "tangent");
  if (!tTree.equals(inTree)) throw new TransformError(`jvp: tangents ${tTree} must have the primals' structure ${inTree}`);
  flatT.forEach((t, i) => {
    if (!t.aval.equals(flatIn[i]!.aval))
      throw new TransformError(`jvp: tangent leaf ${i} is ${t.aval} but its primal is ${flatIn[i]!.aval}`);
  });
  let outTree: TreeDef | null = null;
  const [outs, touts] = jvpFlat(
    (...xs) => {
      const [flatOut, tree] = flattenArrays("jvp", (f as (...a: unknown[]) => unknown)(...(inTree.unflatten(xs) as unknown[])), "output");
      outTree = tree;
      return flatOut;
    },
    flatIn,
    flatT,
  );
  return [outTree!.unflatten(outs), outTree!.unflatten(touts)];
}
