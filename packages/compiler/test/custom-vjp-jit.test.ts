/**
 * customVjp and checkpoint compile: the forward call inlines its body, grad inside filterJit
 * runs the user's rule, and the compiled values equal the eager ones.
 */
import { describe, expect, test } from "vitest";
import { array, checkpoint, customVjp, grad, jvp, makeJaxpr, nn, np, valueAndGrad, vmap, type Array as WaxArray } from "@wax/tracer";
import { filterJit, optimize } from "../index";

const clipGradient = customVjp((x: WaxArray) => x.mul(3), "clipGradient");
clipGradient.defvjp(
  (x) => [x.mul(3), null] as const,
  (_r: null, g: WaxArray) => [np.clip(g, -1, 1)],
);

describe("custom_vjp_call compiled", () => {
  test("forward: the body is inlined", () => {
    const f = filterJit((x: WaxArray) => clipGradient(x).add(1));
    expect(f(array([1, 2])).tolist()).toEqual([4, 7]);
  });
  test("grad inside filterJit uses the rule, and matches eager", () => {
    const loss = (x: WaxArray) => clipGradient(x).mul(5).sum();
    const g = filterJit(grad(loss));
    expect(g(array([1, -2])).tolist()).toEqual([1, 1]);
    expect(g(array([1, -2])).tolist()).toEqual(grad(loss)(array([1, -2])).tolist());
  });
  test("grad(vmap) and checkpoint of an MLP block compile to the eager values", () => {
    const w = array([
      [0.5, -1],
      [1.5, 2],
      [0.25, -0.75],
    ]);
    const block = checkpoint((x: WaxArray) => nn.relu6(np.tanh(x.matmul(w))).sum());
    const loss = (x: WaxArray) => vmap(block)(x).sum();
    const xs = array([
      [0.1, 0.2, 0.3],
      [-1, 0.5, 2],
    ]);
    const [v, g] = filterJit(valueAndGrad(loss))(xs);
    const [ve, ge] = valueAndGrad(loss)(xs);
    expect(v.item()).toBeCloseTo(ve.item(), 5);
    (g.ravel().tolist() as number[]).forEach((x, i) => expect(x).toBeCloseTo((ge.ravel().tolist() as number[])[i]!, 5));
  });
  test("checkpoint recomputes in the optimized program too: CSE does not merge the recomputation back", () => {
    const f = (x: WaxArray) => np.sin(np.sin(x)).sum();
    const count = (g: (x: WaxArray) => unknown) => {
      const j = optimize(makeJaxpr(g)(array([0.5, 1.5])));
      return j.jaxpr.eqns.filter((e) => e.prim.name === "sin").length;
    };
    // plain: the backward pass reuses the forward's sin(x)
    expect(count(valueAndGrad(f))).toBe(2);
    // checkpointed: the backward pass computes sin(x) again, and the passes keep it
    expect(count(valueAndGrad(checkpoint(f)))).toBe(3);
    const g = filterJit(grad(checkpoint(f)));
    expect(g(array([0.5, 1.5])).tolist()).toEqual(filterJit(grad(f))(array([0.5, 1.5])).tolist());
  });
  test("jvp of a custom_vjp function is refused when compiled too", () => {
    const f = filterJit((x: WaxArray) => jvp((v: WaxArray) => clipGradient(v), [x], [np.onesLike(x)])[1]);
    expect(() => f(array([1]))).toThrow(/custom_vjp/);
  });
});
