/**
 * The aliases against an independent float64 re-implementation of Optax's formulas, over
 * several steps with a changing gradient, parameters moved by the updates each step.
 */
import { describe, expect, it } from "vitest";
import { Array, array, np, treeMap } from "@wax/tracer";
import { adam, adamw, rmsprop, sgd, type GradientTransformation } from "../../src/optim/index";

type Vec = number[];

/** A float64 optimizer: state is a closure; `step(g, p)` returns the update. */
interface RefOptimizer {
  step(g: Vec, p: Vec): Vec;
}

function refAdam(o: {
  lr: number;
  b1?: number;
  b2?: number;
  eps?: number;
  epsRoot?: number;
  nesterov?: boolean;
  wd?: number;
}): RefOptimizer {
  const { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, nesterov = false, wd } = o;
  let mu: Vec | null = null;
  let nu: Vec | null = null;
  let count = 0;
  return {
    step(g, p) {
      mu ??= g.map(() => 0);
      nu ??= g.map(() => 0);
      mu = g.map((gi, i) => (1 - b1) * gi + b1 * mu![i]!);
      nu = g.map((gi, i) => (1 - b2) * gi * gi + b2 * nu![i]!);
      const t = count + 1;
      count++;
      return g.map((gi, i) => {
        const muHat = nesterov ? (b1 * mu![i]!) / (1 - b1 ** (t + 1)) + ((1 - b1) * gi) / (1 - b1 ** t) : mu![i]! / (1 - b1 ** t);
        const nuHat = nu![i]! / (1 - b2 ** t);
        let u = muHat / (Math.sqrt(nuHat + epsRoot) + eps);
        if (wd !== undefined) u += wd * p[i]!;
        return -lr * u;
      });
    },
  };
}

function refSgd(o: { lr: number; momentum?: number; nesterov?: boolean }): RefOptimizer {
  let tr: Vec | null = null;
  return {
    step(g) {
      if (o.momentum === undefined) return g.map((x) => -o.lr * x);
      const m = o.momentum;
      tr = g.map((gi, i) => gi + m * (tr?.[i] ?? 0));
      return g.map((gi, i) => -o.lr * (o.nesterov ? gi + m * tr![i]! : tr![i]!));
    },
  };
}

function refRms(o: {
  lr: number;
  decay?: number;
  eps?: number;
  initialScale?: number;
  epsInSqrt?: boolean;
  biasCorrection?: boolean;
  momentum?: number;
}): RefOptimizer {
  const { lr, decay = 0.9, eps = 1e-8, initialScale = 0, epsInSqrt = true, biasCorrection = false } = o;
  let nu: Vec | null = null;
  let tr: Vec | null = null;
  let count = 0;
  return {
    step(g) {
      nu ??= g.map(() => initialScale);
      nu = g.map((gi, i) => (1 - decay) * gi * gi + decay * nu![i]!);
      count++;
      const u = g.map((gi, i) => {
        const n = biasCorrection ? nu![i]! / (1 - decay ** count) : nu![i]!;
        return -lr * gi * (epsInSqrt ? 1 / Math.sqrt(n + eps) : 1 / (Math.sqrt(n) + eps));
      });
      if (o.momentum === undefined) return u;
      tr = u.map((ui, i) => ui + o.momentum! * (tr?.[i] ?? 0));
      return tr;
    },
  };
}

/** A deterministic gradient sequence with mixed signs and magnitudes (float32-exact). */
const gradAt = (k: number, n: number): Vec =>
  globalThis.Array.from({ length: n }, (_, i) => Math.fround(Math.sin(1.3 * i + 0.7 * k) * (1 + i) + (k % 2 ? 0.1 : -0.2)));

/**
 * Compares updates within 1e-5 of `|update| + lr`: float32 Optax itself computes `1 - b2^t`
 * with ~1e-5 relative error at t = 1 (0.999 is not exact in float32), and AdamW's decay can
 * cancel Adam's direction, so the scale of the error is the learning rate, not the update.
 */
function compare(optim: GradientTransformation, ref: RefOptimizer, lr: number, opts: { steps?: number; usesParams?: boolean } = {}) {
  const n = 5;
  let params = { w: array(gradAt(100, n).map((v) => v * 0.5)) };
  let refParams = [...params.w.data];
  let state = optim.init(params);
  for (let k = 0; k < (opts.steps ?? 6); k++) {
    const g = gradAt(k, n);
    const [u, s] = optim.update({ w: array(g) }, state, opts.usesParams ? params : undefined);
    state = s;
    const want = ref.step(g, refParams);
    const got = [...(u as { w: Array }).w.data];
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-5 * (Math.abs(want[i]!) + lr)));
    params = treeMap((p: Array, d: Array) => np.add(p, d), params, u) as typeof params;
    refParams = refParams.map((p, i) => p + want[i]!);
  }
}

describe("aliases match a float64 re-implementation over several steps", () => {
  it("adam with defaults", () => compare(adam(1e-2), refAdam({ lr: 1e-2 }), 1e-2));
  it("adam with b1, b2, eps, epsRoot and nesterov", () =>
    compare(
      adam({ learningRate: 0.05, b1: 0.8, b2: 0.99, eps: 1e-3, epsRoot: 1e-4, nesterov: true }),
      refAdam({ lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-3, epsRoot: 1e-4, nesterov: true }),
      0.05,
    ));
  it("adamw: default weight decay 1e-4 multiplied by the learning rate", () =>
    compare(adamw(0.1), refAdam({ lr: 0.1, wd: 1e-4 }), 0.1, { usesParams: true }));
  it("adamw with a large decay", () =>
    compare(adamw({ learningRate: 0.1, weightDecay: 0.5 }), refAdam({ lr: 0.1, wd: 0.5 }), 0.1, { usesParams: true }));
  it("sgd", () => compare(sgd(0.1), refSgd({ lr: 0.1 }), 0.1));
  it("sgd with momentum", () => compare(sgd({ learningRate: 0.1, momentum: 0.9 }), refSgd({ lr: 0.1, momentum: 0.9 }), 0.1));
  it("sgd with nesterov momentum", () =>
    compare(sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }), refSgd({ lr: 0.1, momentum: 0.9, nesterov: true }), 0.1));
  it("rmsprop", () => compare(rmsprop(1e-3), refRms({ lr: 1e-3 }), 1e-3));
  it("rmsprop with bias correction, eps outside the root, initial scale and momentum", () =>
    compare(
      rmsprop({ learningRate: 1e-2, decay: 0.8, eps: 1e-3, initialScale: 0.5, epsInSqrt: false, biasCorrection: true, momentum: 0.7 }),
      refRms({ lr: 1e-2, decay: 0.8, eps: 1e-3, initialScale: 0.5, epsInSqrt: false, biasCorrection: true, momentum: 0.7 }),
      1e-2,
    ));
});
