/** Registers the SIMD transcendentals with the vector op table (used by both loop modes). */
import { cosF32x4, erfF32x4, expF32x4, expm1F32x4, log1pF32x4, logF32x4, logisticF32x4, sinF32x4, tanhF32x4 } from "./simd-math";
import { registerVectorUnary } from "./simd-ops";

const table = {
  exp: expF32x4,
  expm1: expm1F32x4,
  log: logF32x4,
  log1p: log1pF32x4,
  sin: sinF32x4,
  cos: cosF32x4,
  tanh: tanhF32x4,
  logistic: logisticF32x4,
  erf: erfF32x4,
};
for (const [name, f] of Object.entries(table)) registerVectorUnary(name, (ctx, v) => f(ctx.b, v));
