/**
 * Eager mode at compiled speed: eager primitives on large operands run as cached compiled
 * single-op kernels. Each is compared with the reference interpreter (the switch
 * `useEagerInterpreter(true)`, which the other tests run under).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Array, array, lax, nn, np, random, useEagerInterpreter } from "@wax/tracer";
import { eagerKernelStats, setEagerKernelThreshold } from "../index";
import { mulberry32 } from "../../../test/support/seeded";

function uniform(shape: number[], seed: number): Array {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return array(
    Float32Array.from({ length: n }, () => 2 * r() - 1),
    { shape },
  );
}

/** `f` run through the compiled kernels and in the interpreter. */
function both<T>(f: () => T): [compiled: T, interpreted: T] {
  const compiled = f();
  useEagerInterpreter(true);
  try {
    return [compiled, f()];
  } finally {
    useEagerInterpreter(false);
  }
}

function expectClose(a: Array, b: Array, rtol: number) {
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe(b.dtype);
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]! - y[i]!) > rtol * Math.max(1, Math.abs(y[i]!))) {
      throw new Error(`element ${i}: compiled ${x[i]} vs interpreter ${y[i]} (rtol ${rtol})`);
    }
  }
}

let threshold = 0;
beforeAll(() => {
  useEagerInterpreter(false);
  threshold = setEagerKernelThreshold(1 << 15);
});
afterAll(() => {
  setEagerKernelThreshold(threshold);
  useEagerInterpreter(true);
});

describe("compiled eager kernels", () => {
  it("elementwise ops, reductions, matmul and transposes on large operands agree with the interpreter", () => {
    const a = uniform([256, 256], 1);
    const b = uniform([256, 256], 2);
    const v = uniform([256], 3);
    const before = eagerKernelStats().calls;
    const cases: [string, () => Array, number][] = [
      ["add", () => np.add(a, b), 0],
      ["mul + broadcast", () => np.multiply(a, v), 0],
      ["exp", () => np.exp(a), 1e-6],
      ["tanh", () => np.tanh(b), 1e-6],
      ["relu", () => nn.relu(a), 0],
      ["sum over an axis", () => np.sum(a, { axis: 0 }), 1e-5],
      ["matmul", () => np.matmul(a, b), 1e-5],
      ["transpose", () => np.transpose(a), 0],
      ["where", () => np.where(np.greater(a, b), a, b), 0],
      ["int32 cast", () => lax.convertElementType(np.multiply(a, 100), "int32"), 0],
    ];
    for (const [name, f, rtol] of cases) {
      const [c, i] = both(f);
      try {
        expectClose(c, i, rtol);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
    }
    expect(eagerKernelStats().calls).toBeGreaterThan(before + cases.length - 1);
  });

  it("random numbers on large shapes match the interpreter (threefry is exact)", () => {
    const key = random.PRNGKey(0);
    const [bits, bitsRef] = both(() => random.bits(key, [200, 200]));
    expect(globalThis.Array.from(bits.data)).toEqual(globalThis.Array.from(bitsRef.data));
    const [u, uRef] = both(() => random.uniform(key, [200, 200]));
    expectClose(u, uRef, 1e-6);
  });

  it("compiles once per (primitive, params, avals) and reuses the kernel", () => {
    const a = uniform([128, 300], 4);
    np.multiply(a, 3);
    const s0 = eagerKernelStats();
    for (let i = 0; i < 5; i++) np.multiply(a, 3);
    const s1 = eagerKernelStats();
    expect(s1.compiled).toBe(s0.compiled);
    expect(s1.calls - s0.calls).toBe(5);
    np.multiply(uniform([129, 300], 5), 3);
    expect(eagerKernelStats().compiled).toBe(s1.compiled + 1);
  });

  it("small applications, and everything under the interpreter switch, stay in the interpreter", () => {
    const s0 = eagerKernelStats();
    np.add(uniform([8, 8], 6), 1);
    expect(eagerKernelStats().calls).toBe(s0.calls);
    const big = uniform([256, 256], 7);
    useEagerInterpreter(true);
    try {
      np.add(big, 1);
    } finally {
      useEagerInterpreter(false);
    }
    expect(eagerKernelStats().calls).toBe(s0.calls);
  });
});
