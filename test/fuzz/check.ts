/**
 * Runs a fuzz program compiled (`filterJit`) and eagerly (the reference interpreter), plain or
 * under grad / vmap (batch 0 to 3) / jvp / vmap of grad, plus a float64 shadow (the same
 * program run eagerly on float64 casts of the inputs), and compares them.
 *
 * What counts as a mismatch (per output leaf, compiled vs eager):
 * - a different tree structure, shape or dtype;
 * - a crash: anything but a WaxError thrown on either side, or a WaxError on one side only
 *   (both throwing a WaxError is agreement: the program is invalid for both);
 * - bool and integer elements: any difference, unless the float64 shadow disagrees with eager
 *   there (the value depends on float32 rounding, e.g. a comparison of nearly equal values);
 * - float elements: NaN must be NaN in both (its sign and payload are not compared), ±Inf the
 *   same infinity, unless the shadow says eager's NaN/Inf comes from float32 rounding or
 *   overflow (shadow finite, or a different non-finite); a finite eager value needs a compiled
 *   value within
 *     tol = 8·ulp(eager) + 16·|eager − shadow| + floor·max(scale, 1),
 *   where `scale` is the largest finite |eager| in the leaf. The middle term scales with how
 *   far float32 rounding already moved eager; the last absorbs reassociated reductions and
 *   cancellations (a gradient `1/x − x/x²` is 0 eagerly, 6e-8 compiled), taking intermediates
 *   to be O(1) at least, as the inputs mostly are, so an error below ~1e-6 on values that are
 *   all tiny goes unseen. floor is 2^-20, and 2^-12 under grad, jvp and vmap of grad, whose
 *   derivatives amplify such cancellations (by 1/sqrt(eps) ≈ 316 in standardize). +0 and -0 are
 *   equal. Without a shadow (it threw), tol uses 64·ulp and 16·floor·max(scale, 1).
 * - under a transform, an eager result that disagrees with the plain program: jvp's primals and
 *   tangent shapes, grad's shapes, vmap's shapes and example 0, vmap-of-grad's example 0 against
 *   grad; and a transform refusing a program that runs plain, unless JAX refuses it too
 *   (reverse mode through a while loop).
 */
import { filterJit } from "@wax/compiler";
import { grad, isFloat, jvp, np, treeFlatten, vmap, type Array, type DType } from "@wax/tracer";
import { inputArray, isWaxError, programFunction, rngFor, randomData, type Program } from "./program";

/** How the program runs: as is, or under a transform ("vmapgrad": per-example gradients, vmap of grad). */
export type Mode = "plain" | "grad" | "vmap" | "jvp" | "vmapgrad";
export const MODES: readonly Mode[] = ["plain", "grad", "vmap", "jvp", "vmapgrad"];

const QUIET = { warnAfterMisses: Infinity };

/** The inputs of `mode` for the program: batched (vmap) and tangents (jvp) drawn from `seed`. */
export function modeArgs(p: Program, mode: Mode, seed: number, floatDtype: DType): Array[][] {
  const r = rngFor(seed ^ 0x5bd1e995);
  // A batch of 0 now and then (issue 15 item 6).
  const batch = [0, 1, 1, 2, 2, 3, 3, 3][Math.floor(r() * 8)]!;
  if (mode === "vmap" || mode === "vmapgrad") {
    return [
      p.inputs.map((inp) => {
        const data = batch === 0 ? [] : [...inp.data];
        for (let b = 1; b < batch; b++)
          data.push(...(inp.dtype === "float32" ? inp.data.map((x) => Math.fround(x * (1 + b / 8))) : inp.data));
        return inputArray({ ...inp, shape: [batch, ...inp.shape], data }, floatDtype);
      }),
    ];
  }
  const xs = p.inputs.map((inp) => inputArray(inp, floatDtype));
  if (mode === "jvp") {
    const ts = p.inputs
      .filter((i) => i.dtype === "float32")
      .map((inp) => inputArray({ ...inp, data: randomData(r, inp.data.length, "float32", 0) }, floatDtype));
    return [xs, ts];
  }
  return [xs];
}

/** The function of `mode` over `program` (a float dtype), taking modeArgs' arguments. */
export function modeFunction(p: Program, mode: Mode, floatDtype: DType): (...args: Array[][]) => unknown {
  const f = programFunction(p, floatDtype);
  const isF = p.inputs.map((i) => i.dtype === "float32");
  const merge = (floats: Array[], all: Array[]): Array[] => {
    let k = 0;
    return all.map((x, i) => (isF[i] ? floats[k++]! : x));
  };
  if (mode === "plain") return (xs) => f(...xs!);
  if (mode === "vmap") return (xs) => vmap(f)(...xs!);
  // Loss: the sum of every float output (weighted so outputs do not cancel).
  const gradOf = (...xs: Array[]): Array[] => {
    const floats = xs.filter((_, i) => isF[i]);
    const loss = (fl: Array[]) => {
      const outs = f(...merge(fl, xs)).filter((o) => isFloat(o.dtype));
      return outs.reduce((acc: Array, o, i) => acc.add(o.sum().mul(i + 1)), np.zeros([], floatDtype));
    };
    return grad(loss)(floats) as Array[];
  };
  if (mode === "grad") return (xs) => gradOf(...xs!);
  if (mode === "vmapgrad") return (xs) => vmap(gradOf)(...xs!);
  return (xs, ts) => {
    const floats = xs!.filter((_, i) => isF[i]);
    return jvp((...fl: Array[]) => f(...merge(fl, xs!)), floats, ts!);
  };
}

/** Whether `mode` applies: grad and jvp need a float input (grad also a float output). */
export function modeApplies(p: Program, mode: Mode, outDtypes: DType[]): boolean {
  if (mode === "plain" || mode === "vmap") return true;
  // grad, jvp, vmapgrad
  if (!p.inputs.some((i) => i.dtype === "float32")) return false;
  return mode === "jvp" || outDtypes.some(isFloat);
}

function attemptLeaves(run: () => unknown): Array[] | null {
  const o = attempt(run);
  return o.ok ? o.leaves : null;
}
type Outcome = { ok: true; leaves: Array[]; tree: string } | { ok: false; error: unknown };
function attempt(run: () => unknown): Outcome {
  try {
    const [leaves, tree] = treeFlatten(run());
    return { ok: true, leaves: leaves as Array[], tree: String(tree) };
  } catch (error) {
    return { ok: false, error };
  }
}
const errText = (e: unknown): string =>
  `${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? String(e)}`.split("\n")[0]!.slice(0, 300);

function ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 1.1754943508222875e-38) return 1.401298464324817e-45;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}
const fmt = (x: number): string => (Object.is(x, -0) ? "-0" : String(x));

/** Compares jit with eager under the shadow's tolerance; returns the first mismatch. */
export function compareLeaves(jit: Array[], eager: Array[], shadow: Array[] | null, floor = 2 ** -20): string | null {
  if (jit.length !== eager.length) return `${jit.length} outputs compiled vs ${eager.length} eager`;
  for (let l = 0; l < eager.length; l++) {
    const j = jit[l]!;
    const e = eager[l]!;
    if (String(j.aval) !== String(e.aval)) return `leaf ${l}: compiled ${j.aval} vs eager ${e.aval}`;
    const s = shadow?.[l];
    const sd = s && s.size === e.size ? s.data : null;
    const jd = j.data;
    const ed = e.data;
    const float = isFloat(e.dtype);
    let scale = 0;
    if (float) for (const x of ed) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
    for (let i = 0; i < ed.length; i++) {
      const a = jd[i]!;
      const b = ed[i]!;
      const c = sd ? (e.dtype === "bool" ? Number(sd[i]) : sd[i]!) : undefined;
      const where = `leaf ${l} ${e.aval} element ${i}: compiled ${fmt(a)}, eager ${fmt(b)}, float64 shadow ${c === undefined ? "n/a" : fmt(c)}`;
      if (!float) {
        if (a !== b && (c === undefined || c === b)) return where;
        continue;
      }
      if (c !== undefined && (Number.isNaN(b) !== Number.isNaN(c) || (!Number.isFinite(b) && b !== c && !Number.isNaN(b)))) continue; // eager's NaN/Inf is float32 rounding/overflow
      if (Number.isNaN(b) || Number.isNaN(a)) {
        if (Number.isNaN(a) !== Number.isNaN(b)) return where;
        continue;
      }
      if (!Number.isFinite(b)) {
        if (a !== b) return where;
        continue;
      }
      if (c !== undefined && !Number.isFinite(c)) continue;
      if (!Number.isFinite(a)) {
        if (Math.abs(b) > 1e38) continue; // rounding at the edge of the float32 range
        return where;
      }
      const tol =
        c === undefined ? 64 * ulp(b) + 16 * floor * Math.max(scale, 1) : 8 * ulp(b) + 16 * Math.abs(b - c) + floor * Math.max(scale, 1);
      if (Math.abs(a - b) > tol) return `${where} (tolerance ${tol})`;
    }
  }
  return null;
}

export interface CheckResult {
  /** "skip": the mode does not apply or both sides reject the program. */
  status: "pass" | "mismatch" | "crash" | "skip";
  detail?: string;
}

/** What JAX refuses too: not a wrong answer when a transform refuses it. */
const JAX_LIMITS = /Reverse-mode differentiation does not work for lax\.whileLoop/;

/**
 * Transforms against the plain program, eagerly: jvp's primal outputs are the plain outputs and
 * its tangents have their shapes; grad returns one gradient per float input, of its shape;
 * vmap's outputs are [batch, ...plain shape] and example 0 (the plain inputs) is the plain output.
 */
function transformInvariant(p: Program, mode: Mode, plain: Array[], out: Array[], args: Array[][]): string | null {
  const shape = (a: Array): string => `${a.dtype}[${a.shape.join(",")}]`;
  if (mode === "jvp") {
    const prim = out.slice(0, plain.length);
    const tan = out.slice(plain.length);
    if (tan.length !== plain.length) return `${tan.length} tangents for ${plain.length} outputs`;
    for (let i = 0; i < plain.length; i++) {
      if (isFloat(plain[i]!.dtype) && String(tan[i]!.shape) !== String(plain[i]!.shape))
        return `tangent ${i} is ${shape(tan[i]!)} for a primal ${shape(plain[i]!)}`;
    }
    const c = compareLeaves(prim, plain, null);
    return c === null ? null : `primal outputs differ from the plain run: ${c}`;
  }
  if (mode === "grad") {
    const floats = args[0]!.filter((_, i) => p.inputs[i]!.dtype === "float32");
    if (out.length !== floats.length) return `${out.length} gradients for ${floats.length} float inputs`;
    const bad = out.findIndex((g, i) => String(g.shape) !== String(floats[i]!.shape) || g.dtype !== floats[i]!.dtype);
    return bad < 0 ? null : `gradient ${bad} is ${shape(out[bad]!)} for an input ${shape(floats[bad]!)}`;
  }
  if (mode === "vmapgrad") {
    const floats = p.inputs.filter((i) => i.dtype === "float32");
    const b = args[0]![0]!.shape[0]!;
    const bad = out.findIndex((g, i) => String(g.shape) !== String([b, ...floats[i]!.shape]));
    if (out.length !== floats.length || bad >= 0)
      return `per-example gradients ${out.map(shape).join(", ")} for float inputs ${floats.map((i) => `[${i.shape}]`).join(", ")}`;
    if (b === 0) return null;
    const one = attemptLeaves(() => modeFunction(p, "grad", "float32")(...modeArgs(p, "grad", 0, "float32")));
    if (one === null) return null;
    const c = compareLeaves(
      out.map((o) => o.get(0)),
      one,
      null,
      2 ** -12,
    );
    return c === null ? null : `example 0 differs from grad on the plain inputs: ${c}`;
  }
  if (mode === "vmap") {
    const b = args[0]![0]!.shape[0]!;
    if (out.length !== plain.length) return `${out.length} outputs vs ${plain.length}`;
    for (let i = 0; i < plain.length; i++) {
      if (String(out[i]!.shape) !== String([b, ...plain[i]!.shape]) || out[i]!.dtype !== plain[i]!.dtype)
        return `output ${i} is ${shape(out[i]!)} for a plain ${shape(plain[i]!)} and batch ${b}`;
    }
    const first = out.map((o) => (o.shape[0] === 0 ? o : o.get(0)));
    const c = b === 0 ? null : compareLeaves(first, plain, null);
    return c === null ? null : `example 0 differs from the plain run: ${c}`;
  }
  return null;
}

/** Runs `p` under `mode`: compiled vs eager (vs float64 shadow). */
export function check(p: Program, mode: Mode, seed: number): CheckResult {
  const plain = attempt(() => programFunction(p, "float32")(...modeArgs(p, "plain", seed, "float32")[0]!));
  if (!plain.ok)
    return isWaxError(plain.error)
      ? { status: "skip", detail: errText(plain.error) }
      : { status: "crash", detail: `eager plain: ${errText(plain.error)}` };
  if (
    !modeApplies(
      p,
      mode,
      plain.leaves.map((x) => x.dtype),
    )
  )
    return { status: "skip", detail: "mode" };
  const args = modeArgs(p, mode, seed, "float32");
  const eager = attempt(() => modeFunction(p, mode, "float32")(...args));
  const jit = attempt(() => filterJit(modeFunction(p, mode, "float32"), QUIET)(...args));
  if (!eager.ok || !jit.ok) {
    if (!eager.ok && !jit.ok && isWaxError(eager.error) && isWaxError(jit.error)) {
      // The plain program runs, so a transform refusing it is a bug unless JAX refuses it too.
      if (mode === "plain" || JAX_LIMITS.test(errText(eager.error))) return { status: "skip", detail: "both: " + errText(eager.error) };
      return { status: "crash", detail: `${mode} refuses a program that runs plain: ${errText(eager.error)}` };
    }
    return { status: "crash", detail: `eager: ${eager.ok ? "ok" : errText(eager.error)}; compiled: ${jit.ok ? "ok" : errText(jit.error)}` };
  }
  if (jit.tree !== eager.tree) return { status: "mismatch", detail: `tree: compiled ${jit.tree} vs eager ${eager.tree}` };
  const broken = transformInvariant(p, mode, plain.leaves, eager.leaves, args);
  if (broken) return { status: "mismatch", detail: `${mode} vs plain (eager): ${broken}` };
  const shadow = attempt(() => modeFunction(p, mode, "float64")(...modeArgs(p, mode, seed, "float64")));
  // Derivatives amplify rounding where a cancellation is exact eagerly but not compiled
  // (the gradient of sum(standardize(x)) over a constant row is 0 eagerly, up to ~7e-5 compiled:
  // 1/sqrt(eps) ≈ 316 times a few float32 ulps).
  const floor = mode === "plain" || mode === "vmap" ? 2 ** -20 : 2 ** -12;
  const detail = compareLeaves(jit.leaves, eager.leaves, shadow.ok && shadow.tree === eager.tree ? shadow.leaves : null, floor);
  return detail === null ? { status: "pass" } : { status: "mismatch", detail };
}
