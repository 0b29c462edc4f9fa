/**
 * WebAssembly feature detection for the engine we run on. Compiled modules use relaxed SIMD
 * only where the engine validates it (Node 20's V8 refuses it without a flag; newer engines
 * accept it), so the same compiler emits the fastest module each engine can run.
 */

const v128Zero = [0xfd, 0x0c, ...new globalThis.Array<number>(16).fill(0)];

/**
 * The smallest module using `f32x4.relaxed_madd`: one function `() -> v128` computing
 * `relaxed_madd(0, 0, 0)`.
 */
export const RELAXED_SIMD_PROBE: Uint8Array<ArrayBuffer> = Uint8Array.from([
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
  0x3d,
  0x01,
  0x3b,
  0x00, // code: one body of 59 bytes, no locals
  ...v128Zero,
  ...v128Zero,
  ...v128Zero,
  0xfd,
  0x85,
  0x02, // f32x4.relaxed_madd
  0x0b, // end
]);

let relaxed: boolean | undefined;

/** Whether this engine validates relaxed SIMD (`f32x4.relaxed_madd`); computed once. */
export function relaxedSimdAvailable(): boolean {
  relaxed ??= WebAssembly.validate(RELAXED_SIMD_PROBE);
  return relaxed;
}
