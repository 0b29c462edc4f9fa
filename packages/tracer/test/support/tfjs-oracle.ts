/**
 * Plumbing shared by the tfjs-oracle tests: host arrays (shape + TypedArray) turned into wax
 * arrays and tfjs tensors, a tfjs result read back as plain numbers, and the exact and
 * tolerance comparisons (NaN matches only NaN, ±Inf only itself).
 */
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { expect } from "vitest";
import { array, type Array as WaxArray, type DType } from "../../index";
import { sizeOf } from "./shapes";

export interface Host {
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}
export interface Expected {
  shape: readonly number[];
  data: readonly number[];
}
export interface Tol {
  rtol: number;
  atol: number;
}

/** int32 for Int32Array, bool for Uint8Array, float32 otherwise. */
export const hostDtype = (h: Host): "float32" | "int32" | "bool" =>
  h.data instanceof Int32Array ? "int32" : h.data instanceof Uint8Array ? "bool" : "float32";
export const wax = (h: Host): WaxArray => array(h.data, { shape: h.shape, dtype: hostDtype(h) });
export const tfOf = (h: Host): tf.Tensor => tf.tensor(h.data, h.shape, hostDtype(h));

/** Every float32 bit pattern: NaN, ±Inf, -0, subnormals. */
export const anyF32 = (shape: number[]): fc.Arbitrary<Host> =>
  fc.float32Array({ minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((data) => ({ shape, data }));

/** Runs a tfjs computation and returns its plain result (tensors disposed). */
export function oracle(f: () => tf.Tensor): Expected {
  const t = tf.tidy(f);
  const out = { shape: t.shape, data: globalThis.Array.from(t.dataSync()) };
  t.dispose();
  return out;
}

/** Bitwise equality of shape and values (`toEqual` tells -0 from 0; NaN equals NaN), optionally treating ±0 alike. */
export function expectExact(
  actual: WaxArray,
  expected: Expected,
  dtype: DType = "float32",
  opts: { signedZeroEqual?: boolean } = {},
): void {
  expect(actual.dtype).toBe(dtype);
  expect(actual.shape).toEqual(expected.shape);
  const norm = (v: number) => (opts.signedZeroEqual && v === 0 ? 0 : v);
  expect(globalThis.Array.from(actual.data, norm)).toEqual(expected.data.map(norm));
}

/** |a − e| ≤ atol + rtol·|e| elementwise; NaN only matches NaN, ±Inf only itself. */
export function expectClose(actual: WaxArray, expected: Expected, tol: Tol, dtype: DType = "float32"): void {
  expect(actual.dtype).toBe(dtype);
  expect(actual.shape).toEqual(expected.shape);
  const bad: string[] = [];
  globalThis.Array.from(actual.data).forEach((a, i) => {
    const e = expected.data[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
    if (!ok) bad.push(`[${i}] wax ${a} vs tfjs ${e}`);
  });
  expect(bad).toEqual([]);
}

/** tf.tile that also accepts rank 0 (tfjs rejects tiling a scalar). */
export const tile = (t: tf.Tensor, reps: number[]) => (reps.length === 0 ? t : tf.tile(t, reps));
