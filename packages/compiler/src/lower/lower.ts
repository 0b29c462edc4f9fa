/**
 * Lowering: an optimized closed jaxpr → a kernel program. One rule per primitive, in the
 * exhaustive table `loweringRules` (a primitive of the catalogue without an entry is a type
 * error); the rules live with their family in `rules/` and work through `LowerContext`.
 * Afterwards epilogues are fused and unused buffers dropped, so the program handed to the
 * memory planner is final data.
 */
import type { ClosedJaxpr, Eqn, ParamsOf, PrimName } from "@wax/tracer";
import { CompileError } from "../errors";
import { fuseEpilogues } from "./fuse-epilogues";
import {
  contiguous,
  isContiguous,
  isControl,
  kernelBuffers,
  controlBuffers,
  regionsOf,
  renameBuffers,
  type BufferInfo,
  type Kernel,
  type Program,
} from "./kernel-ir";
import { kdtype, LowerContext, sizeOf, Unsupported, unsupported, type BufVal, type LowerRules, type Val } from "./context";
import { indexingRules } from "./indexing";
import { sortRules } from "./sort";
import { controlFlowRules } from "./rules/control-flow";
import { elementwiseRules } from "./rules/elementwise";
import { reductionRules } from "./rules/reductions";
import { structuralRules } from "./rules/structural";

const collective = unsupported("a collective cannot be compiled on its own — it must be inside vmap with its axis name");

/** How every primitive lowers (or why it cannot). */
export const loweringRules: LowerRules<PrimName> = {
  ...elementwiseRules,
  ...structuralRules,
  ...reductionRules,
  ...controlFlowRules,
  ...indexingRules,
  ...sortRules,
  psum: collective,
  pmax: collective,
  pmin: collective,
  axis_index: collective,
  all_gather: collective,
  psum_scatter: collective,
  // Passes are done: the barrier is the identity.
  optimization_barrier: (_ctx, _e, ins) => ins,
  // A custom-VJP call runs its function's body (the rule only matters for differentiation).
  custom_vjp_call: (ctx, _e, ins, p) => ctx.lowerJaxpr(p.call_jaxpr, ins),
  custom_lin: unsupported("the linear part of a custom_vjp function has no forward evaluation — compile grad/vjp of the function, not jvp"),
};

function applyRule<N extends PrimName>(ctx: LowerContext, eqn: Eqn, name: N, params: ParamsOf<N>, ins: Val[]): Val | Val[] {
  const rule = loweringRules[name];
  if (rule instanceof Unsupported) throw new CompileError(`${name}: ${rule.message}`);
  return rule(ctx, eqn, ins, params);
}

const lowerEqn = (ctx: LowerContext, eqn: Eqn, ins: Val[]): Val | Val[] => applyRule(ctx, eqn, eqn.prim.name, eqn.params, ins);

/** Lowers `closed` to a kernel program; `name` is the function's, for error messages. */
export function lower(closed: ClosedJaxpr, name = "fn"): Program {
  const j = closed.jaxpr;
  const ctx = new LowerContext(name, lowerEqn);
  const args = j.invars.map((v): BufVal => {
    const dtype = kdtype(name, v.aval.dtype);
    return { kind: "buf", buf: ctx.newBuf(v.aval.size, dtype, "input"), map: contiguous(v.aval.shape), shape: [...v.aval.shape], dtype };
  });
  const results = ctx.lowerJaxpr(closed, args);
  // Outputs: each gets its own contiguous output buffer (written by a copy kernel unless the
  // value is a whole temporary that nothing else claims).
  const claimed = new Set<number>();
  const outputs = results.map((v) => {
    const whole =
      v.kind === "buf" &&
      ctx.buffers[v.buf]!.kind === "temp" &&
      isContiguous(v.map, v.shape) &&
      v.map.offset === 0 &&
      ctx.buffers[v.buf]!.size === sizeOf(v.shape);
    const out = whole && !claimed.has(v.buf) ? v : ctx.copy(v, "output");
    claimed.add(out.buf);
    return { buf: out.buf, shape: [...v.shape], dtype: v.dtype };
  });
  const buffers: BufferInfo[] = ctx.buffers.map((b) => (claimed.has(b.id) ? { ...b, kind: "output" } : b));
  const program: Program = {
    buffers,
    kernels: ctx.topLevel(),
    inputs: args.map((a) => a.buf),
    outputs,
    inputShapes: j.invars.map((v) => [...v.aval.shape]),
  };
  return dropUnused(fuseEpilogues(program));
}

/** Adds every buffer the kernels refer to to `used`. */
function collectUsed(kernels: readonly Kernel[], used: Set<number>): void {
  for (const k of kernels) {
    if (!isControl(k)) {
      const { reads, write } = kernelBuffers(k);
      for (const r of reads) used.add(r);
      used.add(write);
      continue;
    }
    const own = controlBuffers(k);
    for (const b of [...own.reads, ...own.writes]) used.add(b);
    for (const region of regionsOf(k)) collectUsed(region, used);
  }
}

/** The program without the temporaries and constants no kernel refers to, buffers renumbered. */
function dropUnused(prog: Program): Program {
  const used = new Set<number>([...prog.inputs, ...prog.outputs.map((o) => o.buf)]);
  collectUsed(prog.kernels, used);
  if (used.size === prog.buffers.length) return prog;
  const ids = new Map<number, number>();
  const buffers: BufferInfo[] = [];
  for (const b of prog.buffers) {
    if (!used.has(b.id)) continue;
    ids.set(b.id, buffers.length);
    buffers.push({ ...b, id: buffers.length });
  }
  const id = (b: number) => ids.get(b)!;
  return {
    buffers,
    kernels: prog.kernels.map((k) => renameBuffers(k, id)),
    inputs: prog.inputs.map(id),
    outputs: prog.outputs.map((o) => ({ ...o, buf: id(o.buf) })),
    inputShapes: prog.inputShapes,
  };
}
