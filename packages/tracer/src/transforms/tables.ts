/**
 * The transform rule tables: one exhaustive record per transform over the primitive
 * catalogue, assembled from one record per primitive family. A primitive added to the
 * catalogue without its rules (or a rule for a name that is not a primitive) fails to
 * type-check here.
 */
import type { PrimName, Primitive } from "../primitive";
import { customJvpBatchRules, customJvpJvpRules, customJvpTransposeRules } from "./custom-jvp-rules";
import { customVjpBatchRules, customVjpJvpRules, customVjpTransposeRules } from "./custom-vjp-rules";
import { coreBatchRules } from "./batch-rules";
import { controlFlowJvpRules, controlFlowTransposeRules } from "./control-flow-ad";
import { controlFlowBatchRules } from "./control-flow-batch";
import { coreJvpRules } from "./jvp-rules";
import { indexingBatchRules, indexingJvpRules, indexingTransposeRules } from "./indexing-rules";
import type { BatchRule, BatchRules, JvpRule, JvpRules, TransposeRule, TransposeRules } from "./rules";
import { coreTransposeRules } from "./transpose-rules";
import { sortBatchRules, sortJvpRules, sortTransposeRules } from "./sort-rules";

export const jvpRules: JvpRules<PrimName> = {
  ...coreJvpRules,
  ...customJvpJvpRules,
  ...customVjpJvpRules,
  ...sortJvpRules,
  ...indexingJvpRules,
  ...controlFlowJvpRules,
};

export const transposeRules: TransposeRules<PrimName> = {
  ...coreTransposeRules,
  ...customJvpTransposeRules,
  ...customVjpTransposeRules,
  ...sortTransposeRules,
  ...indexingTransposeRules,
  ...controlFlowTransposeRules,
};

export const batchRules: BatchRules<PrimName> = {
  ...coreBatchRules,
  ...customJvpBatchRules,
  ...customVjpBatchRules,
  ...sortBatchRules,
  ...indexingBatchRules,
  ...controlFlowBatchRules,
};

// The records are keyed by name, so a rule's params type matches its primitive's; looking one
// up for a primitive of unknown name gives the rule at the union of params, which is what the
// primitive's equation carries.

/** The JVP rule of `prim` (every primitive has one). */
export function jvpRuleOf<N extends PrimName>(prim: Primitive<N>): JvpRule<N> | undefined {
  return (jvpRules as Partial<Record<PrimName, JvpRule<N>>>)[prim.name];
}
/** The transpose rule of `prim`, or `null`/`undefined` when it is never linear. */
export function transposeRuleOf<N extends PrimName>(prim: Primitive<N>): TransposeRule<N> | null | undefined {
  return (transposeRules as Partial<Record<PrimName, TransposeRule<N> | null>>)[prim.name];
}
/** The batching rule of `prim`. */
export function batchRuleOf<N extends PrimName>(prim: Primitive<N>): BatchRule<N> | undefined {
  return (batchRules as Partial<Record<PrimName, BatchRule<N>>>)[prim.name];
}
