/**
 * `checkpoint` (JAX's `jax.checkpoint` / `remat`) as a custom VJP whose residuals are the
 * inputs and whose backward pass re-runs the forward under `vjp`.
 */
import { customVjp } from "./custom-vjp";
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
    (args: A, ct: unknown) => {
      const [, pullback] = vjp((...xs: unknown[]) => f(...(xs as A)), ...args);
      return pullback(ct as never) as unknown[];
    },
  );
}
