import { describe, expect, test } from "vitest";
import { grad, lax, np, random, vmap, type Array } from "@wax/tracer";
import { GRUCell, filterJit, treeAt } from "@wax/nn";
import { expectClose, finiteDifferences, randomArray, toFloat64 } from "./support";

const rows = (a: Array) => a.tolist() as number[][];
const vec = (a: Array | null) => (a === null ? null : (a.tolist() as number[]));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const matvec = (w: number[][], v: number[]) => w.map((r) => r.reduce((s, wij, j) => s + wij * v[j]!, 0));

/** PyTorch's / Equinox's GRU equations in plain float64 JS. */
function referenceGRU(cell: GRUCell, x: number[], h: number[]): number[] {
  const H = cell.hiddenSize;
  const b = vec(cell.bias) ?? new globalThis.Array<number>(3 * H).fill(0);
  const bn = vec(cell.biasN) ?? new globalThis.Array<number>(H).fill(0);
  const gi = matvec(rows(cell.weightIh), x).map((v, i) => v + b[i]!);
  const gh = matvec(rows(cell.weightHh), h);
  return h.map((hj, j) => {
    const r = sigmoid(gi[j]! + gh[j]!);
    const z = sigmoid(gi[H + j]! + gh[H + j]!);
    const n = Math.tanh(gi[2 * H + j]! + r * (gh[2 * H + j]! + bn[j]!));
    return n + z * (hj - n);
  });
}

describe("GRUCell", () => {
  test("initialisation is JAX's for the same key (values from an independent threefry implementation)", () => {
    const cell = new GRUCell(2, 3, { key: random.PRNGKey(0) });
    expect(cell.weightIh.shape).toEqual([9, 2]);
    expect(cell.weightHh.shape).toEqual([9, 3]);
    expect(cell.bias!.shape).toEqual([9]);
    // jr.split(PRNGKey(0), 4) → (ihkey, hhkey, bkey, bkey2); uniform(±sqrt(1/3)) in float32.
    expect((np.ravel(cell.weightIh).tolist() as number[]).slice(0, 6)).toEqual([
      0.39527028799057007, -0.3667575418949127, -0.3150275945663452, -0.4379483163356781, -0.35586315393447876, 0.25636088848114014,
    ]);
    expect(cell.biasN!.tolist()).toEqual([-0.26905739307403564, 0.2701423168182373, 0.5239142179489136]);
    const [, hhkey] = random.split(random.PRNGKey(0), 4);
    const lim = Math.sqrt(1 / 3);
    expect(cell.weightHh.tolist()).toEqual(random.uniform(hhkey!, [9, 3], { minval: -lim, maxval: lim }).tolist());
  });

  test("one step matches the gate equations computed in float64", () => {
    for (const useBias of [true, false]) {
      const cell = toFloat64(new GRUCell(4, 5, { useBias, key: random.PRNGKey(1) }));
      const x = randomArray([4], 2, "float64");
      const h = randomArray([5], 3, "float64");
      expectClose(cell(x, h), referenceGRU(cell, vec(x)!, vec(h)!), { rtol: 1e-12, atol: 1e-12 });
      if (!useBias) expect(cell.bias === null && cell.biasN === null).toBe(true);
    }
  });

  test("shape errors name the expected shapes, and a key is required", () => {
    const cell = new GRUCell(4, 5, { key: random.PRNGKey(1) });
    expect(() => cell(np.zeros([3]), np.zeros([5]))).toThrow(/GRUCell: expected an input of shape \[4\], got f32\[3\] — .*lax\.scan.*vmap/);
    expect(() => cell(np.zeros([4]), np.zeros([2, 5]))).toThrow(
      /GRUCell: expected hidden of shape \[5\], got f32\[2,5\] — start from np\.zeros\(\[5\]\)/,
    );
    expect(() => new GRUCell(4, 5, {} as never)).toThrow(/GRUCell: a PRNG key is required/);
    expect(() => new GRUCell(4, 0, { key: random.PRNGKey(1) })).toThrow(/GRUCell: hiddenSize must be a positive integer, got 0/);
  });

  test("vmap batches examples; filterJit over lax.scan matches eager", () => {
    const cell = new GRUCell(3, 4, { key: random.PRNGKey(4) });
    const xs = randomArray([2, 3], 5);
    const hs = randomArray([2, 4], 6);
    const ys = vmap(cell)(xs, hs) as Array;
    for (let i = 0; i < 2; i++) expectClose(ys.get(i), cell(xs.get(i), hs.get(i)), { atol: 1e-6 });
    const run = (c: GRUCell, seq: Array) => lax.scan((h: Array, x: Array) => [c(x, h), null], np.zeros([4]), seq)[0] as Array;
    const seq = randomArray([6, 3], 7);
    expectClose(filterJit(run)(cell, seq), run(cell, seq), { rtol: 1e-5, atol: 1e-6 });
  });

  test("gradients through a scan of steps match central finite differences (float64)", () => {
    const cell = toFloat64(new GRUCell(2, 3, { key: random.PRNGKey(8) }));
    const seq = randomArray([4, 2], 9, "float64");
    const loss = (w: Array) => {
      const c = treeAt((m: GRUCell) => m.weightHh, cell, w);
      return np.sum(lax.scan((h: Array, x: Array) => [c(x, h), null], np.full([3], 0.1, "float64"), seq)[0] as Array);
    };
    expectClose(grad(loss)(cell.weightHh) as Array, finiteDifferences(loss, cell.weightHh), { rtol: 1e-6, atol: 1e-9 });
  });
});
