/** Helpers for the layer tests: tolerance checks, tfjs round trips, central finite differences. */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { expect } from "vitest";
import { Array as WaxArrayClass, array, isFloat, treeMap, type Array as WaxArray } from "@wax/tracer";
import { mulberry32 } from "../../../../test/support/seeded";

export { tf };

export async function useTfCpu(): Promise<void> {
  await tf.setBackend("cpu");
}

/** Deterministic values in [-1, 1). */
export function randomData(n: number, seed: number): number[] {
  const rnd = mulberry32(seed);
  return globalThis.Array.from({ length: n }, () => 2 * rnd() - 1);
}

export function randomArray(shape: number[], seed: number, dtype: "float32" | "float64" = "float32"): WaxArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return array(Float64Array.from(randomData(n, seed)), { shape, dtype });
}

export function toTf(x: WaxArray): tf.Tensor {
  return tf.tensor(Float32Array.from(x.data as ArrayLike<number>), [...x.shape], "float32");
}

/** Evaluates a tfjs expression to `{shape, data}`, disposing its tensors (shared with the tracer's oracle tests). */
export { oracle } from "../../../tracer/test/support/tfjs-oracle";

/** `|a - e| <= atol + rtol·|e|` elementwise, with the shape checked when given. */
export function expectClose(
  actual: WaxArray,
  expected: WaxArray | { shape?: readonly number[]; data: readonly number[] } | readonly number[],
  tol: { rtol?: number; atol?: number } = {},
): void {
  const { rtol = 1e-5, atol = 1e-6 } = tol;
  const exp =
    expected instanceof WaxArrayClass
      ? { shape: expected.shape, data: globalThis.Array.from(expected.data as ArrayLike<number>) }
      : globalThis.Array.isArray(expected)
        ? { data: expected as readonly number[] }
        : (expected as { shape?: readonly number[]; data: readonly number[] });
  if (exp.shape) expect([...actual.shape]).toEqual([...exp.shape]);
  const got = globalThis.Array.from(actual.data as ArrayLike<number>);
  expect(got.length).toBe(exp.data.length);
  const bad: string[] = [];
  got.forEach((a, i) => {
    const e = exp.data[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) bad.push(`[${i}] got ${a}, expected ${e}`);
  });
  expect(bad).toEqual([]);
}

/** Central differences of a scalar function of one float64 array: d f / d x[i] for every i. */
export function finiteDifferences(f: (x: WaxArray) => WaxArray, x: WaxArray, h = 1e-6): number[] {
  const base = Float64Array.from(x.data as ArrayLike<number>);
  return globalThis.Array.from(base, (_, i) => {
    const plus = Float64Array.from(base);
    const minus = Float64Array.from(base);
    plus[i]! += h;
    minus[i]! -= h;
    const fp = f(array(plus, { shape: [...x.shape], dtype: "float64" })).item() as number;
    const fm = f(array(minus, { shape: [...x.shape], dtype: "float64" })).item() as number;
    return (fp - fm) / (2 * h);
  });
}

/** A copy of a Module (or any pytree) with every float leaf cast to float64, for float64 references and finite differences. */
export function toFloat64<T>(tree: T): T {
  return treeMap((l: unknown) => (l instanceof WaxArrayClass && isFloat(l.dtype) ? l.astype("float64") : l), tree) as T;
}
