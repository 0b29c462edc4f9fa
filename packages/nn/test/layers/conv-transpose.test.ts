import { beforeAll, describe, expect, test } from "vitest";
import { grad, np, random, vjp, vmap, type Array } from "@wax/tracer";
import { Conv, ConvTranspose, ConvTranspose1d, ConvTranspose2d, filterJit, treeAt, type ConvTransposeOptions } from "@wax/nn";
import { expectClose, finiteDifferences, oracle, randomArray, tf, toFloat64, toTf, useTfCpu } from "./support";

beforeAll(useTfCpu);

/**
 * PyTorch's definition of a 1-d transposed convolution as a scatter, in float64:
 * y[o, i·s + k·d − lo] += x[c, i] · w[o, c, K−1−k] over the channels c of o's group
 * (Equinox's weight is the flipped PyTorch kernel), output length (L−1)s − lo − hi + d(K−1) + a + 1.
 */
function scatter1d(
  x: number[][],
  w: number[][][],
  s: number,
  [lo, hi]: [number, number],
  d: number,
  a: number,
  groups: number,
): number[][] {
  const L = x[0]!.length;
  const O = w.length;
  const K = w[0]![0]!.length;
  const perGroupIn = x.length / groups;
  const perGroupOut = O / groups;
  const out = (L - 1) * s - lo - hi + d * (K - 1) + a + 1;
  const y = globalThis.Array.from({ length: O }, () => new globalThis.Array<number>(out).fill(0));
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / perGroupOut);
    for (let cl = 0; cl < perGroupIn; cl++)
      for (let i = 0; i < L; i++)
        for (let k = 0; k < K; k++) {
          const j = i * s + k * d - lo;
          if (j >= 0 && j < out) y[o]![j]! += x[g * perGroupIn + cl]![i]! * w[o]![cl]![K - 1 - k]!;
        }
  }
  return y;
}

const layer1d = (inC: number, outC: number, k: number, opts: Omit<ConvTransposeOptions, "key">, seed = 0) =>
  toFloat64(new ConvTranspose1d(inC, outC, k, { ...opts, key: random.PRNGKey(seed) }));

describe("ConvTranspose", () => {
  test("initialisation is JAX's for the same key: weight [out, in/groups, ...k] and bias [out, 1, ...] from split(key)", () => {
    const c = new ConvTranspose1d(2, 3, 3, { key: random.PRNGKey(3) });
    expect(c.weight.shape).toEqual([3, 2, 3]);
    expect(c.bias!.shape).toEqual([3, 1]);
    // values from an independent threefry implementation, uniform(±1/sqrt(2·3))
    expect((np.ravel(c.weight).tolist() as number[]).slice(0, 4)).toEqual([
      -0.40114855766296387, -0.3723318576812744, -0.1538499891757965, -0.2712874412536621,
    ]);
    expect(np.ravel(c.bias!).tolist()).toEqual([-0.3870237469673157, 0.03407984972000122, -0.015495777130126953]);
    expect(new ConvTranspose2d(4, 6, [2, 3], { groups: 2, useBias: false, key: random.PRNGKey(0) }).weight.shape).toEqual([6, 2, 2, 3]);
  });

  test("1-d values match PyTorch's scatter definition for strides, paddings, output paddings, dilations and groups", () => {
    const cases: [number, number, number, Omit<ConvTransposeOptions, "key">][] = [
      [2, 3, 3, {}],
      [2, 3, 3, { stride: 2 }],
      [2, 2, 4, { stride: 3, padding: 1, outputPadding: 2 }],
      [1, 2, 3, { stride: 2, padding: [[0, 2]], outputPadding: 1 }],
      [2, 1, 2, { dilation: 2, stride: 2, padding: 1 }],
      [4, 6, 3, { groups: 2, stride: 2, padding: 1, outputPadding: 1 }],
      [2, 2, 3, { padding: 3 }],
    ];
    cases.forEach(([inC, outC, k, opts], n) => {
      const layer = layer1d(inC, outC, k, { ...opts, useBias: false }, n);
      const x = randomArray([inC, 5], 10 + n, "float64");
      const pads = layer.padding as [number, number][];
      const expected = scatter1d(
        x.tolist() as number[][],
        layer.weight.tolist() as number[][][],
        layer.stride[0]!,
        pads[0]!,
        layer.dilation[0]!,
        layer.outputPadding[0]!,
        layer.groups,
      );
      expectClose(layer(x), { shape: [outC, expected[0]!.length], data: expected.flat() }, { rtol: 1e-12, atol: 1e-12 });
    });
  });

  test("2-d values match tfjs conv2dTranspose (kernel flipped and laid out [kh, kw, out, in]), with the bias added", () => {
    const layer = new ConvTranspose2d(3, 2, [3, 2], { stride: [2, 1], padding: 1, outputPadding: [1, 0], key: random.PRNGKey(7) });
    const x = randomArray([3, 4, 5], 8);
    const out = layer(x);
    // (in − 1)·s − 2p + (k − 1) + a + 1
    expect(out.shape).toEqual([2, 3 * 2 - 2 + 2 + 1 + 1, 4 - 2 + 1 + 1]);
    const expected = oracle(() => {
      const filter = tf.transpose(tf.reverse(toTf(layer.weight), [2, 3]), [2, 3, 0, 1]) as tf.Tensor4D;
      // explicit [lo, hi] pairs: tfjs's numeric `pad` means something else for conv2dTranspose
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ];
      const y = tf.conv2dTranspose(tf.transpose(toTf(x), [1, 2, 0]) as tf.Tensor3D, filter, [out.shape[1]!, out.shape[2]!, 2], [2, 1], pad);
      return tf.add(tf.transpose(y, [2, 0, 1]), toTf(layer.bias!));
    });
    expectClose(out, expected, { rtol: 1e-5, atol: 1e-5 });
  });

  test("as Equinox's FAQ: with weight flip(conv.weight).swapaxes(0, 1) (per group) it is the transpose (vjp) of that Conv", () => {
    for (const [opts, length] of [
      [{ stride: 2, padding: 1 }, 9],
      [{ stride: 2, padding: "SAME" }, 8],
      [{ stride: 3, dilation: 2, groups: 2 }, 13],
    ] as const) {
      const conv = toFloat64(new Conv(1, 4, 2, 3, { ...opts, useBias: false, key: random.PRNGKey(1) }));
      const xIn = randomArray([4, length], 2, "float64");
      const [y, pullback] = vjp((v: Array) => conv(v), xIn);
      const g = randomArray([...(y as Array).shape], 3, "float64");
      const [adjoint] = pullback(g) as Array[];
      const outputPadding =
        (length + 2 * ("padding" in opts && opts.padding === 1 ? 1 : 0) - ((3 - 1) * ("dilation" in opts ? opts.dilation : 1) + 1)) %
        opts.stride;
      const base = layer1d(2, 4, 3, {
        ...opts,
        outputPadding: "padding" in opts && opts.padding === "SAME" ? 0 : outputPadding,
        useBias: false,
      });
      // [out, in/g, k] → per group [g, out/g, in/g, k] → swap → [in, out/g, k]
      const g2 = "groups" in opts ? opts.groups : 1;
      const flipped = np.reshape(np.flip(conv.weight, 2), [g2, 2 / g2, 4 / g2, 3]);
      const t = treeAt((m: ConvTranspose) => m.weight, base, np.reshape(np.swapaxes(flipped, 1, 2), [4, 2 / g2, 3]));
      expectClose(t(g), adjoint!, { rtol: 1e-12, atol: 1e-12 });
    }
  });

  test("Equinox's own cases: the worked example's values, and the output shapes of its shape tests", () => {
    const base = new ConvTranspose1d(1, 3, 3, { padding: 0, key: random.PRNGKey(0) });
    const conv = treeAt((m: ConvTranspose1d) => [m.weight, m.bias], base, [
      np.reshape(np.arange(0, 9, 1, "float32"), [3, 1, 3]),
      np.reshape(np.asarray([1, 2, 3]).astype("float32"), [3, 1]),
    ]);
    const data = np.reshape(np.arange(-3, 3, 1, "float32"), [1, 6]);
    expect(conv(data).tolist()).toEqual([
      [-5, -6, -3, 0, 3, 6, 3, 1],
      [-13, -20, -20, -8, 4, 16, 13, 8],
      [-21, -34, -37, -16, 5, 26, 23, 15],
    ]);
    const key = random.PRNGKey(1);
    expect(new ConvTranspose1d(1, 3, 3, { key })(np.zeros([1, 32])).shape).toEqual([3, 34]);
    expect(
      new ConvTranspose1d(3, 1, 3, { stride: 2, padding: 1, outputPadding: 1, dilation: 2, useBias: false, key })(np.zeros([3, 31])).shape,
    ).toEqual([1, 64]);
    expect(
      new ConvTranspose2d(8, 3, 1, {
        stride: 2,
        padding: [
          [0, 1],
          [0, 3],
        ],
        key,
      })(np.zeros([8, 17, 18])).shape,
    ).toEqual([3, 32, 32]);
  });

  test("Equinox's connectivity tests: with all-ones kernels, 'SAME' (dilation 2, outputPadding 1) and 'CIRCULAR' are the adjoint of the Conv", () => {
    for (const [opts, length] of [
      [{ padding: "SAME", outputPadding: 1 }, 5],
      [{ padding: "SAME", paddingMode: "CIRCULAR" }, 6],
    ] as const) {
      const conv = toFloat64(
        new Conv(1, 1, 1, 3, {
          stride: 2,
          dilation: 2,
          useBias: false,
          padding: opts.padding,
          paddingMode: "paddingMode" in opts ? opts.paddingMode : "ZEROS",
          key: random.PRNGKey(0),
        }),
      );
      const ones = treeAt((m: Conv) => m.weight, conv, np.onesLike(conv.weight));
      const t = treeAt(
        (m: ConvTranspose) => m.weight,
        layer1d(1, 1, 3, { stride: 2, dilation: 2, useBias: false, ...opts }),
        np.ones([1, 1, 3], "float64"),
      );
      const x = randomArray([1, length], 20, "float64");
      const [y, pullback] = vjp((v: Array) => ones(v), x);
      const g = randomArray([...(y as Array).shape], 21, "float64");
      expectClose(t(g), (pullback(g) as Array[])[0]!, { rtol: 1e-12, atol: 1e-12 });
    }
  });

  test("'SAME' padding gives in·stride outputs; 'VALID' gives (in − 1)·stride + k", () => {
    const x = randomArray([1, 5, 4], 1);
    expect(new ConvTranspose2d(1, 1, 3, { stride: 2, padding: "SAME", key: random.PRNGKey(0) })(x).shape).toEqual([1, 10, 8]);
    expect(new ConvTranspose2d(1, 1, 4, { stride: 3, padding: "SAME_LOWER", key: random.PRNGKey(0) })(x).shape).toEqual([1, 15, 12]);
    expect(new ConvTranspose2d(1, 1, 3, { stride: 2, padding: "VALID", key: random.PRNGKey(0) })(x).shape).toEqual([1, 11, 9]);
  });

  test("circular padding with stride 1 wraps around: y[o, i] = Σ w[o, c, k] · x[c, (i + k − 1) mod L]", () => {
    const layer = layer1d(2, 2, 3, { padding: "SAME", paddingMode: "CIRCULAR", useBias: false }, 4);
    const x = randomArray([2, 5], 5, "float64");
    const xv = x.tolist() as number[][];
    const w = layer.weight.tolist() as number[][][];
    const expected = [0, 1].flatMap((o) =>
      [0, 1, 2, 3, 4].map((i) =>
        [0, 1].reduce((s, c) => s + [0, 1, 2].reduce((t, k) => t + w[o]![c]![k]! * xv[c]![(i + k - 1 + 5) % 5]!, 0), 0),
      ),
    );
    expectClose(layer(x), expected, { rtol: 1e-12, atol: 1e-12 });
  });

  test("errors say what is wrong and what to do", () => {
    const key = random.PRNGKey(0);
    expect(() => new ConvTranspose1d(2, 2, 3, { stride: 2, outputPadding: 2, key })).toThrow(
      /ConvTranspose1d: outputPadding \[2\] must be smaller than stride \[2\] in every dim/,
    );
    expect(() => new ConvTranspose1d(3, 2, 3, { groups: 2, key })).toThrow(
      /ConvTranspose1d: inChannels \(3\) and outChannels \(2\) must be divisible by groups \(2\)/,
    );
    expect(() => new ConvTranspose1d(2, 2, 3, { paddingMode: "CIRCULAR", key })).toThrow(
      /paddingMode "CIRCULAR" is only implemented with padding "SAME" or "SAME_LOWER"/,
    );
    expect(() => new ConvTranspose1d(2, 2, 3, { paddingMode: "REFLECT" as never, key })).toThrow(
      /ConvTranspose1d: paddingMode "REFLECT" is not supported/,
    );
    expect(() => new ConvTranspose1d(2, 2, 3, {} as never)).toThrow(/ConvTranspose1d: a PRNG key is required/);
    const c = new ConvTranspose2d(2, 2, 3, { key });
    expect(() => c(randomArray([3, 4, 4], 1))).toThrow(
      /ConvTranspose2d: expected x of shape \[2, \.\.\.2 spatial dims\], got f32\[3,4,4\] — .*vmap/,
    );
    expect(() => new ConvTranspose1d(1, 1, 3, { padding: 4, key })(randomArray([1, 1], 1))).toThrow(
      /ConvTranspose1d: the input f32\[1,1\] is too small for this padding/,
    );
  });

  test("vmap batches examples; filterJit matches eager; gradients match finite differences", () => {
    const layer = new ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1, key: random.PRNGKey(9) });
    const xs = randomArray([2, 2, 3, 4], 10);
    const ys = vmap(layer)(xs) as Array;
    for (let i = 0; i < 2; i++) expectClose(ys.get(i), layer(xs.get(i)), { atol: 1e-6 });
    expectClose(filterJit((m: ConvTranspose2d, x: Array) => vmap(m)(x) as Array)(layer, xs), ys, { rtol: 1e-5, atol: 1e-6 });
    const l64 = toFloat64(layer);
    const x = randomArray([2, 3, 4], 11, "float64");
    const r = randomArray([3, 6, 8], 12, "float64");
    const loss = (w: Array) => np.sum(np.multiply(treeAt((m: ConvTranspose2d) => m.weight, l64, w)(x), r));
    expectClose(grad(loss)(l64.weight) as Array, finiteDifferences(loss, l64.weight), { rtol: 1e-6, atol: 1e-8 });
  });
});
