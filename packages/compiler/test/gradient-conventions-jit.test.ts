/** JAX's gradient conventions of the activations (custom JVP rules) hold in compiled code too. */
import { expect, test } from "vitest";
import { array, grad, lax, nn, type Array as WaxArray } from "@wax/tracer";
import { filterJit } from "../index";

test("relu6, softplus, elu and lax.clamp gradients at their kinks, compiled = eager", () => {
  const x = array([0, 6, 3, -1, 7]);
  const loss = (v: WaxArray) =>
    nn
      .relu6(v)
      .add(nn.softplus(v))
      .add(nn.elu(v))
      .add(lax.clamp(0, v, 6))
      .sum();
  const eager = grad(loss)(x).tolist() as number[];
  const compiled = filterJit(grad(loss))(x).tolist() as number[];
  compiled.forEach((v, i) => expect(v).toBeCloseTo(eager[i]!, 6));
  // at 0: relu6 0 + softplus 0.5 + elu 1 + clamp 0
  expect(compiled[0]).toBeCloseTo(1.5, 6);
});
