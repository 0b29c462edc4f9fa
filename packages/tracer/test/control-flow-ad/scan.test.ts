/**
 * Differentiating `lax.scan` (and `foriLoop` with static bounds and `lax.map`, which are
 * scans): `jvp` and `grad` against central differences in float64, reverse mode against the
 * same recurrence written as a JS loop, and the shape of the reverse-mode program (a primal
 * scan that stacks residuals and a transposed scan, whatever the trip count).
 */
import { describe, expect, test } from "vitest";
import { evalJaxpr, grad, jvp, lax, linearizeFlat, makeJaxpr, np, type Array as WaxArray, type Jaxpr } from "../../index";
import { checkGrad, checkJvp, f64, randomF64 } from "./check";

/** The primitives of a jaxpr's top-level equations. */
const prims = (j: { jaxpr: Jaxpr }) => j.jaxpr.eqns.map((e) => e.prim.name);

/** A scalar recurrence with both carry and per-step outputs: c ← sin(c)·x + 0.1c², y = c·x. */
const scalarRecurrence = (c0: WaxArray, xs: WaxArray) => {
  const [c, ys] = lax.scan((c, x) => [np.sin(c).mul(x).add(c.mul(c).mul(0.1)), c.mul(x)] as const, c0, xs);
  return c.add(ys.sum());
};

/** An RNN step with closed-over weights: h ← tanh(W h + U x + b), y = h·h. */
const rnn = (w: WaxArray, u: WaxArray, b: WaxArray, h0: WaxArray, xs: WaxArray, reverse = false) => {
  const [h, ys] = lax.scan(
    (h, x) => {
      const next = np.tanh(np.matmul(w, h).add(np.matmul(u, x)).add(b));
      return [next, next.mul(next)] as const;
    },
    h0,
    xs,
    { reverse },
  );
  return h.sum().add(ys.mul(0.5).sum());
};

describe("scan: forward and reverse mode against central differences", () => {
  const c0 = f64(0.7);
  const xs = f64([0.5, -1.0, 2.0, 0.3]);

  test("a scalar carry and stacked ys: jvp and grad with respect to the init and the xs", () => {
    checkJvp(scalarRecurrence, [c0, xs]);
    checkGrad(scalarRecurrence, [c0, xs]);
  });

  test("closed-over weights become consts and get gradients, forwards and in reverse", () => {
    const w = randomF64([3, 3], 1, 0.6);
    const u = randomF64([3, 2], 2);
    const b = randomF64([3], 3);
    const h0 = randomF64([3], 4);
    const seq = randomF64([5, 2], 5);
    for (const reverse of [false, true]) {
      const f = (w: WaxArray, u: WaxArray, b: WaxArray, h0: WaxArray, seq: WaxArray) => rnn(w, u, b, h0, seq, reverse);
      checkJvp(f, [w, u, b, h0, seq]);
      checkGrad(f, [w, u, b, h0, seq]);
    }
  });

  test("pytree carries, xs and ys (objects and tuples) with an integer counter in the carry", () => {
    const f = (p: { a: WaxArray; s: WaxArray }, xs: [WaxArray, WaxArray]) => {
      const [carry, ys] = lax.scan(
        (c, [x, z]) => {
          const h = np.tanh(c.h.mul(p.a).add(x));
          const next = { h, acc: c.acc.add(h.mul(z).sum()), i: c.i.add(1) };
          return [next, { first: h.mul(c.i.astype("float64")), second: [np.exp(z.mul(p.s))] }] as const;
        },
        { h: np.zeros([2], "float64"), acc: f64(0), i: np.zeros([], "int32") },
        xs,
      );
      expect(carry.i.toArray()).toBe(3);
      return carry.acc.add(ys.first.sum()).add(ys.second[0]!.mean());
    };
    const args = [{ a: f64([0.3, -0.8]), s: f64(0.4) }, [randomF64([3, 2], 7), randomF64([3, 2], 8)]] as const;
    checkJvp(f, args);
    checkGrad(f, args);
  });

  test("a zero-length scan passes the carry through: its gradient is the identity", () => {
    const f = (c0: WaxArray, xs: WaxArray) => {
      const [c, ys] = lax.scan((c, x) => [c.mul(x), c] as const, c0, xs);
      return c.sum().add(ys.sum());
    };
    const g = grad(f, { argnums: [0, 1] })(f64([1.5, -2]), np.zeros([0, 2], "float64")) as WaxArray[];
    expect(g[0]!.toArray()).toEqual([1, 1]);
    expect(g[1]!.shape).toEqual([0, 2]);
  });

  test("unroll does not change derivatives", () => {
    const f = (c0: WaxArray, xs: WaxArray) => lax.scan((c, x) => [np.cos(c.mul(x)), c] as const, c0, xs, { unroll: 2 })[0];
    checkGrad(f, [c0, xs]);
    expect((grad(f)(c0, xs) as WaxArray).toArray()).toEqual(
      (grad((c: WaxArray, x: WaxArray) => lax.scan((c, x) => [np.cos(c.mul(x)), c] as const, c, x)[0])(c0, xs) as WaxArray).toArray(),
    );
  });

  test("foriLoop with static bounds is a scan, so it has a gradient", () => {
    const f = (x: WaxArray, a: WaxArray) =>
      lax.foriLoop(
        1,
        5,
        (i, x) =>
          np
            .sin(x.mul(a))
            .add(x.mul(i.astype("float64")))
            .mul(0.5),
        x,
      );
    checkJvp(f, [f64([0.3, -0.2]), f64(1.3)]);
    const loss = (x: WaxArray, a: WaxArray) => f(x, a).sum();
    checkGrad(loss, [f64([0.3, -0.2]), f64(1.3)]);
    expect(prims(makeJaxpr(grad(loss))(f64([0.3, -0.2]), f64(1.3)))).toContain("scan");
  });

  test("lax.map differentiates like a loop of independent calls", () => {
    const f = (xs: WaxArray) => lax.map((x: WaxArray) => np.exp(x.sum()).add(x.mul(x).sum()), xs).sum();
    checkJvp(f, [randomF64([4, 3], 9)]);
    checkGrad(f, [randomF64([4, 3], 9)]);
  });

  test("second order: grad of grad, and jvp of grad (a Hessian-vector product)", () => {
    const g = (c: WaxArray) => grad(scalarRecurrence)(c, xs) as WaxArray;
    checkGrad(g, [c0]);
    checkJvp(g, [c0]);
    const w = randomF64([3, 3], 11, 0.6);
    const gw = (w: WaxArray) =>
      (grad(rnn)(w, randomF64([3, 2], 2), randomF64([3], 3), randomF64([3], 4), randomF64([4, 2], 5)) as WaxArray).sum();
    checkGrad(gw, [w]);
    // Reverse over forward: the joint JVP scan is itself linearized and transposed.
    const tangentOut = (c: WaxArray) => (jvp((c: WaxArray) => scalarRecurrence(c, xs), [c], [f64(1)]) as [WaxArray, WaxArray])[1];
    checkGrad(tangentOut, [c0]);
    expect((grad(tangentOut)(c0) as WaxArray).toArray()).toBeCloseTo((grad(g)(c0) as WaxArray).toArray() as number, 12);
  });
});

describe("scan: reverse mode is a scan, not an unrolled loop", () => {
  /** A GRU cell (Cho et al. 2014) as JAX's examples write it. */
  interface Gru {
    wz: WaxArray;
    uz: WaxArray;
    wr: WaxArray;
    ur: WaxArray;
    wh: WaxArray;
    uh: WaxArray;
  }
  const cell = (p: Gru, h: WaxArray, x: WaxArray): WaxArray => {
    const sig = (v: WaxArray) => f64(1).div(np.exp(v.neg()).add(1));
    const z = sig(np.matmul(p.wz, x).add(np.matmul(p.uz, h)));
    const r = sig(np.matmul(p.wr, x).add(np.matmul(p.ur, h)));
    const hh = np.tanh(np.matmul(p.wh, x).add(np.matmul(p.uh, r.mul(h))));
    return f64(1).sub(z).mul(h).add(z.mul(hh));
  };
  const scanLoss = (p: Gru, h0: WaxArray, xs: WaxArray) => {
    const [h, hs] = lax.scan(
      (h, x) => {
        const n = cell(p, h, x);
        return [n, n] as const;
      },
      h0,
      xs,
    );
    return hs.mul(hs).sum().add(h.sum());
  };
  const loopLoss = (p: Gru, h0: WaxArray, xs: WaxArray) => {
    let h = h0;
    let total = f64(0);
    for (let t = 0; t < xs.shape[0]!; t++) {
      h = cell(p, h, xs.get(t));
      total = total.add(h.mul(h).sum());
    }
    return total.add(h.sum());
  };
  const params = (hidden: number, input: number, seed: number): Gru => ({
    wz: randomF64([hidden, input], seed, 0.5),
    uz: randomF64([hidden, hidden], seed + 1, 0.5),
    wr: randomF64([hidden, input], seed + 2, 0.5),
    ur: randomF64([hidden, hidden], seed + 3, 0.5),
    wh: randomF64([hidden, input], seed + 4, 0.5),
    uh: randomF64([hidden, hidden], seed + 5, 0.5),
  });

  test("the gradient of a GRU over a scan equals the gradient of the same GRU as a JS loop", () => {
    const p = params(4, 3, 20);
    const h0 = randomF64([4], 30);
    const xs = randomF64([6, 3], 31);
    const [gs, gl] = [grad(scanLoss, { argnums: [0, 1, 2] })(p, h0, xs), grad(loopLoss, { argnums: [0, 1, 2] })(p, h0, xs)] as [
      unknown[],
      unknown[],
    ];
    const flat = (g: unknown[]) =>
      [...Object.values(g[0] as Gru), g[1] as WaxArray, g[2] as WaxArray].map((a) => globalThis.Array.from(a.data, Number));
    const [a, b] = [flat(gs), flat(gl)];
    a.forEach((leaf, i) => leaf.forEach((v, k) => expect(v).toBeCloseTo(b[i]![k]!, 12)));
  });

  test("makeJaxpr(grad) of a scan holds a primal scan stacking residuals and a reversed linear scan, whatever the length", () => {
    const p = params(4, 3, 40);
    const h0 = randomF64([4], 50);
    const program = (length: number) => makeJaxpr(grad(scanLoss))(p, h0, randomF64([length, 3], 51));
    const [short, long] = [program(3), program(40)];
    expect(prims(short).filter((n) => n === "scan")).toHaveLength(2);
    expect(prims(long)).toEqual(prims(short));
    const text = String(long);
    expect(text).toContain("length=40");
    const [primal, transposed] = short.jaxpr.eqns.filter((e) => e.prim.name === "scan");
    // The primal scan returns the carry, the ys and the stacked residuals.
    expect(primal!.outputs.length).toBeGreaterThan(2);
    expect(primal!.outputs.slice(2).every((v) => v.aval.shape[0] === 3)).toBe(true);
    expect((transposed!.params as { reverse: boolean }).reverse).toBe(true);
  });

  test("residuals that are loop-invariant or slices of xs are not stacked per iteration", () => {
    const f = (w: WaxArray, h0: WaxArray, xs: WaxArray) => {
      const [h] = lax.scan((h, x) => [np.tanh(np.matmul(np.transpose(w).mul(2), h).add(x.mul(h))), null] as const, h0, xs);
      return h.sum();
    };
    const args = [randomF64([3, 3], 60), randomF64([3], 61), randomF64([7, 3], 62)] as const;
    checkGrad(f, [...args]);
    const j = makeJaxpr(grad(f, { argnums: [0, 1] }))(...args);
    const [primal, transposed] = j.jaxpr.eqns.filter((e) => e.prim.name === "scan");
    // `transpose(w)·2` is computed once before the loop; no [7,3,3] stack of it.
    expect(primal!.outputs.slice(1).map((v) => v.aval.shape)).not.toContainEqual([7, 3, 3]);
    expect(j.jaxpr.eqns.findIndex((e) => e.prim.name === "transpose")).toBeLessThan(j.jaxpr.eqns.indexOf(primal!));
    // The xs slices the tangent body reads are the xs operand itself.
    expect(transposed!.inputs).toContain(j.jaxpr.invars[2]);
  });

  test("the linear program of linearize is a scan whose tangent operands are marked linear", () => {
    const xs = f64([0.5, -1.0, 2.0]);
    const lin = linearizeFlat(
      (c) => [[scalarRecurrence(c!, xs)], undefined],
      [f64(0.7)],
      "linearize",
      () => undefined,
    );
    const scans = lin.linear.jaxpr.eqns.filter((e) => e.prim.name === "scan");
    expect(scans).toHaveLength(1);
    const p = scans[0]!.params as { linear: readonly boolean[]; num_consts: number; num_carry: number };
    // The carry tangent is linear; the stacked residuals are not.
    expect(p.linear[p.num_consts]).toBe(true);
    expect(p.linear.slice(p.num_consts + p.num_carry).some((l) => !l)).toBe(true);
    const [, t] = jvp((c: WaxArray) => scalarRecurrence(c, xs), [f64(0.7)], [f64(1)]) as [WaxArray, WaxArray];
    expect(evalJaxpr(lin.linear, [f64(1)])[0]!.toArray()).toBeCloseTo(t.toArray() as number, 14);
  });
});
