import { beforeAll, describe, expect, test } from "vitest";
import { array, grad, np, random, vmap, type Array } from "@wax/tracer";
import { filterJit, treeAt } from "@wax/nn";
import { Conv, Conv1d, Conv2d, type ConvOptions } from "../../src/layers/conv";
import { expectClose, finiteDifferences, oracle, randomArray, tf, toTf, useTfCpu } from "./support";

beforeAll(useTfCpu);

type Pads = [[number, number], [number, number]];

/**
 * tfjs oracle for one [C, H, W] example: NHWC conv2d per channel group, concatenated. Explicit
 * pads are applied with tf.pad; stride and dilation together (which tfjs refuses) are computed
 * as the stride-1 dilated convolution subsampled by the stride.
 */
function tfConv2d(
  x: Array,
  w: Array,
  bias: Array | null,
  opts: { stride: [number, number]; pad: "same" | "valid" | Pads; dilation: [number, number]; groups: number },
) {
  return oracle(() => {
    const [outC, cg] = [w.shape[0]!, w.shape[1]!];
    let xt = tf.expandDims(tf.transpose(toTf(x), [1, 2, 0]), 0) as tf.Tensor4D;
    const wt = tf.transpose(toTf(w), [2, 3, 1, 0]) as tf.Tensor4D;
    const given = opts.pad;
    let pad: "same" | "valid" = "valid";
    if (typeof given === "string") pad = given;
    else xt = tf.pad(xt, [[0, 0], given[0], given[1], [0, 0]]);
    const both = opts.stride.some((s) => s > 1) && opts.dilation.some((d) => d > 1);
    if (both && pad === "same") throw new Error("oracle: SAME with both stride and dilation is not expressible in tfjs");
    const og = outC / opts.groups;
    const parts = globalThis.Array.from({ length: opts.groups }, (_, g) => {
      const xs = tf.slice(xt, [0, 0, 0, g * cg], [-1, -1, -1, cg]);
      const ws = tf.slice(wt, [0, 0, 0, g * og], [-1, -1, -1, og]);
      return tf.conv2d(xs, ws, both ? 1 : opts.stride, pad, "NHWC", opts.dilation);
    });
    let y: tf.Tensor4D = opts.groups === 1 ? parts[0]! : tf.concat(parts, 3);
    if (both) {
      const [, h, wd] = y.shape;
      y = tf.stridedSlice(y, [0, 0, 0, 0], [1, h, wd, outC], [1, opts.stride[0], opts.stride[1], 1]) as tf.Tensor4D;
    }
    let out = tf.transpose(tf.squeeze(y, [0]), [2, 0, 1]);
    if (bias) out = tf.add(out, toTf(bias));
    return out;
  });
}

interface Case {
  name: string;
  cin: number;
  cout: number;
  kernel: number | number[];
  opts: Omit<ConvOptions, "key">;
  hw: [number, number];
  oracle: { stride: [number, number]; pad: "same" | "valid" | Pads; dilation: [number, number]; groups: number };
}

const cases2d: Case[] = [
  {
    name: "defaults (padding 0)",
    cin: 3,
    cout: 4,
    kernel: 3,
    opts: {},
    hw: [6, 7],
    oracle: { stride: [1, 1], pad: "valid", dilation: [1, 1], groups: 1 },
  },
  {
    name: "stride 2, padding 1, rectangular kernel",
    cin: 2,
    cout: 3,
    kernel: [2, 3],
    opts: { stride: 2, padding: 1 },
    hw: [7, 8],
    oracle: {
      stride: [2, 2],
      pad: [
        [1, 1],
        [1, 1],
      ],
      dilation: [1, 1],
      groups: 1,
    },
  },
  {
    name: "per-dim pairs and dilation 2",
    cin: 2,
    cout: 2,
    kernel: 3,
    opts: {
      padding: [
        [1, 2],
        [0, 1],
      ],
      dilation: 2,
    },
    hw: [8, 9],
    oracle: {
      stride: [1, 1],
      pad: [
        [1, 2],
        [0, 1],
      ],
      dilation: [2, 2],
      groups: 1,
    },
  },
  {
    name: "per-dim ints",
    cin: 1,
    cout: 2,
    kernel: [3, 1],
    opts: { padding: [2, 0] },
    hw: [4, 5],
    oracle: {
      stride: [1, 1],
      pad: [
        [2, 2],
        [0, 0],
      ],
      dilation: [1, 1],
      groups: 1,
    },
  },
  {
    name: "groups 2 with SAME",
    cin: 4,
    cout: 6,
    kernel: 3,
    opts: { groups: 2, padding: "SAME" },
    hw: [5, 6],
    oracle: { stride: [1, 1], pad: "same", dilation: [1, 1], groups: 2 },
  },
  {
    name: "SAME with per-dim stride",
    cin: 3,
    cout: 2,
    kernel: [3, 2],
    opts: { stride: [2, 1], padding: "SAME" },
    hw: [7, 5],
    oracle: { stride: [2, 1], pad: "same", dilation: [1, 1], groups: 1 },
  },
  {
    name: "SAME with dilation (odd total pad)",
    cin: 2,
    cout: 2,
    kernel: 2,
    opts: { padding: "same" as "SAME", dilation: [3, 1] },
    hw: [7, 6],
    oracle: { stride: [1, 1], pad: "same", dilation: [3, 1], groups: 1 },
  },
  {
    name: "stride and dilation together",
    cin: 2,
    cout: 3,
    kernel: 2,
    opts: { stride: 2, dilation: 2, padding: [1, 1] },
    hw: [9, 9],
    oracle: {
      stride: [2, 2],
      pad: [
        [1, 1],
        [1, 1],
      ],
      dilation: [2, 2],
      groups: 1,
    },
  },
  {
    name: "depthwise (groups = channels), no bias",
    cin: 4,
    cout: 4,
    kernel: 3,
    opts: { groups: 4, useBias: false },
    hw: [5, 5],
    oracle: { stride: [1, 1], pad: "valid", dilation: [1, 1], groups: 4 },
  },
  {
    name: "VALID string",
    cin: 2,
    cout: 2,
    kernel: 2,
    opts: { padding: "VALID", stride: 3 },
    hw: [8, 7],
    oracle: { stride: [3, 3], pad: "valid", dilation: [1, 1], groups: 1 },
  },
];

describe("Conv initialisation", () => {
  test("weight [out, in/groups, ...kernel] and bias [out, 1, 1] are uniform(±1/sqrt(in/groups·prod(kernel))) from split(key)", () => {
    const key = random.key(3);
    const conv = new Conv2d(4, 6, [3, 2], { groups: 2, key });
    const lim = 1 / Math.sqrt(2 * 3 * 2);
    const [wkey, bkey] = [random.split(key).get(0), random.split(key).get(1)];
    expect(conv.weight.shape).toEqual([6, 2, 3, 2]);
    expect(conv.bias!.shape).toEqual([6, 1, 1]);
    expect(conv.weight.tolist()).toEqual(random.uniform(wkey, [6, 2, 3, 2], { minval: -lim, maxval: lim }).tolist());
    expect(conv.bias!.tolist()).toEqual(random.uniform(bkey, [6, 1, 1], { minval: -lim, maxval: lim }).tolist());
    const all = [...(conv.weight.data as Float32Array), ...(conv.bias!.data as Float32Array)];
    expect(all.every((v) => v >= -lim && v < lim)).toBe(true);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.8 * lim);
    expect(new Conv1d(2, 3, 4, { useBias: false, key }).bias).toBeNull();
  });

  test("static hyper-parameters are normalised per spatial dim", () => {
    const c = new Conv2d(2, 2, 3, { stride: [2, 1], padding: 1, dilation: 2, key: random.key(0) });
    expect([c.kernelSize, c.stride, c.padding, c.dilation]).toEqual([
      [3, 3],
      [2, 1],
      [
        [1, 1],
        [1, 1],
      ],
      [2, 2],
    ]);
    expect(new Conv1d(1, 1, 3, { padding: "same_lower" as "SAME_LOWER", key: random.key(0) }).padding).toBe("SAME_LOWER");
    expect(new Conv(3, 1, 1, 2, { key: random.key(0) }).weight.shape).toEqual([1, 1, 2, 2, 2]);
  });
});

describe("Conv2d forward matches tfjs conv2d", () => {
  for (const c of cases2d) {
    test(c.name, () => {
      const conv = new Conv2d(c.cin, c.cout, c.kernel, { ...c.opts, key: random.key(c.cin * 10 + c.cout) });
      const x = randomArray([c.cin, ...c.hw], c.hw[0] * 100 + c.hw[1]);
      expectClose(conv(x), tfConv2d(x, conv.weight, conv.bias, c.oracle), { rtol: 1e-5, atol: 1e-5 });
    });
  }
});

describe("Conv1d", () => {
  test("forward matches tfjs (as a height-1 conv2d) for padding, stride and dilation", () => {
    const configs: [Omit<ConvOptions, "key">, Pads | "same"][] = [
      [
        {},
        [
          [0, 0],
          [0, 0],
        ],
      ],
      [
        { padding: 2, stride: 2 },
        [
          [0, 0],
          [2, 2],
        ],
      ],
      [
        { padding: [[0, 3]], dilation: 3 },
        [
          [0, 0],
          [0, 3],
        ],
      ],
      [{ padding: "SAME", stride: 3 }, "same"],
    ];
    configs.forEach(([opts, pad], i) => {
      const conv = new Conv1d(3, 2, 3, { ...opts, key: random.key(i) });
      const x = randomArray([3, 11], 20 + i);
      const stride = opts.stride as number | undefined;
      const dilation = opts.dilation as number | undefined;
      const want = tfConv2d(np.reshape(x, [3, 1, 11]), np.reshape(conv.weight, [2, 3, 1, 3]), np.reshape(conv.bias!, [2, 1, 1]), {
        stride: [1, stride ?? 1],
        pad,
        dilation: [1, dilation ?? 1],
        groups: 1,
      });
      expectClose(conv(x), { shape: [want.shape[0]!, want.shape[2]!], data: want.data }, { rtol: 1e-5, atol: 1e-5 });
    });
  });

  test('hand-computed: "SAME" pads an odd remainder at the end, "SAME_LOWER" at the start', () => {
    const withKernel = (padding: "SAME" | "SAME_LOWER") =>
      treeAt((m: Conv1d) => [m.weight, m.bias], new Conv1d(1, 1, 2, { padding, key: random.key(0) }), [array([[[10, 1]]]), array([[0]])]);
    const x = array([[1, 2, 3, 4]]);
    expect(withKernel("SAME")(x).tolist()).toEqual([[12, 23, 34, 40]]); // [1,2,3,4,0]
    expect(withKernel("SAME_LOWER")(x).tolist()).toEqual([[1, 12, 23, 34]]); // [0,1,2,3,4]
  });

  test("padding modes as Equinox documents them: 1234 -> REFLECT 32123432, REPLICATE 11123444, CIRCULAR 34123412", () => {
    const identity = (paddingMode: ConvOptions["paddingMode"]) =>
      treeAt((m: Conv1d) => [m.weight, m.bias], new Conv1d(1, 1, 1, { padding: 2, paddingMode, key: random.key(0) }), [
        array([[[1]]]),
        array([[0]]),
      ]);
    const x = array([[1, 2, 3, 4]]);
    expect(identity("ZEROS")(x).tolist()).toEqual([[0, 0, 1, 2, 3, 4, 0, 0]]);
    expect(identity("REFLECT")(x).tolist()).toEqual([[3, 2, 1, 2, 3, 4, 3, 2]]);
    expect(identity("REPLICATE")(x).tolist()).toEqual([[1, 1, 1, 2, 3, 4, 4, 4]]);
    expect(identity("CIRCULAR")(x).tolist()).toEqual([[3, 4, 1, 2, 3, 4, 1, 2]]);
  });
});

describe("Conv2d padding modes", () => {
  test("REFLECT matches tfjs mirrorPad('reflect') followed by a VALID conv", () => {
    const conv = new Conv2d(2, 3, 3, {
      padding: [
        [2, 1],
        [1, 2],
      ],
      paddingMode: "REFLECT",
      key: random.key(5),
    });
    const x = randomArray([2, 5, 6], 30);
    const padded = oracle(() =>
      tf.mirrorPad(
        toTf(x),
        [
          [0, 0],
          [2, 1],
          [1, 2],
        ],
        "reflect",
      ),
    );
    const xp = array(Float32Array.from(padded.data), { shape: padded.shape });
    expectClose(conv(x), tfConv2d(xp, conv.weight, conv.bias, { stride: [1, 1], pad: "valid", dilation: [1, 1], groups: 1 }), {
      rtol: 1e-5,
      atol: 1e-5,
    });
  });
});

describe("Conv gradients", () => {
  test("grad of a Conv2d (stride, pairs, dilation, groups) matches central finite differences in float64", () => {
    const base = new Conv2d(4, 2, [2, 3], {
      stride: [2, 1],
      padding: [
        [1, 0],
        [1, 2],
      ],
      dilation: [1, 2],
      groups: 2,
      key: random.key(8),
    });
    const w = randomArray([2, 2, 2, 3], 40, "float64");
    const b = randomArray([2, 1, 1], 41, "float64");
    const x = randomArray([4, 5, 6], 42, "float64");
    const y0 = treeAt((m: Conv2d) => [m.weight, m.bias], base, [w, b])(x);
    const r = randomArray([...y0.shape], 43, "float64");
    const loss = (xv: Array, wv: Array, bv: Array) => np.sum(np.multiply(treeAt((m: Conv2d) => [m.weight, m.bias], base, [wv, bv])(xv), r));
    const [gx, gw, gb] = grad(loss, { argnums: [0, 1, 2] })(x, w, b) as Array[];
    expect(gx!.dtype).toBe("float64");
    expectClose(
      gx!,
      finiteDifferences((v) => loss(v, w, b), x),
      { rtol: 1e-6, atol: 1e-8 },
    );
    expectClose(
      gw!,
      finiteDifferences((v) => loss(x, v, b), w),
      { rtol: 1e-6, atol: 1e-8 },
    );
    expectClose(
      gb!,
      finiteDifferences((v) => loss(x, w, v), b),
      { rtol: 1e-6, atol: 1e-8 },
    );
  });

  test("grad through a REFLECT-padded Conv1d matches central finite differences", () => {
    const base = new Conv1d(2, 2, 3, { padding: [[2, 1]], paddingMode: "REFLECT", stride: 2, key: random.key(9) });
    const w = randomArray([2, 2, 3], 44, "float64");
    const x = randomArray([2, 7], 45, "float64");
    const loss = (xv: Array, wv: Array) => np.sum(np.square(treeAt((m: Conv1d) => m.weight, base, wv)(xv)));
    const [gx, gw] = grad(loss, { argnums: [0, 1] })(x, w) as Array[];
    expectClose(
      gx!,
      finiteDifferences((v) => loss(v, w), x),
      { rtol: 1e-6, atol: 1e-8 },
    );
    expectClose(
      gw!,
      finiteDifferences((v) => loss(x, v), w),
      { rtol: 1e-6, atol: 1e-8 },
    );
  });
});

describe("Conv under filterJit and vmap", () => {
  test("filterJit (compiled WebAssembly) matches eager, also vmapped over a batch", () => {
    const conv = new Conv2d(3, 4, 3, { stride: 2, padding: "SAME", groups: 1, key: random.key(10) });
    const x = randomArray([3, 9, 8], 50);
    const jf = filterJit((m: Conv2d, v: Array) => m(v));
    expectClose(jf(conv, x), conv(x), { rtol: 1e-5, atol: 1e-6 });
    const xs = randomArray([2, 3, 9, 8], 51);
    const jb = filterJit((m: Conv2d, v: Array) => vmap(m)(v));
    const eager = vmap(conv)(xs);
    expect(eager.shape).toEqual([2, 4, 5, 4]);
    expectClose(jb(conv, xs), eager, { rtol: 1e-5, atol: 1e-6 });
    expectClose(eager.get(1), conv(xs.get(1)), { rtol: 1e-6, atol: 1e-7 });
  });

  test("grouped, dilated, REPLICATE-padded Conv1d compiles and matches eager", () => {
    const conv = new Conv1d(4, 2, 3, { groups: 2, dilation: 2, padding: 3, paddingMode: "REPLICATE", key: random.key(11) });
    const x = randomArray([4, 10], 52);
    expectClose(filterJit((m: Conv1d, v: Array) => m(v))(conv, x), conv(x), { rtol: 1e-5, atol: 1e-6 });
  });
});

describe("Conv errors name the layer and the shapes", () => {
  const conv = new Conv2d(3, 4, 3, { key: random.key(0) });
  test("wrong rank or channel count", () => {
    expect(() => conv(randomArray([3, 5], 1))).toThrow(/Conv2d: expected x of shape \[3, \.\.\.2 spatial dims\], got f32\[3,5\] — .*vmap/);
    expect(() => conv(randomArray([2, 5, 5], 1))).toThrow(/Conv2d: expected x of shape \[3, \.\.\.2 spatial dims\], got f32\[2,5,5\]/);
    expect(() => new Conv1d(2, 2, 3, { key: random.key(0) })(randomArray([1, 2, 8], 1))).toThrow(
      /Conv1d: expected x of shape \[2, \.\.\.1 spatial dim\], got f32\[1,2,8\]/,
    );
  });

  test("input smaller than the dilated kernel", () => {
    expect(() => conv(randomArray([3, 2, 5], 1))).toThrow(
      /Conv2d: padded input spatial shape \[2, 5\] \(from f32\[3,2,5\]\) is smaller than the dilated kernel \[3, 3\]/,
    );
    expect(() => new Conv1d(1, 1, 3, { dilation: 3, padding: 1, key: random.key(0) })(randomArray([1, 4], 1))).toThrow(
      /Conv1d: padded input spatial shape \[6\] .* dilated kernel \[7\]/,
    );
  });

  test("bad hyper-parameters", () => {
    const key = random.key(0);
    expect(() => new Conv2d(3, 4, 3, { groups: 2, key })).toThrow(
      /Conv2d: inChannels \(3\) and outChannels \(4\) must be divisible by groups \(2\)/,
    );
    expect(() => new Conv2d(4, 3, 3, { groups: 2, key })).toThrow(
      /Conv2d: inChannels \(4\) and outChannels \(3\) must be divisible by groups \(2\)/,
    );
    expect(() => new Conv2d(3, 4, [3, 3, 3], { key })).toThrow(/Conv2d: kernelSize \[3, 3, 3\] has 3 entries, expected 2/);
    expect(() => new Conv2d(3, 4, 3, { stride: 0, key })).toThrow(/Conv2d: stride must be a positive integer, got 0/);
    expect(() => new Conv1d(3, 4, 3, { padding: "FULL" as "SAME", key })).toThrow(
      /Conv1d: padding string must be "SAME", "SAME_LOWER" or "VALID", got "FULL"/,
    );
    expect(() => new Conv1d(3, 4, 3, { padding: [1, 2] as never, key })).toThrow(
      /Conv1d: padding must be a string, a non-negative int, or 1 ints or \[lo, hi\] pairs/,
    );
    expect(() => new Conv1d(3, 4, 3, { paddingMode: "MIRROR" as "REFLECT", key })).toThrow(/Conv1d: paddingMode must be/);
    expect(() => new Conv1d(3, 4, 3, {} as ConvOptions)).toThrow(/Conv1d: a PRNG key is required/);
  });
});
