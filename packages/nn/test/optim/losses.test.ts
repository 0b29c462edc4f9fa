/**
 * Optax's losses against float64 values computed here from their definitions (log-sum-exp
 * written out, σ written out), plus gradients against their closed forms.
 */
import { describe, expect, it } from "vitest";
import { array, grad, np, ArgumentError, type Array as WaxArray } from "@wax/tracer";
import {
  huberLoss,
  l2Loss,
  sigmoidBinaryCrossEntropy,
  softmaxCrossEntropy,
  softmaxCrossEntropyWithIntegerLabels,
  squaredError,
} from "../../src/optim/index";

const list = (a: WaxArray) => globalThis.Array.from(a.data as ArrayLike<number>);
function expectClose(got: WaxArray, want: number[], tol = 1e-6) {
  const g = list(got);
  expect(g.length).toBe(want.length);
  g.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!))));
}

const logits = [
  [1.5, -0.3, 2.0, 0.1],
  [-1.0, 0.0, 3.0, -2.5],
];
const lse = (row: number[]) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));

describe("softmax cross entropies", () => {
  it("softmaxCrossEntropy is -Σ labels · log_softmax per row", () => {
    const labels = [
      [0.1, 0.2, 0.7, 0],
      [0, 0, 0, 1],
    ];
    const want = logits.map((row, i) => -row.reduce((s, v, j) => s + labels[i]![j]! * (v - lse(row)), 0));
    expectClose(softmaxCrossEntropy(array(logits), array(labels)), want);
  });
  it("a zero label against a -inf logit contributes 0 (Optax's where)", () => {
    const out = softmaxCrossEntropy(array([[0, -Infinity]]), array([[1, 0]]));
    expectClose(out, [0]);
  });
  it("softmaxCrossEntropy along axis 0", () => {
    const cols = [0, 1, 2, 3].map((j) => logits.map((r) => r[j]!));
    const labels = [
      [1, 0, 0.5, 0],
      [0, 1, 0.5, 1],
    ];
    const want = cols.map((col, j) => -col.reduce((s, v, i) => s + labels[i]![j]! * (v - lse(col)), 0));
    expectClose(softmaxCrossEntropy(array(logits), array(labels), { axis: 0 }), want);
  });
  it("softmaxCrossEntropyWithIntegerLabels is logsumexp - logit[label], equal to the one-hot form", () => {
    const labels = array([2, 3], { dtype: "int32" });
    const want = logits.map((row, i) => lse(row) - row[[2, 3][i]!]!);
    expectClose(softmaxCrossEntropyWithIntegerLabels(array(logits), labels), want);
    expectClose(
      softmaxCrossEntropy(
        array(logits),
        array([
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ]),
      ),
      want,
    );
  });
  it("its gradient is softmax - one_hot", () => {
    const g = grad((x: WaxArray) => softmaxCrossEntropyWithIntegerLabels(x, array([2, 3], { dtype: "int32" })).sum())(array(logits));
    const want = logits.flatMap((row, i) => row.map((v, j) => Math.exp(v - lse(row)) - (j === [2, 3][i] ? 1 : 0)));
    expectClose(g, want);
  });
  it("integer-label errors name the problem", () => {
    expect(() => softmaxCrossEntropyWithIntegerLabels(array(logits), array([2, 3]))).toThrow(/labels must be integers, got f32\[2\]/);
    expect(() => softmaxCrossEntropyWithIntegerLabels(array(logits), array([[2, 3]], { dtype: "int32" }))).toThrow(ArgumentError);
    expect(() => softmaxCrossEntropy(array([[1, 2]], { dtype: "int32" }), array([[0, 1]]))).toThrow(/logits must be floating point/);
  });
});

describe("regression and binary losses", () => {
  const p = [0.5, -2.0, 3.0, 1.25];
  const t = [0.0, 1.0, 3.5, -1.0];
  it("l2Loss is 0.5 (p - t)², squaredError is (p - t)², targets default to 0", () => {
    expectClose(
      l2Loss(array(p), array(t)),
      p.map((v, i) => 0.5 * (v - t[i]!) ** 2),
    );
    expectClose(
      squaredError(array(p), array(t)),
      p.map((v, i) => (v - t[i]!) ** 2),
    );
    expectClose(
      l2Loss(array(p)),
      p.map((v) => 0.5 * v * v),
    );
  });
  it("huberLoss is quadratic within delta and linear beyond (default delta 1, and delta 2)", () => {
    const huber = (e: number, d: number) => (Math.abs(e) <= d ? 0.5 * e * e : d * (Math.abs(e) - 0.5 * d));
    expectClose(
      huberLoss(array(p), array(t)),
      p.map((v, i) => huber(v - t[i]!, 1)),
    );
    expectClose(
      huberLoss(array(p), array(t), { delta: 2 }),
      p.map((v, i) => huber(v - t[i]!, 2)),
    );
  });
  it("sigmoidBinaryCrossEntropy is -y log σ(x) - (1-y) log(1-σ(x)), stable for large logits", () => {
    const y = [1, 0, 0.3, 1];
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    expectClose(
      sigmoidBinaryCrossEntropy(array(p), array(y)),
      p.map((x, i) => -y[i]! * Math.log(sig(x)) - (1 - y[i]!) * Math.log(1 - sig(x))),
    );
    expectClose(sigmoidBinaryCrossEntropy(array([100, -100]), array([0, 1])), [100, 100]);
    const g = grad((x: WaxArray) => sigmoidBinaryCrossEntropy(x, array(y)).sum())(array(p));
    expectClose(
      g,
      p.map((x, i) => sig(x) - y[i]!),
    );
  });
  it("losses reduce with np.mean as in Optax", () => {
    expectClose(np.mean(l2Loss(array(p), array(t))), [p.reduce((s, v, i) => s + 0.5 * (v - t[i]!) ** 2, 0) / 4]);
  });
});
