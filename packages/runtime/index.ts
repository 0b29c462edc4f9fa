/**
 * @wax/runtime — runs compiled wax modules (no tracer, no Binaryen): instantiation with one
 * arena, calling with host arrays.
 */
export { Executable, type Layout, type Slot, type RuntimeDType, type HostArray } from "./src/executable";
export { hostMath, type HostMathName } from "./src/host-imports";
