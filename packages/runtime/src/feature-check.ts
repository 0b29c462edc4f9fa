/** Which WebAssembly features an artifact may require, and whether this engine has them. */
import { relaxedSimdAvailable } from "./features";

export type WasmFeature = "simd128" | "relaxed-simd";

/** The smallest module using SIMD128: one function `() -> v128` returning `v128.const 0`. */
export const SIMD_PROBE: Uint8Array = Uint8Array.from([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, // types: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, // one function of type 0
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00, // code: one body of 20 bytes, no locals
  0xfd,
  0x0c,
  ...new globalThis.Array<number>(16).fill(0), // v128.const 0
  0x0b, // end
]);

let simd: boolean | undefined;

/** Whether this engine validates `feature` (computed once). */
export function hasFeature(feature: WasmFeature): boolean {
  if (feature === "relaxed-simd") return relaxedSimdAvailable();
  simd ??= WebAssembly.validate(SIMD_PROBE as Uint8Array<ArrayBuffer>);
  return simd;
}
