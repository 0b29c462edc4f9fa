import { WaxError } from "@wax/tracer";

/** A program the compiler cannot compile (unsupported op or dtype, arena too large, Binaryen rejection). */
export class CompileError extends WaxError {}
