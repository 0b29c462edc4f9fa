import { beforeAll, describe, expect, test } from "vitest";
import { array, nn, np, random, treeLeaves, vmap, type Array } from "@wax/tracer";
import { BatchNorm, Linear, Module, SpectralNorm, State, StateIndex, filterJit, inferenceMode, makeWithState } from "@wax/nn";
import { Dropout } from "../../src/layers/dropout";
import { Lambda } from "../../src/layers/lambda";
import { LayerNorm } from "../../src/layers/layer-norm";
import { Sequential } from "../../src/layers/sequential";
import { StatefulLayer, isStatefulLayer } from "../../src/layers/stateful-layer";
import { expectClose, oracle, randomArray, tf, toTf, useTfCpu } from "./support";

beforeAll(useTfCpu);

const keys = (n: number, seed = 0) => {
  const ks = random.split(random.key(seed), n);
  return globalThis.Array.from({ length: n }, (_, i) => ks.get(i));
};

/** A stateful layer of ours: counts its calls in the state and adds the count. */
class CounterLayer extends StatefulLayer {
  index: StateIndex<Array>;
  constructor() {
    super();
    this.index = new StateIndex(array(0, { dtype: "float32" }));
  }
  __call__(x: Array, state: State, _opts?: { key?: Array | null }): [Array, State] {
    const c = np.add(state.get(this.index), 1);
    return [np.add(x, c), state.set(this.index, c)];
  }
}

describe("StatefulLayer and isStatefulLayer", () => {
  test("BatchNorm and SpectralNorm count as stateful (they own StateIndex fields); Linear, LayerNorm, Lambda, Dropout do not", () => {
    const [k1, k2] = keys(2);
    expect(isStatefulLayer(new BatchNorm({ inputSize: 3, axisName: "batch" }))).toBe(true);
    expect(isStatefulLayer(new SpectralNorm({ layer: new Linear(3, 3, { key: k1! }), weightName: "weight", key: k2! }))).toBe(true);
    expect(isStatefulLayer(new Linear(3, 3, { key: k1! }))).toBe(false);
    expect(isStatefulLayer(new LayerNorm(3))).toBe(false);
    expect(isStatefulLayer(new Lambda(nn.relu))).toBe(false);
    expect(isStatefulLayer(new Dropout())).toBe(false);
    expect(isStatefulLayer(nn.relu)).toBe(false);
  });

  test("a StatefulLayer subclass is stateful unless isStateful() says otherwise; Sequential is stateful iff a layer is", () => {
    class Plain extends StatefulLayer {
      override isStateful() {
        return false;
      }
    }
    class Always extends StatefulLayer {}
    expect(isStatefulLayer(new Always())).toBe(true);
    expect(isStatefulLayer(new Plain())).toBe(false);
    const [k1] = keys(1);
    expect(new Sequential([new Linear(2, 2, { key: k1! })]).isStateful()).toBe(false);
    expect(new Sequential([new Linear(2, 2, { key: k1! }), new BatchNorm({ inputSize: 2, axisName: "b" })]).isStateful()).toBe(true);
    expect(isStatefulLayer(new Sequential([new Sequential([new BatchNorm({ inputSize: 2, axisName: "b" })])]))).toBe(true);
  });
});

describe("Lambda", () => {
  test("wraps a function, ignores the key, and keeps the function as a (non-array) leaf", () => {
    const l = new Lambda(nn.relu);
    expect(l(array([-1, 2]), { key: random.key(0) }).tolist()).toEqual([0, 2]);
    expect(treeLeaves(l)).toEqual([nn.relu]);
    expect(() => new Lambda(3 as never)).toThrow(/Lambda: expected a function, got number/);
  });
});

describe("Sequential", () => {
  test("applies the layers in order (Linear, Lambda(relu), Linear) and matches tfjs", () => {
    const [k1, k2] = keys(2, 1);
    const l1 = new Linear(3, 5, { key: k1! });
    const l2 = new Linear(5, 2, { key: k2! });
    const model = new Sequential([l1, new Lambda(nn.relu), l2]);
    const x = randomArray([3], 2);
    const want = oracle(() => {
      const h = tf.relu(tf.add(tf.matMul(toTf(l1.weight), tf.reshape(toTf(x), [3, 1])), tf.reshape(toTf(l1.bias!), [5, 1])));
      return tf.reshape(tf.add(tf.matMul(toTf(l2.weight), h), tf.reshape(toTf(l2.bias!), [2, 1])), [2]);
    });
    expectClose(model(x), want, { atol: 1e-6 });
  });

  test("splits a key into one subkey per layer", () => {
    const model = new Sequential([new Dropout(), new Lambda((v) => np.multiply(v, 3)), new Dropout()]);
    const key = random.key(4);
    const ks = random.split(key, 3);
    const x = randomArray([50], 3);
    const manual = new Dropout()(np.multiply(new Dropout()(x, { key: ks.get(0) }), 3), { key: ks.get(2) });
    expect(model(x, { key }).tolist()).toEqual(manual.tolist());
    // without a key every layer gets none, so a training Dropout complains
    expect(() => model(x)).toThrow(/Dropout: a key is required/);
  });

  test("returns [x, state] when given a state, threading it through stateful layers only", () => {
    const [k1] = keys(1, 5);
    const lin = new Linear(2, 2, { key: k1! });
    const [model, state] = makeWithState(() => new Sequential([lin, new CounterLayer(), new Lambda(nn.relu), new CounterLayer()]))();
    const x = array([0.5, -0.25]);
    const [y, s1]: [Array, State] = model(x, state);
    const h = np.add(nn.relu(np.add(lin(x), 1)), 1);
    expectClose(y, h.tolist() as number[], { atol: 1e-7 });
    const counts = s1.entries().map(([, v]) => (v as Array).item());
    expect(counts).toEqual([1, 1]);
    const [, s2]: [Array, State] = model(x, s1);
    expect(s2.entries().map(([, v]) => (v as Array).item())).toEqual([2, 2]);
    // a Sequential of stateless layers also passes a state straight through
    const plain = new Sequential([lin]);
    const [y3, s3] = plain(x, s2);
    expect(s3).toBe(s2);
    expect(y3.tolist()).toEqual(lin(x).tolist());
  });

  test("a stateful layer called without a state says so", () => {
    const [k1] = keys(1, 6);
    const model = new Sequential([new Linear(2, 2, { key: k1! }), new BatchNorm({ inputSize: 2, axisName: "batch" })]);
    expect(() => model(array([1, 2]))).toThrow(/Sequential: layer 1 \(BatchNorm\) is stateful — call the model with a state/);
  });

  test("threads BatchNorm's state inside vmap(axisName 'batch'), matching tfjs batch moments", () => {
    const [k1, k2] = keys(2, 7);
    const [model, state] = makeWithState(
      () =>
        new Sequential([
          new Linear(3, 4, { key: k1! }),
          new BatchNorm({ inputSize: 4, axisName: "batch" }),
          new Lambda(nn.relu),
          new Linear(4, 2, { key: k2! }),
        ]),
    )();
    const lin1 = model.layers[0] as Linear;
    const bn = model.layers[1] as BatchNorm;
    const lin2 = model.layers[3] as Linear;
    const batched = vmap(model, { axisName: "batch", inAxes: [0, null], outAxes: [0, null] });
    const xs = randomArray([6, 3], 8);
    const [ys, s1] = batched(xs, state) as [Array, State];
    // Oracle: the same network on the whole batch in tfjs, normalising with the batch moments.
    const h = () => tf.add(tf.matMul(toTf(xs), tf.transpose(toTf(lin1.weight))), toTf(lin1.bias!));
    const stats = oracle(() => {
      const { mean, variance } = tf.moments(h(), 0);
      return tf.stack([mean, variance]);
    });
    const want = oracle(() => {
      const { mean, variance } = tf.moments(h(), 0);
      const n = tf.relu(tf.div(tf.sub(h(), mean), tf.sqrt(tf.add(variance, 1e-5))));
      return tf.add(tf.matMul(n, tf.transpose(toTf(lin2.weight))), toTf(lin2.bias!));
    });
    expectClose(ys, want, { rtol: 1e-4, atol: 1e-5 });
    // First call: the EMA state holds the batch statistics, and the first-time flag is cleared.
    const [rm, rv] = s1.get(bn.emaStateIndex!);
    expectClose(rm, stats.data.slice(0, 4), { rtol: 1e-5, atol: 1e-6 });
    expectClose(rv, stats.data.slice(4), { rtol: 1e-4, atol: 1e-6 });
    expect(s1.get(bn.emaFirstTimeIndex!).item()).toBe(0);
    // Inference uses the stored statistics per example (no batch axis needed).
    const inf = inferenceMode(model);
    const [y0] = inf(xs.get(0), s1) as [Array, State];
    expectClose(y0, want.data.slice(0, 2), { rtol: 1e-4, atol: 1e-5 });
  });

  test("filterJit of the vmapped stateful Sequential (with a Lambda and a StatefulLayer of ours) matches eager, state included", () => {
    const [k1] = keys(1, 9);
    const [model, state] = makeWithState(
      () =>
        new Sequential([
          new Linear(3, 4, { key: k1! }),
          new BatchNorm({ inputSize: 4, axisName: "batch" }),
          new Lambda(np.tanh),
          new CounterLayer(),
        ]),
    )();
    const step = (m: Sequential, xs: Array, s: State) =>
      vmap(m, { axisName: "batch", inAxes: [0, null], outAxes: [0, null] })(xs, s) as [Array, State];
    const xs = randomArray([5, 3], 10);
    const [yj, sj] = filterJit(step)(model, xs, state);
    const [ye, se] = step(model, xs, state);
    expectClose(yj, ye, { rtol: 1e-5, atol: 1e-6 });
    const bn = model.layers[1] as BatchNorm;
    expectClose(sj.get(bn.emaStateIndex!)[0], se.get(bn.emaStateIndex!)[0], { rtol: 1e-5, atol: 1e-6 });
    const counter = model.layers[3] as CounterLayer;
    expect(sj.get(counter.index).item()).toBe(1);
    expect(se.get(counter.index).item()).toBe(1);
  });

  test("at() and slice() index the layers as Python's seq[i] and seq[a:b]", () => {
    const [k1, k2] = keys(2, 11);
    const a = new Linear(2, 3, { key: k1! });
    const b = new Lambda(nn.relu);
    const c = new Linear(3, 1, { key: k2! });
    const model = new Sequential([a, b, c]);
    expect(model.at(0)).toBe(a);
    expect(model.at(-1)).toBe(c);
    expect(() => model.at(3)).toThrow(/Sequential.at: index 3 is out of range for 3 layers/);
    const head = model.slice(0, 2);
    expect(head.layers).toEqual([a, b]);
    expect(head(array([1, -1])).tolist()).toEqual(nn.relu(a(array([1, -1]))).tolist());
  });

  test("rejects plain functions as layers, pointing to Lambda", () => {
    expect(() => new Sequential([nn.relu as unknown as Module])).toThrow(
      /Sequential: layer 0 is a function, not a Module — wrap plain functions in new Lambda\(fn\)/,
    );
  });
});
