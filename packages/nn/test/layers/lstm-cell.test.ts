import { describe, expect, test } from "vitest";
import { grad, lax, np, random, vmap, type Array } from "@wax/tracer";
import { LSTMCell, filterJit, treeAt } from "@wax/nn";
import { expectClose, finiteDifferences, randomArray, toFloat64 } from "./support";

const vec = (a: Array) => a.tolist() as number[];
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const matvec = (w: number[][], v: number[]) => w.map((r) => r.reduce((s, wij, j) => s + wij * v[j]!, 0));

/** The LSTM equations (gates i, f, g, o in that order) in plain float64 JS. */
function referenceLSTM(cell: LSTMCell, x: number[], h: number[], c: number[]): [number[], number[]] {
  const H = cell.hiddenSize;
  const b = cell.bias === null ? new globalThis.Array<number>(4 * H).fill(0) : vec(cell.bias);
  const a = matvec(cell.weightIh.tolist() as number[][], x).map((v, i) => v + matvec(cell.weightHh.tolist() as number[][], h)[i]! + b[i]!);
  const c2 = c.map((cj, j) => sigmoid(a[H + j]!) * cj + sigmoid(a[j]!) * Math.tanh(a[2 * H + j]!));
  const h2 = c2.map((cj, j) => sigmoid(a[3 * H + j]!) * Math.tanh(cj));
  return [h2, c2];
}

describe("LSTMCell", () => {
  test("initialisation is JAX's for the same key (values from an independent threefry implementation)", () => {
    const cell = new LSTMCell(2, 3, { key: random.PRNGKey(1) });
    expect([cell.weightIh.shape, cell.weightHh.shape, cell.bias!.shape]).toEqual([[12, 2], [12, 3], [12]]);
    // jr.split(PRNGKey(1), 3) → (ihkey, hhkey, bkey); uniform(±sqrt(1/3)) in float32.
    expect(vec(cell.bias!).slice(0, 4)).toEqual([0.0667232871055603, -0.31863364577293396, 0.2853049039840698, 0.08986479043960571]);
    expect(new LSTMCell(2, 3, { key: random.PRNGKey(1), useBias: false }).bias).toBeNull();
  });

  test("one step matches the gate equations computed in float64, with and without bias", () => {
    for (const useBias of [true, false]) {
      const cell = toFloat64(new LSTMCell(4, 5, { useBias, key: random.PRNGKey(2) }));
      const [x, h, c] = [randomArray([4], 3, "float64"), randomArray([5], 4, "float64"), randomArray([5], 5, "float64")];
      const [h2, c2] = cell(x, [h, c]);
      const [eh, ec] = referenceLSTM(cell, vec(x), vec(h), vec(c));
      expectClose(h2, eh, { rtol: 1e-12, atol: 1e-12 });
      expectClose(c2, ec, { rtol: 1e-12, atol: 1e-12 });
    }
  });

  test("errors: hidden must be a pair of [hiddenSize] arrays", () => {
    const cell = new LSTMCell(4, 5, { key: random.PRNGKey(1) });
    expect(() => cell(np.zeros([4]), np.zeros([5]) as never)).toThrow(/LSTMCell: hidden must be a pair \[h, c\]/);
    expect(() => cell(np.zeros([4]), [np.zeros([5]), np.zeros([4])])).toThrow(/LSTMCell: expected c of shape \[5\], got f32\[4\]/);
    expect(() => cell(np.zeros([2, 4]), [np.zeros([5]), np.zeros([5])])).toThrow(
      /LSTMCell: expected an input of shape \[4\], got f32\[2,4\]/,
    );
  });

  test("vmap batches examples and states; filterJit over lax.scan matches eager", () => {
    const cell = new LSTMCell(3, 4, { key: random.PRNGKey(6) });
    const xs = randomArray([2, 3], 7);
    const hs = randomArray([2, 4], 8);
    const cs = randomArray([2, 4], 9);
    const [bh, bc] = vmap(cell)(xs, [hs, cs]) as [Array, Array];
    for (let i = 0; i < 2; i++) {
      const [h, c] = cell(xs.get(i), [hs.get(i), cs.get(i)]);
      expectClose(bh.get(i), h, { atol: 1e-6 });
      expectClose(bc.get(i), c, { atol: 1e-6 });
    }
    const run = (m: LSTMCell, seq: Array) =>
      (lax.scan((hc: [Array, Array], x: Array) => [m(x, hc), null], [np.zeros([4]), np.zeros([4])], seq)[0] as [Array, Array])[0];
    const seq = randomArray([5, 3], 10);
    expectClose(filterJit(run)(cell, seq), run(cell, seq), { rtol: 1e-5, atol: 1e-6 });
  });

  test("gradients match central finite differences (float64)", () => {
    const cell = toFloat64(new LSTMCell(2, 3, { key: random.PRNGKey(11) }));
    const seq = randomArray([3, 2], 12, "float64");
    const loss = (w: Array) => {
      const m = treeAt((c: LSTMCell) => c.weightIh, cell, w);
      const [[h, c]] = lax.scan(
        (hc: [Array, Array], x: Array) => [m(x, hc), null],
        [np.zeros([3], "float64"), np.full([3], 0.2, "float64")],
        seq,
      ) as [[Array, Array], unknown];
      return np.add(np.sum(h), np.sum(c));
    };
    expectClose(grad(loss)(cell.weightIh) as Array, finiteDifferences(loss, cell.weightIh), { rtol: 1e-6, atol: 1e-9 });
  });
});
