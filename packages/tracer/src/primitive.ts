/**
 * Primitives: the operations every trace understands. Each primitive carries its rules in
 * one place: `abstractEval` (shape/dtype rule, which also validates the operands) and `impl`
 * (the reference interpreter). Transform rules (JVP, transpose, batching) are added by the
 * transform modules into the same object, so `primitives` is the table to audit.
 */
import type { Aval } from "./aval";
import type { ConcreteArray } from "./array";
import type { TypedArray } from "./dtype";
import type { ClosedJaxpr, Jaxpr } from "./jaxpr";

/** A parameter of an equation. Must be immutable; printed JAX-style. */
export type ParamValue =
  | number
  | string
  | boolean
  | null
  | readonly ParamValue[]
  | Jaxpr
  | ClosedJaxpr;

export type Params = Readonly<Record<string, ParamValue>>;

export interface PrimitiveDef {
  /** Output avals from input avals; throws ShapeError/DTypeError naming the primitive. */
  abstractEval(avals: readonly Aval[], params: Params): Aval[];
  /** Reference implementation: output data for each output aval. */
  impl(args: readonly ConcreteArray[], params: Params, outAvals: readonly Aval[]): TypedArray[];
  /** Params as printed in jaxprs (JAX hides some defaults); defaults to all params, sorted. */
  ppParams?(params: Params): [string, ParamValue][];
  multipleResults?: boolean;
}

export class Primitive {
  readonly multipleResults: boolean;
  readonly abstractEval: PrimitiveDef["abstractEval"];
  readonly impl: PrimitiveDef["impl"];
  readonly ppParams: NonNullable<PrimitiveDef["ppParams"]>;
  constructor(
    readonly name: string,
    def: PrimitiveDef,
  ) {
    this.multipleResults = def.multipleResults ?? false;
    this.abstractEval = def.abstractEval;
    this.impl = def.impl;
    this.ppParams =
      def.ppParams ?? ((params) => Object.keys(params).sort().map((k) => [k, params[k]!]));
  }
  toString(): string {
    return this.name;
  }
}

/** Every primitive, by name. */
export const primitives = new Map<string, Primitive>();

/** Creates and registers a primitive. */
export function definePrimitive(name: string, def: PrimitiveDef): Primitive {
  if (primitives.has(name)) throw new Error(`primitive ${name} defined twice`);
  const p = new Primitive(name, def);
  primitives.set(name, p);
  return p;
}
