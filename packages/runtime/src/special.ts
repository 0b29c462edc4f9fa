/**
 * Special functions in float64: `erf` and its inverse. They live in the runtime (compiled
 * modules import them as host functions) and serve the reference interpreter too, so both
 * paths compute the same values.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) to near double precision: for |x| < 3 the everywhere-positive series
 * `erf(x) = 2/sqrt(pi) · exp(-x²) · Σ (2x²)^n x / (1·3·…·(2n+1))` (no cancellation);
 * beyond, the continued fraction of erfc (Lentz's method).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a === 0) return x; // keeps -0
  let r: number;
  if (a < 3) {
    const x2 = a * a;
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  } else {
    r = 1 - erfcLarge(a);
  }
  return x < 0 ? -r : r;
}

/** erfc(a) for a ≥ 3: exp(-a²)/sqrt(pi) · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))). */
function erfcLarge(a: number): number {
  if (a > 27) return 0;
  // Modified Lentz on the continued fraction K(k/2 / a).
  const tiny = 1e-300;
  let f = a;
  let c = a;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const ak = k / 2;
    d = a + ak * d;
    d = d === 0 ? tiny : d;
    c = a + ak / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
}

/** Inverse of erf on (-1, 1); ±1 → ±inf; outside → NaN. Newton/Halley refinement of an initial guess. */
export function erfInv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  if (y === 0) return y;
  // Initial guess (Winitzki's approximation, a = 0.147).
  const a = 0.147;
  const ln = Math.log((1 - y) * (1 + y));
  const t = 2 / (Math.PI * a) + ln / 2;
  let x = Math.sign(y) * Math.sqrt(Math.sqrt(t * t - ln / a) - t);
  for (let i = 0; i < 50; i++) {
    const err = erf(x) - y;
    const deriv = TWO_OVER_SQRT_PI * Math.exp(-x * x);
    if (deriv === 0) break;
    // Halley step: f'' = -2x f'
    const step = err / (deriv + x * err);
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(x)) break;
  }
  return x;
}
