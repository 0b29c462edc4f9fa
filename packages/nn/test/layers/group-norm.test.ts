import { beforeAll, describe, expect, test } from "vitest";
import { array, grad, np, vmap, type Array } from "@wax/tracer";
import { GroupNorm, State, filterJit, treeAt } from "@wax/nn";
import { expectClose, finiteDifferences, oracle, randomArray, tf, toTf, useTfCpu } from "./support";

beforeAll(useTfCpu);

/** The tfjs oracle: moments per group of consecutive channels, then a per-channel affine map. */
function tfGroupNorm(x: Array, groups: number, w: Array | null, b: Array | null, eps: number) {
  return oracle(() => {
    const [c, ...rest] = x.shape as number[];
    const y = tf.reshape(toTf(x), [groups, c! / groups, ...rest]);
    const axes = globalThis.Array.from({ length: rest.length + 1 }, (_, i) => i + 1);
    const { mean, variance } = tf.moments(y, axes, true);
    let out = tf.reshape(tf.mul(tf.sub(y, mean), tf.rsqrt(tf.add(variance, eps))), x.shape as number[]);
    const per = [c!, ...rest.map(() => 1)];
    if (w) out = tf.mul(out, tf.reshape(toTf(w), per));
    if (b) out = tf.add(out, tf.reshape(toTf(b), per));
    return out;
  });
}

const withParams = (n: GroupNorm, seed: number) =>
  treeAt((m: GroupNorm) => [m.weight, m.bias], n, [randomArray([n.channels!], seed), randomArray([n.channels!], seed + 1)]);

describe("GroupNorm", () => {
  test("initialises a per-channel weight of ones and bias of zeros", () => {
    const n = new GroupNorm({ groups: 2, channels: 4 });
    expect(n.weight!.tolist()).toEqual([1, 1, 1, 1]);
    expect(n.bias!.tolist()).toEqual([0, 0, 0, 0]);
    const bare = new GroupNorm({ groups: 3, channelwiseAffine: false });
    expect(bare.weight).toBeNull();
    expect(bare.channels).toBeNull();
  });

  test("forward matches tfjs for several group counts and spatial ranks", () => {
    for (const [groups, shape] of [
      [1, [4, 5]],
      [2, [4, 3, 2]],
      [4, [4, 6]],
      [3, [6]],
    ] as [number, number[]][]) {
      const n = withParams(new GroupNorm({ groups, channels: shape[0]!, eps: 1e-3 }), groups);
      const x = np.add(np.multiply(randomArray(shape, 10 + groups), 2), 0.3);
      expectClose(n(x), tfGroupNorm(x, groups, n.weight, n.bias, 1e-3), { rtol: 1e-5, atol: 2e-5 });
    }
  });

  test("hand-computed: two groups of [1, 3] and [10, 30] standardise to ±1 each", () => {
    const y = new GroupNorm({ groups: 2, channels: 4, eps: 0 })(array([[1], [3], [10], [30]]));
    expectClose(y, [-1, 1, -1, 1], { rtol: 1e-6 });
  });

  test("without channels and affine it takes any channel count divisible by groups; with a state it passes it through", () => {
    const n = new GroupNorm({ groups: 2, channelwiseAffine: false });
    const x = randomArray([6, 2], 3);
    expectClose(n(x), tfGroupNorm(x, 2, null, null, 1e-5), { atol: 2e-5 });
    const state = new State(n);
    expect(n(x, state)[1]).toBe(state);
  });

  test("errors say what is wrong and what to do", () => {
    expect(() => new GroupNorm({ groups: 3, channels: 4 })).toThrow(/GroupNorm: groups \(3\) must divide channels \(4\)/);
    expect(() => new GroupNorm({ groups: 2 })).toThrow(
      /GroupNorm: channels is required when channelwiseAffine is true — pass \{ channels \}/,
    );
    expect(() => new GroupNorm({ groups: 2, channels: 4 })(randomArray([2, 4, 3], 1))).toThrow(
      /GroupNorm: expected x of shape \[channels, \.\.\.spatial\] with channels 4, got f32\[2,4,3\] — .*vmap/,
    );
  });

  test("vmap normalises each example separately; filterJit matches eager", () => {
    const n = withParams(new GroupNorm({ groups: 2, channels: 4 }), 40);
    const xs = randomArray([3, 4, 5], 41);
    const ys = vmap(n)(xs) as Array;
    for (let i = 0; i < 3; i++) expectClose(ys.get(i), n(xs.get(i)), { atol: 1e-6 });
    const jf = filterJit((m: GroupNorm, x: Array) => vmap(m)(x) as Array);
    expectClose(jf(n, xs), ys, { rtol: 1e-5, atol: 1e-6 });
  });

  test("gradients match central finite differences (float64)", () => {
    const base = new GroupNorm({ groups: 2, channels: 4, dtype: "float64" });
    const x = randomArray([4, 3], 52, "float64");
    const w = randomArray([4], 50, "float64");
    const r = randomArray([4, 3], 53, "float64");
    const loss = (xv: Array, wv: Array) => np.sum(np.multiply(treeAt((m: GroupNorm) => m.weight, base, wv)(xv), r));
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
