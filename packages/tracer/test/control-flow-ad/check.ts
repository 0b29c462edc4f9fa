/**
 * Derivative checks shared by the control-flow AD tests, in float64 against central
 * differences of the function itself (evaluated eagerly by the interpreter).
 *
 * With h = 1e-6 the truncation error is O(h²·f''') ≈ 1e-12 and the rounding error
 * O(eps·|f|/h) ≈ 2e-10·|f|, so a derivative is accepted within 1e-6 relative plus
 * 1e-8·(1 + max|f|) absolute.
 */
import { expect } from "vitest";
import { array, grad, jvp, treeFlatten, type Array as WaxArray } from "../../index";
import { mulberry32 } from "../../../../test/support/seeded";

const H = 1e-6;
const RTOL = 1e-6;
const ATOL = 1e-8;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks take functions of any signature and call them with the given arguments
type Fn = (...args: any[]) => unknown;

/** A float64 array from nested numbers. */
export const f64 = (x: number | readonly unknown[]): WaxArray => array(x as number[], { dtype: "float64" });

/** Uniform values in [-1, 1) of the given shape, from a seeded generator. */
export function randomF64(shape: readonly number[], seed: number, scale = 1): WaxArray {
  const next = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return array(
    Float64Array.from({ length: n }, () => scale * (2 * next() - 1)),
    { dtype: "float64", shape },
  );
}

const valuesOf = (a: WaxArray): number[] => globalThis.Array.from(a.data);

/** The array leaves of a pytree (numbers are not leaves the checks perturb). */
function arrayLeaves(tree: unknown): WaxArray[] {
  return treeFlatten(tree)[0].filter((l): l is WaxArray => typeof l === "object" && l !== null && "aval" in l);
}

/** `tree` with each float array leaf `x` replaced by `g(x, k)` (`k` counts float leaves). */
function mapFloatLeaves(tree: unknown, g: (x: WaxArray, k: number) => WaxArray): unknown {
  const [leaves, def] = treeFlatten(tree);
  let k = 0;
  return def.unflatten(
    leaves.map((l) => (typeof l === "object" && l !== null && "aval" in l && isFloatLeaf(l as WaxArray) ? g(l as WaxArray, k++) : l)),
  );
}
const isFloatLeaf = (x: WaxArray) => x.dtype === "float64" || x.dtype === "float32";

/** Output values, leaf by leaf. */
const outputValues = (out: unknown): number[][] => arrayLeaves(out).map(valuesOf);

function expectClose(label: string, got: number[], want: number[], scale: number): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  want.forEach((w, k) => {
    const g = got[k]!;
    const bound = RTOL * Math.abs(w) + ATOL * scale;
    if (!(Math.abs(g - w) <= bound))
      throw new Error(`${label}: element ${k} is ${g}, central difference ${w} (|diff| ${Math.abs(g - w)} > ${bound})`);
  });
}

const maxAbs = (xs: number[][]) => Math.max(0, ...xs.flat().map(Math.abs));

/**
 * Checks `jvp(f, args, t)` against `(f(args + h·t) − f(args − h·t)) / 2h` for a random
 * tangent `t` on every float leaf of the arguments (pytrees), and that its primal output is
 * `f(args)`.
 */
export function checkJvp(f: Fn, args: readonly unknown[], seed = 1): void {
  const tangents = args.map((a, i) => mapFloatLeaves(a, (x, k) => randomF64(x.shape, seed * 1000 + i * 100 + k)));
  const shifted = (sign: number) =>
    outputValues(
      f(
        ...args.map((a, i) => {
          const ts = arrayLeaves(tangents[i]);
          return mapFloatLeaves(a, (x, k) =>
            array(
              Float64Array.from(x.data, (v, j) => v + sign * H * ts[k]!.data[j]!),
              { dtype: "float64", shape: x.shape },
            ),
          );
        }),
      ),
    );
  const plus = shifted(1);
  const minus = shifted(-1);
  const scale = 1 + maxAbs([...plus, ...minus]);
  const [out, tout] = jvp(f, args, tangents);
  expect(outputValues(out)).toEqual(outputValues(f(...args)));
  const touts = outputValues(tout);
  expect(touts.length).toBe(plus.length);
  touts.forEach((t, i) =>
    expectClose(
      `jvp output leaf ${i}`,
      t,
      plus[i]!.map((p, k) => (p - minus[i]![k]!) / (2 * H)),
      scale,
    ),
  );
}

/**
 * Checks `grad(f, {argnums})` (f returns a float scalar) element by element against central
 * differences along every coordinate of every float leaf of the differentiated arguments.
 */
export function checkGrad(f: Fn, args: readonly unknown[], argnums: readonly number[] = args.map((_, i) => i)): void {
  const grads = grad(f, { argnums: [...argnums] })(...args) as unknown[];
  const value = (xs: readonly unknown[]) => (f(...xs) as WaxArray).data[0]!;
  const scale = 1 + Math.abs(value(args));
  argnums.forEach((n, gi) => {
    const gLeaves = arrayLeaves(grads[gi]);
    let leaf = 0;
    mapFloatLeaves(args[n], (x, k) => {
      const fd = valuesOf(x).map((_, j) => {
        const at = (sign: number) => {
          const moved = args.slice();
          moved[n] = mapFloatLeaves(args[n], (y, kk) => {
            if (kk !== k) return y;
            const d = Float64Array.from(y.data);
            d[j]! += sign * H;
            return array(d, { dtype: "float64", shape: y.shape });
          });
          return value(moved);
        };
        return (at(1) - at(-1)) / (2 * H);
      });
      expectClose(`grad of argument ${n}, leaf ${k}`, valuesOf(gLeaves[leaf++]!), fd, scale);
      return x;
    });
  });
}
