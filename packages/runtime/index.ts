/**
 * @wax/runtime — runs compiled wax modules (no tracer, no Binaryen): instantiation with one
 * arena, calling with host arrays.
 */
export { Executable, typedArrayDtype, type Layout, type Slot, type RuntimeDType, type HostArray } from "./src/executable";
export { hostMath, type HostMathName } from "./src/host-imports";
export { erf, erfInv } from "./src/special";
export { load, parseManifest, pathString, type LoadedFunction, type RuntimeTree } from "./src/load";
export {
  manifestSchema,
  FORMAT_VERSION,
  SEALED_SECTION,
  canonicalJson,
  sealedManifest,
  type Manifest,
  type ManifestLeaf,
  type ManifestKey,
} from "./src/manifest";
export { MAX_ARENA_BYTES } from "./src/manifest-checks";
export { RuntimeArray } from "./src/runtime-array";
export { ArtifactError, ArtifactFetchError, IntegrityError, ManifestError, WasmModuleError } from "./src/errors";
export { hasFeature, SIMD_PROBE, type WasmFeature } from "./src/feature-check";
export { relaxedSimdAvailable, RELAXED_SIMD_PROBE } from "./src/features";
