/**
 * Shared helpers of the kernel-level differential tests: seeded data, and an elementwise
 * comparison of compiled against interpreted outputs under a per-element bound.
 */
import { expect } from "vitest";
import { Aval, ConcreteArray, treeFlatten, type Array } from "@wax/tracer";
import { mulberry32 } from "../../../test/support/seeded";

export const U = 2 ** -24;
export const QUIET = { warnAfterMisses: Infinity };

/** float32 data uniform in [lo, hi), with `specials` of its elements drawn from `pool`. */
export function randomArray(
  shape: readonly number[],
  seed: number,
  o: { lo?: number; hi?: number; specials?: number; pool?: number[] } = {},
): ConcreteArray {
  const r = mulberry32(seed);
  const { lo = -2, hi = 2, specials = 0, pool = [NaN, Infinity, -Infinity, 0, -0] } = o;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => (r() < specials ? pool[Math.floor(r() * pool.length)]! : lo + (hi - lo) * r()));
  return new ConcreteArray(new Aval([...shape], "float32"), data);
}

/** int32 data uniform in [lo, hi]. */
export function randomInts(shape: readonly number[], seed: number, lo: number, hi: number): ConcreteArray {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new ConcreteArray(
    new Aval([...shape], "int32"),
    Int32Array.from({ length: n }, () => lo + Math.floor((hi - lo + 1) * r())),
  );
}

const fmt = (v: number): string => (Object.is(v, -0) ? "-0" : String(v));

/**
 * `got` and `want` (pytrees of arrays) have the same structure and avals, NaN and ±inf in
 * the same places, and |got − want| ≤ bound(leaf, element) elsewhere (0: exactly equal).
 */
export function expectClose(got: unknown, want: unknown, bound: (leaf: number, i: number) => number, what: string): void {
  const [gl, gt] = treeFlatten(got);
  const [wl, wt] = treeFlatten(want);
  expect(String(gt), `${what}: structure`).toBe(String(wt));
  wl.forEach((w, leaf) => {
    const g = gl[leaf] as Array;
    const wa = w as Array;
    expect(String(g.aval), `${what}: leaf ${leaf} aval`).toBe(String(wa.aval));
    const gd = g.data;
    const wd = wa.data;
    for (let i = 0; i < wd.length; i++) {
      const a = gd[i]!;
      const b = wd[i]!;
      const t = bound(leaf, i);
      const ok = Number.isNaN(b) ? Number.isNaN(a) : !Number.isFinite(b) ? a === b : t === 0 ? Object.is(a, b) : Math.abs(a - b) <= t;
      if (!ok) expect.fail(`${what}: leaf ${leaf} ${wa.aval} element ${i}: want ${fmt(b)}, got ${fmt(a)} (bound ${t})`);
    }
  });
}
