/**
 * The types of the transform rules: JVP (forward mode, also used to linearize for reverse
 * mode), transpose (for the linear primitives that appear in tangent programs) and batching
 * (vmap). The tables themselves are exhaustive records over the primitive catalogue, in
 * `tables.ts`, assembled from one record per primitive family.
 */
import type { Array } from "../array";
import type { Aval } from "../aval";
import type { AxisFrame } from "../axis-env";
import type { ParamsOf, PrimName } from "../primitive";

/** A tangent or cotangent: an array, or `null` for a symbolic zero. */
export type MaybeZero = Array | null;

/** `(primals, tangents) → (primal outputs, tangent outputs)`; ops on tangents are ordinary ops. */
export type JvpRule<N extends PrimName = PrimName> = (
  primals: Array[],
  tangents: MaybeZero[],
  params: ParamsOf<N>,
) => [Array[], MaybeZero[]];

/** Marks a linear input of a transposed equation (its value is not known, only its type). */
export class UndefinedPrimal {
  constructor(readonly aval: Aval) {}
}

/** `(output cotangents, inputs) → cotangent for each input` (only used for `UndefinedPrimal` inputs). */
export type TransposeRule<N extends PrimName = PrimName> = (
  cts: MaybeZero[],
  args: (Array | UndefinedPrimal)[],
  params: ParamsOf<N>,
) => MaybeZero[];

/** Batch dimension of each operand (`null` = not batched). */
export type BatchDims = (number | null)[];

/** `(axis, values, batch dims) → (outputs, output batch dims)`, run in the parent trace. */
export type BatchRule<N extends PrimName = PrimName> = (
  axis: AxisFrame,
  vals: Array[],
  dims: BatchDims,
  params: ParamsOf<N>,
) => [Array[], BatchDims];

/** JVP rules of the primitives `K` (one family's share of the table). */
export type JvpRules<K extends PrimName> = { readonly [N in K]: JvpRule<N> };
/** Transpose rules of the primitives `K`; `null` marks a primitive that is never linear in a tangent program. */
export type TransposeRules<K extends PrimName> = { readonly [N in K]: TransposeRule<N> | null };
/** Batching rules of the primitives `K`. */
export type BatchRules<K extends PrimName> = { readonly [N in K]: BatchRule<N> };

/**
 * Primitives whose rules live in their own family modules (higher-order primitives, indexing,
 * sorting, custom rules); the core rule files (`jvp-rules.ts`, `transpose-rules.ts`,
 * `batch-rules.ts`) cover every other primitive.
 */
export type FamilyRuleNames =
  | "custom_jvp_call"
  | "custom_vjp_call"
  | "custom_lin"
  | "cond"
  | "while"
  | "scan"
  | "gather"
  | "scatter"
  | "scatter-add"
  | "scatter-mul"
  | "scatter-min"
  | "scatter-max"
  | "rev"
  | "sort"
  | "top_k";

/** The primitives the core rule files cover. */
export type CoreRuleNames = Exclude<PrimName, FamilyRuleNames>;
