import { beforeAll, describe, expect, test } from "vitest";
import { array, nn, np, random, treeLeaves, vmap, type Array } from "@wax/tracer";
import { Linear, filterGrad, filterJit } from "@wax/nn";
import { MLP, identity } from "../../src/layers/mlp";
import { expectClose, oracle, randomArray, tf, toTf, useTfCpu } from "./support";

beforeAll(useTfCpu);

const data = (a: Array) => globalThis.Array.from(a.data as ArrayLike<number>);

describe("MLP", () => {
  test("Linear(2, 3, key(0)) reproduces Equinox's numbers (the anchor for MLP's keys)", () => {
    const l = new Linear(2, 3, { key: random.PRNGKey(0) });
    expectClose(l.weight, [0.4841053, -0.4491844, -0.3858284, -0.5363749, -0.4358416, 0.3139767], { rtol: 1e-6, atol: 1e-7 });
    expectClose(l.bias!, [-0.6967918, -0.6775622, 0.1151544], { rtol: 1e-6, atol: 1e-7 });
  });

  test("depth 0 is one Linear(in, out) built with split(key, 1)[0], as Equinox", () => {
    const key = random.PRNGKey(0);
    const mlp = new MLP({ inSize: 2, outSize: 3, widthSize: 8, depth: 0, key });
    expect(mlp.layers).toHaveLength(1);
    // split(key(0), 1)[0] = threefry(key(0), counter 0) = split(key(0))[0] in partitionable mode
    const k0 = random.split(key, 1).get(0);
    expect(data(k0)).toEqual([1797259609, 2579123966]);
    const ref = new Linear(2, 3, { key: k0 });
    expect(data(mlp.layers[0]!.weight)).toEqual(data(ref.weight));
    expect(data(mlp.layers[0]!.bias!)).toEqual(data(ref.bias!));
    // ... which is not the Linear built from key itself
    expect(data(mlp.layers[0]!.weight)).not.toEqual(data(new Linear(2, 3, { key }).weight));
    expect(new MLP({ inSize: 2, outSize: 3, widthSize: 8, depth: 0, useFinalBias: false, key }).layers[0]!.bias).toBeNull();
  });

  test("depth 2: layers in->width, width->width, width->out from keys split(key, 3)", () => {
    const key = random.key(42);
    const mlp = new MLP({ inSize: 3, outSize: 2, widthSize: 5, depth: 2, useBias: false, key });
    const ks = random.split(key, 3);
    expect(mlp.layers.map((l) => l.weight.shape)).toEqual([
      [5, 3],
      [5, 5],
      [2, 5],
    ]);
    expect(mlp.layers.map((l) => l.bias === null)).toEqual([true, true, false]);
    const refs = [new Linear(3, 5, { key: ks.get(0) }), new Linear(5, 5, { key: ks.get(1) }), new Linear(5, 2, { key: ks.get(2) })];
    refs.forEach((r, i) => expect(data(mlp.layers[i]!.weight)).toEqual(data(r.weight)));
    expect(data(mlp.layers[2]!.bias!)).toEqual(data(refs[2]!.bias!));
  });

  test("forward matches tfjs: relu after each hidden layer, the final activation after the last", () => {
    const mlp = new MLP({ inSize: 4, outSize: 3, widthSize: 6, depth: 2, finalActivation: nn.sigmoid, key: random.key(1) });
    const x = randomArray([4], 2);
    const want = oracle(() => {
      let h = tf.reshape(toTf(x), [4, 1]);
      mlp.layers.forEach((l, i) => {
        h = tf.add(tf.matMul(toTf(l.weight), h), tf.reshape(toTf(l.bias!), [-1, 1]));
        h = i < 2 ? tf.relu(h) : tf.sigmoid(h);
      });
      return tf.reshape(h, [3]);
    });
    expectClose(mlp(x), want, { rtol: 1e-5, atol: 1e-6 });
  });

  test("default final activation is the identity; a custom activation is used", () => {
    const key = random.key(3);
    const x = randomArray([2], 4);
    const plain = new MLP({ inSize: 2, outSize: 2, widthSize: 3, depth: 1, key });
    expect(plain.finalActivation).toBe(identity);
    expect(plain.activation).toBe(nn.relu);
    const [l0, l1] = plain.layers;
    expectClose(plain(x), l1!(nn.relu(l0!(x))).tolist() as number[], { atol: 0 });
    const tanhy = new MLP({ inSize: 2, outSize: 2, widthSize: 3, depth: 1, activation: np.tanh, key });
    expectClose(tanhy(x), l1!(np.tanh(l0!(x))).tolist() as number[], { atol: 0 });
  });

  test('"scalar" input and output sizes take and give shape []', () => {
    const mlp = new MLP({ inSize: "scalar", outSize: "scalar", widthSize: 4, depth: 1, key: random.key(5) });
    const y = mlp(array(0.5));
    expect(y.shape).toEqual([]);
    expect(vmap(mlp)(array([0.5, -0.5])).shape).toEqual([2]);
  });

  test("the activations are non-array leaves; the arrays are the Linear parameters", () => {
    const mlp = new MLP({ inSize: 2, outSize: 1, widthSize: 3, depth: 1, key: random.key(6) });
    const leaves = treeLeaves(mlp);
    expect(leaves.filter((l) => typeof l === "function")).toEqual([nn.relu, identity]);
    expect(leaves.filter((l) => typeof l !== "function")).toHaveLength(4);
    const g = filterGrad((m: MLP, x: Array) => m(x).sum())(mlp, array([1, 2])) as MLP;
    expect(g.activation).toBeNull();
    expect(g.layers[0]!.weight.shape).toEqual([3, 2]);
  });

  test("filterJit (compiled WebAssembly) matches eager; activations are static, compared by identity", () => {
    const key = random.key(7);
    const mlp = new MLP({ inSize: 3, outSize: 2, widthSize: 8, depth: 3, key });
    const jf = filterJit((m: MLP, x: Array) => m(x));
    const x = randomArray([3], 8);
    expectClose(jf(mlp, x), mlp(x).tolist() as number[], { rtol: 1e-5, atol: 1e-6 });
    expectClose(
      jf(new MLP({ inSize: 3, outSize: 2, widthSize: 8, depth: 3, key: random.key(9) }), x),
      new MLP({ inSize: 3, outSize: 2, widthSize: 8, depth: 3, key: random.key(9) })(x).tolist() as number[],
      { rtol: 1e-5, atol: 1e-6 },
    );
    expect(jf.stats().misses).toBe(1);
    const other = new MLP({ inSize: 3, outSize: 2, widthSize: 8, depth: 3, activation: np.tanh, key });
    expectClose(jf(other, x), other(x).tolist() as number[], { rtol: 1e-5, atol: 1e-6 });
    expect(jf.stats().misses).toBe(2);
  });

  test("errors name the MLP and the shapes", () => {
    const mlp = new MLP({ inSize: 3, outSize: 2, widthSize: 4, depth: 1, key: random.key(10) });
    expect(() => mlp(randomArray([4], 1))).toThrow(/MLP: expected x of shape \[3\], got f32\[4\] — .*vmap/);
    expect(() => mlp(randomArray([2, 3], 1))).toThrow(/MLP: expected x of shape \[3\], got f32\[2,3\]/);
    expect(() => new MLP({ inSize: 3, outSize: 2, widthSize: 4, depth: -1, key: random.key(0) })).toThrow(
      /MLP: depth must be a non-negative integer, got -1/,
    );
    expect(() => new MLP({ inSize: 3, outSize: 2, widthSize: 4, depth: 1 } as never)).toThrow(/MLP: a PRNG key is required/);
  });
});
