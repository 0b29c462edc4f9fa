/**
 * customVjp: the user's rule replaces differentiation of the function under grad/vjp, composes
 * with vmap in both orders and with grad of grad, and refuses jvp as JAX does; checkpoint
 * recomputes its forward pass in the backward program instead of storing intermediates.
 */
import { describe, expect, test } from "vitest";
import { array, checkpoint, customVjp, grad, jvp, makeJaxpr, np, TransformError, valueAndGrad, vjp, vmap, WaxArray } from "../../index";

const f64 = (x: number | number[]) => array(x, { dtype: "float64" });

/** JAX's documentation example: f(x, y) = sin(x) * y with fwd/bwd by hand. */
const f = customVjp((x: WaxArray, y: WaxArray) => np.sin(x).mul(y));
f.defvjp(
  (x, y) => [np.sin(x).mul(y), [np.cos(x), np.sin(x), y]] as const,
  ([cosX, sinX, y], g) => [cosX.mul(g).mul(y), sinX.mul(g)],
);

/** A rule that differs from the function's derivative, so using it is observable. */
const clipGradient = customVjp((x: WaxArray) => x);
clipGradient.defvjp(
  (x) => [x, null] as const,
  (_res: null, g: WaxArray) => [np.clip(g, -1, 1)],
);

describe("customVjp", () => {
  test("the primal is the function's; grad uses the rule (JAX's sin(x)·y example)", () => {
    const [x, y] = [f64(0.7), f64(2.5)];
    expect(f(x, y).item()).toBeCloseTo(Math.sin(0.7) * 2.5, 14);
    const [gx, gy] = grad(f, { argnums: [0, 1] })(x, y);
    expect(gx.item()).toBeCloseTo(Math.cos(0.7) * 2.5, 14);
    expect(gy.item()).toBeCloseTo(Math.sin(0.7), 14);
  });
  test("a rule different from the derivative is the one used", () => {
    const g = grad((x: WaxArray) => clipGradient(x).mul(10).sum())(f64([1, -2, 3]));
    expect(g.tolist()).toEqual([1, 1, 1]);
  });
  test("vjp of a pytree function: one cotangent per argument, null as zero", () => {
    const h = customVjp((p: { a: WaxArray; b: WaxArray }, s: WaxArray) => ({ out: p.a.mul(s), other: p.b }));
    h.defvjp(
      (p, s) => [{ out: p.a.mul(s), other: p.b }, { s }] as const,
      (res: { s: WaxArray }, g: { out: WaxArray; other: WaxArray }) => [{ a: g.out.mul(res.s), b: g.other.mul(100) }, null],
    );
    const [out, pullback] = vjp(h, { a: f64([1, 2]), b: f64([3]) }, f64(2));
    expect(out.out.tolist()).toEqual([2, 4]);
    const [cp, cs] = pullback({ out: f64([1, 1]), other: f64([1]) });
    expect([cp.a.tolist(), cp.b.tolist(), cs.item()]).toEqual([[2, 2], [100], 0]);
  });
  test("vmap(grad) and grad(vmap) both use the rule, per example", () => {
    const xs = f64([0.1, 0.2, 0.3]);
    const y = f64(2);
    const want = [0.1, 0.2, 0.3].map((x) => Math.cos(x) * 2);
    const a = vmap(grad(f), { inAxes: [0, null] })(xs, y).tolist() as number[];
    const b = grad((v: WaxArray) => vmap(f, { inAxes: [0, null] })(v, y).sum())(xs).tolist() as number[];
    a.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
    b.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
    // the unbatched argument's gradient is summed over the batch
    const gy = grad((w: WaxArray) => vmap(f, { inAxes: [0, null] })(xs, w).sum())(y);
    expect(gy.item()).toBeCloseTo(Math.sin(0.1) + Math.sin(0.2) + Math.sin(0.3), 14);
    const clipped = grad((v: WaxArray) => vmap(clipGradient)(v).mul(10).sum())(f64([1, 2]));
    expect(clipped.tolist()).toEqual([1, 1]);
  });
  test("grad of grad differentiates the rule's own ops", () => {
    const d2 = grad(grad((x: WaxArray) => f(x, f64(3))))(f64(0.4));
    expect(d2.item()).toBeCloseTo(-Math.sin(0.4) * 3, 12);
  });
  test("the traced program carries custom_vjp_call; the gradient program holds the rule's ops", () => {
    const text = makeJaxpr((x: WaxArray) => clipGradient(x))(f64([1])).toString();
    expect(text).toMatch(/custom_vjp_call\[\s*name=/);
    const back = makeJaxpr(grad((x: WaxArray) => clipGradient(x).sum()))(f64([1, 2])).toString();
    expect(back).toMatch(/clamp|max|min/);
  });
  test("jvp is refused as in JAX; a missing rule and a wrong bwd are clear errors", () => {
    expect(() => jvp((x: WaxArray) => clipGradient(x), [f64(1)], [f64(1)])).toThrow(
      /can't apply forward-mode autodiff \(jvp\) to a custom_vjp function/,
    );
    const noRule = customVjp((x: WaxArray) => x, "noRule");
    expect(() => noRule(f64(1))).toThrow(/customVjp\(noRule\): no rule — call .defvjp/);
    const bad = customVjp((x: WaxArray) => x.mul(2), "bad");
    bad.defvjp(
      (x) => [x.mul(2), null] as const,
      (_r: null, g: WaxArray) => g as never,
    );
    expect(() => grad((x: WaxArray) => bad(x).sum())(f64([1]))).toThrow(TransformError);
    expect(() => grad((x: WaxArray) => bad(x).sum())(f64([1]))).toThrow(/bwd must return one cotangent per argument \(1\)/);
  });
});

describe("checkpoint", () => {
  const block = (x: WaxArray) => np.sin(np.sin(x)).mul(x);
  test("same value and gradient as the function", () => {
    const x = f64([0.3, -1.1, 2.0]);
    const loss = (g: (x: WaxArray) => WaxArray) => (v: WaxArray) => g(v).sum();
    const [v1, g1] = valueAndGrad(loss(block))(x);
    const [v2, g2] = valueAndGrad(loss(checkpoint(block)))(x);
    expect(v2.item()).toBe(v1.item());
    (g2.tolist() as number[]).forEach((v, i) => expect(v).toBeCloseTo((g1.tolist() as number[])[i]!, 14));
  });
  test("the backward program recomputes the forward: sin appears again after the primal", () => {
    const x = f64([0.3, -1.1]);
    const count = (text: string, op: string) => (text.match(new RegExp(`= ${op} `, "g")) ?? []).length;
    const plain = makeJaxpr(grad((v: WaxArray) => block(v).sum()))(x).toString();
    const remat = makeJaxpr(grad((v: WaxArray) => checkpoint(block)(v).sum()))(x).toString();
    // without checkpoint: sin(x), sin(sin(x)) once each; with it the forward runs again
    expect(count(plain, "sin")).toBe(2);
    expect(count(remat, "sin")).toBe(4);
  });
  test("the residuals of the linearized program are the inputs only", () => {
    const x = f64([0.3, -1.1]);
    const [, pullback] = vjp(checkpoint(block), x);
    const [, pullbackPlain] = vjp(block, x);
    // Both pullbacks give the same cotangent; the checkpointed one holds x, not cos(x) etc.
    const ct = f64([1, 1]);
    (pullback(ct)[0].tolist() as number[]).forEach((v, i) => expect(v).toBeCloseTo((pullbackPlain(ct)[0].tolist() as number[])[i]!, 14));
  });
  test("under vmap", () => {
    const xs = f64([0.5, 1.5]);
    const g = vmap(grad((v: WaxArray) => checkpoint(block)(v)))(xs).tolist() as number[];
    const want = vmap(grad(block))(xs).tolist() as number[];
    g.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
  });
});
