/**
 * Reverse and forward mode of control flow composed with `vmap`, in both orders:
 * `vmap(grad(f))(xs)[i]` is `grad(f)(xs[i])`, and `grad(vmap(f))` matches central
 * differences. `cond` with a batched predicate becomes a select under `vmap`, so both
 * orders meet the two forms of a batched `cond`.
 */
import { describe, expect, test } from "vitest";
import { grad, jvp, lax, np, vmap, type Array as WaxArray } from "../../index";
import { checkGrad, checkJvp, f64, randomF64 } from "./check";

const rows = (a: WaxArray): number[][] => a.toArray() as number[][];

function expectRowsClose(got: WaxArray, want: (i: number) => WaxArray): void {
  rows(got).forEach((row, i) => {
    const w = want(i).toArray() as number[];
    row.forEach((v, k) => expect(v).toBeCloseTo(w[k]!, 12));
  });
}

/** An RNN over a sequence with a data-dependent branch per step. */
const model = (w: WaxArray, h0: WaxArray, xs: WaxArray) => {
  const [h, ys] = lax.scan(
    (h, x) => {
      const pre = np.matmul(w, h).add(x);
      const next = lax.cond(
        pre.sum().gt(0),
        (p: WaxArray) => np.tanh(p),
        (p: WaxArray) => p.mul(0.5),
        pre,
      );
      return [next, next.sum()] as const;
    },
    h0,
    xs,
  );
  return h.mul(h).sum().add(ys.sum());
};

describe("control-flow AD under vmap", () => {
  const w = randomF64([3, 3], 1, 0.7);
  const h0s = randomF64([4, 3], 2);
  const xs = randomF64([5, 3], 3);

  test("vmap(grad(scan with cond)) is grad per example", () => {
    const perExample = (h0: WaxArray) => grad(model, { argnums: [0, 1] })(w, h0, xs) as WaxArray[];
    const batched = vmap(perExample)(h0s) as WaxArray[];
    expect(batched[0]!.shape).toEqual([4, 3, 3]);
    for (let i = 0; i < 4; i++) {
      const [gw, gh] = perExample(h0s.get(i));
      expectRowsClose(batched[0]!.get(i), (r) => gw!.get(r));
      (batched[1]!.get(i).toArray() as number[]).forEach((v, k) => expect(v).toBeCloseTo((gh!.toArray() as number[])[k]!, 12));
    }
  });

  test("grad(vmap(scan with cond)) matches central differences, for the shared weights and each example", () => {
    const loss = (w: WaxArray, h0s: WaxArray) => (vmap((h0: WaxArray) => model(w, h0, xs))(h0s) as WaxArray).sum();
    checkGrad(loss, [w, h0s]);
    checkJvp(loss, [w, h0s]);
  });

  test("vmap(grad(cond)) with a batched predicate and grad(vmap(cond)) agree with per-example gradients", () => {
    const f = (x: WaxArray) =>
      lax.cond(
        x.gt(0),
        (x: WaxArray) => np.sin(x).mul(x),
        (x: WaxArray) => np.exp(x),
        x,
      );
    const xsb = f64([0.5, -0.3, 1.2, -2]);
    const g1 = vmap(grad(f))(xsb) as WaxArray;
    const g2 = grad((v: WaxArray) => (vmap(f)(v) as WaxArray).sum())(xsb) as WaxArray;
    (xsb.toArray() as number[]).forEach((x, i) => {
      const want = x > 0 ? Math.cos(x) * x + Math.sin(x) : Math.exp(x);
      expect((g1.toArray() as number[])[i]).toBeCloseTo(want, 14);
      expect((g2.toArray() as number[])[i]).toBeCloseTo(want, 14);
    });
  });

  test("vmap of jvp of a while, and jvp of a vmapped while, give the per-example tangents", () => {
    const f = (x: WaxArray) =>
      lax.whileLoop<[WaxArray, WaxArray]>(
        ([v]) => v.lt(5),
        ([v, n]) => [v.mul(1.5).add(np.sin(v)), n.add(1)],
        [x, np.zeros([], "int32")],
      )[0];
    const xsb = f64([0.5, 1.1, 3]);
    const perExample = (x: WaxArray) => (jvp(f, [x], [f64(1)]) as [WaxArray, WaxArray])[1];
    const t1 = vmap(perExample)(xsb) as WaxArray;
    const [, t2] = jvp(vmap(f), [xsb], [np.onesLike(xsb)]) as [WaxArray, WaxArray];
    (xsb.toArray() as number[]).forEach((x, i) => {
      const want = perExample(f64(x)).toArray() as number;
      expect((t1.toArray() as number[])[i]).toBeCloseTo(want, 12);
      expect((t2.toArray() as number[])[i]).toBeCloseTo(want, 12);
    });
    checkJvp(vmap(f), [xsb]);
  });
});
