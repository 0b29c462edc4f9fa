/**
 * Distribution tests with fixed keys and 1e5 samples: moments and the Kolmogorov–Smirnov
 * statistic against the exact CDF (the 1% critical value is 1.63/sqrt(n) ≈ 0.0052), bounds
 * for minval/maxval, and Bernoulli frequencies within five standard errors.
 */
import { describe, expect, it } from "vitest";
import { array, np, random } from "../index";

const n = 100_000;
const ksCritical = 1.63 / Math.sqrt(n);

/** KS statistic sup |F_n(x) - F(x)| of samples against a continuous CDF. */
function ks(samples: ArrayLike<number>, cdf: (x: number) => number): number {
  const xs = Float64Array.from(samples).sort();
  let d = 0;
  xs.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs((i + 1) / xs.length - f), Math.abs(f - i / xs.length));
  });
  return d;
}

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc via Chebyshev fit). */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}
const normalCdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));

const meanVar = (xs: ArrayLike<number>): [number, number] => {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m += xs[i]!;
  m /= xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - m) ** 2;
  return [m, v / xs.length];
};

describe("uniform", () => {
  it("U(0, 1): mean 1/2, variance 1/12, KS below the 1% critical value, values in [0, 1)", () => {
    const u = random.uniform(random.key(11), [n]).data;
    const [m, v] = meanVar(u);
    expect(Math.abs(m - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(v - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / n));
    expect(ks(u, (x) => Math.min(1, Math.max(0, x)))).toBeLessThan(ksCritical);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });

  it("minval/maxval: values in [minval, maxval) and KS against U(minval, maxval)", () => {
    const u = random.uniform(random.key(12), [n], { minval: -2, maxval: 3 }).data;
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(ks(u, (x) => (x + 2) / 5)).toBeLessThan(ksCritical);
  });

  it("array bounds broadcast against the shape", () => {
    const u = random.uniform(random.key(13), [n / 2, 2], { minval: array([0, 10]), maxval: array([1, 20]) });
    const cols = [np.index(u, ":", 0).data, np.index(u, ":", 1).data];
    expect(Math.max(...cols[0]!)).toBeLessThan(1);
    expect(Math.min(...cols[1]!)).toBeGreaterThanOrEqual(10);
    expect(ks(cols[1]!, (x) => (x - 10) / 10)).toBeLessThan(1.63 / Math.sqrt(n / 2));
  });
});

describe("normal", () => {
  it("N(0, 1): mean 0, variance 1, KS against the normal CDF", () => {
    const z = random.normal(random.key(21), [n]).data;
    const [m, v] = meanVar(z);
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(ks(z, normalCdf)).toBeLessThan(ksCritical);
    expect(z.every(Number.isFinite)).toBe(true);
  });

  it("a wrong CDF is rejected by the same statistic (the test has power)", () => {
    const z = random.normal(random.key(21), [n]).data;
    expect(ks(z, (x) => normalCdf(x / 1.05))).toBeGreaterThan(ksCritical);
  });
});

describe("bernoulli", () => {
  it.each([0.05, 0.3, 0.5, 0.9])("p = %f: frequency within five standard errors", (p) => {
    const b = random.bernoulli(random.key(31), p, [n]);
    expect(b.dtype).toBe("bool");
    const [freq] = meanVar(b.data);
    expect(Math.abs(freq - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  });

  it("p = 0 never and p = 1 always fire; an array p broadcasts", () => {
    expect(random.bernoulli(random.key(32), 0, [1000]).data.every((v) => v === 0)).toBe(true);
    expect(random.bernoulli(random.key(32), 1, [1000]).data.every((v) => v === 1)).toBe(true);
    const b = random.bernoulli(random.key(33), array([0.1, 0.8]), [n / 2, 2]);
    const [f0] = meanVar(np.astype(np.index(b, ":", 0), "float32").data);
    const [f1] = meanVar(np.astype(np.index(b, ":", 1), "float32").data);
    expect(Math.abs(f0 - 0.1)).toBeLessThan(5 * Math.sqrt(0.09 / (n / 2)));
    expect(Math.abs(f1 - 0.8)).toBeLessThan(5 * Math.sqrt(0.16 / (n / 2)));
  });
});
