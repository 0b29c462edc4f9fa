/**
 * Control flow nested inside every transform, compiled: cond inside scan inside vmap inside
 * grad, through filterJit, against the same program run eagerly (the reference interpreter)
 * and against central finite differences of the eager function in float64.
 */
import { describe, expect, it } from "vitest";
import { array, grad, lax, np, vmap, type Array } from "@wax/tracer";
import { filterJit } from "../index";

const values = (a: Array) => Float64Array.from(a.concreteValue()!.data);

/** Per example: a scan whose body branches on the sign of the carry; batch-summed. */
function loss(w: Array, xs: Array): Array {
  const perExample = (x: Array) => {
    const [h, ys] = lax.scan(
      (h: Array, xt: Array) => {
        const pre = np.add(np.multiply(w, h), xt);
        const h2 = lax.cond(
          np.greater(np.sum(pre), 0),
          (p: Array) => np.tanh(p),
          (p: Array) => np.multiply(p, 0.5),
          pre,
        );
        return [h2, np.sum(np.square(h2))];
      },
      np.zeros([3], w.dtype),
      x,
    );
    return np.add(np.sum(h as Array), np.sum(ys as Array));
  };
  return np.sum(vmap(perExample)(xs) as Array);
}

describe("nested control flow under grad and vmap, compiled", () => {
  const w = array([0.7, -0.4, 1.1]);
  const xs = array(
    Float32Array.from({ length: 4 * 5 * 3 }, (_, i) => Math.sin(i * 1.7) * 0.8),
    { shape: [4, 5, 3] },
  );

  it("filterJit(grad(sum ∘ vmap(scan with cond))) equals the eager gradient", () => {
    const g = grad(loss);
    const jitted = filterJit(g);
    const a = values(jitted(w, xs) as Array);
    const b = values(g(w, xs) as Array);
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(b[i]!))));
    const j = String(jitted.lastJaxpr());
    expect(j).toMatch(/= scan\[/);
    expect(j).toMatch(/cond\[|select_n/);
  });

  it("the gradient matches central finite differences of the eager loss (float64)", () => {
    const w64 = w.astype("float64");
    const xs64 = xs.astype("float64");
    const g = values(grad(loss)(w64, xs64) as Array);
    const h = 1e-6;
    for (let i = 0; i < 3; i++) {
      const e = new Float64Array(3);
      e[i] = h;
      const up = loss(np.add(w64, array(e)), xs64).item();
      const down = loss(np.subtract(w64, array(e)), xs64).item();
      expect(Math.abs(g[i]! - (up - down) / (2 * h))).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(g[i]!)));
    }
  });
});
