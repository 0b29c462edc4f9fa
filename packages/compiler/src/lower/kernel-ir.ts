/**
 * The kernel IR: what a jaxpr becomes after fusion. Every value a kernel reads or writes is
 * an arena buffer seen through an affine index map, so broadcasts, transposes, slices and
 * (contiguous) reshapes cost no copy. Elementwise chains are expression trees evaluated in
 * one loop. Structured control flow (`for`, `while`, `switch`) nests kernel lists, all in the
 * same buffer space; the memory plan is separate data (`memory/plan.ts`).
 */
export type KDType = "float32" | "int32" | "uint32" | "bool";

/** A runtime index read from an int32 scalar buffer, clamped to `[0, max]`, times `stride`. */
export interface DynTerm {
  buf: number;
  /** Element offset of the index within its buffer. */
  elem: number;
  /**
   * Strides of the index's position in `buf` per loop dim (a gather/scatter index, one per
   * loop element: read at `elem + Σ i[d]·istrides[d]`); absent for one index for the whole loop.
   */
  istrides?: number[];
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

/** Elementwise unary operations of expressions. */
export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "log1p"
  | "expm1"
  | "sin"
  | "cos"
  | "tan"
  | "tanh"
  | "logistic"
  | "sqrt"
  | "rsqrt"
  | "abs"
  | "sign"
  | "floor"
  | "ceil"
  | "round_even"
  | "round_away"
  | "erf"
  | "erf_inv"
  | "not"
  | "square";
/** Elementwise binary operations of expressions (comparisons give bools). */
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "rem"
  | "pow"
  | "max"
  | "min"
  | "atan2"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "and"
  | "or"
  | "xor"
  | "shl"
  | "shr_u"
  | "shr_s";

/** An elementwise expression over a loop's index space; leaves read buffers through affine maps. */
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

/** Where a kernel writes: a buffer through an affine map over the kernel's loop. */
export interface Target {
  buf: number;
  map: Affine;
}

/**
 * A matmul as one merged `[batch] × M × K @ K × N` problem with the strides of each operand,
 * for the packed GEMM (decided by `gemm-plan.ts`).
 */
export interface GemmPlan {
  M: number;
  N: number;
  K: number;
  /** Element strides of A over (m, k), B over (k, n); batch strides of A, B and C. */
  am: number;
  ak: number;
  bk: number;
  bn: number;
  batch: number;
  aBatch: number;
  bBatch: number;
  /** M and N rounded up to whole microkernel tiles. */
  Mp: number;
  Np: number;
}

/** A scalar element of a buffer (a loop predicate, a branch index). */
export interface Scalar {
  buf: number;
  elem: number;
}

/**
 * Structured control flow over nested kernel lists (one Wasm `loop` / `block` / `if` each;
 * nothing is unrolled, so the module's size does not depend on trip counts).
 */
export type ControlKernel =
  /**
   * `trips` iterations of `body`. Before each, the iteration's index (`trips − 1 − i` when
   * `reverse`) is stored to the int32 scalar buffer `counter`, where the body's dynamic index
   * terms read it (scan slices of `xs` and `ys`).
   */
  | { kind: "for"; trips: number; reverse: boolean; counter: number; body: Kernel[]; label: string }
  /** `loop { cond; if (!pred) break; body }`: `cond` computes the bool scalar `pred`. */
  | { kind: "while"; cond: Kernel[]; pred: Scalar; body: Kernel[]; label: string }
  /** Runs `branches[clamp(index, 0, branches.length − 1)]` (int32 `index`, as `lax.switch`). */
  | { kind: "switch"; index: Scalar; branches: Kernel[][]; label: string };

/** Any kernel: a loop nest over buffers (a leaf) or a control-flow node. */
export type Kernel = LeafKernel | ControlKernel;

/** A kernel that is one loop nest over buffers (one Wasm function). */
export type LeafKernel =
  /** Elementwise loop over `shape`: `out[i] = expr(i)`. */
  | { kind: "map"; shape: number[]; out: Target; expr: Expr; label: string }
  /**
   * Reduction of `expr` (over `shape`) along `axes` into a contiguous buffer over the kept dims,
   * then (if present) the elementwise `epilogue` evaluated at each output element as soon as it
   * is stored (see `Epilogue`).
   */
  | {
      kind: "reduce";
      shape: number[];
      axes: number[];
      fn: "sum" | "max" | "min" | "prod" | "argmax" | "argmin";
      expr: Expr;
      out: number;
      dtype: KDType;
      label: string;
      epilogue?: Epilogue;
    }
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
      gemm?: { plan: GemmPlan; aPack: number; bPack: number; tile: number };
      /**
       * A fused elementwise consumer of the product. With an epilogue, `out` is scratch (one
       * C tile on the GEMM path, one output row otherwise) and only the epilogue's target is
       * written in full.
       */
      epilogue?: Epilogue;
    }
  | SortKernel;

/**
 * Sorting along `dimension` of `shape` (`sort`, `top_k`; built by `lower/sort.ts`). For each
 * line, the operands are evaluated once into `scratch`, an index permutation is merge-sorted
 * (stable) by the first `numKeys` operands, and the first `outLen` positions of the permuted
 * operands (then, with `withIndices`, the permutation as int32) are written to `out`, block
 * `j` holding output `j` contiguously over `shape` with `dimension` cut to `outLen`.
 * `order` is `sort`'s (JAX's float order: ±0 equal, NaNs last) or `top_k`'s (XLA's total
 * order, largest first).
 */
export interface SortKernel {
  kind: "sort";
  shape: number[];
  dimension: number;
  operands: Expr[];
  numKeys: number;
  order: "ascending" | "top_k";
  outLen: number;
  withIndices: boolean;
  out: number;
  /** `(operands + numKeys + 2) · shape[dimension]` elements: one line's values, keys and two permutations. */
  scratch: number;
  label: string;
}

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

/** A buffer of the program: its size, role and element type (where it lives is the memory plan's). */
export interface BufferInfo {
  readonly id: number;
  /** Elements (4 bytes each). */
  readonly size: number;
  readonly kind: "input" | "output" | "const" | "temp";
  readonly dtype: KDType;
  /** Constant data (little-endian 4-byte elements). */
  readonly data?: Uint8Array;
}

/** What lowering hands on: buffers and the kernel tree that reads and writes them. */
export interface Program {
  readonly buffers: readonly BufferInfo[];
  readonly kernels: readonly Kernel[];
  /** Buffer ids of the inputs, in order. */
  readonly inputs: readonly number[];
  /** Output buffer ids and shapes, in order. */
  readonly outputs: readonly { buf: number; shape: number[]; dtype: KDType }[];
  readonly inputShapes: readonly number[][];
}

/** The row-major map of `shape` from `offset` (stride 0 on size-1 dims, so it also broadcasts). */
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

/** Whether the dynamic index terms of `map` are the same all along loop dim `d`. */
export function dynUniform(map: Affine, d: number): boolean {
  return map.dyn.every((t) => !t.istrides || t.istrides[d] === 0);
}

/** Whether `e` reads through an index that varies with the loop position (a gather). */
export function hasLoopIndex(e: Expr): boolean {
  if ((e.op === "load" || e.op === "index") && e.map.dyn.some((t) => t.istrides)) return true;
  return exprChildren(e).some(hasLoopIndex);
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

// ---- buffer access --------------------------------------------------------------------------

/** Adds every buffer `e` reads (loads and dynamic index terms) to `out`. */
export function exprBuffers(e: Expr, out: Set<number>): void {
  if (e.op === "load") out.add(e.buf);
  if (e.op === "load" || e.op === "index") for (const d of e.map.dyn) out.add(d.buf);
  for (const c of exprChildren(e)) exprBuffers(c, out);
}

/** Buffers a leaf kernel reads (scratch it uses counts as read) and the one it writes. */
export function kernelBuffers(k: LeafKernel): { reads: Set<number>; write: number } {
  const reads = new Set<number>();
  switch (k.kind) {
    case "map":
      exprBuffers(k.expr, reads);
      for (const d of k.out.map.dyn) reads.add(d.buf);
      return { reads, write: k.out.buf };
    case "scan":
      exprBuffers(k.expr, reads);
      return { reads, write: k.out };
    case "sort":
      for (const e of k.operands) exprBuffers(e, reads);
      reads.add(k.scratch);
      return { reads, write: k.out };
    case "reduce":
    case "matmul": {
      if (k.kind === "reduce") exprBuffers(k.expr, reads);
      else {
        reads.add(k.a.buf);
        reads.add(k.b.buf);
        for (const d of [...k.a.map.dyn, ...k.b.map.dyn]) reads.add(d.buf);
        if (k.gemm) for (const b of [k.gemm.aPack, k.gemm.bPack, k.gemm.tile]) reads.add(b);
      }
      if (!k.epilogue) return { reads, write: k.out };
      // The producer's own buffer is scratch (or an intermediate) live only in this kernel.
      reads.add(k.out);
      exprBuffers(k.epilogue.expr, reads);
      for (const d of k.epilogue.out.map.dyn) reads.add(d.buf);
      return { reads, write: k.epilogue.out.buf };
    }
  }
}

/** Whether `k` is a control-flow node (its kernels nest). */
export function isControl(k: Kernel): k is ControlKernel {
  return k.kind === "for" || k.kind === "while" || k.kind === "switch";
}

/** The kernel lists nested in a control-flow node, in execution order. */
export function regionsOf(k: ControlKernel): readonly (readonly Kernel[])[] {
  switch (k.kind) {
    case "for":
      return [k.body];
    case "while":
      return [k.cond, k.body];
    case "switch":
      return k.branches;
  }
}

/** Buffers the node itself touches (not its nested kernels): loop counter, predicate, branch index. */
export function controlBuffers(k: ControlKernel): { reads: Set<number>; writes: Set<number> } {
  switch (k.kind) {
    case "for":
      return { reads: new Set(), writes: new Set([k.counter]) };
    case "while":
      return { reads: new Set([k.pred.buf]), writes: new Set() };
    case "switch":
      return { reads: new Set([k.index.buf]), writes: new Set() };
  }
}

/** Every buffer a kernel (with everything nested in it) reads, and every buffer it writes. */
export function kernelAccess(k: Kernel): { reads: Set<number>; writes: Set<number> } {
  if (!isControl(k)) {
    const { reads, write } = kernelBuffers(k);
    return { reads, writes: new Set([write]) };
  }
  const { reads, writes } = controlBuffers(k);
  for (const region of regionsOf(k)) {
    for (const inner of region) {
      const a = kernelAccess(inner);
      for (const r of a.reads) reads.add(r);
      for (const w of a.writes) writes.add(w);
    }
  }
  return { reads, writes };
}

function renameAffine(m: Affine, f: (buf: number) => number): Affine {
  return m.dyn.length === 0 ? m : { ...m, dyn: m.dyn.map((d) => ({ ...d, buf: f(d.buf) })) };
}

function renameExpr(e: Expr, f: (buf: number) => number): Expr {
  return mapLeaves(e, (leaf) =>
    leaf.op === "load" ? { ...leaf, buf: f(leaf.buf), map: renameAffine(leaf.map, f) } : { ...leaf, map: renameAffine(leaf.map, f) },
  );
}

const renameTarget = (t: Target, f: (buf: number) => number): Target => ({ buf: f(t.buf), map: renameAffine(t.map, f) });

/** `k` with every buffer id `b` it refers to (nested kernels included) replaced by `f(b)`. */
export function renameBuffers(k: Kernel, f: (buf: number) => number): Kernel {
  const epilogue = (ep: Epilogue | undefined) => (ep ? { expr: renameExpr(ep.expr, f), out: renameTarget(ep.out, f) } : undefined);
  switch (k.kind) {
    case "map":
      return { ...k, out: renameTarget(k.out, f), expr: renameExpr(k.expr, f) };
    case "scan":
      return { ...k, out: f(k.out), expr: renameExpr(k.expr, f) };
    case "sort":
      return { ...k, out: f(k.out), scratch: f(k.scratch), operands: k.operands.map((e) => renameExpr(e, f)) };
    case "reduce":
      return { ...k, out: f(k.out), expr: renameExpr(k.expr, f), epilogue: epilogue(k.epilogue) };
    case "matmul":
      return {
        ...k,
        a: renameTarget(k.a, f),
        b: renameTarget(k.b, f),
        out: f(k.out),
        gemm: k.gemm ? { ...k.gemm, aPack: f(k.gemm.aPack), bPack: f(k.gemm.bPack), tile: f(k.gemm.tile) } : undefined,
        epilogue: epilogue(k.epilogue),
      };
    case "for":
      return { ...k, counter: f(k.counter), body: k.body.map((q) => renameBuffers(q, f)) };
    case "while":
      return {
        ...k,
        pred: { ...k.pred, buf: f(k.pred.buf) },
        cond: k.cond.map((q) => renameBuffers(q, f)),
        body: k.body.map((q) => renameBuffers(q, f)),
      };
    case "switch":
      return { ...k, index: { ...k.index, buf: f(k.index.buf) }, branches: k.branches.map((br) => br.map((q) => renameBuffers(q, f))) };
  }
}
