/**
 * Primitives: the operations every trace understands. Each primitive carries its rules in
 * one place: `abstractEval` (shape/dtype rule, which also validates the operands) and `impl`
 * (the reference interpreter). Names and param types come from the catalogue
 * (`catalogue.ts`); the transform rule tables (`transforms/tables.ts`) and the compiler's
 * lowering table are exhaustive records over the same names.
 */
import type { Aval } from "./aval";
import type { ConcreteArray } from "./array";
import type { TypedArray } from "./dtype";
import type { ClosedJaxpr, Jaxpr } from "./jaxpr";
import type { ParamsOf, PrimName } from "./catalogue";

export type { NoParams, ParamsOf, PrimName, PrimitiveParamsMap } from "./catalogue";

/** A parameter of an equation. Must be immutable; printed JAX-style. */
export type ParamValue =
  number | string | boolean | null | readonly ParamValue[] | Jaxpr | ClosedJaxpr | { readonly [k: string]: ParamValue };

/** Params of some primitive (the union over the catalogue): what generic code such as the interpreter passes on. */
export type Params = ParamsOf<PrimName>;

export interface PrimitiveDef<N extends PrimName> {
  /** Output avals from input avals; throws ShapeError/DTypeError naming the primitive. */
  abstractEval(avals: readonly Aval[], params: ParamsOf<N>): Aval[];
  /** Reference implementation: output data for each output aval. */
  impl(args: readonly ConcreteArray[], params: ParamsOf<N>, outAvals: readonly Aval[]): TypedArray[];
  /** Params as printed in jaxprs (JAX hides some defaults); defaults to all params, sorted. */
  ppParams?(params: ParamsOf<N>): [string, ParamValue][];
  multipleResults?: boolean;
}

/**
 * A primitive of the catalogue. Its methods take `ParamsOf<N>`; a `Primitive` of unknown name
 * (`Primitive<PrimName>`, the default) takes the union, which is what equations carry.
 */
export class Primitive<N extends PrimName = PrimName> {
  readonly multipleResults: boolean;
  constructor(
    readonly name: N,
    private readonly def: PrimitiveDef<N>,
  ) {
    this.multipleResults = def.multipleResults ?? false;
  }
  abstractEval(avals: readonly Aval[], params: ParamsOf<N>): Aval[] {
    return this.def.abstractEval(avals, params);
  }
  impl(args: readonly ConcreteArray[], params: ParamsOf<N>, outAvals: readonly Aval[]): TypedArray[] {
    return this.def.impl(args, params, outAvals);
  }
  ppParams(params: ParamsOf<N>): [string, ParamValue][] {
    if (this.def.ppParams) return this.def.ppParams(params);
    const p = params as Readonly<Record<string, ParamValue>>;
    return Object.keys(p)
      .sort()
      .map((k) => [k, p[k]!]);
  }
  toString(): string {
    return this.name;
  }
}

/** Every primitive, by name. */
export const primitives = new Map<PrimName, Primitive>();

/** Creates and registers a primitive. */
export function definePrimitive<N extends PrimName>(name: N, def: PrimitiveDef<N>): Primitive<N> {
  if (primitives.has(name)) throw new Error(`primitive ${name} defined twice`);
  const p = new Primitive(name, def);
  primitives.set(name, p);
  return p;
}
