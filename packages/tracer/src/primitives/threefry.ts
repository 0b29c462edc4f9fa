/** `threefry2x32`: the Threefry-2x32 block cipher (20 rounds), JAX's PRNG core. */
import { Aval } from "../aval";
import { DTypeError } from "../errors";
import { definePrimitive } from "../primitive";
import { elementwiseShape } from "./checks";

const ROTATIONS = [
  [13, 15, 26, 6],
  [17, 29, 16, 24],
] as const;

/** One Threefry-2x32 block: key (k0, k1), counter (x0, x1) → two uint32 words. */
export function threefry2x32Block(k0: number, k1: number, x0: number, x1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ 0x1bd11bda) >>> 0];
  let a = (x0 + ks[0]!) >>> 0;
  let b = (x1 + ks[1]!) >>> 0;
  for (let i = 0; i < 5; i++) {
    for (const r of ROTATIONS[i % 2]!) {
      a = (a + b) >>> 0;
      b = (((b << r) | (b >>> (32 - r))) ^ a) >>> 0;
    }
    a = (a + ks[(i + 1) % 3]!) >>> 0;
    b = (b + ks[(i + 2) % 3]! + i + 1) >>> 0;
  }
  return [a, b];
}

export const threefry2x32 = definePrimitive("threefry2x32", {
  multipleResults: true,
  abstractEval(avals) {
    if (avals.length !== 4) throw new DTypeError(`threefry2x32: takes 4 operands (k1, k2, x1, x2), got ${avals.length}`);
    for (const a of avals) {
      if (a.dtype !== "uint32") throw new DTypeError(`threefry2x32: operands must be uint32, got ${avals.map(String).join(", ")}`);
    }
    const shape = elementwiseShape("threefry2x32", avals);
    return [new Aval(shape, "uint32"), new Aval(shape, "uint32")];
  },
  impl(args, _p, [out]) {
    const n = out!.size;
    const r0 = new Uint32Array(n);
    const r1 = new Uint32Array(n);
    const d = args.map((a) => a.data);
    const sc = args.map((a) => a.ndim === 0);
    for (let i = 0; i < n; i++) {
      const [y0, y1] = threefry2x32Block(d[0]![sc[0] ? 0 : i]!, d[1]![sc[1] ? 0 : i]!, d[2]![sc[2] ? 0 : i]!, d[3]![sc[3] ? 0 : i]!);
      r0[i] = y0;
      r1[i] = y1;
    }
    return [r0, r1];
  },
});
