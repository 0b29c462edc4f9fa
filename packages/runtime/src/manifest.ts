/**
 * The manifest of a compiled wax artifact (`NAME.manifest.json` beside `NAME.wasm`), its zod
 * schema and version. Everything the runtime needs to call the module without the tracer:
 * where each input and output leaf lives in the arena, the static (non-array) leaves the
 * function was compiled for, the required WebAssembly features and the wasm's sha256.
 *
 * Schema (format version 1):
 * ```
 * { format: "wax-artifact", formatVersion: 1, waxVersion, name,
 *   wasm: { file, bytes, sha256 },                 // sha256 of the .wasm, lowercase hex
 *   features: ["simd128", ...],                    // WebAssembly features the module uses
 *   arena: { bytes },                              // one memory, never grown
 *   constants: { section, segments: [{ offset, start, length }] },  // a custom section of the wasm
 *   inputs:  Leaf[], outputs: Leaf[],             // leaves in flattening order
 *   inputTree, outputTree }                        // readable treedefs (informative)
 * Leaf = { path: Key[], kind: "array", dtype, shape, offset }       // offset: bytes into the arena
 *      | { path: Key[], kind: "static", value, opaque? }            // JSON value; opaque: not JSON (a function)
 * Key = { attr: string } | { key: string } | { index: number }
 * ```
 *
 * The manifest is sealed into the wasm it describes: a custom section `wax.manifest` holds the
 * canonical JSON of every field but `wasm` (see `sealedManifest`), so the wasm's sha256 covers
 * the layout, the dtypes and the trees too, and `load` refuses a manifest that differs from it.
 */
import * as z from "zod/mini";

/** The manifest format this runtime reads and the compiler writes. */
export const FORMAT_VERSION = 1;

const dtype = z.enum(["float32", "int32", "uint32", "bool"]);
const key = z.union([
  z.strictObject({ attr: z.string() }),
  z.strictObject({ key: z.string() }),
  z.strictObject({ index: z.number().check(z.int(), z.nonnegative()) }),
]);
const natural = z.number().check(z.int(), z.nonnegative());

const arrayLeaf = z.strictObject({
  path: z.array(key),
  kind: z.literal("array"),
  dtype,
  shape: z.array(natural),
  offset: natural,
});
const staticLeaf = z.strictObject({
  path: z.array(key),
  kind: z.literal("static"),
  value: z.unknown(),
  opaque: z.optional(z.boolean()),
});
const leaf = z.discriminatedUnion("kind", [arrayLeaf, staticLeaf]);

export const manifestSchema = z.strictObject({
  format: z.literal("wax-artifact"),
  formatVersion: z.number().check(z.int()),
  waxVersion: z.string(),
  name: z.string().check(z.minLength(1)),
  wasm: z.strictObject({ file: z.string(), bytes: natural, sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)) }),
  features: z.array(z.enum(["simd128", "relaxed-simd"])),
  arena: z.strictObject({ bytes: natural }),
  constants: z.strictObject({
    section: z.string(),
    segments: z.array(z.strictObject({ offset: natural, start: natural, length: natural })),
  }),
  inputs: z.array(leaf),
  outputs: z.array(leaf),
  inputTree: z.string(),
  outputTree: z.string(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestLeaf = z.infer<typeof leaf>;
export type ManifestKey = z.infer<typeof key>;
export type ArrayLeaf = z.infer<typeof arrayLeaf>;

/** Name of the wasm custom section holding the sealed manifest. */
export const SEALED_SECTION = "wax.manifest";

/**
 * JSON with object keys sorted at every level and `undefined` members left out: one text per
 * value, whatever order its keys were written in. Keys are only read, never assigned, so a
 * `"__proto__"` key is text like any other.
 */
export function canonicalJson(x: unknown): string {
  if (globalThis.Array.isArray(x)) return `[${x.map((e) => (e === undefined ? "null" : canonicalJson(e))).join(",")}]`;
  if (typeof x === "object" && x !== null) {
    const obj = x as Record<string, unknown>;
    const parts = Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(x) ?? "null";
}

/** What the wasm's `wax.manifest` section holds: the canonical JSON of `m` without its `wasm` field. */
export function sealedManifest(m: Omit<Manifest, "wasm"> & { wasm?: unknown }): string {
  return canonicalJson(Object.fromEntries(Object.entries(m).filter(([k]) => k !== "wasm")));
}
