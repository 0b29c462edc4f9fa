/** Dtype promotion and shape broadcasting for the numpy-like ops (JAX's jnp semantics). */
import { Array, ConcreteArray, scalar } from "../array";
import { isFloat, promoteTypes, type DType } from "../dtype";
import { ShapeError } from "../errors";
import * as lax from "../lax";
import { asArray, type ArrayLike } from "../values";

/** Converts `x` to `dtype`; weak concrete scalars convert at trace time (they stay literals). */
export function cast(x: Array, dtype: DType, weakType = false): Array {
  if (x.dtype === dtype && x.weakType === weakType) return x;
  if (x instanceof ConcreteArray && x.ndim === 0 && x.weakType) return scalar(x.weakValue ?? x.data[0]!, dtype, weakType);
  if (x.dtype === dtype) return x; // only the weak flag differs: no op needed
  return lax.convertElementType(x, dtype, weakType);
}

/** Promotes operands to one dtype (JAX's `promote_dtypes`). */
export function promote(...xs: ArrayLike[]): Array[] {
  const arrs = xs.map(asArray);
  let d = arrs[0]!.dtype;
  let w = arrs[0]!.weakType;
  for (const a of arrs.slice(1)) ({ dtype: d, weakType: w } = promoteTypes(d, w, a.dtype, a.weakType));
  return arrs.map((a) => cast(a, d, w));
}

/** Promotes to one inexact dtype (ints/bools → float32), as `promote_args_inexact`. */
export function promoteInexact(...xs: ArrayLike[]): Array[] {
  const arrs = promote(...xs);
  if (isFloat(arrs[0]!.dtype)) return arrs;
  const weak = arrs[0]!.weakType;
  return arrs.map((a) => cast(a, "float32", weak));
}

/** numpy broadcasting of shapes; `op` names the operation in the error. */
export function broadcastShapes(op: string, ...arrs: { shape: readonly number[]; aval?: { toString(): string } }[]): number[] {
  const nd = Math.max(0, ...arrs.map((a) => a.shape.length));
  const out = new globalThis.Array<number>(nd).fill(1);
  for (const a of arrs) {
    const off = nd - a.shape.length;
    a.shape.forEach((d, i) => {
      const cur = out[off + i]!;
      if (d === cur || d === 1) return;
      if (cur === 1) out[off + i] = d;
      else {
        const others = arrs.map((x) => (x.aval ? String(x.aval) : `[${x.shape.join(",")}]`)).join(" with ");
        throw new ShapeError(`${op}: cannot broadcast ${others} — trailing dimensions must be equal or 1`);
      }
    });
  }
  return out;
}

/** Broadcasts `x` to `shape` (numpy rules) with one `broadcast_in_dim`, if needed. */
export function broadcastTo(x: ArrayLike, shape: readonly number[], op = "broadcastTo"): Array {
  const a = asArray(x);
  if (a.ndim === shape.length && a.shape.every((d, i) => d === shape[i])) return a;
  const b = broadcastShapes(op, a, { shape });
  if (b.length !== shape.length || b.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: cannot broadcast ${a.aval} to shape [${shape.join(",")}] — each dimension must equal the target or be 1`);
  }
  return lax.broadcastInDim(
    a,
    shape,
    a.shape.map((_, i) => shape.length - a.ndim + i),
  );
}
