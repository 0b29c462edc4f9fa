/**
 * The packed f32 GEMM: B packed into k-major panels of 8 columns, A into k-major panels of
 * 4 rows, then a 4×8 register-blocked microkernel (8 f32x4 accumulators + 2 B vectors + 1
 * splatted A value: within V8's ~12 live vector registers). Measured here at ~60 GFLOP/s
 * per core for this tile (reference brief §6). Operands are read through their affine
 * strides while packing, so transposed operands cost nothing extra.
 */
import binaryen from "binaryen";
import type { Kernel } from "../lower/kernel-ir";
import type { ExprRef, FnBuilder } from "./builder";
import type { GenContext } from "./expr";

export const MR = 4;
export const NR = 8;

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
  Mp: number;
  Np: number;
}

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

function counted(b: FnBuilder, n: number, body: (i: () => ExprRef) => ExprRef): ExprRef {
  const m = b.m;
  const l = b.local(binaryen.i32);
  const get = () => m.local.get(l, binaryen.i32);
  const label = `G${l}`;
  if (n <= 0) return m.nop();
  return m.block(null, [
    m.local.set(l, m.i32.const(0)),
    m.loop(label, m.block(null, [body(get), m.local.set(l, m.i32.add(get(), m.i32.const(1))), m.br(label, m.i32.lt_s(get(), m.i32.const(n)))])),
  ]);
}

export function genGemm(ctx: GenContext, k: Kernel & { kind: "matmul" }, g: GemmPlan, scratch: { aPack: number; bPack: number; cPad: number | null }): ExprRef {
  const b = ctx.b;
  const m = b.m;
  const off = (id: number) => ctx.buffers[id]!.offset;
  const aBase = off(k.a.buf) + k.a.map.offset * 4;
  const bBase = off(k.b.buf) + k.b.map.offset * 4;
  const apBase = off(scratch.aPack);
  const bpBase = off(scratch.bPack);
  const cBase = scratch.cPad !== null ? off(scratch.cPad) : off(k.out);
  const cStride = scratch.cPad !== null ? g.Np : g.N;
  const { M, N, K, Mp, Np } = g;
  const i32 = (v: number) => m.i32.const(v);
  const mul = (a: ExprRef, c: number) => (c === 1 ? a : m.i32.mul(a, i32(c)));
  const add = (a: ExprRef, c: ExprRef) => m.i32.add(a, c);
  const batchLoop = (body: (bi: () => ExprRef) => ExprRef) => (g.batch === 1 ? body(() => i32(0)) : counted(b, g.batch, body));
  return batchLoop((bi) => {
    const stmts: ExprRef[] = [];
    // Pack B: Bp[jp][k][jj] = B[k, jp*8+jj] (0 beyond N).
    stmts.push(
      counted(b, Np / NR, (jp) =>
        counted(b, K, (kk) =>
          m.block(
            null,
            globalThis.Array.from({ length: NR }, (_, jj) => {
              const col = add(mul(jp(), NR), i32(jj));
              const src = add(add(mul(bi(), g.bBatch), mul(kk(), g.bk)), mul(col, g.bn));
              const dst = add(mul(add(mul(jp(), K), kk()), NR), i32(jj));
              const val = m.if(m.i32.lt_s(add(mul(jp(), NR), i32(jj)), i32(N)), m.f32.load(bBase, 4, m.i32.shl(src, i32(2))), m.f32.const(0));
              return m.f32.store(bpBase, 4, m.i32.shl(dst, i32(2)), val);
            }),
          ),
        ),
      ),
    );
    // Pack A: Ap[ip][k][r] = A[ip*4+r, k] (0 beyond M).
    stmts.push(
      counted(b, Mp / MR, (ip) =>
        counted(b, K, (kk) =>
          m.block(
            null,
            globalThis.Array.from({ length: MR }, (_, r) => {
              const row = add(mul(ip(), MR), i32(r));
              const src = add(add(mul(bi(), g.aBatch), mul(row, g.am)), mul(kk(), g.ak));
              const dst = add(mul(add(mul(ip(), K), kk()), MR), i32(r));
              const val = m.if(m.i32.lt_s(add(mul(ip(), MR), i32(r)), i32(M)), m.f32.load(aBase, 4, m.i32.shl(src, i32(2))), m.f32.const(0));
              return m.f32.store(apBase, 4, m.i32.shl(dst, i32(2)), val);
            }),
          ),
        ),
      ),
    );
    // Microkernel over all (jp, ip) tiles.
    const acc = globalThis.Array.from({ length: MR * 2 }, () => b.local(binaryen.v128));
    const pa = b.local(binaryen.i32);
    const pb = b.local(binaryen.i32);
    const b0 = b.local(binaryen.v128);
    const b1 = b.local(binaryen.v128);
    const av = b.local(binaryen.v128);
    const get = (l: number, t = binaryen.v128) => m.local.get(l, t);
    const cBatch = scratch.cPad !== null ? 0 : M * N;
    stmts.push(
      counted(b, Np / NR, (jp) =>
        counted(b, Mp / MR, (ip) => {
          const body: ExprRef[] = acc.map((l) => m.local.set(l, m.v128.const(new globalThis.Array(16).fill(0) as number[])));
          body.push(m.local.set(pa, m.i32.shl(mul(ip(), K * MR), i32(2))));
          body.push(m.local.set(pb, m.i32.shl(mul(jp(), K * NR), i32(2))));
          const inner: ExprRef[] = [
            m.local.set(b0, m.v128.load(bpBase, 16, get(pb, binaryen.i32))),
            m.local.set(b1, m.v128.load(bpBase + 16, 16, get(pb, binaryen.i32))),
          ];
          for (let r = 0; r < MR; r++) {
            inner.push(m.local.set(av, m.v128.load32_splat(apBase + 4 * r, 4, get(pa, binaryen.i32))));
            inner.push(m.local.set(acc[2 * r]!, m.f32x4.add(get(acc[2 * r]!), m.f32x4.mul(get(av), get(b0)))));
            inner.push(m.local.set(acc[2 * r + 1]!, m.f32x4.add(get(acc[2 * r + 1]!), m.f32x4.mul(get(av), get(b1)))));
          }
          inner.push(m.local.set(pa, add(get(pa, binaryen.i32), i32(MR * 4))));
          inner.push(m.local.set(pb, add(get(pb, binaryen.i32), i32(NR * 4))));
          body.push(counted(b, K, () => m.block(null, inner)));
          for (let r = 0; r < MR; r++) {
            for (let h = 0; h < 2; h++) {
              // C[ip*4+r, jp*8+h*4 .. +4]
              const addr = m.i32.shl(add(add(mul(bi(), cBatch), mul(add(mul(ip(), MR), i32(r)), cStride)), add(mul(jp(), NR), i32(h * 4))), i32(2));
              body.push(m.v128.store(cBase, 4, addr, get(acc[2 * r + h]!)));
            }
          }
          return m.block(null, body);
        }),
      ),
    );
    // Copy the valid region out of the padded C.
    if (scratch.cPad !== null) {
      const outBase = off(k.out);
      stmts.push(
        counted(b, M, (i) =>
          counted(b, N, (j) =>
            m.f32.store(outBase, 4, m.i32.shl(add(add(mul(bi(), M * N), mul(i(), N)), j()), i32(2)), m.f32.load(cBase, 4, m.i32.shl(add(mul(i(), Np), j()), i32(2)))),
          ),
        ),
      );
    }
    return m.block(null, stmts);
  });
}
