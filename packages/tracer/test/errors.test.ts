import { describe, expect, it } from "vitest";
import { ArgumentError, array, DTypeError, lax, makeJaxpr, np, ones, ShapeError, type Array } from "../index";
import { thrown } from "./support/thrown";

const i32 = (xs: number[]) => array(xs, { dtype: "int32" });

describe("ShapeError", () => {
  it("numpy broadcasting of incompatible shapes names the op, both avals and the rule", () => {
    const msg = thrown(ShapeError, () => np.add(ones([3, 4]), ones([5])));
    expect(msg).toBe("add: cannot broadcast f32[3,4] with f32[5] — trailing dimensions must be equal or 1");
    expect(thrown(ShapeError, () => ones([2]).mul(ones([3])))).toMatch(/^mul: cannot broadcast f32\[2\] with f32\[3\]/);
  });

  it("is raised while tracing too, by the same shape rule", () => {
    const msg = thrown(ShapeError, () => makeJaxpr((x: Array) => np.add(x, ones([5])))(ones([3, 4])));
    expect(msg).toBe("add: cannot broadcast f32[3,4] with f32[5] — trailing dimensions must be equal or 1");
  });

  it("lax-level elementwise ops refuse to broadcast and point to the numpy op", () => {
    const msg = thrown(ShapeError, () => lax.add(ones([2]), ones([3])));
    expect(msg).toBe(
      "add: cannot broadcast f32[2] with f32[3] — lax-level ops need equal shapes; use the numpy-level op, which broadcasts",
    );
  });

  it("dot_general with mismatched contracting dimensions names both dimensions and sizes", () => {
    const want =
      "dot_general: contracting dimension 1 of f32[3,4] (4) does not match dimension 0 of f32[5,2] (5) — transpose or reshape an operand so the contracted sizes agree";
    expect(
      thrown(ShapeError, () =>
        lax.dotGeneral(ones([3, 4]), ones([5, 2]), [
          [[1], [0]],
          [[], []],
        ]),
      ),
    ).toBe(want);
    expect(thrown(ShapeError, () => np.dot(ones([3, 4]), ones([5, 2])))).toBe(want);
    expect(thrown(ShapeError, () => ones([3, 4]).matmul(ones([5, 2])))).toBe(
      "matmul: contracting dimension 1 of f32[3,4] (4) does not match dimension 0 of f32[5,2] (5) — transpose or reshape an operand so the contracted sizes agree",
    );
  });

  it("reshape to a different number of elements names both sizes", () => {
    const msg = thrown(ShapeError, () => np.reshape(ones([2, 3]), [4, 2]));
    expect(msg).toBe("reshape: cannot reshape f32[2,3] (6 elements) to shape (4, 2) (8 elements) — the sizes must match");
    expect(thrown(ShapeError, () => np.reshape(ones([2, 3]), [4, -1]))).toMatch(
      /^reshape: cannot reshape f32\[2,3\] \(6 elements\) to \[4,-1\]/,
    );
    expect(thrown(ShapeError, () => np.reshape(ones([6]), [-1, -1]))).toMatch(/^reshape: at most one dimension may be -1/);
  });

  it("transpose with something that is not a permutation of the axes", () => {
    expect(thrown(ShapeError, () => np.transpose(ones([2, 3]), [0, 0]))).toBe(
      "transpose: axes (0, 0) do not match f32[2,3] of rank 2 — give each axis exactly once",
    );
    expect(thrown(ShapeError, () => lax.transpose(ones([2, 3]), [1, 2]))).toMatch(/^transpose: permutation \(1, 2\) is not a permutation/);
    expect(thrown(ShapeError, () => np.transpose(ones([2, 3]), [0, 2]))).toMatch(
      /^transpose: axis 2 is out of bounds for an array of rank 2/,
    );
  });

  // Known bug (see the report): np.transpose takes its identity shortcut before checking that
  // `axes` has one entry per dimension, so a too-short list returns the input unchanged.
  it("transpose with too few axes throws", () => {
    thrown(ShapeError, () => np.transpose(ones([2, 3]), [0]));
  });

  it("squeeze of a dimension whose size is not 1 names the dimension and its size", () => {
    expect(thrown(ShapeError, () => np.squeeze(ones([2, 1]), 0))).toBe(
      "squeeze: cannot squeeze dimension 0 of f32[2,1]: its size is 2, not 1 — squeeze only size-1 dimensions",
    );
    expect(thrown(ShapeError, () => lax.squeeze(ones([2, 1]), [2]))).toMatch(/^squeeze: axis 2 is out of range for f32\[2,1\] \(rank 2\)/);
  });

  it("slice out of range names the slice, the dimension and the rule", () => {
    expect(thrown(ShapeError, () => lax.slice(ones([4, 3]), [0, 0], [5, 3]))).toBe(
      "slice: invalid slice 0:5:1 of dimension 0 (size 4) of f32[4,3] — need 0 <= start <= limit <= size and stride >= 1",
    );
    expect(thrown(ShapeError, () => lax.slice(ones([4]), [3], [2]))).toMatch(/^slice: invalid slice 3:2:1 of dimension 0/);
    expect(thrown(ShapeError, () => ones([4]).get(4))).toBe("index: index 4 is out of bounds for axis 0 with size 4 of f32[4]");
  });

  it("an axis out of range in np.sum names the axis, the rank and the valid range", () => {
    expect(thrown(ShapeError, () => np.sum(ones([2, 3]), { axis: 2 }))).toBe(
      "sum: axis 2 is out of bounds for an array of rank 2 — use an axis in [-2, 2)",
    );
    expect(thrown(ShapeError, () => ones([2, 3]).sum({ axis: -3 }))).toMatch(/^sum: axis -3 is out of bounds/);
    expect(thrown(ShapeError, () => lax.reduceSum(ones([2, 3]), [2]))).toBe(
      "reduce_sum: axis 2 is out of range for f32[2,3] (rank 2) — axes must be in [0, 2)",
    );
  });

  it("concatenate of arrays whose other dimensions differ names all operands and the axis", () => {
    expect(thrown(ShapeError, () => np.concatenate([ones([2, 3]), ones([3, 4])], 0))).toBe(
      "concatenate: operands f32[2,3], f32[3,4] must have equal shapes except along dimension 0 — broadcast or reshape them first",
    );
    expect(thrown(ShapeError, () => np.concatenate([ones([2, 3]), ones([3])], 0))).toMatch(/^concatenate: operands f32\[2,3\], f32\[3\]/);
    expect(thrown(ShapeError, () => np.concatenate([array(1), array(2)]))).toMatch(
      /zero-dimensional arrays cannot be concatenated — use stack/,
    );
  });
});

describe("DTypeError", () => {
  it("lax.exp on int32 names the op, the aval and how to convert", () => {
    expect(thrown(DTypeError, () => lax.exp(i32([1, 2])))).toBe(
      "exp: operand i32[2] has dtype int32 but exp needs a floating dtype (float32 or float64) — convert it first, e.g. x.astype('float32')",
    );
    // the numpy op promotes ints to float instead
    expect(np.exp(i32([0])).dtype).toBe("float32");
  });

  it("lax.add of different dtypes names both avals and points to astype", () => {
    expect(thrown(DTypeError, () => lax.add(ones([2]), i32([1, 2])))).toBe(
      "add: operand dtypes differ (f32[2], i32[2]) — convert one with astype (the numpy-level ops promote automatically)",
    );
    expect(
      thrown(DTypeError, () =>
        lax.dotGeneral(ones([2]), i32([1, 2]), [
          [[0], [0]],
          [[], []],
        ]),
      ),
    ).toMatch(/^dot_general: operand dtypes differ \(f32\[2\] and i32\[2\]\)/);
  });

  it("bitwise ops on floats name the op and the operand", () => {
    expect(thrown(DTypeError, () => np.bitwiseAnd(ones([2]), ones([2])))).toBe(
      "bitwiseAnd: operand f32[2] must be bool or integer — compare floats first (e.g. x.gt(0))",
    );
    expect(thrown(DTypeError, () => lax.and(ones([2]), ones([2])))).toMatch(
      /^and: operand f32\[2\] has dtype float32 but and needs an integer or bool dtype/,
    );
    expect(thrown(DTypeError, () => np.leftShift(ones([2]), ones([2])))).toMatch(/^shift_left: operand f32\[2\] has dtype float32/);
    expect(np.bitwiseAnd(i32([6]), i32([3])).toArray()).toStrictEqual([2]);
  });

  it("an unknown dtype names the op and lists the valid ones", () => {
    expect(thrown(DTypeError, () => array([1], { dtype: "float16" as never }))).toBe(
      'array: unknown dtype "float16" — use one of bool, int32, uint32, float32, float64',
    );
  });
});

describe("ArgumentError", () => {
  it("a ragged nested array names the depth and the expected length", () => {
    expect(thrown(ArgumentError, () => array([[1, 2], [3]]))).toBe(
      "array: ragged nested array (length 1 at depth 1, expected 2) — all rows must have one length",
    );
    expect(thrown(ArgumentError, () => array([[1, 2], 3] as never))).toMatch(
      /^array: ragged nested array \(a scalar at depth 1, expected a list nested 2 deep\)/,
    );
  });

  // A list found where the first row had scalars must not report "expected undefined".
  it("a ragged array whose first element is a scalar says what was expected", () => {
    expect(thrown(ArgumentError, () => array([1, [2, 3]] as never))).not.toContain("undefined");
  });

  it("item() on an array that is not size 1 names the shape and says to index first", () => {
    expect(thrown(ArgumentError, () => array([1, 2]).item())).toBe(
      "item: the array has shape [2] (2 elements) — only size-1 arrays convert to a number; index it first",
    );
    expect(thrown(ArgumentError, () => ones([2, 2]).item())).toMatch(/shape \[2,2\] \(4 elements\)/);
    expect(array([[7]]).item()).toBe(7);
  });

  it("an output leaf that is not an array names the leaf and the output structure", () => {
    expect(thrown(ArgumentError, () => makeJaxpr((x: Array) => [x, "s"])(ones([1])))).toBe(
      "makeJaxpr: output leaf 1 of PyTreeDef([*, *]) is a string, not an array — return arrays (or numbers) only",
    );
  });
});
