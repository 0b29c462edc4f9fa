/**
 * `customVjp`: a function with a hand-written reverse-mode rule (JAX's `jax.custom_vjp`), and
 * `checkpoint` (JAX's `jax.checkpoint` / `remat`) built on it. Calls bind a
 * `custom_vjp_call` primitive carrying the function's jaxpr: the interpreter and the compiler
 * run that jaxpr. Linearizing runs `fwd` for the outputs and residuals and stages a
 * `custom_lin` equation on the tangents, whose transpose runs `bwd` on the residuals and the
 * output cotangents, as in JAX's direct linearize.
 */
import type { Array } from "./array";
import { Aval } from "./aval";
import { ArgumentError, TransformError } from "./errors";
import { evalJaxpr } from "./interpreter";
import { ClosedJaxpr } from "./jaxpr";
import { definePrimitive } from "./primitive";
import { treeFlatten, type TreeDef } from "./pytree";
import { traceFlat } from "./staging";
import { bind, currentTrace } from "./trace";
import { asArray } from "./values";
import type { ArrayTree } from "./transforms/types";

/** A flat custom-VJP function: arrays in, arrays out, with its rule on flat arrays. */
export interface VjpEntry {
  name: string;
  fn: (xs: Array[]) => Array[];
  /** `[outputs, residual leaves, residual structure]`. */
  fwd: (xs: Array[]) => [Array[], Array[], TreeDef];
  /** One cotangent per input (zeros where the user's `bwd` returned `null`). */
  bwd: (res: Array[], resTree: TreeDef, cts: Array[]) => Array[];
  inAvals: Aval[];
  jaxprs: Map<string, ClosedJaxpr>;
}

/** Every flat custom-VJP function, by id (calls carry it as `vjp_id`). */
export const vjpEntries: VjpEntry[] = [];

/** Residual structures of `custom_lin` equations, by id (bounded: one per function and residual structure). */
export const linResidualTrees: TreeDef[] = [];
const linIds = new Map<string, number>();

/** The id of residual structure `tree` for entry `vjpId`, registered once. */
export function residualTreeId(vjpId: number, tree: TreeDef): number {
  const key = `${vjpId}/${String(tree)}`;
  let id = linIds.get(key);
  if (id === undefined) {
    id = linResidualTrees.push(tree) - 1;
    linIds.set(key, id);
  }
  return id;
}

export const customVjpCall = definePrimitive("custom_vjp_call", {
  multipleResults: true,
  abstractEval: (_avals, params) => params.call_jaxpr.outAvals,
  impl: (args, params) => evalJaxpr(params.call_jaxpr, args).map((o) => o.data),
  ppParams: (p) => [
    ["name", p.name],
    ["call_jaxpr", p.call_jaxpr],
    ["bwd", p.bwd],
    ["symbolic_zeros", false],
  ],
});

/**
 * The linear map of a custom-VJP function inside a linearized program: inputs are the
 * residuals then the input tangents; its transpose runs the user's `bwd`. It has no forward
 * evaluation (JAX: "can't apply forward-mode autodiff (jvp) to a custom_vjp function").
 */
export const customLin = definePrimitive("custom_lin", {
  multipleResults: true,
  abstractEval: (_avals, params) => params.out_avals.map((a) => new Aval(a.shape, a.dtype)),
  impl: (_args, params) => {
    throw new TransformError(
      `${params.name}: can't apply forward-mode autodiff (jvp) to a custom_vjp function — use grad/vjp, or customJvp for a forward-mode rule`,
    );
  },
  ppParams: (p) => [
    ["name", p.name],
    ["num_res", p.num_res],
    ["bwd", p.bwd],
  ],
});

const avalKey = (avals: readonly Aval[]) => avals.map((a) => `${a}${a.weakType ? "~" : ""}`).join(",");

/** Binds `custom_vjp_call` for entry `id`, tracing (and caching) its jaxpr at the arguments' avals. */
export function callVjpEntry(id: number, args: Array[]): Array[] {
  const e = vjpEntries[id]!;
  const avals = args.map((a) => a.aval);
  const key = avalKey(avals);
  let jaxpr = e.jaxprs.get(key);
  if (!jaxpr) {
    jaxpr = traceFlat((...xs) => e.fn(xs), avals, `customVjp(${e.name})`, currentTrace());
    if (jaxpr.consts.every((c) => c.concreteValue() !== null)) e.jaxprs.set(key, jaxpr);
  }
  return bind(customVjpCall, args, { name: e.name, call_jaxpr: jaxpr, bwd: `${e.name}_bwd`, vjp_id: id });
}

export function registerVjp(entry: Omit<VjpEntry, "jaxprs">): number {
  return vjpEntries.push({ ...entry, jaxprs: new Map() }) - 1;
}

/** How many flat custom-VJP functions exist (bounded by the program's functions and argument structures). */
export function customVjpRegistrySize(): number {
  return vjpEntries.length;
}

function arrayLeaves(op: string, tree: unknown, what: string): [Array[], TreeDef] {
  const [leaves, def] = treeFlatten(tree);
  return [
    leaves.map((l, i) => {
      if (typeof l === "number" || typeof l === "boolean") return asArray(l);
      if (l !== null && typeof l === "object" && "aval" in l) return l as Array;
      throw new ArgumentError(
        `${op}: ${what} leaf ${i} of ${def} is a ${l === null ? "null" : typeof l}, not an array — custom_vjp functions take and return pytrees of arrays`,
      );
    }),
    def,
  ];
}

/** `fwd(...args)` → `[output, residuals]`, as in JAX. */
export type VjpFwd<A extends unknown[], R, Res> = (...args: A) => readonly [R, Res];
/** One cotangent per argument, shaped like it; `null` for a zero one (JAX's `None`). */
export type VjpCotangents<A extends unknown[]> = { [K in keyof A]: ArrayTree<A[K]> | null };
/** `bwd(residuals, outputCotangent)` → one cotangent per argument, as in JAX. */
export type VjpBwd<A extends unknown[], R, Res> = (residuals: Res, g: ArrayTree<R>) => VjpCotangents<A>;

/** A function made by `customVjp`: call it, after giving its rule with `defvjp`. */
export interface CustomVjpFunction<A extends unknown[], R> {
  (...args: A): R;
  /** Sets the rule (JAX's `f.defvjp(fwd, bwd)`); returns the function. */
  defvjp<Res>(fwd: VjpFwd<A, R, Res>, bwd: VjpBwd<A, R, Res>): CustomVjpFunction<A, R>;
}

/**
 * Wraps `f` so reverse mode uses a rule of yours instead of differentiating `f`: `fwd` returns
 * the output and residuals, `bwd(residuals, g)` the cotangent of each argument. Arguments and
 * outputs are pytrees of arrays. Works under `grad`, `vmap` and `filterJit`; forward mode
 * (`jvp`) is an error, as in JAX.
 *
 * @example
 * const clipGradient = customVjp((x: Array) => x);
 * clipGradient.defvjp((x) => [x, null], (_res, g) => [np.clip(g, -1, 1)]);
 */
export function customVjp<A extends unknown[], R>(f: (...args: A) => R, name = f.name || "f"): CustomVjpFunction<A, R> {
  let rule: { fwd: VjpFwd<A, R, unknown>; bwd: VjpBwd<A, R, unknown> } | null = null;
  /** Per input structure: the flat entry, and the output structure (known once `f` is traced). */
  const byInTree = new Map<string, { id: number; out: { tree: TreeDef | null } }>();
  const op = `customVjp(${name})`;
  const register = (args: A, inTree: TreeDef, inAvals: Aval[]) => {
    const { fwd, bwd } = rule!;
    const argDefs = args.map((a) => arrayLeaves(op, a, "argument")[1]);
    const out: { tree: TreeDef | null } = { tree: null };
    const flatOut = (value: unknown, what: string): Array[] => {
      const [outs, def] = arrayLeaves(op, value, what);
      if (out.tree === null) out.tree = def;
      else if (!out.tree.equals(def))
        throw new TransformError(`${op}: ${what} ${def} must have the function's output structure ${out.tree}`);
      return outs;
    };
    const id = registerVjp({
      name,
      inAvals,
      fn: (xs) => flatOut(f(...(inTree.unflatten(xs) as A)), "output"),
      fwd: (xs) => {
        const res = fwd(...(inTree.unflatten(xs) as A)) as unknown;
        if (!globalThis.Array.isArray(res) || res.length !== 2)
          throw new TransformError(`${op}: fwd must return [output, residuals], got ${typeof res}`);
        const [rs, resTree] = arrayLeaves(op, res[1], "residual");
        return [flatOut(res[0], "fwd's output"), rs, resTree];
      },
      bwd: (res, resTree, cts) => {
        const got = bwd(resTree.unflatten(res), out.tree!.unflatten(cts) as ArrayTree<R>) as unknown;
        if (!globalThis.Array.isArray(got) || got.length !== argDefs.length) {
          const n = globalThis.Array.isArray(got) ? `${got.length} values` : typeof got;
          throw new TransformError(
            `${op}: bwd must return one cotangent per argument (${argDefs.length}), got ${n} — return a list, e.g. [gx] for one argument`,
          );
        }
        const flat: (Array | null)[] = [];
        got.forEach((c, i) => {
          const def = argDefs[i]!;
          // `null` (JAX's None) is a zero cotangent for a whole argument.
          if (c === null || c === undefined) return flat.push(...new globalThis.Array<null>(def.numLeaves).fill(null));
          const [cs, cdef] = arrayLeaves(op, c, "cotangent");
          if (!cdef.equals(def)) throw new TransformError(`${op}: bwd's cotangent ${i} ${cdef} must have argument ${i}'s structure ${def}`);
          return flat.push(...cs);
        });
        return flat as Array[];
      },
    });
    return { id, out };
  };
  const call = ((...args: A): R => {
    if (!rule) throw new ArgumentError(`${op}: no rule — call .defvjp(fwd, bwd) before calling the function`);
    const [leaves, inTree] = arrayLeaves(op, args, "argument");
    const key = String(inTree);
    let rec = byInTree.get(key);
    if (!rec)
      byInTree.set(
        key,
        (rec = register(
          args,
          inTree,
          leaves.map((l) => l.aval),
        )),
      );
    const outs = callVjpEntry(rec.id, leaves);
    return rec.out.tree!.unflatten(outs) as R;
  }) as CustomVjpFunction<A, R>;
  call.defvjp = <Res>(fwd: VjpFwd<A, R, Res>, bwd: VjpBwd<A, R, Res>) => {
    rule = { fwd, bwd: bwd as VjpBwd<A, R, unknown> };
    byInTree.clear();
    return call;
  };
  return call;
}
