import { describe, expect, it } from "vitest";
import { array, customJvpRegistrySize, grad, nn, np, vmap, type Array } from "../index";

describe("custom-JVP registry", () => {
  it("stays bounded under repeated vmap of a custom-JVP function (relu): batched variants are cached", () => {
    const xs = array(new Float32Array([-1, 0, 2, 3]), { shape: [2, 2] });
    const f = vmap((x: Array) => nn.relu(x));
    f(xs);
    const before = customJvpRegistrySize();
    for (let i = 0; i < 2000; i++) f(xs);
    expect(customJvpRegistrySize()).toBe(before);
    // a different batching (another axis size) adds one variant, once
    const ys = array(new Float32Array(6), { shape: [3, 2] });
    f(ys);
    f(ys);
    expect(customJvpRegistrySize()).toBe(before + 1);
  });

  it("the cached batched variant still computes relu and its JVP rule (gradient 0 at 0)", () => {
    const xs = array(new Float32Array([-1, 0, 2]));
    const g = vmap(grad((x: Array) => nn.relu(x)))(xs) as Array;
    expect([...g.concreteValue()!.data]).toEqual([0, 0, 1]);
    const y = vmap((x: Array) => nn.relu(x))(xs) as Array;
    expect([...y.concreteValue()!.data]).toEqual([0, 0, 2]);
    expect(np.sum(y).item()).toBe(2);
  });
});
