/** Reliability of the eager side: printing, named errors for bad inputs (issue 15). */
import { describe, expect, it } from "vitest";
import { AxisNameError, ArgumentError, PytreeError, lax, np, psum, treeFlatten, treeFlattenWithPath, vmap, type Array } from "../index";

describe("printing large arrays", () => {
  it("summarises arrays of more than 1000 elements with ... and 3 edge items, as numpy", () => {
    expect(String(np.zeros([200000]))).toBe("Array([0.0, 0.0, 0.0, ..., 0.0, 0.0, 0.0], dtype=float32)");
    const s = String(np.arange(6000).reshape([2000, 3]));
    expect(s).toBe(
      [
        "Array([[   0,    1,    2],",
        "       [   3,    4,    5],",
        "       [   6,    7,    8],",
        "       ...,",
        "       [5991, 5992, 5993],",
        "       [5994, 5995, 5996],",
        "       [5997, 5998, 5999]], dtype=int32)",
      ].join("\n"),
    );
  });

  it("prints arrays of up to 1000 elements in full", () => {
    const s = String(np.arange(1000));
    expect(s).not.toContain("...");
    expect(s).toContain(" 999]");
  });

  it("prints empty arrays without walking their other axes", () => {
    expect(String(np.zeros([2 ** 40, 0]))).toBe("Array([], shape=(1099511627776, 0), dtype=float32)");
    expect(String(np.zeros([0]))).toBe("Array([], dtype=float32)");
    expect(String(np.zeros([0, 3], "int32"))).toBe("Array([], shape=(0, 3), dtype=int32)");
  });
});

describe("named errors for bad inputs", () => {
  it("a cyclic pytree is a PytreeError, not a stack overflow", () => {
    const a: Record<string, unknown> = { x: np.ones([2]) };
    a.self = a;
    expect(() => treeFlatten(a)).toThrow(PytreeError);
    expect(() => treeFlatten(a)).toThrow(/contains a cycle.*break the cycle/);
    const list: unknown[] = [np.ones([1])];
    list.push([list]);
    expect(() => treeFlattenWithPath(list)).toThrow(PytreeError);
    expect(() => vmap((t: typeof a) => t.x)(a)).toThrow(PytreeError);
  });

  it("deep but acyclic pytrees still flatten", () => {
    let t: unknown = np.ones([1]);
    for (let i = 0; i < 1000; i++) t = [t];
    expect(treeFlatten(t)[0]).toHaveLength(1);
  });

  it("np.linspace with a negative or fractional num is an ArgumentError", () => {
    expect(() => np.linspace(0, 1, -5)).toThrow(ArgumentError);
    expect(() => np.linspace(0, 1, -5)).toThrow(/linspace: num must be a non-negative integer, got -5/);
    expect(() => np.linspace(0, 1, 2.5)).toThrow(ArgumentError);
    expect(np.linspace(0, 1, 0).shape).toEqual([0]);
  });

  it("psum with a number as axis name is an AxisNameError that says what to do", () => {
    const f = (x: Array) => psum(x, 0 as unknown as string);
    expect(() => vmap(f, { axisName: "i" })(np.ones([3]))).toThrow(AxisNameError);
    expect(() => vmap(f, { axisName: "i" })(np.ones([3]))).toThrow(/axis name 0 is not a string.*x\.sum\(axis\)/);
  });
});

describe("vmap over an empty batch", () => {
  it("a per-example dynamic index over a size-0 batch gives an empty result", () => {
    const x = np.zeros([0, 5]);
    const i = np.zeros([0], "int32");
    expect(vmap((r: Array, k: Array) => lax.dynamicSlice(r, [k], [2]))(x, i).shape).toEqual([0, 2]);
    expect(vmap((r: Array, k: Array) => np.take(r, k))(x, i).shape).toEqual([0]);
  });

  it("the same program over a non-empty batch still slices per example", () => {
    const x = np.arange(10).reshape([2, 5]);
    const i = np.array([1, 3], { dtype: "int32" });
    expect(vmap((r: Array, k: Array) => lax.dynamicSlice(r, [k], [2]))(x, i).tolist()).toEqual([
      [1, 2],
      [8, 9],
    ]);
  });
});
