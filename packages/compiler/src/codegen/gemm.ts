/**
 * The packed f32 GEMM: B packed into k-major panels of 8 columns, A into k-major panels of
 * 4 rows, then a 4×8 register-blocked microkernel (8 f32x4 accumulators + 2 B vectors + 1
 * splatted A value: within V8's ~12 live vector registers). Measured here at ~60 GFLOP/s
 * per core for this tile (reference brief §6).
 *
 * Packing reads operands through their affine strides, so transposed operands cost no
 * separate transpose: a panel contiguous along its width is copied 4 lanes at a time, one
 * contiguous along k is transposed in registers 4×4 at a time (8 shuffles per 16 elements),
 * anything else element by element. Each finished 4×8 tile goes through a 32-float scratch
 * tile to the (fused) epilogue, which writes the output: no padded C and no copy-out pass.
 * Skinny products (one side ≥ 8× the other) pack the larger side one panel at a time, just
 * before its tiles, so its packed copy never leaves L1.
 * With relaxed SIMD the multiply-add is one `f32x4.relaxed_madd` (an FMA where the engine
 * has one); it is emitted only when asked (see `relaxedSimdAvailable` in `@wax/runtime`).
 */
import binaryen from "binaryen";
import type { Epilogue, LeafKernel } from "../lower/kernel-ir";
import { MR, NR, tileEpilogue, type GemmPlan } from "../lower/gemm-plan";
import type { ExprRef, FnBuilder, GenContext, LoopIndex } from "./builder";
import { CompileError } from "../errors";
import { countedLoop, storeLanes } from "./loops";

type MatmulKernel = LeafKernel & { kind: "matmul" };

/** `x·y + acc` as `f32x4.relaxed_madd` (binaryen.js wraps no relaxed op: its C API does). */
function relaxedMadd(m: binaryen.Module, x: ExprRef, y: ExprRef, acc: ExprRef): ExprRef {
  const api = binaryen as unknown as { _BinaryenSIMDTernary(module: number, op: number, a: ExprRef, b: ExprRef, c: ExprRef): ExprRef };
  return api._BinaryenSIMDTernary(m.ptr, binaryen.RelaxedMaddVecF32x4, x, y, acc);
}

function counted(b: FnBuilder, n: number, body: (i: () => ExprRef) => ExprRef, step = 1): ExprRef {
  const m = b.m;
  const l = b.local(binaryen.i32);
  if (n <= 0) return m.nop();
  return countedLoop(
    b,
    l,
    0,
    n,
    step,
    body(() => m.local.get(l, binaryen.i32)),
  );
}

/** Byte indices of an `i8x16.shuffle` picking f32 lanes (0-3 from the left, 4-7 from the right). */
const lanes = (...l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);

/** Transposes 4 vectors (rows) into 4 vectors (columns). */
function transpose4(b: FnBuilder, rows: (() => ExprRef)[]): (() => ExprRef)[] {
  const m = b.m;
  const sets: ExprRef[] = [];
  const bind = (v: ExprRef) => {
    const [s, g] = b.let(binaryen.v128, v);
    sets.push(s);
    return g;
  };
  const [r0, r1, r2, r3] = rows.map((r) => bind(r())) as [() => ExprRef, () => ExprRef, () => ExprRef, () => ExprRef];
  const t0 = bind(m.i8x16.shuffle(r0(), r1(), lanes(0, 4, 1, 5)));
  const t1 = bind(m.i8x16.shuffle(r2(), r3(), lanes(0, 4, 1, 5)));
  const t2 = bind(m.i8x16.shuffle(r0(), r1(), lanes(2, 6, 3, 7)));
  const t3 = bind(m.i8x16.shuffle(r2(), r3(), lanes(2, 6, 3, 7)));
  const cols = [
    m.i8x16.shuffle(t0(), t1(), lanes(0, 1, 4, 5)),
    m.i8x16.shuffle(t0(), t1(), lanes(2, 3, 6, 7)),
    m.i8x16.shuffle(t2(), t3(), lanes(0, 1, 4, 5)),
    m.i8x16.shuffle(t2(), t3(), lanes(2, 3, 6, 7)),
  ];
  // The shuffles of t0..t3 are emitted with the first column; later columns read the locals.
  const first = m.block(null, [...sets, cols[0]!], binaryen.v128);
  return [() => first, () => cols[1]!, () => cols[2]!, () => cols[3]!];
}

/**
 * Packs `src[w, k]` (w along the panel width, `W` wide; `extent` valid, zeros beyond) into
 * `dst[p][k][w]` for panels p = 0 .. ⌈extent/W⌉ − 1. Source element (w, k) of batch `bi`
 * is at `srcBase + 4·(bi·sBatch + w·sw + k·sk)` bytes.
 */
function pack(
  b: FnBuilder,
  o: { W: number; extent: number; K: number; sw: number; sk: number; sBatch: number; srcBase: number; dstBase: number; bi: () => ExprRef },
): ExprRef {
  const m = b.m;
  const { W, extent, K, sw, sk } = o;
  const i32 = (v: number) => m.i32.const(v);
  const mul = (a: ExprRef, c: number) => (c === 0 ? i32(0) : c === 1 ? a : m.i32.mul(a, i32(c)));
  const add = (...xs: ExprRef[]) => xs.reduce((a, c) => m.i32.add(a, c));
  /** Byte offset (without srcBase) of source (w, k). */
  const srcAt = (w: ExprRef, kk: ExprRef) => m.i32.shl(add(mul(o.bi(), o.sBatch), mul(w, sw), mul(kk, sk)), i32(2));
  /** Byte offset (without dstBase) of packed (p, k, w). */
  const dstAt = (p: ExprRef, kk: ExprRef, w: number) => m.i32.shl(add(mul(add(mul(p, K), kk), W), i32(w)), i32(2));
  const full = Math.floor(extent / W);
  const stmts: ExprRef[] = [];
  /** Element by element over panels [p0, p0 + count), lanes at or beyond `extent` zero. */
  const scalar = (p0: number, count: number, k0: number, k1: number): ExprRef =>
    counted(b, count, (pi) =>
      counted(b, k1 - k0, (ki) => {
        const p = add(pi(), i32(p0));
        const kk = add(ki(), i32(k0));
        return m.block(
          null,
          globalThis.Array.from({ length: W }, (_, w) => {
            const inRange = count > 1 || p0 * W + w < extent;
            const val = inRange ? m.f32.load(o.srcBase, 4, srcAt(add(mul(p, W), i32(w)), kk)) : m.f32.const(0);
            return m.f32.store(o.dstBase, 4, dstAt(p, kk, w), val);
          }),
        );
      }),
    );
  if (full > 0 && sw === 1) {
    // Contiguous along the width: 4 lanes per load.
    stmts.push(
      counted(b, full, (p) =>
        counted(b, K, (kk) =>
          m.block(
            null,
            globalThis.Array.from({ length: W / 4 }, (_, q) =>
              m.v128.store(o.dstBase, 4, dstAt(p(), kk(), 4 * q), m.v128.load(o.srcBase, 4, srcAt(add(mul(p(), W), i32(4 * q)), kk()))),
            ),
          ),
        ),
      ),
    );
  } else if (full > 0 && sk === 1 && K >= 4) {
    // Contiguous along k: 4×4 blocks transposed in registers, then the k tail element-wise.
    const K4 = K - (K % 4);
    stmts.push(
      counted(b, full, (p) =>
        counted(
          b,
          K4,
          (kk) =>
            m.block(
              null,
              globalThis.Array.from({ length: W / 4 }, (_, q) => {
                const rows = [0, 1, 2, 3].map((t) => () => m.v128.load(o.srcBase, 4, srcAt(add(mul(p(), W), i32(4 * q + t)), kk())));
                const cols = transpose4(b, rows);
                return m.block(
                  null,
                  cols.map((c, t) => m.v128.store(o.dstBase, 4, dstAt(p(), add(kk(), i32(t)), 4 * q), c())),
                );
              }),
            ),
          4,
        ),
      ),
    );
    if (K4 < K) stmts.push(scalar(0, full, K4, K));
  } else if (full > 0) {
    stmts.push(scalar(0, full, 0, K));
  }
  if (full * W < extent) stmts.push(scalar(full, 1, 0, K));
  return m.block(null, stmts);
}

/** The packed GEMM of a matmul kernel (see the module comment), its epilogue in the tile store. */
export function genGemm(
  ctx: GenContext,
  k: MatmulKernel,
  g: GemmPlan,
  scratch: { aPack: number; bPack: number; tile: number },
  opts: { relaxedSimd?: boolean } = {},
): ExprRef {
  const b = ctx.b;
  const m = b.m;
  const off = (id: number) => ctx.offsets[id]!;
  const apBase = off(scratch.aPack);
  const bpBase = off(scratch.bPack);
  const tileBase = off(scratch.tile);
  const { M, N, K, Mp, Np } = g;
  const epilogue = tileEpilogue(k, g, scratch.tile);
  if (!epilogue)
    throw new CompileError(
      "dot_general: internal error: the fused epilogue's index maps do not merge to (batch, m, n) — fuseEpilogues should have kept it apart",
    );
  const i32 = (v: number) => m.i32.const(v);
  const mul = (a: ExprRef, c: number) => (c === 1 ? a : m.i32.mul(a, i32(c)));
  const add = (a: ExprRef, c: ExprRef) => m.i32.add(a, c);
  const madd = (acc: ExprRef, x: ExprRef, y: ExprRef): ExprRef =>
    opts.relaxedSimd ? relaxedMadd(m, x, y, acc) : m.f32x4.add(acc, m.f32x4.mul(x, y));
  const batchLoop = (body: (bi: () => ExprRef) => ExprRef) => (g.batch === 1 ? body(() => i32(0)) : counted(b, g.batch, body));
  return batchLoop((bi) => {
    const stmts: ExprRef[] = [];
    // Skinny products (one side ≥ 8× the other, such as a conv's im2col GEMMs): the larger
    // operand's panel loop outside, each of its panels packed just before use (it stays in
    // L1 across the inner loop) instead of megabytes of packed panels written and re-read;
    // the smaller operand packed whole up front. Otherwise both are packed up front.
    const skinny = Mp >= 8 * Np || Np >= 8 * Mp;
    const outerM = skinny && Mp > Np;
    const perPanel = skinny;
    const aOp = {
      W: MR,
      extent: M,
      K,
      sw: g.am,
      sk: g.ak,
      sBatch: g.aBatch,
      srcBase: off(k.a.buf) + k.a.map.offset * 4,
      dstBase: apBase,
      bi,
    };
    const bOp = {
      W: NR,
      extent: N,
      K,
      sw: g.bn,
      sk: g.bk,
      sBatch: g.bBatch,
      srcBase: off(k.b.buf) + k.b.map.offset * 4,
      dstBase: bpBase,
      bi,
    };
    if (!perPanel || outerM) stmts.push(pack(b, bOp));
    if (!perPanel || !outerM) stmts.push(pack(b, aOp));
    /** Packs panel `q` of `op` alone at the start of its packed buffer. */
    const packPanel = (op: typeof aOp, q: () => ExprRef): ExprRef => {
      const at = () => m.i32.add(mul(bi(), op.sBatch), mul(q(), op.W * op.sw));
      const one = (extent: number) => pack(b, { ...op, extent, sBatch: 1, bi: at });
      const full = Math.floor(op.extent / op.W);
      if (op.extent % op.W === 0) return one(op.W);
      if (full === 0) return one(op.extent % op.W);
      return m.if(m.i32.lt_s(q(), i32(full)), one(op.W), one(op.extent % op.W));
    };
    // Microkernel over all (jp, ip) tiles.
    const acc = globalThis.Array.from({ length: MR * 2 }, () => b.local(binaryen.v128));
    const pa = b.local(binaryen.i32);
    const pb = b.local(binaryen.i32);
    const b0 = b.local(binaryen.v128);
    const b1 = b.local(binaryen.v128);
    const av = b.local(binaryen.v128);
    const r = b.local(binaryen.i32);
    const c = b.local(binaryen.i32);
    const get = (l: number, t = binaryen.v128) => m.local.get(l, t);
    const tiles = (body: (ip: () => ExprRef, jp: () => ExprRef) => ExprRef): ExprRef =>
      !perPanel
        ? counted(b, Np / NR, (jp) => counted(b, Mp / MR, (ip) => body(ip, jp)))
        : outerM
          ? counted(b, Mp / MR, (ip) => m.block(null, [packPanel(aOp, ip), counted(b, Np / NR, (jp) => body(ip, jp))]))
          : counted(b, Np / NR, (jp) => m.block(null, [packPanel(bOp, jp), counted(b, Mp / MR, (ip) => body(ip, jp))]));
    stmts.push(
      tiles((ip, jp) => {
        const body: ExprRef[] = acc.map((l) => m.local.set(l, m.v128.const(new globalThis.Array(16).fill(0) as number[])));
        body.push(m.local.set(pa, perPanel && outerM ? i32(0) : m.i32.shl(mul(ip(), K * MR), i32(2))));
        body.push(m.local.set(pb, perPanel && !outerM ? i32(0) : m.i32.shl(mul(jp(), K * NR), i32(2))));
        const inner: ExprRef[] = [
          m.local.set(b0, m.v128.load(bpBase, 16, get(pb, binaryen.i32))),
          m.local.set(b1, m.v128.load(bpBase + 16, 16, get(pb, binaryen.i32))),
        ];
        for (let rr = 0; rr < MR; rr++) {
          inner.push(m.local.set(av, m.v128.load32_splat(apBase + 4 * rr, 4, get(pa, binaryen.i32))));
          inner.push(m.local.set(acc[2 * rr]!, madd(get(acc[2 * rr]!), get(av), get(b0))));
          inner.push(m.local.set(acc[2 * rr + 1]!, madd(get(acc[2 * rr + 1]!), get(av), get(b1))));
        }
        inner.push(m.local.set(pa, add(get(pa, binaryen.i32), i32(MR * 4))));
        inner.push(m.local.set(pb, add(get(pb, binaryen.i32), i32(NR * 4))));
        // Not unrolled over k: unrolling by 2 or 4 (constant load offsets, fewer pointer
        // updates) measured 35-45% slower here.
        body.push(counted(b, K, () => m.block(null, inner)));
        // The tile goes through scratch memory to the epilogue (locals cannot be indexed by r).
        for (let rr = 0; rr < MR; rr++)
          for (let h = 0; h < 2; h++) body.push(m.v128.store(tileBase + 4 * (rr * NR + h * 4), 16, i32(0), get(acc[2 * rr + h]!)));
        body.push(tileStore(ctx, epilogue, { dims: [bi, ip, () => get(r, binaryen.i32), jp, () => get(c, binaryen.i32)] }, { M, N, r, c }));
        return m.block(null, body);
      }),
    );
    return m.block(null, stmts);
  });
}

/** The epilogue over one 4×8 tile: rows beyond M skipped, columns beyond N masked. */
function tileStore(ctx: GenContext, ep: Epilogue, idx: LoopIndex, o: { M: number; N: number; r: number; c: number }): ExprRef {
  const b = ctx.b;
  const m = b.m;
  const [, ip, rGet, jp, cGet] = idx.dims as [() => ExprRef, () => ExprRef, () => ExprRef, () => ExprRef, () => ExprRef];
  const i32 = (v: number) => m.i32.const(v);
  const col = () => m.i32.add(m.i32.shl(jp(), i32(3)), cGet());
  let quad: ExprRef;
  if (o.N % NR === 0) quad = storeLanes(ctx, ep.expr, ep.out, idx, 4, 4);
  else if (o.N % 4 === 0) quad = m.if(m.i32.lt_s(col(), i32(o.N)), storeLanes(ctx, ep.expr, ep.out, idx, 4, 4));
  else {
    const l = b.local(binaryen.i32);
    const laneIdx: LoopIndex = { dims: idx.dims.map((d, i) => (i === 4 ? () => m.i32.add(cGet(), m.local.get(l, binaryen.i32)) : d)) };
    const tail = countedLoop(
      b,
      l,
      0,
      4,
      1,
      m.if(m.i32.lt_s(m.i32.add(col(), m.local.get(l, binaryen.i32)), i32(o.N)), storeLanes(ctx, ep.expr, ep.out, laneIdx, 4, 1)),
    );
    quad = m.if(m.i32.le_s(m.i32.add(col(), i32(4)), i32(o.N)), storeLanes(ctx, ep.expr, ep.out, idx, 4, 4), tail);
  }
  let row = countedLoop(b, o.c, 0, NR, 4, quad);
  if (o.M % MR !== 0) row = m.if(m.i32.lt_s(m.i32.add(m.i32.shl(ip(), i32(2)), rGet()), i32(o.M)), row);
  return countedLoop(b, o.r, 0, MR, 1, row);
}
