/**
 * `checkpoint` (JAX's `jax.checkpoint` / `remat`) as a custom VJP whose residuals are the
 * inputs and whose backward pass re-runs the forward under `vjp`, on inputs passed through an
 * `optimization_barrier` so that compiled code recomputes too.
 */
import { customVjp } from "./custom-vjp";
import { optimizationBarrier } from "./lax";
import { vjp } from "./transforms/grad";

/**
 * `f` with its forward pass recomputed in the backward pass instead of its intermediates being
 * stored: the only residuals are `f`'s inputs. Trades compute for memory in deep networks.
 *
 * @example
 * const block = checkpoint((x: Array) => np.tanh(x.matmul(w)).matmul(w2));
 * grad((x: Array) => block(x).sum())(x)   // the tanh is recomputed in the backward pass
 */
export function checkpoint<A extends unknown[], R>(f: (...args: A) => R): (...args: A) => R {
  const g = customVjp(f, `checkpoint(${f.name || "f"})`);
  return g.defvjp(
    (...args: A) => [f(...args), args] as const,
    (args: A, ct) => {
      // The barrier keeps the compiler's CSE from merging the recomputation into the forward pass.
      const [, pullback] = vjp((...xs: unknown[]) => f(...(xs as A)), ...optimizationBarrier(args));
      return pullback(ct as never) as never;
    },
  );
}
