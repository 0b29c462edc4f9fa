/**
 * Collectives over named axes: `psum`, `pmax`, `pmin`, `axis_index`, `all_gather`,
 * `psum_scatter`. They have no eager implementation: an enclosing `vmap` with the axis name
 * rewrites them (batching rules); reaching the interpreter means the name is unbound.
 */
import { Aval } from "../aval";
import { axisSize } from "../axis-env";
import { AxisNameError, ShapeError } from "../errors";
import { definePrimitive, type Primitive } from "../primitive";
import { checkDTypeClass } from "./checks";

function unboundImpl(op: string) {
  return (_args: unknown, params: { readonly axes?: readonly string[]; readonly axis_name?: string }): never => {
    const names = params.axes ?? [params.axis_name ?? "?"];
    for (const n of names) axisSize(op, n);
    throw new AxisNameError(`${op}: axis ${names.join(", ")} is bound but its vmap did not handle the collective — this is a wax bug`);
  };
}

function reduction<N extends "psum" | "pmax" | "pmin">(name: N): Primitive<N> {
  return definePrimitive(name, {
    abstractEval([x], params) {
      for (const n of params.axes) axisSize(name, n);
      if (name !== "psum") checkDTypeClass(name, x!, "numeric");
      return [x!];
    },
    impl: unboundImpl(name),
  });
}

export const psum = reduction("psum");
export const pmax = reduction("pmax");
export const pmin = reduction("pmin");

export const axisIndex = definePrimitive("axis_index", {
  abstractEval(_avals, params) {
    axisSize("axis_index", params.axis_name);
    return [new Aval([], "int32")];
  },
  impl: unboundImpl("axis_index"),
});

/** Gathers the per-instance values along a new axis `all_gather_dimension` (size = the axis size). */
export const allGather = definePrimitive("all_gather", {
  abstractEval([x], params) {
    const size = axisSize("all_gather", params.axis_name);
    const dim = params.all_gather_dimension;
    if (dim < 0 || dim > x!.ndim) throw new ShapeError(`all_gather: all_gather_dimension ${dim} is out of range for ${x}`);
    const shape = [...x!.shape];
    shape.splice(dim, 0, size);
    return [new Aval(shape, x!.dtype, x!.weakType)];
  },
  impl: unboundImpl("all_gather"),
});

/** Sums over the axis and keeps this instance's slice of dimension `scatter_dimension` (the transpose of all_gather). */
export const psumScatter = definePrimitive("psum_scatter", {
  abstractEval([x], params) {
    const size = axisSize("psum_scatter", params.axis_name);
    const dim = params.scatter_dimension;
    if (dim < 0 || dim >= x!.ndim || x!.shape[dim] !== size) {
      throw new ShapeError(`psum_scatter: dimension ${dim} of ${x} must have the axis size ${size}`);
    }
    return [
      new Aval(
        x!.shape.filter((_, i) => i !== dim),
        x!.dtype,
        x!.weakType,
      ),
    ];
  },
  impl: unboundImpl("psum_scatter"),
});
