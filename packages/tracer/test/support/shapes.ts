/** Shape generators and helpers shared by the tfjs-oracle tests. */
import fc from "fast-check";

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
export const range = (n: number) => [...globalThis.Array(n).keys()];

/** A dimension in 0–5, weighted so that size-0 and size-1 axes are common but not dominant. */
export const dimArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.constant(1), weight: 2 },
  { arbitrary: fc.integer({ min: 2, max: 5 }), weight: 4 },
);
export const shapeArb = (minRank = 0, maxRank = 4) => fc.array(dimArb, { minLength: minRank, maxLength: maxRank });
