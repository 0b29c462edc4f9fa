/**
 * A compiled function ready to call: one WebAssembly instance with one arena (a
 * `WebAssembly.Memory`), a `run` export and a fixed layout of inputs and outputs. A call
 * copies inputs into the arena, calls `run` once and copies outputs out.
 */
import { hostMath } from "./host-imports";

export type RuntimeDType = "float32" | "int32" | "uint32" | "bool";
export type HostArray = Float32Array | Int32Array | Uint32Array | Uint8Array;

const DTYPE_OF_TYPED: [abstract new (...args: never[]) => HostArray, RuntimeDType][] = [
  [Float32Array, "float32"],
  [Int32Array, "int32"],
  [Uint32Array, "uint32"],
  [Uint8Array, "bool"],
];

/** The dtype a TypedArray stands for (`Uint8Array` is bool), or `null` for other values. */
export function typedArrayDtype(x: unknown): RuntimeDType | null {
  for (const [c, d] of DTYPE_OF_TYPED) if (x instanceof c) return d;
  return null;
}

/** Where a value lives in the arena. Bools are stored as 4-byte 0/1 integers. */
export interface Slot {
  offset: number;
  size: number;
  dtype: RuntimeDType;
  shape: number[];
}

export interface Layout {
  /** Total arena bytes (a multiple of 64 KiB pages is allocated). */
  arenaBytes: number;
  inputs: Slot[];
  outputs: Slot[];
  /** Constant data: byte offset and the little-endian bytes copied in at instantiation. */
  constants: { offset: number; bytes: Uint8Array }[];
}

const PAGE = 65536;
/** V8 allocates typed arrays up to this size on its heap. */
const SMALL_BYTES = 64;

export class Executable {
  private readonly memory: WebAssembly.Memory;
  private readonly run: () => void;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  // The arena never grows (its maximum is its size), so views made once stay valid.
  private readonly inViews: (Float32Array | Int32Array | Uint32Array)[];
  private readonly outViews: (Float32Array | Int32Array | Uint32Array)[];
  /** Byte offset of each output in the one buffer a call allocates for all of them. */
  private readonly outOffsets: number[];
  private readonly outBytes: number;

  private constructor(
    instance: WebAssembly.Instance,
    memory: WebAssembly.Memory,
    readonly layout: Layout,
  ) {
    this.memory = memory;
    this.run = instance.exports["run"] as () => void;
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
    const bytes = new Uint8Array(memory.buffer);
    for (const c of layout.constants) bytes.set(c.bytes, c.offset);
    this.inViews = layout.inputs.map((s) => this.view(s));
    this.outViews = layout.outputs.map((s) => this.view(s));
    // Outputs of up to 64 bytes get their own array (V8 keeps those on its heap, cheaper than
    // any ArrayBuffer); larger ones share one buffer: 4-byte outputs first, then bools.
    let outBytes = 0;
    this.outOffsets = layout.outputs.map(() => -1);
    layout.outputs.forEach((s, k) => {
      if (s.dtype === "bool" || s.size * 4 <= SMALL_BYTES) return;
      this.outOffsets[k] = outBytes;
      outBytes += 4 * s.size;
    });
    layout.outputs.forEach((s, k) => {
      if (s.dtype !== "bool" || s.size <= SMALL_BYTES) return;
      this.outOffsets[k] = outBytes;
      outBytes += s.size;
    });
    this.outBytes = outBytes;
  }

  /** Instantiates a module that imports `env.memory` (and `env.*` host math). */
  static async create(wasm: WebAssembly.Module | BufferSource, layout: Layout): Promise<Executable> {
    const mod = wasm instanceof WebAssembly.Module ? wasm : await eagerTierUp(() => WebAssembly.compile(wasm));
    return Executable.fromModule(mod, layout);
  }

  /** Synchronous instantiation (Node allows it for any size; browsers only for small modules). */
  static createSync(wasm: WebAssembly.Module | BufferSource, layout: Layout): Executable {
    const mod = wasm instanceof WebAssembly.Module ? wasm : eagerTierUp(() => new WebAssembly.Module(wasm));
    return Executable.fromModule(mod, layout);
  }

  private static fromModule(mod: WebAssembly.Module, layout: Layout): Executable {
    const pages = Math.max(1, Math.ceil(layout.arenaBytes / PAGE));
    // A declared maximum keeps the memory shareable with worker threads later.
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(mod, { env: { memory, ...hostMath } });
    return new Executable(instance, memory, layout);
  }

  private view(slot: Slot): Float32Array | Int32Array | Uint32Array {
    const i = slot.offset >> 2;
    const arr = slot.dtype === "float32" ? this.f32 : slot.dtype === "uint32" ? this.u32 : this.i32;
    return arr.subarray(i, i + slot.size);
  }

  /**
   * Runs the function: inputs in layout order, outputs in layout order (fresh arrays). The
   * outputs of one call larger than 64 bytes are views of one fresh `ArrayBuffer`: allocating
   * a backing store per output cost ~2 µs each, most of a small training step's time.
   */
  call(inputs: readonly HostArray[]): HostArray[] {
    const ins = this.layout.inputs;
    for (let k = 0; k < ins.length; k++) {
      const src = inputs[k]!;
      const dst = this.inViews[k]!;
      // Bools are 0/1 words in the arena, whatever nonzero byte the caller passed.
      if (ins[k]!.dtype === "bool") for (let i = 0; i < src.length; i++) dst[i] = src[i] ? 1 : 0;
      else dst.set(src as Float32Array);
    }
    this.run();
    const outs = this.layout.outputs;
    const res = new globalThis.Array<HostArray>(outs.length);
    const buffer = this.outBytes > 0 ? new ArrayBuffer(this.outBytes) : null;
    for (let k = 0; k < outs.length; k++) {
      const v = this.outViews[k]!;
      const dtype = outs[k]!.dtype;
      const at = this.outOffsets[k]!;
      if (at < 0 && dtype !== "bool") {
        res[k] = v.slice();
      } else if (dtype === "bool") {
        const out = at < 0 ? new Uint8Array(v.length) : new Uint8Array(buffer!, at, v.length);
        for (let i = 0; i < v.length; i++) out[i] = v[i]! !== 0 ? 1 : 0;
        res[k] = out;
      } else {
        const out =
          dtype === "float32"
            ? new Float32Array(buffer!, at, v.length)
            : dtype === "int32"
              ? new Int32Array(buffer!, at, v.length)
              : new Uint32Array(buffer!, at, v.length);
        out.set(v as Float32Array);
        res[k] = out;
      }
    }
    return res;
  }

  get arenaBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

/**
 * V8 (Node) compiles WebAssembly with its baseline compiler and optimises a function only
 * once it has run hot ("dynamic tiering"), so a jitted step ran at ~3x its steady-state time
 * for its first few hundred calls. Our modules are small and meant to be called many times:
 * compile them with tiering up front (TurboFan in the background right after the baseline
 * code), by turning dynamic tiering off for just this compilation. Browsers: unchanged.
 */
function eagerTierUp<T>(compile: () => T): T {
  const v8 = nodeV8();
  if (!v8) return compile();
  v8.setFlagsFromString("--no-wasm-dynamic-tiering");
  try {
    return compile();
  } finally {
    v8.setFlagsFromString("--wasm-dynamic-tiering");
  }
}

let v8Module: { setFlagsFromString(flags: string): void } | null | undefined;
function nodeV8(): { setFlagsFromString(flags: string): void } | null {
  if (v8Module !== undefined) return v8Module;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  v8Module = (proc?.getBuiltinModule?.("node:v8") as { setFlagsFromString(flags: string): void } | undefined) ?? null;
  return v8Module;
}
