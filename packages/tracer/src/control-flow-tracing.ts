/**
 * The machinery behind the control-flow API (`control-flow.ts`): splitting pytrees into
 * traced and static leaves, tracing functions of pytrees into sub-jaxprs, hoisting the values
 * they close over into explicit operands, and JAX's checks of carries and branch outputs.
 *
 * Traced leaves are arrays and JS numbers (weak-typed scalars, as JAX's Python scalars).
 * Every other leaf — booleans, strings, functions, ... — is static, as under `filterJit`:
 * it reaches the function unchanged and must come back unchanged. (JAX would trace a Python
 * bool; in TypeScript a traced bool in an `if` is silently truthy, so a Module's `inference`
 * flag must stay a JS boolean. Carry a traced flag as `np.array(false)`.)
 */
import { Array } from "./array";
import { shapeEqual, type Aval } from "./aval";
import { promoteTypes } from "./dtype";
import { DTypeError, PytreeError, ShapeError } from "./errors";
import { ClosedJaxpr, Jaxpr, Var } from "./jaxpr";
import * as P from "./primitives/all";
import { keystr, staticEqual, treeFlatten, treeFlattenWithPath, type KeyEntry, type TreeDef } from "./pytree";
import { traceFlat } from "./staging";
import { bind1, currentTrace, evalTrace, Tracer, withTrace } from "./trace";
import { asArray } from "./values";

/** Marks a traced leaf in `Split.statics`. */
const TRACED: unique symbol = Symbol("traced");

/** A pytree split into its traced leaves and the static rest. */
export interface Split {
  tree: TreeDef;
  /** Per leaf: its static value, or `TRACED`. */
  statics: readonly unknown[];
  /** The traced leaves, in order. */
  arrays: Array[];
}

/** Splits a pytree: arrays and JS numbers are traced, other leaves static. */
export function split(tree: unknown): Split {
  const [leaves, def] = treeFlatten(tree);
  const arrays: Array[] = [];
  const statics = leaves.map((l) => {
    if (!(l instanceof Array) && typeof l !== "number") return l;
    arrays.push(asArray(l));
    return TRACED;
  });
  return { tree: def, statics, arrays };
}

/** How many leaves of `s` are traced. */
export const numTraced = (s: Omit<Split, "arrays">): number => s.statics.filter((v) => v === TRACED).length;

/** The pytree of `s` with `arrays` at its traced leaves. */
export function join(s: Omit<Split, "arrays">, arrays: readonly Array[]): unknown {
  let k = 0;
  return s.tree.unflatten(s.statics.map((v) => (v === TRACED ? arrays[k++] : v)));
}

/** JAX's `str_short` of an aval: `float32[3,4]` (in the messages modelled on JAX's). */
export const longStr = (a: Aval): string => `${a.dtype}[${a.shape.join(",")}]`;

/** Key paths of the leaves of `tree` (`[0]`, `['a'][1]`, ...), in flattening order. */
export function leafPaths(tree: TreeDef): KeyEntry[][] {
  try {
    const value = tree.unflatten(globalThis.Array.from({ length: tree.numLeaves }, (_, i) => i));
    return treeFlattenWithPath(value)[0].map(([p]) => p);
  } catch {
    return globalThis.Array.from({ length: tree.numLeaves }, (_, index) => [{ kind: "index" as const, index }]);
  }
}

/** Paths of the traced leaves only (the order of `Split.arrays`). */
export function tracedPaths(s: Omit<Split, "arrays">): KeyEntry[][] {
  return leafPaths(s.tree).filter((_, i) => s.statics[i] === TRACED);
}

const describeStatic = (v: unknown): string =>
  v === TRACED
    ? "a traced array"
    : typeof v === "string"
      ? `the static string ${JSON.stringify(v)}`
      : typeof v === "function"
        ? "a static function"
        : `the static value ${String(v)}`;

/** A function traced into a jaxpr, with the static part of its output. */
export interface TracedFn {
  jaxpr: ClosedJaxpr;
  out: Omit<Split, "arrays">;
}

/** Traces `fn` (flat arrays in, a pytree out) at `avals` in a new staging trace on top of the current one. */
export function traceTree(op: string, fn: (...xs: Array[]) => unknown, avals: readonly Aval[]): TracedFn {
  let out: Omit<Split, "arrays"> | null = null;
  const jaxpr = traceFlat(
    (...xs) => {
      const s = split(fn(...xs));
      out = { tree: s.tree, statics: s.statics };
      return s.arrays;
    },
    avals,
    op,
    currentTrace(),
  );
  return { jaxpr, out: out! };
}

/**
 * Turns the consts of closed jaxprs into leading inputs shared by all of them (JAX's
 * `_initial_style_jaxprs_with_common_consts`): every returned jaxpr takes all of `consts`
 * (the union, by identity), then its own inputs, and has no consts of its own.
 */
export function hoistConsts(jaxprs: readonly ClosedJaxpr[]): { jaxprs: ClosedJaxpr[]; consts: Array[] } {
  const consts: Array[] = [];
  const index = new Map<Array, number>();
  for (const j of jaxprs) {
    for (const c of j.consts) {
      if (!index.has(c)) {
        index.set(c, consts.length);
        consts.push(c);
      }
    }
  }
  const out = jaxprs.map((j) => {
    const vars = consts.map((c) => new Var(c.aval));
    j.jaxpr.constvars.forEach((v, k) => (vars[index.get(j.consts[k]!)!] = v));
    return new ClosedJaxpr(new Jaxpr([], [...vars, ...j.jaxpr.invars], j.jaxpr.eqns, j.jaxpr.outvars), []);
  });
  return { jaxprs: out, consts };
}

/** The name of a function's `k`-th parameter when it is a plain identifier (JAX reads it with `inspect.signature`). */
export function paramName(f: unknown, k: number): string | null {
  if (typeof f !== "function") return null;
  const src = Function.prototype.toString.call(f);
  const m =
    /^\s*(?:async\s*)?(?:function\b\s*\*?\s*[\w$]*\s*|[\w$]+\s*)?\(([^)]*)\)/.exec(src) ?? /^\s*(?:async\s+)?([\w$]+)\s*=>/.exec(src);
  const name = m?.[1]!.split(",")[k]?.split("=")[0]!.trim();
  return name && /^[A-Za-z_$][\w$]*$/.test(name) ? name : null;
}

/** How carry errors name the function and a leaf (`the input carry component x[0]`, as JAX). */
export interface CarryNames {
  /** The function as named in messages (`scan body function`, `bodyFun`). */
  fn: string;
  leaf(path: KeyEntry[]): string;
}

/**
 * Carry names from the body's parameter `name` (null: JAX's `the input carry at path ...`);
 * `strip` maps a path in the internal carry to the user's (`foriLoop` carries `[i, val]`).
 */
export function carryNames(fn: string, name: string | null, strip: (p: KeyEntry[]) => KeyEntry[] = (p) => p): CarryNames {
  return {
    fn,
    leaf(path) {
      const p = keystr(strip(path));
      if (name) return p ? `the input carry component ${name}${p}` : `the input carry ${name}`;
      return p ? `the input carry at path ${p}` : "the input carry";
    },
  };
}

/**
 * JAX's `_promote_weak_typed_inputs`: a weak-typed init leaf whose type differs from the
 * body's output converts (strongly) to their promoted dtype, so a JS `0` initialising a
 * float32 carry becomes `0.0:f32`. Returns null when nothing changes.
 */
export function promoteWeakInit(init: readonly Array[], outAvals: readonly Aval[]): Array[] | null {
  if (init.length !== outAvals.length) return null;
  let changed = false;
  const out = init.map((x, i) => {
    const o = outAvals[i]!;
    if (!x.weakType || x.aval.equals(o)) return x;
    changed = true;
    const { dtype } = promoteTypes(x.dtype, true, o.dtype, o.weakType);
    // A concrete init (a JS number) converts now, so the jaxpr shows a literal.
    const convert = () => bind1(P.convertElementType, [x], { new_dtype: dtype, weak_type: false });
    return x instanceof Tracer ? convert() : withTrace(evalTrace, convert);
  });
  return changed ? out : null;
}

/** JAX's `_check_carry_type`: the same structure and static leaves, then the same shape and dtype leaf by leaf. */
export function checkCarry(
  op: string,
  names: CarryNames,
  init: Omit<Split, "arrays">,
  inAvals: readonly Aval[],
  out: Omit<Split, "arrays">,
  outAvals: readonly Aval[],
): void {
  if (!init.tree.equals(out.tree)) {
    throw new PytreeError(
      `${op}: ${names.fn} carry input and carry output must have the same pytree structure, but the input is ${init.tree} and the output is ${out.tree} — revise the function so that the carry output has the same pytree structure as the carry input`,
    );
  }
  const all = leafPaths(init.tree);
  init.statics.forEach((v, i) => {
    const w = out.statics[i];
    if (v === TRACED ? w === TRACED : w !== TRACED && staticEqual(v, w)) return;
    throw new PytreeError(
      `${op}: ${names.fn} carry output holds ${describeStatic(w)} where ${names.leaf(all[i]!)} is ${describeStatic(v)} — non-array leaves of a carry (booleans, strings, ...) are static and must come back unchanged; to carry a traced flag start from np.array(false)`,
    );
  });
  const ps = tracedPaths(init);
  const diffs: string[] = [];
  let shapes = false;
  inAvals.forEach((a, i) => {
    const o = outAvals[i]!;
    if (a.equals(o)) return;
    const dt = a.dtype !== o.dtype;
    const sh = !shapeEqual(a.shape, o.shape);
    shapes ||= sh;
    const why = [dt ? "the dtypes do not match" : "", sh ? "the shapes do not match" : ""].filter(Boolean).join(" and also ");
    diffs.push(
      `${names.leaf(ps[i]!)} has type ${longStr(a)} but the corresponding output carry component has type ${longStr(o)}, so ${why}`,
    );
  });
  if (diffs.length === 0) return;
  const Cls = shapes ? ShapeError : DTypeError;
  throw new Cls(
    `${op}: ${names.fn} carry input and carry output must have equal types (e.g. shapes and dtypes of arrays), but they differ: ${diffs.join("; ")} — revise the function so that all output types (shapes and dtypes) match the corresponding input types`,
  );
}

/** JAX's `_check_tree_and_avals` for two branches' outputs: same structure and static leaves, same types. */
export function checkBranchOutputs(op: string, refName: string, ref: TracedFn, name: string, other: TracedFn): void {
  const [a, b] = [ref.out, other.out];
  const all = leafPaths(a.tree);
  const same =
    a.tree.equals(b.tree) &&
    a.statics.every((v, i) => (v === TRACED ? b.statics[i] === TRACED : b.statics[i] !== TRACED && staticEqual(v, b.statics[i])));
  if (!same) {
    const at = a.tree.equals(b.tree)
      ? a.statics.findIndex((v, i) => !(v === TRACED ? b.statics[i] === TRACED : staticEqual(v, b.statics[i])))
      : -1;
    const detail =
      at >= 0
        ? `: at output${keystr(all[at]!)}, ${refName} returns ${describeStatic(a.statics[at])} and ${name} ${describeStatic(b.statics[at])}`
        : `, got ${a.tree} and ${b.tree}`;
    throw new PytreeError(
      `${op}: ${refName} output must have the same pytree structure as ${name} output${detail} — return the same structure (and the same static leaves) from every branch`,
    );
  }
  const ps = tracedPaths(a);
  const [x, y] = [ref.jaxpr.outAvals, other.jaxpr.outAvals];
  const diffs: string[] = [];
  let shapes = false;
  x.forEach((u, i) => {
    if (u.equals(y[i]!)) return;
    shapes ||= !shapeEqual(u.shape, y[i]!.shape);
    diffs.push(`output${keystr(ps[i]!)} is ${longStr(u)} in ${refName} and ${longStr(y[i]!)} in ${name}`);
  });
  if (diffs.length === 0) return;
  const Cls = shapes ? ShapeError : DTypeError;
  throw new Cls(
    `${op}: ${refName} output and ${name} output must have identical types, but ${diffs.join("; ")} — return the same shapes and dtypes from every branch (broadcast or astype one of them)`,
  );
}
