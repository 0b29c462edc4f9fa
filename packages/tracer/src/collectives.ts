/**
 * Collectives over the named axes of enclosing `vmap`s (as `jax.lax.psum` & co.).
 * `axisName` is one name or a list of names.
 */
import { scalar, type Array } from "./array";
import { axisSize } from "./axis-env";
import { AxisNameError } from "./errors";
import * as lax from "./lax";
import * as P from "./primitives/all";
import { bind1 } from "./trace";
import { asArray, type ArrayLike } from "./values";
import { promoteInexact } from "./numpy/promote";

type Names = string | readonly string[];

/** The names as a list; anything but a string or a list of strings is an AxisNameError (JAX's
 * positional axes of `pmap` do not exist here, and `psum(x, 0)` would otherwise fail obscurely). */
function list(op: string, n: Names): string[] {
  const names: unknown[] = typeof n === "string" ? [n] : globalThis.Array.isArray(n) ? [...(n as unknown[])] : [n];
  for (const name of names) {
    if (typeof name !== "string") {
      throw new AxisNameError(
        `${op}: axis name ${typeof name === "number" ? name : (JSON.stringify(name) ?? String(name))} is not a string — collectives take the axisName of an enclosing vmap (vmap(f, {axisName: "batch"}) and ${op}(x, "batch")); to reduce over a positional axis use x.sum(axis) / np.mean(x, axis)`,
      );
    }
  }
  return names as string[];
}

function collective(prim: P.Primitive, op: string, x: ArrayLike, axisName: Names): Array {
  let a = asArray(x);
  const names = list(op, axisName);
  for (const n of names) axisSize(op, n);
  if (a.dtype === "bool") a = lax.convertElementType(a, "int32");
  return bind1(prim, [a], { axes: names });
}

/** Sum over the named axis (or axes). */
export function psum(x: ArrayLike, axisName: Names): Array {
  return collective(P.psum, "psum", x, axisName);
}

/** Mean over the named axis (or axes): `psum(x) / size`. */
export function pmean(x: ArrayLike, axisName: Names): Array {
  const names = list("pmean", axisName);
  const n = names.reduce((acc, name) => acc * axisSize("pmean", name), 1);
  const a = promoteInexact(x)[0]!;
  return lax.div(psum(a, names), scalar(n, a.dtype, true));
}

export function pmax(x: ArrayLike, axisName: Names): Array {
  return collective(P.pmax, "pmax", x, axisName);
}
export function pmin(x: ArrayLike, axisName: Names): Array {
  return collective(P.pmin, "pmin", x, axisName);
}

/** This instance's index along the named axis (int32). */
export function axisIndex(axisName: string): Array {
  axisSize("axisIndex", axisName);
  return bind1(P.axisIndex, [], { axis_name: axisName });
}

/**
 * Gathers every instance's value along a new axis `axis` (or, with `tiled`, concatenates
 * along the existing axis `axis`).
 */
export function allGather(x: ArrayLike, axisName: Names, opts: { axis?: number; tiled?: boolean } = {}): Array {
  const names = list("allGather", axisName);
  let r = asArray(x);
  const axis = opts.axis ?? 0;
  // Gather innermost name last so the outer-most name ends up outermost in the result.
  for (const n of [...names].reverse()) {
    axisSize("allGather", n);
    r = bind1(P.allGather, [r], { axis_name: n, all_gather_dimension: axis });
  }
  if (opts.tiled) {
    const shape = [...r.shape];
    const merged = names.reduce((acc, _n, k) => acc * shape[axis + k]!, 1) * shape[axis + names.length]!;
    shape.splice(axis, names.length + 1, merged);
    r = lax.reshape(r, shape);
  }
  return r;
}
