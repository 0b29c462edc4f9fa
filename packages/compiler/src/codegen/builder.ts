/**
 * The codegen context shared by kernel emitters: the Binaryen module and local-variable
 * allocation for the function being built. Expression builders (SIMD math, loops) take a
 * `FnBuilder` so they can spill a value to a local when it is used more than once.
 */
import binaryen from "binaryen";

export type ExprRef = number;
export type TypeRef = number;

export class FnBuilder {
  /** Types of the locals declared so far (after the parameters). */
  readonly vars: TypeRef[] = [];
  constructor(
    readonly m: binaryen.Module,
    readonly numParams: number,
  ) {}

  /** A fresh local of `type`; returns its index. */
  local(type: TypeRef): number {
    this.vars.push(type);
    return this.numParams + this.vars.length - 1;
  }

  /** Evaluates `value` once into a fresh local: `[setExpr, getter]`. */
  let(type: TypeRef, value: ExprRef): [ExprRef, () => ExprRef] {
    const i = this.local(type);
    return [this.m.local.set(i, value), () => this.m.local.get(i, type)];
  }
}

export { binaryen };
