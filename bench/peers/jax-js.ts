/**
 * jax-js on its `wasm` device, single-threaded, every case under `jit`.
 *
 * Ownership (jax-js's reference counting): every jax-js function, jitted ones included,
 * consumes its array arguments, so inputs kept across calls are passed as `x.ref`, values used
 * twice inside a function take `.ref` on all but the last use, and `dataSync()` consumes the
 * array it reads.
 *
 * Threads: jax-js dispatches wasm kernels to a worker pool only when both `SharedArrayBuffer`
 * and a global `Worker` exist (`createWorkerPool` in its dist). Node has no global `Worker`;
 * should one exist (a polyfill), it is removed before the backend starts, which makes the
 * device single-threaded. It must stay removed: kernel codegen checks it again to decide
 * whether to import shared memory.
 */
import { firstCalls } from "../timing";
import type { Bench, EmbeddingSpec, MatmulSpec, MlpSpec, Peer, SeedSpec } from "../types";
import { jaxJsSeed } from "./jax-js-seed";
import { summary } from "../data";

export async function createJaxJs(): Promise<Peer> {
  let workerNote = "no global Worker in Node, so no worker pool";
  if (typeof (globalThis as { Worker?: unknown }).Worker !== "undefined") {
    delete (globalThis as { Worker?: unknown }).Worker;
    workerNote = "global Worker removed before init, so no worker pool";
  }
  const jax = await import("@jax-js/jax");
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm")) throw new Error(`init("wasm") returned [${devices.join(", ")}]`);
  jax.defaultDevice("wasm");
  const { numpy: np, jit, valueAndGrad, tree } = jax;
  type Arr = InstanceType<typeof jax.Array>;
  type Layer = { w: Arr; b: Arr };
  type State = { p: Layer[]; m: Layer[]; v: Layer[]; t: Arr };

  const f32 = (data: Float32Array, shape?: number[]) => np.array(data, shape ? { shape } : {});
  // Every bench reads float32 arrays. (`dataSync()`'s declared union names Float16Array, which
  // the ES2022 lib lacks, so the declared type does not resolve.)
  const read = (a: Arr): Float32Array => a.dataSync() as Float32Array;

  /**
   * Disposes the arrays a bench held across calls, after checking each still has exactly the
   * one reference the bench owns: more means a call leaked a reference, fewer would have failed
   * already (use after free).
   */
  const release = (arrays: Arr[], fn: { dispose(): void }) => {
    const counts = arrays.map((a) => a.refCount);
    for (const a of arrays) a.dispose();
    fn.dispose();
    if (counts.some((c) => c !== 1))
      throw new Error(`ownership: held arrays have reference counts [${counts.join(", ")}] after the run, expected all 1`);
  };

  function mlpLoss(p: Layer[], x: Arr, y: Arr): Arr {
    let h = x;
    p.forEach((l, i) => {
      h = np.matmul(h, l.w).add(l.b);
      if (i < p.length - 1) h = np.tanh(h);
    });
    const d = h.sub(y);
    return np.mean(d.ref.mul(d));
  }

  return {
    name: "jax-js",
    info: `@jax-js/jax wasm device, jit, single-threaded (${workerNote})`,
    tiny(x: Float32Array): Bench {
      const f = jit((a: Arr) => a.mul(2).add(1));
      const xa = f32(x);
      let out = read(f(xa.ref));
      const check = summary(out);
      return {
        run: () => void (out = read(f(xa.ref))),
        dispose: () => release([xa], f),
        check,
      };
    },
    matmul({ n, transposeB, a, b }: MatmulSpec): Bench {
      const f = transposeB ? jit((a: Arr, b: Arr) => np.matmul(a, b.transpose())) : jit((a: Arr, b: Arr) => np.matmul(a, b));
      const [A, B] = [f32(a, [n, n]), f32(b, [n, n])];
      let out = read(f(A.ref, B.ref));
      const check = summary(out);
      return {
        run: () => void (out = read(f(A.ref, B.ref))),
        dispose: () => release([A, B], f),
        check,
      };
    },
    chain(x: Float32Array): Bench {
      const f = jit((x: Arr) =>
        np
          .tanh(np.exp(x.ref.mul(0.5).sub(1)).mul(0.3).add(x))
          .mul(2)
          .add(0.1),
      );
      const xa = f32(x);
      let out = read(f(xa.ref));
      const check = summary(out);
      return {
        run: () => void (out = read(f(xa.ref))),
        dispose: () => release([xa], f),
        check,
      };
    },
    mlp(s: MlpSpec): Bench {
      const { lr, b1, b2, eps } = s;
      const step = jit((p: Layer[], m: Layer[], v: Layer[], t: Arr, x: Arr, y: Arr) => {
        // valueAndGrad consumes its arguments: give it references and keep `p` for the update.
        const [loss, g] = valueAndGrad(mlpLoss)(tree.ref(p), x, y) as [Arr, Layer[]];
        const bc1 = np.subtract(1, np.exp(t.ref.mul(Math.log(b1))));
        const bc2 = np.subtract(1, np.exp(t.ref.mul(Math.log(b2))));
        const adam = (p: Arr, m: Arr, v: Arr, g: Arr): [Arr, Arr, Arr] => {
          const m2 = m.mul(b1).add(g.ref.mul(1 - b1));
          const v2 = v.mul(b2).add(g.ref.mul(g).mul(1 - b2));
          const mhat = m2.ref.div(bc1.ref);
          const vhat = v2.ref.div(bc2.ref);
          return [p.sub(mhat.mul(lr).div(np.sqrt(vhat).add(eps))), m2, v2];
        };
        const out: State = { p: [], m: [], v: [], t: t.add(1) };
        p.forEach((l, i) => {
          const [w, mw, vw] = adam(l.w, m[i]!.w, v[i]!.w, g[i]!.w);
          const [b, mb, vb] = adam(l.b, m[i]!.b, v[i]!.b, g[i]!.b);
          out.p.push({ w, b });
          out.m.push({ w: mw, b: mb });
          out.v.push({ w: vw, b: vb });
        });
        bc1.dispose();
        bc2.dispose();
        return { ...out, loss };
      });
      const shapeOf = (i: number) => [s.widths[i]!, s.widths[i + 1]!];
      const zeros = () => s.layers.map((l, i) => ({ w: np.zeros(shapeOf(i)), b: np.zeros([l.b.length]) }));
      let st: State = {
        p: s.layers.map((l, i) => ({ w: f32(l.w, shapeOf(i)), b: f32(l.b) })),
        m: zeros(),
        v: zeros(),
        t: np.array(1),
      };
      const x = f32(s.x, [s.batch, s.widths[0]!]);
      const y = f32(s.y, [s.batch, s.widths.at(-1)!]);
      let loss = 0;
      const run = () => {
        // The step consumes the old state; the new one replaces it.
        const o = step(st.p, st.m, st.v, st.t, x.ref, y.ref);
        st = { p: o.p, m: o.m, v: o.v, t: o.t };
        loss = read(o.loss)[0]!;
      };
      const { check, compileMs } = firstCalls(run, () => loss);
      return {
        run,
        // Reading the loss may leave the parameter updates pending: finish them in the timed region.
        sync: async () => void (await jax.blockUntilReady(st)),
        dispose: () => release([...(tree.leaves(st) as Arr[]), x, y], step),
        check,
        compileMs,
      };
    },
    embedding(s: EmbeddingSpec): Bench {
      const f = jit((table: Arr, ids: Arr) => np.take(table, ids, 0));
      const table = f32(s.table, [s.vocab, s.dim]);
      const ids = np.array(s.ids, { shape: [s.batch, s.seq], dtype: np.int32 });
      let out = read(f(table.ref, ids.ref));
      const check = summary(out);
      return { run: () => void (out = read(f(table.ref, ids.ref))), dispose: () => release([table, ids], f), check };
    },
    argsort(x: Float32Array): Bench {
      const f = jit((a: Arr) => np.argsort(a));
      const xa = f32(x);
      let out = read(f(xa.ref));
      const check = summary(out);
      return { run: () => void (out = read(f(xa.ref))), dispose: () => release([xa], f), check };
    },
    seed: (spec: SeedSpec) => jaxJsSeed(jax, spec, true),
    seedEager: (spec: SeedSpec) => jaxJsSeed(jax, spec, false),
  };
}
