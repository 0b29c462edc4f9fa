/**
 * The codegen context shared by kernel emitters: the Binaryen module and local-variable
 * allocation for the function being built. Expression builders (SIMD math, loops) take a
 * `FnBuilder` so they can spill a value to a local when it is used more than once.
 */
import binaryen from "binaryen";

/** A Binaryen expression. */
export type ExprRef = number;
/** A Binaryen value type. */
export type TypeRef = number;

/** One Wasm function being built: its module and its locals. */
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

/** What a kernel emitter needs: the function being built and where each buffer lives. */
export interface GenContext {
  b: FnBuilder;
  /** Byte offset of each buffer in the arena (the memory plan's). */
  offsets: readonly number[];
  /** Host imports the module needs (name → arity). */
  imports: Map<string, number>;
}

/** Index of the loop: per-dim i32 expressions, plus the innermost dim's lane offsets in vector mode. */
export interface LoopIndex {
  /** i32 expression of each loop dimension's index (the innermost is the vector's first lane). */
  dims: (() => ExprRef)[];
}

export { binaryen };
