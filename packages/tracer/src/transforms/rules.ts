/**
 * The transform rule tables, one entry per primitive, side by side so they are easy to
 * audit: JVP (forward mode, also used to linearize for reverse mode), transpose (for the
 * linear primitives that appear in tangent programs) and batching (vmap).
 */
import type { Array } from "../array";
import type { Aval } from "../aval";
import type { AxisFrame } from "../axis-env";
import type { Params, Primitive } from "../primitive";

/** A tangent or cotangent: an array, or `null` for a symbolic zero. */
export type MaybeZero = Array | null;

/** `(primals, tangents) → (primal outputs, tangent outputs)`; ops on tangents are ordinary ops. */
export type JvpRule = (primals: Array[], tangents: MaybeZero[], params: Params) => [Array[], MaybeZero[]];

/** Marks a linear input of a transposed equation (its value is not known, only its type). */
export class UndefinedPrimal {
  constructor(readonly aval: Aval) {}
}

/** `(output cotangents, inputs) → cotangent for each input` (only used for `UndefinedPrimal` inputs). */
export type TransposeRule = (cts: MaybeZero[], args: (Array | UndefinedPrimal)[], params: Params) => MaybeZero[];

/** Batch dimension of each operand (`null` = not batched). */
export type BatchDims = (number | null)[];

/** `(axis, values, batch dims) → (outputs, output batch dims)`, run in the parent trace. */
export type BatchRule = (axis: AxisFrame, vals: Array[], dims: BatchDims, params: Params) => [Array[], BatchDims];

export const jvpRules = new Map<Primitive, JvpRule>();
export const transposeRules = new Map<Primitive, TransposeRule>();
export const batchRules = new Map<Primitive, BatchRule>();
