/**
 * `vmap` with named axes. A `BatchTrace` carries (value, batch dim) pairs and applies each
 * primitive's batching rule in its parent trace; the axis name is bound in the axis
 * environment while the body is traced, so collectives (`psum`, `pmean`, ...) over it are
 * rewritten into reductions over the batch dimension.
 */
import type { AnyFn, ArrayTree } from "./types";
import { Array, type ConcreteArray } from "../array";
import { Aval } from "../aval";
import { withAxis, type AxisFrame } from "../axis-env";
import { ShapeError, TransformError } from "../errors";
import * as lax from "../lax";
import { moveaxis } from "../numpy/shape";
import type { ParamsOf, PrimName, Primitive } from "../primitive";
import { ClosedJaxpr, Jaxpr } from "../jaxpr";
import { treeFlatten } from "../pytree";
import { bind, currentTrace, Trace, Tracer, withTrace } from "../trace";
import { asArray } from "../values";
import { batchRuleOf } from "./tables";

export class BatchTracer extends Tracer {
  readonly aval: Aval;
  constructor(
    readonly trace: BatchTrace,
    readonly val: Array,
    readonly bdim: number | null,
  ) {
    super();
    const a = val.aval;
    this.aval =
      bdim === null
        ? a
        : new Aval(
            a.shape.filter((_, i) => i !== bdim),
            a.dtype,
            a.weakType,
          );
  }
  override concreteValue(): ConcreteArray | null {
    return null;
  }
}

export class BatchTrace extends Trace {
  constructor(
    parent: Trace,
    readonly axis: AxisFrame & { spmdName?: string },
  ) {
    super(parent);
  }
  get transformName(): string {
    return this.axis.name.startsWith("<") ? "vmap" : `vmap(axisName="${this.axis.name}")`;
  }
  unpack(x: Array): [Array, number | null] {
    if (x instanceof BatchTracer && x.trace === this) return [x.val, x.bdim];
    return [x, null];
  }
  processPrimitive<N extends PrimName>(prim: Primitive<N>, args: readonly Array[], params: ParamsOf<N>): Array[] {
    const vals: Array[] = [];
    const dims: (number | null)[] = [];
    for (const a of args) {
      const [v, d] = this.unpack(a);
      vals.push(v);
      dims.push(d);
    }
    const parent = this.parent!;
    const rule = batchRuleOf(prim);
    if (dims.every((d) => d === null) && !COLLECTIVES.has(prim.name) && !usesAxis(params, this.axis.name)) {
      return withTrace(parent, () => bind(prim, vals, params)).map((o) => this.wrap(o, null, prim));
    }
    if (!rule) throw new TransformError(`${prim.name}: no batching rule — it cannot be used under vmap`);
    const [outs, outDims] = withTrace(parent, () => rule(this.axis, vals, dims, params));
    return outs.map((o, i) => this.wrap(o, outDims[i] ?? null, prim));
  }
  private wrap(val: Array, bdim: number | null, prim: Primitive): BatchTracer {
    const t = new BatchTracer(this, val, bdim);
    t.sourceOp = prim.name;
    return t;
  }
}

/** Collectives consult the axis even on unbatched operands (psum of a constant = size × it). */
const COLLECTIVES = new Set(["psum", "pmax", "pmin", "axis_index", "all_gather", "psum_scatter"]);

/**
 * Whether a higher-order primitive's sub-jaxprs (cond branches, loop bodies) hold a collective
 * over `name`: then it goes through its batching rule even with no batched operand, so the
 * collective inside sees the axis.
 */
function usesAxis(params: object, name: string): boolean {
  const visit = (v: unknown): boolean => {
    if (v instanceof ClosedJaxpr) return visit(v.jaxpr);
    if (v instanceof Jaxpr) {
      return v.eqns.some((e) => {
        if (COLLECTIVES.has(e.prim.name)) {
          const p = e.params as { axes?: readonly string[]; axis_name?: string };
          if (p.axes?.includes(name) || p.axis_name === name) return true;
        }
        return Object.values(e.params).some(visit);
      });
    }
    return globalThis.Array.isArray(v) && v.some(visit);
  };
  return Object.values(params).some(visit);
}

export type AxisSpec = number | null;

export interface VmapOptions {
  /** Per-argument batch axis: a number, `null` (not batched), or a pytree prefix of the arguments. */
  inAxes?: unknown;
  /**
   * Output batch axis: a number, `null` (unbatched, must not vary), or a pytree prefix of the
   * output — or a function of the output returning one (for wrappers such as `filterVmap`
   * whose output structure is known only after the call).
   */
  outAxes?: unknown;
  /** Name of the mapped axis, for collectives (`psum(x, name)`). */
  axisName?: string;
  /** Size of the mapped axis, required when no input is batched. */
  axisSize?: number;
}

/** Expands a prefix spec (numbers/null at its leaves) to one spec per leaf of `tree`. */
export function broadcastPrefix(op: string, prefix: unknown, tree: unknown, what: string): AxisSpec[] {
  const isSpec = (x: unknown) => x === null || typeof x === "number";
  const [specs, prefixDef] = treeFlatten(prefix, isSpec);
  for (const s of specs) {
    if (!isSpec(s) || (typeof s === "number" && !Number.isInteger(s))) {
      throw new TransformError(
        `${op}: ${what} must contain integers or null, got ${typeof s === "object" ? `a ${(s as object).constructor?.name ?? "object"}` : String(s as string | number | bigint | boolean | symbol | ((...args: never[]) => unknown))}`,
      );
    }
  }
  const subtrees = prefixDef.flattenUpTo(tree, `${op} ${what}`);
  const out: AxisSpec[] = [];
  subtrees.forEach((sub, i) => {
    const n = treeFlatten(sub)[1].numLeaves;
    for (let k = 0; k < n; k++) out.push(specs[i] as AxisSpec);
  });
  return out;
}

/** Leaf paths like `[0].weight[1]` for error messages. */
export function leafPaths(tree: unknown): string[] {
  const out: string[] = [];
  const rec = (x: unknown, path: string): void => {
    const [leaves, def] = treeFlatten(x);
    if (def.kind === "leaf") {
      out.push(path);
      return;
    }
    if (def.kind === "array") (x as unknown[]).forEach((c, i) => rec(c, `${path}[${i}]`));
    else if (def.kind === "object") (def.aux as string[]).forEach((k) => rec((x as Record<string, unknown>)[k], `${path}.${k}`));
    else leaves.forEach((_, i) => out.push(`${path}<leaf ${i}>`));
  };
  rec(tree, "");
  return out;
}

let anonymousAxes = 0;

/**
 * Vectorizes `f` over a batch axis of its arguments.
 *
 * @example
 * vmap((x, w) => x.matmul(w), {inAxes: [0, null]})(xs, w)   // per-example matmul
 * vmap(f, {axisName: "batch"})  // inside f, pmean(x, "batch") averages over the batch
 */
export function vmap<F extends AnyFn>(f: F, opts?: VmapOptions): (...args: Parameters<F>) => ArrayTree<ReturnType<F>>;
export function vmap(f: (...args: unknown[]) => unknown, opts: VmapOptions = {}): (...args: unknown[]) => unknown {
  const { inAxes = 0, outAxes = 0, axisName, axisSize } = opts;
  return (...args: unknown[]) => {
    const [leaves, inTree] = treeFlatten(args);
    const specs = broadcastPrefix("vmap", globalThis.Array.isArray(inAxes) ? inAxes : args.map(() => inAxes), args, "inAxes");
    const arrs = leaves.map((l) => (l instanceof Array || typeof l === "number" || typeof l === "boolean" ? asArray(l as number) : null));
    // Axis size: from the batched leaves, all agreeing.
    let size: number | null = axisSize ?? null;
    const sizes: string[] = [];
    const axes = specs.map((s, i) => {
      if (s === null) return null;
      const a = arrs[i];
      if (a === null || a === undefined)
        throw new TransformError(`vmap: inAxes gives axis ${s} for leaf ${i} of ${inTree}, which is not an array`);
      if (s < -a.ndim || s >= a.ndim)
        throw new ShapeError(`vmap: inAxes ${s} is out of range for leaf ${i} of shape ${a.aval} (rank ${a.ndim})`);
      const ax = s < 0 ? s + a.ndim : s;
      sizes.push(`leaf ${i} ${a.aval} axis ${ax} has size ${a.shape[ax]}`);
      if (size === null) size = a.shape[ax]!;
      else if (a.shape[ax] !== size) {
        throw new ShapeError(
          `vmap: inconsistent sizes for the mapped axis: ${sizes.join("; ")}${axisSize !== undefined ? ` (axisSize is ${axisSize})` : ""} — all batched inputs must share one size`,
        );
      }
      return ax;
    });
    if (size === null)
      throw new TransformError("vmap: no input is batched (all inAxes are null) — pass axisSize to say how many instances to make");
    const name = axisName ?? `<vmap${anonymousAxes++}>`;
    const frame = { name, size };
    const trace = new BatchTrace(currentTrace(), frame);
    try {
      const out = withAxis(name, size, () =>
        withTrace(trace, () => {
          const ins = leaves.map((l, i) => (axes[i] === null || axes[i] === undefined ? l : new BatchTracer(trace, arrs[i]!, axes[i]!)));
          return f(...(inTree.unflatten(ins) as unknown[]));
        }),
      );
      const [outLeaves, outTree] = treeFlatten(out);
      const outSpecs = broadcastPrefix(
        "vmap",
        typeof outAxes === "function" ? (outAxes as (o: unknown) => unknown)(out) : outAxes,
        out,
        "outAxes",
      );
      const paths = leafPaths(out);
      const res = outLeaves.map((l, i) => {
        if (!(l instanceof Array) && typeof l !== "number") {
          throw new TransformError(`vmap: output${paths[i] ? ` ${paths[i]}` : ""} is a ${typeof l}, not an array — return arrays only`);
        }
        const [v, d] = trace.unpack(asArray(l as number));
        const spec = outSpecs[i]!;
        if (spec === null) {
          if (d !== null) {
            throw new TransformError(
              `vmap: output${paths[i] ? ` ${paths[i]}` : ""} (${new BatchTracer(trace, v, d).aval}) varies over the mapped axis${axisName ? ` "${axisName}"` : ""} but its outAxes is null — give it an axis, or make it independent of the batch (e.g. with pmean)`,
            );
          }
          return v;
        }
        const nd = (d === null ? v.ndim : v.ndim - 1) + 1;
        if (spec < -nd || spec >= nd)
          throw new ShapeError(`vmap: outAxes ${spec} is out of range for output${paths[i] ? ` ${paths[i]}` : ""} of rank ${nd}`);
        const target = spec < 0 ? spec + nd : spec;
        if (d === null) {
          const shape = [...v.shape];
          shape.splice(target, 0, size!);
          return lax.broadcastInDim(
            v,
            shape,
            v.shape.map((_, k) => (k < target ? k : k + 1)),
          );
        }
        return d === target ? v : moveaxis(v, d, target);
      });
      return outTree.unflatten(res);
    } finally {
      trace.alive = false;
    }
  };
}
