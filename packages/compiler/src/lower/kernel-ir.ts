/**
 * The kernel IR: what a jaxpr becomes after fusion. Every value a kernel reads or writes is
 * an arena buffer seen through an affine index map, so broadcasts, transposes, slices and
 * (contiguous) reshapes cost no copy. Elementwise chains are expression trees evaluated in
 * one loop.
 */
export type KDType = "float32" | "int32" | "uint32" | "bool";

/** A runtime index read from an int32 scalar buffer, clamped to `[0, max]`, times `stride`. */
export interface DynTerm {
  buf: number;
  /** Element offset of the index within its buffer. */
  elem: number;
  /** The index is uint32 (compared unsigned when clamping). */
  unsigned: boolean;
  stride: number;
  max: number;
}

/** Element `i` (a multi-index over the loop shape) lives at `offset + Σ i[d]·strides[d] + Σ dyn`. */
export interface Affine {
  strides: number[];
  offset: number;
  dyn: DynTerm[];
}

export type UnaryOp =
  | "neg" | "exp" | "log" | "log1p" | "expm1" | "sin" | "cos" | "tan" | "tanh" | "logistic"
  | "sqrt" | "rsqrt" | "abs" | "sign" | "floor" | "ceil" | "round_even" | "round_away" | "erf" | "erf_inv"
  | "not" | "square";
export type BinaryOp =
  | "add" | "sub" | "mul" | "div" | "rem" | "pow" | "max" | "min" | "atan2"
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "and" | "or" | "xor"
  | "shl" | "shr_u" | "shr_s";

export type Expr =
  | { op: "load"; buf: number; map: Affine; dtype: KDType }
  | { op: "const"; value: number; dtype: KDType }
  /** The affine index itself (iota). */
  | { op: "index"; map: Affine; dtype: KDType }
  | { op: "unary"; fn: UnaryOp; x: Expr; dtype: KDType }
  | { op: "ipow"; x: Expr; y: number; dtype: KDType }
  | { op: "binary"; fn: BinaryOp; x: Expr; y: Expr; dtype: KDType }
  /** `cases[pred]` (bool pred: false → cases[0]). */
  | { op: "select"; pred: Expr; cases: Expr[]; dtype: KDType }
  | { op: "convert"; x: Expr; dtype: KDType }
  | { op: "bitcast"; x: Expr; dtype: KDType }
  | { op: "threefry"; args: [Expr, Expr, Expr, Expr]; which: 0 | 1; dtype: "uint32" };

export interface Target {
  buf: number;
  map: Affine;
}

export type Kernel =
  /** Elementwise loop over `shape`: `out[i] = expr(i)`. */
  | { kind: "map"; shape: number[]; out: Target; expr: Expr; label: string }
  /**
   * Reduction of `expr` (over `shape`) along `axes` into a contiguous buffer over the kept dims,
   * then (if present) the elementwise `epilogue` evaluated at each output element as soon as it
   * is stored (see `Epilogue`).
   */
  | { kind: "reduce"; shape: number[]; axes: number[]; fn: "sum" | "max" | "min" | "prod" | "argmax" | "argmin"; expr: Expr; out: number; dtype: KDType; label: string; epilogue?: Epilogue }
  /** Inclusive scan along `axis`. */
  | { kind: "scan"; shape: number[]; axis: number; reverse: boolean; expr: Expr; out: number; dtype: KDType; label: string }
  /**
   * Batched matmul `out[b, m, n] = Σ_k a[b, m, k] · b[b, k, n]` where each of b, m, n, k may
   * be several dims (`batch`, `mDims`, `nDims`, `kDims` give their sizes); operands are read
   * through affine maps over `[batch..., m..., k...]` and `[batch..., k..., n...]`.
   */
  | {
      kind: "matmul";
      batch: number[];
      mDims: number[];
      nDims: number[];
      kDims: number[];
      a: Target;
      b: Target;
      out: number;
      dtype: KDType;
      label: string;
      /** Packed GEMM path: the merged problem and its scratch buffers (packed A/B, one 4×8 C tile). */
      gemm?: { plan: import("../codegen/gemm").GemmPlan; aPack: number; bPack: number; tile: number };
      /**
       * A fused elementwise consumer of the product. With an epilogue, `out` is scratch (one
       * C tile on the GEMM path, one output row otherwise) and only the epilogue's target is
       * written in full.
       */
      epilogue?: Epilogue;
    };

/**
 * An elementwise map fused into the kernel that produces its operand: `expr` is over the
 * producer's output index space (`[batch..., m..., n...]` for a matmul, the kept dims for a
 * reduction) and reads the produced value through loads of the producer's `out` buffer at its
 * contiguous map; the value is written to `out` here. Evaluated while the produced values are
 * still in registers or cache, instead of in a separate pass over memory.
 */
export interface Epilogue {
  expr: Expr;
  out: Target;
}

export interface BufferInfo {
  id: number;
  /** Elements (4 bytes each). */
  size: number;
  kind: "input" | "output" | "const" | "temp";
  dtype: KDType;
  /** Constant data (little-endian 4-byte elements). */
  data?: Uint8Array;
  /** Byte offset in the arena, set by the memory planner. */
  offset: number;
}

export interface Program {
  buffers: BufferInfo[];
  kernels: Kernel[];
  /** Buffer ids of the inputs, in order. */
  inputs: number[];
  /** Output buffer ids and shapes, in order. */
  outputs: { buf: number; shape: number[]; dtype: KDType }[];
  inputShapes: number[][];
}

export function contiguous(shape: readonly number[], offset = 0): Affine {
  const strides = new globalThis.Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return { strides, offset, dyn: [] };
}

/** Whether `map` reads `shape` densely in row-major order from its offset. */
export function isContiguous(map: Affine, shape: readonly number[]): boolean {
  if (map.dyn.length > 0) return false;
  const c = contiguous(shape);
  return map.strides.every((s, i) => shape[i] === 1 || s === c.strides[i]);
}

/** The operand expressions of `e` (leaves have none). */
export function exprChildren(e: Expr): Expr[] {
  switch (e.op) {
    case "load":
    case "index":
    case "const":
      return [];
    case "unary":
    case "convert":
    case "bitcast":
    case "ipow":
      return [e.x];
    case "binary":
      return [e.x, e.y];
    case "select":
      return [e.pred, ...e.cases];
    case "threefry":
      return e.args;
  }
}

/** `e` with every leaf that reads through an affine map (`load`, `index`) replaced by `f(leaf)`. */
export function mapLeaves(e: Expr, f: (leaf: Expr & { op: "load" | "index" }) => Expr): Expr {
  switch (e.op) {
    case "load":
    case "index":
      return f(e);
    case "const":
      return e;
    case "unary":
    case "convert":
    case "bitcast":
    case "ipow":
      return { ...e, x: mapLeaves(e.x, f) };
    case "binary":
      return { ...e, x: mapLeaves(e.x, f), y: mapLeaves(e.y, f) };
    case "select":
      return { ...e, pred: mapLeaves(e.pred, f), cases: e.cases.map((c) => mapLeaves(c, f)) };
    case "threefry":
      return { ...e, args: e.args.map((a) => mapLeaves(a, f)) as [Expr, Expr, Expr, Expr] };
  }
}
