/** wax: every case is one `filterJit` function (one WebAssembly module); outputs come back as arrays. */
import { firstCalls } from "../timing";
import { filterJit } from "@wax/compiler";
import { array, grad, lax, nn as jnn, np, random, valueAndGrad, vmap, type Array } from "@wax/tracer";
import { Conv2d, Linear, MaxPool2d, Module, filterValueAndGrad, treeAt } from "@wax/nn";
import { summary } from "../data";
import type { Bench, CnnSpec, EmbeddingSpec, MatmulSpec, MlpSpec, Peer, RnnSpec, SeedSpec } from "../types";
import { waxSeed } from "../seed";

type Layer = { w: Array; b: Array };
type State = { p: Layer[]; m: Layer[]; v: Layer[]; t: Array };

function mlpLoss(p: Layer[], x: Array, y: Array): Array {
  let h = x;
  p.forEach((l, i) => {
    h = np.add(np.matmul(h, l.w), l.b);
    if (i < p.length - 1) h = np.tanh(h);
  });
  const d = np.subtract(h, y);
  return np.mean(np.multiply(d, d));
}

function makeStep(s: MlpSpec) {
  const { lr, b1, b2, eps } = s;
  return filterJit(
    function mlpStep(p: Layer[], m: Layer[], v: Layer[], t: Array, x: Array, y: Array) {
      const [loss, g] = valueAndGrad(mlpLoss)(p, x, y) as [Array, Layer[]];
      const bc1 = np.subtract(1, np.exp(np.multiply(t, Math.log(b1))));
      const bc2 = np.subtract(1, np.exp(np.multiply(t, Math.log(b2))));
      const adam = (p: Array, m: Array, v: Array, g: Array): [Array, Array, Array] => {
        const m2 = np.add(np.multiply(m, b1), np.multiply(g, 1 - b1));
        const v2 = np.add(np.multiply(v, b2), np.multiply(np.multiply(g, g), 1 - b2));
        const mhat = np.divide(m2, bc1);
        const vhat = np.divide(v2, bc2);
        return [np.subtract(p, np.divide(np.multiply(mhat, lr), np.add(np.sqrt(vhat), eps))), m2, v2];
      };
      const out: State = { p: [], m: [], v: [], t: np.add(t, 1) };
      p.forEach((l, i) => {
        const [w, mw, vw] = adam(l.w, m[i]!.w, v[i]!.w, g[i]!.w);
        const [b, mb, vb] = adam(l.b, m[i]!.b, v[i]!.b, g[i]!.b);
        out.p.push({ w, b });
        out.m.push({ w: mw, b: mb });
        out.v.push({ w: vw, b: vb });
      });
      return { ...out, loss };
    },
    { name: "mlpStep" },
  );
}

/** The recurrence of `RnnSpec`, as a scan or as a JS loop (which unrolls into the trace). */
function rnnSum(s: RnnSpec) {
  const cell = (W: Array, U: Array, b: Array, h: Array, x: Array) => np.tanh(np.add(np.add(np.matmul(W, h), np.matmul(U, x)), b));
  return (W: Array, U: Array, b: Array, xs: Array): Array => {
    const h0 = np.zeros([s.hidden]);
    if (s.mode === "scan") {
      const [h] = lax.scan((h: Array, x: Array) => [cell(W, U, b, h, x), null], h0, xs);
      return np.sum(h as Array);
    }
    let h = h0;
    for (let t = 0; t < s.steps; t++) h = cell(W, U, b, h, xs.get(t));
    return np.sum(h);
  };
}

/** The CNN of `CnnSpec` with Equinox-style layers (one example, batched by vmap), weights set from the spec. */
class Cnn extends Module {
  conv1: Conv2d;
  conv2: Conv2d;
  linear: Linear;
  pool: MaxPool2d;
  constructor(s: CnnSpec) {
    super();
    const key = random.key(0);
    const conv = (cin: number, cout: number, d: CnnSpec["conv1"]) => {
      const c = new Conv2d(cin, cout, 3, { padding: 1, key });
      return treeAt((c: Conv2d) => [c.weight, c.bias!], c, [array(d.w, { shape: [cout, cin, 3, 3] }), array(d.b, { shape: [cout, 1, 1] })]);
    };
    const flat = s.c2 * (s.size / 4) ** 2;
    this.conv1 = conv(1, s.c1, s.conv1);
    this.conv2 = conv(s.c1, s.c2, s.conv2);
    this.linear = treeAt((l: Linear) => [l.weight, l.bias!], new Linear(flat, s.classes, { key }), [
      array(s.linear.w, { shape: [s.classes, flat] }),
      array(s.linear.b),
    ]);
    this.pool = new MaxPool2d({ kernelSize: 2, stride: 2 });
  }
  __call__(x: Array): Array {
    const h = this.pool(jnn.relu(this.conv1(x) as Array)) as Array;
    return this.linear(np.reshape(this.pool(jnn.relu(this.conv2(h) as Array)) as Array, [-1])) as Array;
  }
}

export function createWax(): Peer {
  // Binaryen loads when @wax/compiler is imported; compile one throwaway function so its
  // one-time start-up is excluded from every measurement, compile time included.
  filterJit((x: Array) => np.add(x, 1))(array(new Float32Array(4)));
  return {
    name: "wax",
    info: "filterJit → one WebAssembly SIMD module per function (single thread)",
    tiny(x: Float32Array): Bench {
      const f = filterJit((a: Array) => np.add(np.multiply(a, 2), 1), { name: "tiny" });
      const xa = array(x);
      let out = f(xa).data;
      const check = summary(out);
      return { run: () => void (out = f(xa).data), dispose() {}, check };
    },
    matmul({ n, transposeB, a, b }: MatmulSpec): Bench {
      const f = transposeB
        ? filterJit((a: Array, b: Array) => np.matmul(a, np.transpose(b)), { name: "matmulT" })
        : filterJit((a: Array, b: Array) => np.matmul(a, b), { name: "matmul" });
      const [A, B] = [array(a, { shape: [n, n] }), array(b, { shape: [n, n] })];
      let out = f(A, B).data;
      const check = summary(out);
      return { run: () => void (out = f(A, B).data), dispose() {}, check };
    },
    chain(x: Float32Array): Bench {
      const f = filterJit(
        (x: Array) => np.add(np.multiply(np.tanh(np.add(np.multiply(np.exp(np.subtract(np.multiply(x, 0.5), 1)), 0.3), x)), 2), 0.1),
        { name: "chain" },
      );
      const xa = array(x);
      let out = f(xa).data;
      const check = summary(out);
      return { run: () => void (out = f(xa).data), dispose() {}, check };
    },
    mlp(s: MlpSpec): Bench {
      const step = makeStep(s);
      const shapeOf = (i: number) => [s.widths[i]!, s.widths[i + 1]!];
      const zeros = () =>
        s.layers.map((l, i) => ({ w: array(new Float32Array(l.w.length), { shape: shapeOf(i) }), b: array(new Float32Array(l.b.length)) }));
      let st: State = {
        p: s.layers.map((l, i) => ({ w: array(l.w, { shape: shapeOf(i) }), b: array(l.b) })),
        m: zeros(),
        v: zeros(),
        t: array(1),
      };
      const x = array(s.x, { shape: [s.batch, s.widths[0]!] });
      const y = array(s.y, { shape: [s.batch, s.widths.at(-1)!] });
      let loss = 0;
      const run = () => {
        const o = step(st.p, st.m, st.v, st.t, x, y);
        st = { p: o.p, m: o.m, v: o.v, t: o.t };
        loss = o.loss.data[0]!;
      };
      const { check, compileMs } = firstCalls(run, () => loss);
      return {
        run,
        dispose() {},
        check,
        compileMs,
        internalCompileMs: step.stats().compileMs,
      };
    },
    rnn(s: RnnSpec): Bench {
      const loss = rnnSum(s);
      const f = filterJit(s.grad ? (W: Array, U: Array, b: Array, xs: Array) => grad(loss)(W, U, b, xs) as Array : loss, {
        name: `rnn_${s.mode}`,
      });
      const args = [
        array(s.w, { shape: [s.hidden, s.hidden] }),
        array(s.u, { shape: [s.hidden, s.n] }),
        array(s.b),
        array(s.xs, { shape: [s.steps, s.n] }),
      ] as const;
      const t0 = performance.now();
      let out = f(...args).data;
      const first = performance.now() - t0;
      const check = summary(out);
      const t1 = performance.now();
      out = f(...args).data;
      return {
        run: () => void (out = f(...args).data),
        dispose() {},
        check,
        compileMs: first - (performance.now() - t1),
        internalCompileMs: f.stats().compileMs,
      };
    },
    embedding(s: EmbeddingSpec): Bench {
      const embed = (table: Array, id: Array) => np.take(table, id, { axis: 0 });
      const f = filterJit((table: Array, ids: Array) => vmap(vmap((id: Array) => embed(table, id)))(ids) as Array, { name: "embedding" });
      const table = array(s.table, { shape: [s.vocab, s.dim] });
      const ids = array(s.ids, { shape: [s.batch, s.seq] });
      const t0 = performance.now();
      let out = f(table, ids).data;
      const first = performance.now() - t0;
      const check = summary(out);
      const t1 = performance.now();
      out = f(table, ids).data;
      return {
        run: () => void (out = f(table, ids).data),
        dispose() {},
        check,
        compileMs: first - (performance.now() - t1),
        internalCompileMs: f.stats().compileMs,
      };
    },
    cnn(s: CnnSpec): Bench {
      const loss = (m: Cnn, x: Array, labels: Array) => {
        const logp = jnn.logSoftmax(vmap(m)(x) as Array, -1);
        return np.negative(np.mean(np.sum(np.multiply(logp, jnn.oneHot(labels, s.classes)), { axis: -1 })));
      };
      const step = filterJit(
        function cnnStep(m: Cnn, x: Array, labels: Array) {
          const [l, g] = filterValueAndGrad(loss)(m, x, labels) as [Array, Cnn];
          const sgd = (p: Array, d: Array) => np.subtract(p, np.multiply(d, s.lr));
          const next = treeAt(
            (m: Cnn) => [m.conv1.weight, m.conv1.bias!, m.conv2.weight, m.conv2.bias!, m.linear.weight, m.linear.bias!],
            m,
            [
              sgd(m.conv1.weight, g.conv1.weight),
              sgd(m.conv1.bias!, g.conv1.bias!),
              sgd(m.conv2.weight, g.conv2.weight),
              sgd(m.conv2.bias!, g.conv2.bias!),
              sgd(m.linear.weight, g.linear.weight),
              sgd(m.linear.bias!, g.linear.bias!),
            ],
          );
          return [next, l] as const;
        },
        { name: "cnnStep" },
      );
      let model = new Cnn(s);
      const x = array(s.x, { shape: [s.batch, 1, s.size, s.size] });
      const labels = array(s.labels, { shape: [s.batch], dtype: "int32" });
      let lossVal = 0;
      const run = () => {
        const [m, l] = step(model, x, labels);
        model = m;
        lossVal = l.data[0]!;
      };
      const t0 = performance.now();
      run();
      const first = performance.now() - t0;
      const check = [lossVal];
      const t1 = performance.now();
      run();
      check.push(lossVal);
      return { run, dispose() {}, check, compileMs: first - (performance.now() - t1), internalCompileMs: step.stats().compileMs };
    },
    argsort(x: Float32Array): Bench {
      const f = filterJit((a: Array) => np.argsort(a), { name: "argsort" });
      const xa = array(x);
      let out = f(xa).data;
      const check = summary(out);
      return { run: () => void (out = f(xa).data), dispose() {}, check };
    },
    seed: (spec: SeedSpec) => waxSeed(spec, true),
    seedEager: (spec: SeedSpec) => waxSeed(spec, false),
  };
}
