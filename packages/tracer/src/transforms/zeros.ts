/** Zeros and tangent arithmetic shared by the AD transforms. */
import type { Array } from "../array";
import type { Aval } from "../aval";
import * as lax from "../lax";
import { scalar } from "../array";
import type { MaybeZero } from "./rules";

/** Zeros of an aval, staged as a broadcast of a scalar literal. */
export function zerosLikeAval(aval: Aval): Array {
  return lax.broadcastInDim(scalar(0, aval.dtype, aval.weakType), aval.shape, []);
}

/** Sum of two possibly-zero tangents. */
export function addTangents(a: MaybeZero, b: MaybeZero): MaybeZero {
  if (a === null) return b;
  if (b === null) return a;
  return lax.add(a, b);
}

export function instantiate(t: MaybeZero, aval: Aval): Array {
  return t ?? zerosLikeAval(aval);
}
