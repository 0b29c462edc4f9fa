/**
 * How eager primitives run. The reference interpreter (each primitive's `impl`: JS loops in
 * float64, rounded to the array's dtype) is the executable specification. A compiler may
 * install faster kernels, which the eager trace asks first: `@wax/compiler` installs compiled
 * single-op WebAssembly kernels for large operands, as JAX dispatches eager ops to XLA. The
 * tracer never imports the compiler; this hook is the only link.
 */
import type { ConcreteArray } from "./array";
import type { Aval } from "./aval";
import type { TypedArray } from "./dtype";
import type { Primitive } from "./primitive";

/**
 * Runs one eager primitive application and returns its outputs' data (in `outAvals`' dtypes
 * and sizes), or `null` to leave it to the interpreter.
 */
export type EagerKernels = (
  prim: Primitive,
  args: readonly ConcreteArray[],
  params: unknown,
  outAvals: readonly Aval[],
) => TypedArray[] | null;

let installed: EagerKernels | null = null;
let interpreterOnly = false;

/** Installs (or with `null` removes) the kernels eager primitives try before the interpreter. */
export function installEagerKernels(kernels: EagerKernels | null): void {
  installed = kernels;
}

/**
 * `true`: every eager primitive runs in the reference interpreter (what tests compare
 * against); `false` (the default): installed kernels take the applications they handle.
 * Returns the previous setting.
 */
export function useEagerInterpreter(on: boolean): boolean {
  const previous = interpreterOnly;
  interpreterOnly = on;
  return previous;
}

/** The kernels the eager trace asks first, or null (interpreter only, or none installed). */
export function eagerKernels(): EagerKernels | null {
  return interpreterOnly ? null : installed;
}
