/**
 * The packed GEMM's plan, decided at lowering: whether a matmul takes the packed path (and
 * the merged problem it solves), and how a fused epilogue reads in the GEMM's 4×8 tile index
 * space. Lowering and epilogue fusion decide with these; `codegen/gemm.ts` emits the code.
 */
import { mapLeaves, type Affine, type Epilogue, type Expr, type GemmPlan, type LeafKernel } from "./kernel-ir";

export type { GemmPlan } from "./kernel-ir";

/** Rows of the microkernel's register tile. */
export const MR = 4;
/** Columns of the microkernel's register tile (two f32x4). */
export const NR = 8;

type MatmulKernel = LeafKernel & { kind: "matmul" };

/** Strides of a single merged dim over `dims` (sizes) with `strides`, or null if not mergeable. */
export function mergeDims(sizes: readonly number[], strides: readonly number[]): number | null {
  let stride: number | null = null;
  let expect: number | null = null;
  for (let i = sizes.length - 1; i >= 0; i--) {
    if (sizes[i] === 1) continue;
    if (expect !== null && strides[i] !== expect) return null;
    if (stride === null) stride = strides[i]!;
    expect = strides[i]! * sizes[i]!;
  }
  return stride ?? 0;
}

/**
 * Whether a matmul takes the packed GEMM path: f32, big enough for packing to pay, and each
 * of m, n, k (and batch) a single merged dim for both operands.
 */
export function gemmPlan(k: MatmulKernel): GemmPlan | null {
  const M = k.mDims.reduce((p, q) => p * q, 1);
  const N = k.nDims.reduce((p, q) => p * q, 1);
  const K = k.kDims.reduce((p, q) => p * q, 1);
  const B = k.batch.reduce((p, q) => p * q, 1);
  if (M * N * K < 32 * 32 * 32 || N < NR || M < MR || k.a.map.dyn.length || k.b.map.dyn.length) return null;
  const nb = k.batch.length;
  const nm = k.mDims.length;
  const nk = k.kDims.length;
  const as = k.a.map.strides;
  const bs = k.b.map.strides;
  const aBatch = mergeDims(k.batch, as.slice(0, nb));
  const am = mergeDims(k.mDims, as.slice(nb, nb + nm));
  const ak = mergeDims(k.kDims, as.slice(nb + nm));
  const bBatch = mergeDims(k.batch, bs.slice(0, nb));
  const bk = mergeDims(k.kDims, bs.slice(nb, nb + nk));
  const bn = mergeDims(k.nDims, bs.slice(nb + nk));
  if (aBatch === null || am === null || ak === null || bBatch === null || bk === null || bn === null) return null;
  return { M, N, K, am, ak, bk, bn, batch: B, aBatch, bBatch, Mp: Math.ceil(M / MR) * MR, Np: Math.ceil(N / NR) * NR };
}

/**
 * The epilogue in the GEMM's tile index space `[batch, ip, r, jp, c]` (row = ip·4 + r,
 * column = jp·8 + c), reading the product from the scratch `tile`; the identity epilogue
 * (store to `out`) when the kernel has none. Null when a map of the epilogue cannot be
 * expressed over the merged (batch, m, n) dims.
 */
export function tileEpilogue(k: MatmulKernel, g: Pick<GemmPlan, "M" | "N">, tile: number): Epilogue | null {
  const nb = k.batch.length;
  const nm = k.mDims.length;
  const tileLoad: Expr = { op: "load", buf: tile, map: { strides: [0, 0, NR, 0, 1], offset: 0, dyn: [] }, dtype: "float32" };
  if (!k.epilogue) return { expr: tileLoad, out: { buf: k.out, map: { strides: [g.M * g.N, MR * g.N, g.N, NR, 1], offset: 0, dyn: [] } } };
  const to5 = (map: Affine): Affine | null => {
    const s = map.strides;
    const sb = mergeDims(k.batch, s.slice(0, nb));
    const sm = mergeDims(k.mDims, s.slice(nb, nb + nm));
    const sn = mergeDims(k.nDims, s.slice(nb + nm));
    if (sb === null || sm === null || sn === null) return null;
    return { strides: [sb, MR * sm, sm, NR * sn, sn], offset: map.offset, dyn: map.dyn };
  };
  let ok = true;
  const expr = mapLeaves(k.epilogue.expr, (leaf) => {
    if (leaf.op === "load" && leaf.buf === k.out) return tileLoad;
    const map = to5(leaf.map);
    if (!map) ok = false;
    return map ? { ...leaf, map } : leaf;
  });
  const outMap = to5(k.epilogue.out.map);
  return ok && outMap ? { expr, out: { buf: k.epilogue.out.buf, map: outMap } } : null;
}
