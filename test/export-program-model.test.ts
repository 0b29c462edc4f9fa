/**
 * Exported artifacts of programs with control flow, gather and sort: the `.wasm` + manifest
 * run by @wax/runtime alone give the bits of the in-process filterJit (the loops, gathers and
 * sorts are inside the one module, not driven from JS).
 */
import { describe, expect, it } from "vitest";
import { array, lax, np, random, type Array } from "@wax/tracer";
import { exportCompiled, filterJit } from "@wax/compiler";
import { load, type RuntimeArray } from "@wax/runtime";

const bits = (x: Float32Array | Int32Array | Uint32Array | Uint8Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
const waxData = (a: Array) => a.concreteValue()!.data as Float32Array;

/** A tanh RNN over a sequence (scan), a data-dependent loop (while), a branch (cond), a gather and a sort. */
function program(w: Array, xs: Array, ids: Array) {
  const [h, hs] = lax.scan(
    (h: Array, x: Array) => {
      const h2 = np.tanh(np.add(np.matmul(w, h), x));
      return [h2, np.sum(h2)];
    },
    np.zeros([4]),
    xs,
  );
  const halvings = lax.whileLoop(
    ([v]: [Array, Array]) => np.greater(v, 1),
    ([v, n]: [Array, Array]) => [np.divide(v, 2), np.add(n, 1)],
    [np.add(np.sum(np.abs(hs as Array)), 10), np.zeros([], "int32")],
  )[1] as Array;
  const branch = lax.cond(
    np.greater(np.sum(h as Array), 0),
    (a: Array) => np.multiply(a, 2),
    (a: Array) => np.negative(a),
    h as Array,
  );
  const picked = np.take(xs, ids, { axis: 0 });
  const order = np.argsort(hs as Array);
  return { h: branch, hs, halvings, picked, order };
}

describe("export of control flow, gather and sort", () => {
  it("runs from the artifact alone, bit for bit with filterJit", async () => {
    const w = random.normal(random.PRNGKey(1), [4, 4]);
    const xs = random.normal(random.PRNGKey(2), [7, 4]);
    const ids = array([6, 0, 3, 3], { dtype: "int32" });
    const { wasm, manifest } = await exportCompiled(program, w, xs, ids);
    const f = await load(JSON.parse(JSON.stringify(manifest)), wasm);
    const out = f(waxData(w), waxData(xs), new Int32Array([6, 0, 3, 3])) as Record<string, RuntimeArray>;
    const ref = filterJit(program)(w, xs, ids);
    for (const k of ["h", "hs", "picked"] as const) expect(bits(out[k]!.data as Float32Array), k).toEqual(bits(waxData(ref[k])));
    expect([...out["halvings"]!.data]).toEqual([...ref.halvings.concreteValue()!.data]);
    expect([...out["order"]!.data]).toEqual([...ref.order.concreteValue()!.data]);
    // and the compiled values are the interpreter's (eager)
    const eager = program(w, xs, ids);
    expect([...ref.order.concreteValue()!.data]).toEqual([...eager.order.concreteValue()!.data]);
    expect(ref.halvings.item()).toBe(eager.halvings.item());
    expect(bits(waxData(ref.picked))).toEqual(bits(waxData(eager.picked)));
  });
});

describe("artifact outputs with hostile keys", () => {
  it('an output key "__proto__" becomes a field of the result and pollutes no prototype', async () => {
    const f = (x: Array) => Object.fromEntries([["__proto__", { inner: np.multiply(x, 2) }]]);
    const { wasm, manifest } = await exportCompiled(f, array([1, 2]));
    const g = await load(JSON.parse(JSON.stringify(manifest)), wasm);
    const out = g(new Float32Array([1, 2])) as Record<string, { inner: RuntimeArray }>;
    expect(({} as Record<string, unknown>)["inner"]).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "inner")).toBe(false);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(out["__proto__"]!.inner.tolist()).toEqual([2, 4]);
  });
});
