/**
 * Scalar functions a compiled module may import from the host for rare ops that have no
 * WebAssembly instruction and no SIMD polynomial yet. Plain functions: the runtime never
 * evaluates code from an artifact.
 */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a === 0) return x;
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
  } else if (a > 27) r = 1;
  else {
    let f = a;
    let c = a;
    let d = 0;
    for (let k = 1; k < 500; k++) {
      const ak = k / 2;
      d = a + ak * d;
      c = a + ak / c;
      d = 1 / d;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = 1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
  }
  return x < 0 ? -r : r;
}

function erfinv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  if (y === 0) return y;
  const ln = Math.log((1 - y) * (1 + y));
  const t = 2 / (Math.PI * 0.147) + ln / 2;
  let x = Math.sign(y) * Math.sqrt(Math.sqrt(t * t - ln / 0.147) - t);
  for (let i = 0; i < 50; i++) {
    const err = erf(x) - y;
    const deriv = TWO_OVER_SQRT_PI * Math.exp(-x * x);
    if (deriv === 0) break;
    const step = err / (deriv + x * err);
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(x)) break;
  }
  return x;
}

/** The `env` imports every compiled module may use (f64 in/out; the module rounds to f32). */
export const hostMath = {
  // C/XLA semantics: pow(1, y) = 1 and pow(-1, ±inf) = 1 (JS gives NaN).
  pow: (x: number, y: number) => (x === 1 || y === 0 ? 1 : x === -1 && (y === Infinity || y === -Infinity) ? 1 : Math.pow(x, y)),
  atan2: Math.atan2,
  tan: Math.tan,
  fmod: (a: number, b: number) => a % b,
  log1p: Math.log1p,
  expm1: Math.expm1,
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  logistic: (x: number) => 1 / (1 + Math.exp(-x)),
  erf,
  erfinv,
};

export type HostMathName = keyof typeof hostMath;
