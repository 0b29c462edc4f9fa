/**
 * Scalar functions a compiled module may import from the host for rare ops that have no
 * WebAssembly instruction and no SIMD polynomial yet. Plain functions: the runtime never
 * evaluates code from an artifact.
 */
import { erf, erfInv } from "./special";

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
  erfinv: erfInv,
};

export type HostMathName = keyof typeof hostMath;
