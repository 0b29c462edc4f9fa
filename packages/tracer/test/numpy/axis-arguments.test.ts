/**
 * Axis arguments as JAX users write them (`x.sum(-1)`, `np.sum(x, 1)`, `x.mean([0, 1])`,
 * `np.max(x, {axis, keepdims})`, `x.reshape(3, 2)`, `x.transpose(1, 0)`), and clear errors for
 * anything else (a misspelt option or an argument of an unexpected type is never ignored).
 */
import { describe, expect, test } from "vitest";
import { ArgumentError, array, np, random, type Array as WaxArray } from "../../index";

const x = array([
  [1, 2, 3],
  [4, 5, 6],
]);
const values = (a: WaxArray) => ({ shape: a.shape, data: globalThis.Array.from(a.data as ArrayLike<number>) });

describe("reductions take a positional axis", () => {
  test("x.sum(-1) sums the last axis", () => {
    expect(values(x.sum(-1))).toEqual({ shape: [2], data: [6, 15] });
  });
  test("np.sum(x, 1) and np.sum(x, 0)", () => {
    expect(values(np.sum(x, 1))).toEqual({ shape: [2], data: [6, 15] });
    expect(values(np.sum(x, 0))).toEqual({ shape: [3], data: [5, 7, 9] });
  });
  test("x.mean([0, 1]) reduces both axes", () => {
    expect(values(x.mean([0, 1]))).toEqual({ shape: [], data: [3.5] });
  });
  test("np.mean(x, 1) and np.sum(x, 0, {keepdims: true})", () => {
    expect(values(np.mean(x, 1))).toEqual({ shape: [2], data: [2, 5] });
    expect(values(np.sum(x, 0, { keepdims: true }))).toEqual({ shape: [1, 3], data: [5, 7, 9] });
  });
  test("np.max(x, {axis, keepdims}) and x.min(0)", () => {
    expect(values(np.max(x, { axis: 1, keepdims: true }))).toEqual({ shape: [2, 1], data: [3, 6] });
    expect(values(x.min(0))).toEqual({ shape: [3], data: [1, 2, 3] });
  });
  test("x.argmax(1), np.argmin(x, 0) and x.argmax() of the flattened array", () => {
    expect(values(x.argmax(1))).toEqual({ shape: [2], data: [2, 2] });
    expect(values(np.argmin(x, 0))).toEqual({ shape: [3], data: [0, 0, 0] });
    expect(values(x.argmax())).toEqual({ shape: [], data: [5] });
  });
  test("x.var(0, {ddof: 1}), x.std(1), x.prod(-1), np.any / np.all with an axis", () => {
    expect(values(x.var(0, { ddof: 1 }))).toEqual({ shape: [3], data: [4.5, 4.5, 4.5] });
    expect(x.std(1).shape).toEqual([2]);
    expect(values(x.prod(-1))).toEqual({ shape: [2], data: [6, 120] });
    expect(values(np.any(x.gt(5), 1))).toEqual({ shape: [2], data: [0, 1] });
    expect(values(np.all(x.gt(1), 0))).toEqual({ shape: [3], data: [0, 1, 1] });
  });
  test("np.cumsum(x, 1)", () => {
    expect(values(np.cumsum(x, 1))).toEqual({ shape: [2, 3], data: [1, 3, 6, 4, 9, 15] });
  });
});

describe("misspelt options and unexpected argument types are errors", () => {
  test("{axes: 1} names the option and suggests axis", () => {
    expect(() => np.sum(x, { axes: 1 } as never)).toThrow(ArgumentError);
    expect(() => np.sum(x, { axes: 1 } as never)).toThrow(/sum: unknown option "axes" — did you mean "axis"\?/);
  });
  test("{keepDims: true} suggests keepdims", () => {
    expect(() => x.max({ axis: 0, keepDims: true } as never)).toThrow(/max: unknown option "keepDims" — did you mean "keepdims"\?/);
  });
  test("a string, a float, a boolean or an array as the axis is refused", () => {
    expect(() => x.sum("1" as never)).toThrow(/sum: expected an axis \(integer or list of integers\) or an options object, got "1"/);
    expect(() => x.sum(0.5)).toThrow(/sum: axis must be an integer/);
    expect(() => x.mean(true as never)).toThrow(ArgumentError);
    expect(() => x.sum(x as never)).toThrow(/got Array|got ConcreteArray/);
  });
  test("a keepdims of the wrong type and an axis given twice are refused", () => {
    expect(() => x.sum(0, { keepdims: 1 } as never)).toThrow(/sum: option keepdims must be a boolean, got number 1/);
    expect(() => x.sum(0, { axis: 1 } as never)).toThrow(/axis given twice/);
  });
  test("argmax takes one axis", () => {
    expect(() => x.argmax([0, 1] as never)).toThrow(/argmax: axis must be one integer or null/);
  });
});

describe("reshape and transpose take numpy's varargs", () => {
  test("x.reshape(3, 2) equals x.reshape([3, 2]), -1 allowed", () => {
    expect(values(x.reshape(3, 2))).toEqual({ shape: [3, 2], data: [1, 2, 3, 4, 5, 6] });
    expect(x.reshape(-1).shape).toEqual([6]);
    expect(x.reshape([3, -1]).shape).toEqual([3, 2]);
  });
  test("x.transpose(1, 0) equals x.transpose([1, 0]) and x.transpose()", () => {
    expect(values(x.transpose(1, 0))).toEqual(values(x.transpose([1, 0])));
    expect(values(x.transpose())).toEqual({ shape: [3, 2], data: [1, 4, 2, 5, 3, 6] });
  });
  test("non-integer dimensions are refused", () => {
    expect(() => x.reshape("3" as never, 2)).toThrow(/reshape: expected integers or one list of integers/);
  });
});

describe("random shapes", () => {
  test("random.normal(key, 3) is random.normal(key, [3])", () => {
    const key = random.key(0);
    expect(values(random.normal(key, 3))).toEqual(values(random.normal(key, [3])));
  });
});

test("a random shape of the wrong type is a clear error", () => {
  expect(() => random.uniform(random.key(0), [2, 1.5])).toThrow(
    /uniform: shape must be a non-negative integer or a list of them, got \[2,1.5\]/,
  );
  expect(() => random.normal(random.key(0), "3" as never)).toThrow(ArgumentError);
});

test("nn.logsumexp takes its axis positionally too, and refuses a misspelt option", async () => {
  const { nn } = await import("../../index");
  const m = array([
    [0, Math.log(3)],
    [Math.log(2), Math.log(2)],
  ]);
  expect(values(nn.logsumexp(m, -1)).data.map((v) => Math.round(v * 1e5) / 1e5)).toEqual([
    Math.round(Math.log(4) * 1e5) / 1e5,
    Math.round(Math.log(4) * 1e5) / 1e5,
  ]);
  expect(nn.logsumexp(m, { axis: 0, keepdims: true }).shape).toEqual([1, 2]);
  expect(() => nn.logsumexp(m, { axes: 0 } as never)).toThrow(/logsumexp: unknown option "axes"/);
});
