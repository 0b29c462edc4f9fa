/**
 * `optimization_barrier`: the identity on any number of operands, which compiler passes do not
 * look through (JAX's `lax.optimization_barrier`). `checkpoint` puts it on the inputs of its
 * recomputed forward pass, so common-subexpression elimination cannot merge the recomputation
 * back into the original forward pass (which would store the intermediates after all).
 */
import { definePrimitive } from "../primitive";

export const optimizationBarrier = definePrimitive("optimization_barrier", {
  multipleResults: true,
  abstractEval(avals) {
    return [...avals];
  },
  impl(args) {
    return args.map((a) => a.data.slice());
  },
});
