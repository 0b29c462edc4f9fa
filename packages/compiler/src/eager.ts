/**
 * Eager mode at compiled speed: an eager primitive application on large operands runs as a
 * compiled single-op WebAssembly kernel, cached per (primitive, params, operand avals), as JAX
 * dispatches eager ops to XLA. Installed into the tracer's eager trace when this package loads;
 * small applications (where compiling would cost more than it saves), float64 ones and
 * primitives with sub-programs or functions in their params stay in the reference
 * interpreter, which `useEagerInterpreter(true)` (from `@wax/tracer`) selects for everything.
 */
import {
  bind,
  evalTrace,
  installEagerKernels,
  traceFlat,
  type Aval,
  type ConcreteArray,
  type Primitive,
  type TypedArray,
} from "@wax/tracer";
import type { Executable, HostArray } from "@wax/runtime";
import { compileJaxpr } from "./compile";

/** Operand plus result elements from which an eager application is compiled (default 2^15). */
let minElements = 1 << 15;
/** Compiled kernels kept (least recently used dropped): each holds an arena for its operands. */
const MAX_KERNELS = 128;

const kernels = new Map<string, Executable | null>();
let compiling = false;
let calls = 0;
let compiled = 0;

export interface EagerKernelStats {
  /** Applications run by a compiled kernel. */
  calls: number;
  /** Kernels compiled (including evicted ones). */
  compiled: number;
  /** Kernels cached now, and cached (primitive, params, avals) keys that the compiler refused. */
  cached: number;
  refused: number;
}

/** Counts of the compiled eager kernels (for tests and diagnostics). */
export function eagerKernelStats(): EagerKernelStats {
  let refused = 0;
  for (const k of kernels.values()) if (k === null) refused++;
  return { calls, compiled, cached: kernels.size - refused, refused };
}

/**
 * Sets the size (operand plus result elements) from which eager applications are compiled
 * (0: every supported one); returns the previous value.
 */
export function setEagerKernelThreshold(elements: number): number {
  const previous = minElements;
  minElements = elements;
  return previous;
}

/** A canonical key of plain params (numbers keep -0, NaN and infinities apart); null for anything else. */
function paramsKey(v: unknown): string | null {
  switch (typeof v) {
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "string":
      return JSON.stringify(v);
    case "boolean":
    case "undefined":
      return String(v);
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (const x of v) {
          const k = paramsKey(x);
          if (k === null) return null;
          parts.push(k);
        }
        return `[${parts.join(",")}]`;
      }
      const proto = Object.getPrototypeOf(v) as object | null;
      if (proto !== Object.prototype && proto !== null) return null;
      const parts: string[] = [];
      for (const name of Object.keys(v).sort()) {
        const k = paramsKey((v as Record<string, unknown>)[name]);
        if (k === null) return null;
        parts.push(`${JSON.stringify(name)}:${k}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      return null;
  }
}

const avalKey = (a: Aval): string => `${a.dtype}${a.weakType ? "~" : ""}[${a.shape.join(",")}]`;

function compileKernel(prim: Primitive, args: readonly ConcreteArray[], params: unknown, outAvals: readonly Aval[]): Executable | null {
  compiling = true;
  try {
    const jaxpr = traceFlat(
      (...xs) => bind(prim, xs, params as never),
      args.map((a) => a.aval),
      `eager ${prim.name}`,
      evalTrace,
    );
    const got = jaxpr.outAvals;
    if (got.length !== outAvals.length || got.some((a, i) => !a.equals(outAvals[i]!))) return null;
    compiled++;
    return compileJaxpr(jaxpr, { name: `eager_${prim.name}` }).executable;
  } catch {
    // Not compilable (an op the compiler lacks, a shape it refuses): the interpreter runs it.
    return null;
  } finally {
    compiling = false;
  }
}

function run(prim: Primitive, args: readonly ConcreteArray[], params: unknown, outAvals: readonly Aval[]): TypedArray[] | null {
  if (compiling) return null;
  let elements = 0;
  for (const a of args) {
    if (a.dtype === "float64") return null;
    elements += a.size;
  }
  for (const o of outAvals) {
    if (o.dtype === "float64") return null;
    elements += o.size;
  }
  if (elements < minElements || elements === 0) return null;
  const p = paramsKey(params);
  if (p === null) return null;
  const key = `${prim.name}|${p}|${args.map((a) => avalKey(a.aval)).join(";")}`;
  let kernel = kernels.get(key);
  if (kernel === undefined) {
    kernel = compileKernel(prim, args, params, outAvals);
    if (kernels.size >= MAX_KERNELS) kernels.delete(kernels.keys().next().value!);
  } else kernels.delete(key);
  kernels.set(key, kernel);
  if (kernel === null) return null;
  calls++;
  return kernel.call(args.map((a) => a.data as HostArray)) as TypedArray[];
}

installEagerKernels(run);
