import { describe, expect, test } from "vitest";
import { Array, array, random, vmap } from "@wax/tracer";
import { Linear, filterJit } from "@wax/nn";

const close = (a: number[], b: number[], tol = 1e-6) => a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThan(tol));

describe("Linear", () => {
  test("initialisation matches Equinox/JAX for the same key", () => {
    // Linear(2, 3, key=PRNGKey(0)) in Equinox 0.13 with JAX's default (partitionable) threefry.
    const l = new Linear(2, 3, { key: random.PRNGKey(0) });
    close((l.weight.tolist() as number[][]).flat(), [0.4841053, -0.4491844, -0.3858284, -0.5363749, -0.4358416, 0.3139767]);
    close(l.bias!.tolist() as number[], [-0.6967918, -0.6775622, 0.1151544]);
  });

  test("forward is W x + b, also vmapped and compiled", () => {
    const l = new Linear(2, 3, { key: random.PRNGKey(0) });
    const x = array([0.5, -2]);
    const w = l.weight.tolist() as number[][];
    const b = l.bias!.tolist() as number[];
    const want = w.map((row, i) => row[0]! * 0.5 + row[1]! * -2 + b[i]!);
    close(l(x).tolist() as number[], want);
    const xs = array([
      [0.5, -2],
      [1, 1],
    ]);
    close((vmap(l)(xs) as Array).get(0).tolist() as number[], want);
    const jl = filterJit((m: Linear, xs: Array) => vmap(m)(xs) as Array);
    close(jl(l, xs).get(0).tolist() as number[], want, 1e-6);
  });

  test("no bias, scalar features, shape errors", () => {
    const nb = new Linear(2, 3, { useBias: false, key: random.PRNGKey(0) });
    expect(nb.bias).toBeNull();
    // The weight is the same as with a bias: keys are split either way.
    close((nb.weight.tolist() as number[][]).flat(), [0.4841053, -0.4491844, -0.3858284, -0.5363749, -0.4358416, 0.3139767]);
    const s = new Linear("scalar", "scalar", { key: random.PRNGKey(1) });
    expect(s.weight.shape).toEqual([1, 1]);
    expect(s(array(2)).shape).toEqual([]);
    expect(() => nb(array([1, 2, 3]))).toThrow(/Linear: expected x of shape \[2\], got f32\[3\].*vmap/);
    expect(() => new Linear(2, 3, {} as never)).toThrow(/Linear: a PRNG key is required/);
  });
});
