import { describe, expect, it } from "vitest";
import { array, lax } from "../../index";

// Integer arithmetic wraps at 32 bits in every primitive (XLA semantics, and what compiled code does).
describe("int32 wraparound", () => {
  const big = 2 ** 31 - 1;
  it("reduce_prod wraps instead of rounding through float64", () => {
    const x = array([big, big], { dtype: "int32" });
    expect(lax.reduceProd(x, [0]).item()).toBe(Math.imul(big, big));
    expect(lax.reduceProd(array([65536, 65536, 3], { dtype: "uint32" }), [0]).item()).toBe(0);
  });

  it("dot_general wraps products and sums", () => {
    const a = array([[big, big]], { dtype: "int32" });
    const b = array([[big], [1]], { dtype: "int32" });
    const want = (Math.imul(big, big) + big) | 0;
    expect(
      lax
        .dotGeneral(a, b, [
          [[1], [0]],
          [[], []],
        ])
        .toArray(),
    ).toEqual([[want]]);
  });
});
