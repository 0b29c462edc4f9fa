/**
 * The unpacked matmul for small or irregular problems (the packed GEMM is `gemm.ts`), with its
 * fused epilogue applied row by row while the row is still in cache.
 */
import binaryen from "binaryen";
import { contiguous, mapLeaves, type LeafKernel } from "../lower/kernel-ir";
import { CompileError } from "../errors";
import type { ExprRef, GenContext, LoopIndex } from "./builder";
import { byteAddr, genScalar } from "./expr";
import { countedLoop, elementwise, loopNest } from "./loops";

/**
 * Matmul, i-k-j order: each output row is zeroed, then for every k the row of B is scaled by
 * one element of A (splatted) and accumulated 4 lanes at a time when B's n dims are
 * contiguous. Output is contiguous `[batch..., m..., n...]`; with an epilogue, `out` holds one
 * row, which the epilogue reads and writes to its target before the next row.
 */
export function genMatmul(ctx: GenContext, k: LeafKernel & { kind: "matmul" }): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  if (k.dtype !== "float32" && k.dtype !== "int32" && k.dtype !== "uint32")
    throw new CompileError(`dot_general: dtype ${k.dtype} cannot be compiled`);
  const isF = k.dtype === "float32";
  const nb = k.batch.length;
  const nk = k.kDims.length;
  const nn = k.nDims.length;
  const N = k.nDims.reduce((p, q) => p * q, 1);
  const M = k.mDims.reduce((p, q) => p * q, 1);
  const K = k.kDims.reduce((p, q) => p * q, 1);
  const B = k.batch.reduce((p, q) => p * q, 1);
  const outBase = ctx.offsets[k.out]!;
  if (B * M * N === 0) return m.nop();
  // B's n dims contiguous (so the row is one strided run with stride 1)?
  const bN = k.b.map.strides.slice(nb + nk);
  const nContig = bN.every((s, i) => s === k.nDims.slice(i + 1).reduce((p, q) => p * q, 1) || k.nDims[i] === 1);
  const vector = isF && nContig && N >= 4;
  // Both operands contiguous along one k dim (e.g. dh @ Wᵀ in a backward pass): dot products
  // 4 lanes at a time along k instead of scalar multiply-adds with strided B reads.
  const dot = isF && !vector && nk === 1 && k.a.map.strides[nb + k.mDims.length] === 1 && k.b.map.strides[nb] === 1 && K >= 8;
  // The epilogue reads the product from the one-row scratch: stride 0 over the batch and m dims.
  const rowStrides = [...k.batch.map(() => 0), ...k.mDims.map(() => 0), ...contiguous(k.nDims).strides];
  const rowEpilogue = k.epilogue
    ? mapLeaves(k.epilogue.expr, (leaf) =>
        leaf.op === "load" && leaf.buf === k.out ? { ...leaf, map: { strides: rowStrides, offset: 0, dyn: [] } } : leaf,
      )
    : null!;
  const aGet = (idx: LoopIndex) => genScalar(ctx, { op: "load", buf: k.a.buf, map: k.a.map, dtype: k.dtype }, idx);
  return loopNest(b, [...k.batch, ...k.mDims], (bmIdx) => {
    // Output row base (elements): contiguous over [batch, m, n].
    const rowStride = N;
    const rowLin = () => {
      let e: ExprRef = m.i32.const(0);
      const dimsBM = [...k.batch, ...k.mDims];
      let stride = rowStride;
      for (let d = dimsBM.length - 1; d >= 0; d--) {
        e = m.i32.add(e, m.i32.mul(bmIdx.dims[d]!(), m.i32.const(stride)));
        stride *= dimsBM[d]!;
      }
      return e;
    };
    const [setRow, row] = b.let(binaryen.i32, k.epilogue ? m.i32.const(0) : m.i32.shl(rowLin(), m.i32.const(2)));
    if (dot || (isF && nContig && N <= REGISTER_ROW)) {
      const rowStmts = [setRow, dot ? dotRow(ctx, k, bmIdx, row) : registerRow(ctx, k, bmIdx, row)];
      if (k.epilogue) rowStmts.push(elementwise(ctx, [...k.batch, ...k.mDims, ...k.nDims], bmIdx, rowEpilogue, k.epilogue.out));
      return m.block(null, rowStmts);
    }
    const j = b.local(binaryen.i32);
    const jGet = () => m.local.get(j, binaryen.i32);
    const zeroLabel = `Z${j}`;
    const zero = m.block(null, [
      m.local.set(j, m.i32.const(0)),
      m.loop(
        zeroLabel,
        m.block(null, [
          isF
            ? m.f32.store(outBase, 4, m.i32.add(row(), m.i32.shl(jGet(), m.i32.const(2))), m.f32.const(0))
            : m.i32.store(outBase, 4, m.i32.add(row(), m.i32.shl(jGet(), m.i32.const(2))), m.i32.const(0)),
          m.local.set(j, m.i32.add(jGet(), m.i32.const(1))),
          m.br(zeroLabel, m.i32.lt_s(jGet(), m.i32.const(N))),
        ]),
      ),
    ]);
    const kLoop = loopNest(b, k.kDims, (kIdx) => {
      const aIdx: LoopIndex = { dims: [...bmIdx.dims, ...kIdx.dims] };
      const [setA, a] = b.let(isF ? binaryen.f32 : binaryen.i32, aGet(aIdx));
      if (vector) {
        const bRowIdx: LoopIndex = { dims: [...bmIdx.dims.slice(0, nb), ...kIdx.dims, ...k.nDims.map(() => () => m.i32.const(0))] };
        const [setBRow, bRow] = b.let(binaryen.i32, byteAddr(ctx, k.b.map, bRowIdx));
        const [setAv, av] = b.let(binaryen.v128, m.f32x4.splat(a()));
        const bBase = ctx.offsets[k.b.buf]!;
        const jb = () => m.i32.shl(jGet(), m.i32.const(2));
        const vEnd = N - (N % 4);
        const vl = `MV${j}`;
        const sl = `MS${j}`;
        const stmts: ExprRef[] = [setA, setBRow, setAv, m.local.set(j, m.i32.const(0))];
        stmts.push(
          m.loop(
            vl,
            m.block(null, [
              m.v128.store(
                outBase,
                4,
                m.i32.add(row(), jb()),
                m.f32x4.add(
                  m.v128.load(outBase, 4, m.i32.add(row(), jb())),
                  m.f32x4.mul(av(), m.v128.load(bBase, 4, m.i32.add(bRow(), jb()))),
                ),
              ),
              m.local.set(j, m.i32.add(jGet(), m.i32.const(4))),
              m.br(vl, m.i32.lt_s(jGet(), m.i32.const(vEnd))),
            ]),
          ),
        );
        if (vEnd < N) {
          stmts.push(
            m.loop(
              sl,
              m.block(null, [
                m.f32.store(
                  outBase,
                  4,
                  m.i32.add(row(), jb()),
                  m.f32.add(m.f32.load(outBase, 4, m.i32.add(row(), jb())), m.f32.mul(a(), m.f32.load(bBase, 4, m.i32.add(bRow(), jb())))),
                ),
                m.local.set(j, m.i32.add(jGet(), m.i32.const(1))),
                m.br(sl, m.i32.lt_s(jGet(), m.i32.const(N))),
              ]),
            ),
          );
        }
        return m.block(null, stmts);
      }
      // Scalar: loop over the n dims with full affine addressing of B.
      const nLoop = loopNest(b, k.nDims, (nIdx) => {
        const bIdx: LoopIndex = { dims: [...bmIdx.dims.slice(0, nb), ...kIdx.dims, ...nIdx.dims] };
        const bv = genScalar(ctx, { op: "load", buf: k.b.buf, map: k.b.map, dtype: k.dtype }, bIdx);
        let nLin: ExprRef = m.i32.const(0);
        let stride = 1;
        for (let d = nn - 1; d >= 0; d--) {
          nLin = m.i32.add(nLin, m.i32.mul(nIdx.dims[d]!(), m.i32.const(stride)));
          stride *= k.nDims[d]!;
        }
        // Binaryen expressions form a tree: the address goes through a local to be used twice.
        const [setAddr, addr] = b.let(binaryen.i32, m.i32.add(row(), m.i32.shl(nLin, m.i32.const(2))));
        return m.block(null, [
          setAddr,
          isF
            ? m.f32.store(outBase, 4, addr(), m.f32.add(m.f32.load(outBase, 4, addr()), m.f32.mul(a(), bv)))
            : m.i32.store(outBase, 4, addr(), m.i32.add(m.i32.load(outBase, 4, addr()), m.i32.mul(a(), bv))),
        ]);
      });
      return m.block(null, [setA, nLoop]);
    });
    const stmts = [setRow, zero, K > 0 ? kLoop : m.nop()];
    if (k.epilogue) stmts.push(elementwise(ctx, [...k.batch, ...k.mDims, ...k.nDims], bmIdx, rowEpilogue, k.epilogue.out));
    return m.block(null, stmts);
  });
}

/** Rows up to this many columns are accumulated in registers (≤ 2 chunks of 8 vectors). */
const REGISTER_ROW = 64;

/**
 * One output row accumulated in registers: chunks of up to 8 f32x4 accumulators over
 * contiguous columns of B, each updated once per k with a splatted element of A (no
 * load/store of the row per k), then the N mod 4 tail columns as scalar sums.
 */
function registerRow(ctx: GenContext, k: LeafKernel & { kind: "matmul" }, bmIdx: LoopIndex, row: () => ExprRef): ExprRef {
  const b = ctx.b;
  const m = b.m;
  const nb = k.batch.length;
  const N = k.nDims.reduce((p, q) => p * q, 1);
  const vEnd = N - (N % 4);
  const bBase = ctx.offsets[k.b.buf]!;
  const outBase = ctx.offsets[k.out]!;
  const aLoad = (kIdx: LoopIndex) =>
    genScalar(ctx, { op: "load", buf: k.a.buf, map: k.a.map, dtype: "float32" }, { dims: [...bmIdx.dims, ...kIdx.dims] });
  const bRowAddr = (kIdx: LoopIndex) =>
    byteAddr(ctx, k.b.map, { dims: [...bmIdx.dims.slice(0, nb), ...kIdx.dims, ...k.nDims.map(() => () => m.i32.const(0))] });
  const stmts: ExprRef[] = [];
  for (let c0 = 0; c0 < vEnd; c0 += 32) {
    const nv = Math.min(8, (vEnd - c0) / 4);
    const acc = globalThis.Array.from({ length: nv }, () => b.local(binaryen.v128));
    stmts.push(...acc.map((l) => m.local.set(l, m.v128.const(new globalThis.Array(16).fill(0) as number[]))));
    stmts.push(
      loopNest(b, k.kDims, (kIdx) => {
        const [setAv, av] = b.let(binaryen.v128, m.f32x4.splat(aLoad(kIdx)));
        const [setRowB, rowB] = b.let(binaryen.i32, bRowAddr(kIdx));
        return m.block(null, [
          setAv,
          setRowB,
          ...acc.map((l, v) =>
            m.local.set(l, m.f32x4.add(m.local.get(l, binaryen.v128), m.f32x4.mul(av(), m.v128.load(bBase + 4 * (c0 + 4 * v), 4, rowB())))),
          ),
        ]);
      }),
    );
    stmts.push(...acc.map((l, v) => m.v128.store(outBase + 4 * (c0 + 4 * v), 4, row(), m.local.get(l, binaryen.v128))));
  }
  for (let col = vEnd; col < N; col++) {
    const acc = b.local(binaryen.f32);
    stmts.push(m.local.set(acc, m.f32.const(0)));
    stmts.push(
      loopNest(b, k.kDims, (kIdx) =>
        m.local.set(acc, m.f32.add(m.local.get(acc, binaryen.f32), m.f32.mul(aLoad(kIdx), m.f32.load(bBase + 4 * col, 4, bRowAddr(kIdx))))),
      ),
    );
    stmts.push(m.f32.store(outBase + 4 * col, 4, row(), m.local.get(acc, binaryen.f32)));
  }
  return m.block(null, stmts);
}

/** One output row by dot products along k (both operands contiguous along it), 4 lanes at a time. */
function dotRow(ctx: GenContext, k: LeafKernel & { kind: "matmul" }, bmIdx: LoopIndex, row: () => ExprRef): ExprRef {
  const b = ctx.b;
  const m = b.m;
  const nb = k.batch.length;
  const K = k.kDims[0]!;
  const K4 = K - (K % 4);
  const aBase = ctx.offsets[k.a.buf]!;
  const bBase = ctx.offsets[k.b.buf]!;
  const outBase = ctx.offsets[k.out]!;
  const zero = () => m.i32.const(0);
  return loopNest(b, k.nDims, (nIdx) => {
    const [setPa, pa] = b.let(binaryen.i32, byteAddr(ctx, k.a.map, { dims: [...bmIdx.dims, zero] }));
    const [setPb, pb] = b.let(binaryen.i32, byteAddr(ctx, k.b.map, { dims: [...bmIdx.dims.slice(0, nb), zero, ...nIdx.dims] }));
    const acc = b.local(binaryen.v128);
    const tail = b.local(binaryen.f32);
    const kk = b.local(binaryen.i32);
    const off = () => m.i32.shl(m.local.get(kk, binaryen.i32), m.i32.const(2));
    const vec = countedLoop(
      b,
      kk,
      0,
      K4,
      4,
      m.local.set(
        acc,
        m.f32x4.add(
          m.local.get(acc, binaryen.v128),
          m.f32x4.mul(m.v128.load(aBase, 4, m.i32.add(pa(), off())), m.v128.load(bBase, 4, m.i32.add(pb(), off()))),
        ),
      ),
    );
    const stmts: ExprRef[] = [
      setPa,
      setPb,
      m.local.set(acc, m.v128.const(new globalThis.Array(16).fill(0) as number[])),
      m.local.set(tail, m.f32.const(0)),
      vec,
    ];
    if (K4 < K) {
      stmts.push(
        countedLoop(
          b,
          kk,
          K4,
          K,
          1,
          m.local.set(
            tail,
            m.f32.add(
              m.local.get(tail, binaryen.f32),
              m.f32.mul(m.f32.load(aBase, 4, m.i32.add(pa(), off())), m.f32.load(bBase, 4, m.i32.add(pb(), off()))),
            ),
          ),
        ),
      );
    }
    const lane = (i: number) => m.f32x4.extract_lane(m.local.get(acc, binaryen.v128), i);
    const sum = m.f32.add(m.f32.add(m.f32.add(lane(0), lane(1)), m.f32.add(lane(2), lane(3))), m.local.get(tail, binaryen.f32));
    let nLin: ExprRef = m.i32.const(0);
    let stride = 1;
    for (let d = k.nDims.length - 1; d >= 0; d--) {
      nLin = m.i32.add(nLin, m.i32.mul(nIdx.dims[d]!(), m.i32.const(stride)));
      stride *= k.nDims[d]!;
    }
    stmts.push(m.f32.store(outBase, 4, m.i32.add(row(), m.i32.shl(nLin, m.i32.const(2))), sum));
    return m.block(null, stmts);
  });
}
