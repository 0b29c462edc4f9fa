/**
 * jax-js's hand-written equivalent of the seed step (`SeedSpec`): the same layers written as
 * functions of a flat parameter record (jax-js has no modules), the same BatchNorm and
 * SpectralNorm state updates, and Adam written out as Optax computes it. Ownership as in
 * `jax-js.ts`: every function consumes its array arguments, so a value used twice takes
 * `.ref` on all but its last use.
 */
import { firstCalls } from "../timing";
import type { Bench, SeedNorm, SeedSpec } from "../types";

type Jax = typeof import("@jax-js/jax");

export function jaxJsSeed(jax: Jax, s: SeedSpec, jitted: boolean): Bench {
  const { numpy: np, jit, valueAndGrad, lax, nn, tree } = jax;
  type Arr = InstanceType<typeof jax.Array>;
  type Params = { n1w: Arr; n1b: Arr; sw: Arr; sb: Arr; n2w: Arr; n2b: Arr; l1w: Arr; l1b: Arr; l2w: Arr; l2b: Arr };
  type State = { f1: Arr; m1: Arr; v1: Arr; u: Arr; v: Arr; f2: Arr; m2: Arr; v2: Arr };
  type Opt = { count: Arr; mu: Params; nu: Params };
  const MOMENTUM = 0.99;
  const BN_EPS = 1e-5;
  const SN_EPS = 1e-12;
  const [B1, B2, EPS, LR] = [0.9, 0.999, 1e-8, s.learningRate];

  /** Equinox BatchNorm, mode "ema", over the batch axis: [out, first', mean', variance']. */
  function batchNorm(x: Arr, w: Arr, b: Arr, first: Arr, rm: Arr, rv: Arr): [Arr, Arr, Arr, Arr] {
    const bm = np.mean(x.ref, 0);
    const dev = x.ref.sub(bm.ref);
    const bv = np.maximum(np.mean(dev.ref.mul(dev), 0), 0);
    const mean = np.where(first.ref, bm.ref, bm.mul(1 - MOMENTUM).add(rm.mul(MOMENTUM)));
    const variance = np.where(first, bv.ref, bv.mul(1 - MOMENTUM).add(rv.mul(MOMENTUM)));
    const out = x
      .sub(mean.ref)
      .div(np.sqrt(variance.ref.add(BN_EPS)))
      .mul(w)
      .add(b);
    return [out, np.array(false), mean, variance];
  }

  const normalise = (a: Arr): Arr => {
    const norm = np.maximum(np.sqrt(np.sum(np.square(a.ref))), SN_EPS);
    return a.div(norm);
  };

  /** SpectralNorm(Linear): one power iteration on stop_gradient(W) (u is recomputed from v), σ = uᵀWv. */
  function spectral(x: Arr, w: Arr, b: Arr, oldU: Arr, v: Arr): [Arr, Arr, Arr] {
    oldU.dispose();
    const ws = lax.stopGradient(w.ref);
    const u = normalise(np.matmul(ws.ref, v));
    const v2 = normalise(np.matmul(ws.transpose(), u.ref));
    const sigma = np.sum(u.ref.mul(np.matmul(w.ref, v2.ref)));
    const out = np.matmul(x, w.div(sigma).transpose()).add(b);
    return [out, u, v2];
  }

  const linear = (x: Arr, w: Arr, b: Arr): Arr => np.matmul(x, w.transpose()).add(b);

  function computeLoss(p: Params, st: State, xs: Arr, ys: Arr): [Arr, State] {
    const [h0, f1, m1, v1] = batchNorm(xs, p.n1w, p.n1b, st.f1, st.m1, st.v1);
    const [h1, u, v] = spectral(h0, p.sw, p.sb, st.u, st.v);
    const [h2, f2, m2, v2] = batchNorm(nn.relu(h1), p.n2w, p.n2b, st.f2, st.m2, st.v2);
    let h = nn.relu(linear(h2, p.l1w, p.l1b));
    h = linear(h, p.l2w, p.l2b);
    const d = h.sub(ys);
    return [np.mean(d.ref.mul(d)), { f1, m1, v1, u, v, f2, m2, v2 }];
  }

  function stepFn(p: Params, st: State, opt: Opt, xs: Arr, ys: Arr) {
    // valueAndGrad consumes its arguments: give it references and keep `p` for the update.
    const [[loss, st2], g] = valueAndGrad(computeLoss, { hasAux: true })(tree.ref(p), st, xs, ys) as [[Arr, State], Params];
    const count = opt.count.add(1);
    const t = count.ref.astype(np.float32);
    const bc1 = np.subtract(1, np.exp(t.ref.mul(Math.log(B1))));
    const bc2 = np.subtract(1, np.exp(t.mul(Math.log(B2))));
    const out = { p: {} as Params, mu: {} as Params, nu: {} as Params };
    for (const k of Object.keys(p) as (keyof Params)[]) {
      const gk = g[k];
      const mu = gk.ref.mul(1 - B1).add(opt.mu[k].mul(B1));
      const nu = np
        .square(gk)
        .mul(1 - B2)
        .add(opt.nu[k].mul(B2));
      const u = mu.ref.div(bc1.ref).div(np.sqrt(nu.ref.div(bc2.ref)).add(EPS));
      out.p[k] = p[k].add(u.mul(-LR));
      out.mu[k] = mu;
      out.nu[k] = nu;
    }
    bc1.dispose();
    bc2.dispose();
    return { p: out.p, st: st2, opt: { count, mu: out.mu, nu: out.nu }, loss };
  }

  const f32 = (a: Float32Array, shape: number[]) => np.array(a, { shape });
  const norm = (n: SeedNorm) => [np.array(n.first), f32(n.mean, [n.mean.length]), f32(n.variance, [n.variance.length])] as const;
  const params = (): Params => ({
    n1w: f32(s.norm1.weight, [3]),
    n1b: f32(s.norm1.bias, [3]),
    sw: f32(s.spectral.w, [32, 3]),
    sb: f32(s.spectral.b, [32]),
    n2w: f32(s.norm2.weight, [32]),
    n2b: f32(s.norm2.bias, [32]),
    l1w: f32(s.linear1.w, [32, 32]),
    l1b: f32(s.linear1.b, [32]),
    l2w: f32(s.linear2.w, [3, 32]),
    l2b: f32(s.linear2.b, [3]),
  });
  const zerosLike = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, np.zeros(v.shape)])) as Params;
  const p0 = params();
  const [f1, m1, v1] = norm(s.norm1);
  const [f2, m2, v2] = norm(s.norm2);
  let st = {
    p: p0,
    st: { f1, m1, v1, u: f32(s.spectral.u, [32]), v: f32(s.spectral.v, [3]), f2, m2, v2 } as State,
    opt: { count: np.zeros([], { dtype: np.int32 }), mu: zerosLike(p0), nu: zerosLike(p0) } as Opt,
  };
  const xs = f32(s.xs, [s.batch, 3]);
  const ys = f32(s.ys, [s.batch, 3]);
  const jittedStep = jitted ? jit(stepFn) : null;
  const step = jittedStep ?? stepFn;
  let loss = 0;
  const run = () => {
    // The step consumes the old state; the new one replaces it.
    const o = step(st.p, st.st, st.opt, xs.ref, ys.ref);
    st = { p: o.p, st: o.st, opt: o.opt };
    loss = (o.loss.dataSync() as Float32Array)[0]!;
  };
  const { firstMs: first, check, compileMs } = firstCalls(run, () => loss);
  return {
    run,
    // Reading the loss may leave the parameter updates pending: finish them in the timed region.
    sync: async () => void (await jax.blockUntilReady(st)),
    dispose: () => {
      for (const a of tree.leaves(st) as Arr[]) a.dispose();
      xs.dispose();
      ys.dispose();
      jittedStep?.dispose();
    },
    check,
    ...(jitted ? { compileMs, extra: { firstCallMs: first } } : {}),
  };
}
