/**
 * TensorFlow.js (no jit: eager ops, `tf.tidy` for memory) on its `wasm` (XNNPACK, SIMD) or `cpu`
 * (plain JS) backend. tfjs has one global backend, so `activate()` switches to this peer's.
 * tfjs-backend-wasm never uses threads in Node (its WASM_HAS_MULTITHREAD_SUPPORT flag is false
 * there); `setThreadsCount(1)` makes that explicit.
 */
import type { Bench, CnnSpec, MatmulSpec, MlpSpec, Peer } from "../types";
import { summary } from "../data";

type Backend = "wasm" | "cpu";

/** tfjs prints an advert for tfjs-node on first use; keep it out of the benchmark output. */
async function quietly<T>(f: () => T | Promise<T>): Promise<T> {
  const [log, warn] = [console.log, console.warn];
  const keep =
    (w: (...a: unknown[]) => void) =>
    (...a: unknown[]) => {
      const s = a.map(String).join(" ");
      if (!/tfjs-node|={10,}/.test(s)) w(...a);
    };
  console.log = keep(log);
  console.warn = keep(warn);
  try {
    return await f();
  } finally {
    [console.log, console.warn] = [log, warn];
  }
}

export async function createTfjs(backend: Backend): Promise<Peer> {
  const tf = await import("@tensorflow/tfjs-core");
  // The Node build of tfjs-core registers no gradients; its ESM build does, into the same
  // registry (tfjs keeps registries and engine on the global object), once Node can resolve it
  // (bench/loader-hooks.mjs).
  await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  let info: string;
  if (backend === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    wasm.setThreadsCount(1);
    if (!(await quietly(() => tf.setBackend("wasm")))) throw new Error("tf.setBackend('wasm') failed");
    info = `@tensorflow/tfjs-backend-wasm (XNNPACK, SIMD ${tf.env().getBool("WASM_HAS_SIMD_SUPPORT")}, threads ${wasm.getThreadsCount()}), eager`;
  } else {
    await import("@tensorflow/tfjs-backend-cpu");
    if (!(await quietly(() => tf.setBackend("cpu")))) throw new Error("tf.setBackend('cpu') failed");
    await quietly(() => tf.dispose(tf.scalar(0))); // the advert comes on the first write
    info = "@tensorflow/tfjs-backend-cpu (plain JS), eager";
  }
  type T = InstanceType<typeof tf.Tensor>;

  const read = (t: T): Float32Array => {
    const d = t.dataSync() as Float32Array;
    t.dispose();
    return d;
  };

  return {
    name: `tfjs-${backend}`,
    info,
    async activate() {
      if (tf.getBackend() !== backend && !(await quietly(() => tf.setBackend(backend))))
        throw new Error(`tf.setBackend('${backend}') failed`);
    },
    tiny(x: Float32Array): Bench {
      const xa = tf.tensor1d(x);
      const call = () => read(tf.tidy(() => tf.add(tf.mul(xa, 2), 1)));
      let out = call();
      const check = summary(out);
      return { run: () => void (out = call()), dispose: () => xa.dispose(), check };
    },
    matmul({ n, transposeB, a, b }: MatmulSpec): Bench {
      const [A, B] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])];
      const call = () => read(tf.matMul(A, B, false, transposeB));
      let out = call();
      const check = summary(out);
      return { run: () => void (out = call()), dispose: () => tf.dispose([A, B]), check };
    },
    chain(x: Float32Array): Bench {
      const xa = tf.tensor1d(x);
      const call = () => read(tf.tidy(() => tf.add(tf.mul(tf.tanh(tf.add(tf.mul(tf.exp(tf.sub(tf.mul(xa, 0.5), 1)), 0.3), xa)), 2), 0.1)));
      let out = call();
      const check = summary(out);
      return { run: () => void (out = call()), dispose: () => xa.dispose(), check };
    },
    cnn(s: CnnSpec): Bench {
      if (backend === "wasm") registerWasmFilterGradient(tf);
      // NHWC, as tfjs's conv2d and maxPool want; the flatten goes back to NCHW order to match.
      const x = tf.transpose(tf.tensor4d(s.x, [s.batch, 1, s.size, s.size]), [0, 2, 3, 1]);
      const onehot = tf.oneHot(tf.tensor1d(s.labels, "int32"), s.classes);
      const flat = s.c2 * (s.size / 4) ** 2;
      const kernel = (d: CnnSpec["conv1"], cin: number, cout: number) => tf.transpose(tf.tensor4d(d.w, [cout, cin, 3, 3]), [2, 3, 1, 0]);
      let p: T[] = [
        kernel(s.conv1, 1, s.c1),
        tf.tensor1d(s.conv1.b),
        kernel(s.conv2, s.c1, s.c2),
        tf.tensor1d(s.conv2.b),
        tf.transpose(tf.tensor2d(s.linear.w, [s.classes, flat])),
        tf.tensor1d(s.linear.b),
      ];
      const loss = (w1: T, b1: T, w2: T, b2: T, wl: T, bl: T): T => {
        type T4 = ReturnType<typeof tf.tensor4d>;
        const block = (h: T, w: T, b: T): T => tf.maxPool(tf.relu(tf.add(tf.conv2d(h as T4, w as T4, 1, "same"), b)) as T4, 2, 2, "valid");
        const h = block(block(x, w1, b1), w2, b2);
        const logits = tf.add(tf.matMul(tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [s.batch, flat]), wl), bl);
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1)));
      };
      const vg = tf.valueAndGrads(loss as (...a: T[]) => T);
      let lossVal = 0;
      const run = () => {
        const o = tf.tidy(() => {
          const { value, grads } = vg(p);
          return { p: p.map((pi, i) => tf.sub(pi, tf.mul(grads[i]!, s.lr))), loss: value };
        });
        tf.dispose(p);
        p = o.p;
        lossVal = read(o.loss)[0]!;
      };
      run();
      const check = [lossVal];
      run();
      check.push(lossVal);
      return { run, dispose: () => tf.dispose([...p, x, onehot]), check };
    },
    mlp(s: MlpSpec): Bench {
      const { lr, b1, b2, eps } = s;
      const nl = s.layers.length;
      const x = tf.tensor2d(s.x, [s.batch, s.widths[0]!]);
      const y = tf.tensor2d(s.y, [s.batch, s.widths.at(-1)!]);
      // Parameters flat as [w0, b0, w1, b1, …] for tf.valueAndGrads.
      const loss = (...flat: T[]): T => {
        let h = x;
        for (let i = 0; i < nl; i++) {
          h = tf.add(tf.matMul(h, flat[2 * i]!), flat[2 * i + 1]!);
          if (i < nl - 1) h = tf.tanh(h);
        }
        const d = tf.sub(h, y);
        return tf.mean(tf.mul(d, d));
      };
      const vg = tf.valueAndGrads(loss);
      const shapes = s.layers.flatMap((l, i) => [[s.widths[i]!, s.widths[i + 1]!], [l.b.length]]);
      let p: T[] = s.layers.flatMap((l, i) => [tf.tensor(l.w, shapes[2 * i]), tf.tensor(l.b, shapes[2 * i + 1])]);
      let m: T[] = shapes.map((sh) => tf.zeros(sh));
      let v: T[] = shapes.map((sh) => tf.zeros(sh));
      let t: T = tf.scalar(1);
      let lossVal = 0;
      const run = () => {
        const o = tf.tidy(() => {
          const { value, grads } = vg(p);
          const bc1 = tf.sub(1, tf.exp(tf.mul(t, Math.log(b1))));
          const bc2 = tf.sub(1, tf.exp(tf.mul(t, Math.log(b2))));
          const np: T[] = [];
          const nm: T[] = [];
          const nv: T[] = [];
          p.forEach((pi, i) => {
            const g = grads[i]!;
            const m2 = tf.add(tf.mul(m[i]!, b1), tf.mul(g, 1 - b1));
            const v2 = tf.add(tf.mul(v[i]!, b2), tf.mul(tf.mul(g, g), 1 - b2));
            const mhat = tf.div(m2, bc1);
            const vhat = tf.div(v2, bc2);
            np.push(tf.sub(pi, tf.div(tf.mul(mhat, lr), tf.add(tf.sqrt(vhat), eps))));
            nm.push(m2);
            nv.push(v2);
          });
          return { p: np, m: nm, v: nv, t: tf.add(t, 1), loss: value };
        });
        tf.dispose([...p, ...m, ...v, t]);
        [p, m, v, t] = [o.p, o.m, o.v, o.t];
        lossVal = read(o.loss)[0]!;
      };
      run();
      const check = [lossVal];
      run();
      check.push(lossVal);
      return { run, dispose: () => tf.dispose([...p, ...m, ...v, t, x, y]), check };
    },
  };
}

/**
 * tfjs-backend-wasm has no `Conv2DBackpropFilter` kernel (a CNN cannot train on it as
 * shipped); this one computes it with the backend's own ops, as im2col: one XNNPACK matmul
 * per kernel tap, `dW[kh, kw] = x_pad[:, kh::stride, kw::stride, :]ᵀ · dy`. Stride 1 and
 * "same"/"valid" padding, no dilation: what the CNN case uses.
 */
function registerWasmFilterGradient(tf: typeof import("@tensorflow/tfjs-core")): void {
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")) return;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as unknown as { x: ReturnType<typeof tf.tensor4d>; dy: ReturnType<typeof tf.tensor4d> };
      const { filterShape, pad, strides } = attrs as unknown as {
        filterShape: [number, number, number, number];
        pad: string;
        strides: number | [number, number];
      };
      const [kh, kw, cin, cout] = filterShape;
      if ((typeof strides === "number" ? strides : Math.max(...strides)) !== 1)
        throw new Error("bench's Conv2DBackpropFilter for wasm: stride 1 only");
      return tf.tidy(() => {
        const [n, h, w] = [dy.shape[0], dy.shape[1], dy.shape[2]];
        const xt = tf.tensor4d(x.dataSync() as Float32Array, x.shape);
        const dyt = tf.reshape(tf.tensor4d(dy.dataSync() as Float32Array, dy.shape), [n * h * w, cout]);
        const [ph, pw] = pad === "same" ? [kh - 1, kw - 1] : [0, 0];
        const xp = tf.pad(xt, [
          [0, 0],
          [Math.floor(ph / 2), ph - Math.floor(ph / 2)],
          [Math.floor(pw / 2), pw - Math.floor(pw / 2)],
          [0, 0],
        ]);
        const taps: ReturnType<typeof tf.tensor2d>[] = [];
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++)
            taps.push(tf.matMul(tf.reshape(tf.slice(xp, [0, i, j, 0], [n, h, w, cin]), [n * h * w, cin]), dyt, true, false));
        return tf.reshape(tf.stack(taps), filterShape);
      });
    },
  });
}
