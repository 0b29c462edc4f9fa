/**
 * Dtypes and JAX's type promotion (with weak types for JS numbers).
 *
 * wax runs with 32-bit defaults like JAX without x64; `float64` exists for the reference
 * interpreter (finite-difference checks) and is never produced by promotion from 32-bit types.
 */
import { DTypeError } from "./errors";

export type DType = "float32" | "float64" | "int32" | "uint32" | "bool";

export const DTYPES: readonly DType[] = ["bool", "int32", "uint32", "float32", "float64"];

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

const SHORT: Record<DType, string> = {
  float32: "f32",
  float64: "f64",
  int32: "i32",
  uint32: "u32",
  bool: "bool",
};

/** JAX's short dtype name used in jaxprs: `f32`, `i32`, `u32`, `bool`, `f64`. */
export function shortDtype(dtype: DType): string {
  return SHORT[dtype];
}

export function isDType(x: unknown): x is DType {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

export function isInteger(dtype: DType): boolean {
  return dtype === "int32" || dtype === "uint32";
}

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  return dtype === "float64" ? 8 : dtype === "bool" ? 1 : 4;
}

/** A fresh zeroed TypedArray of `dtype` with `n` elements (bool is stored as Uint8Array of 0/1). */
export function allocate(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
    case "uint32":
      return new Uint32Array(n);
    case "bool":
      return new Uint8Array(n);
  }
}

/** Rounds a JS number to what storing it in `dtype` gives (f32 rounding, int wrap, bool). */
export function castScalar(value: number, dtype: DType): number {
  switch (dtype) {
    case "float32":
      return Math.fround(value);
    case "float64":
      return value;
    case "int32":
      return Number.isFinite(value) ? Math.trunc(value) | 0 : 0;
    case "uint32":
      return Number.isFinite(value) ? Math.trunc(value) >>> 0 : 0;
    case "bool":
      return value !== 0 ? 1 : 0;
  }
}

type Kind = "b" | "i" | "f";
function kind(dtype: DType): Kind {
  return dtype === "bool" ? "b" : isFloat(dtype) ? "f" : "i";
}
const KIND_RANK: Record<Kind, number> = { b: 0, i: 1, f: 2 };
const DEFAULT_OF_KIND: Record<Kind, DType> = { b: "bool", i: "int32", f: "float32" };

/**
 * JAX's `promote_types` on (dtype, weak) pairs, 32-bit mode.
 *
 * - strong + strong: the lattice join (`int32 + uint32 -> int32`, `int + float -> float`,
 *   `float32 + float64 -> float64`).
 * - weak + strong: the strong dtype wins unless the weak one is of a higher kind, in which
 *   case the result is that kind's default, still weak (`i32 + 2.5 -> f32 (weak)`).
 * - weak + weak: the higher kind's default, weak.
 */
export function promoteTypes(a: DType, aWeak: boolean, b: DType, bWeak: boolean): { dtype: DType; weakType: boolean } {
  if (a === b) return { dtype: a, weakType: aWeak && bWeak };
  const ka = KIND_RANK[kind(a)];
  const kb = KIND_RANK[kind(b)];
  if (aWeak && bWeak) {
    const hi = ka >= kb ? a : b;
    return { dtype: hi, weakType: true };
  }
  if (aWeak || bWeak) {
    const [weak, strong] = aWeak ? [a, b] : [b, a];
    const kw = KIND_RANK[kind(weak)];
    const ks = KIND_RANK[kind(strong)];
    if (kw <= ks) return { dtype: strong, weakType: false };
    return { dtype: DEFAULT_OF_KIND[kind(weak)], weakType: true };
  }
  if (ka !== kb) return { dtype: ka > kb ? a : b, weakType: false };
  // Same kind, different dtypes.
  if (kind(a) === "f") return { dtype: "float64", weakType: false };
  return { dtype: "int32", weakType: false }; // int32 + uint32 (x64 off: int64 -> int32)
}

/** Validates a dtype given by a user; throws a DTypeError naming the op otherwise. */
export function checkDType(op: string, dtype: unknown): DType {
  if (!isDType(dtype)) {
    throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(dtype)} — use one of ${DTYPES.join(", ")}`);
  }
  return dtype;
}
