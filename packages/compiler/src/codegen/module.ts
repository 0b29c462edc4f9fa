/**
 * Codegen: a planned kernel program → one WebAssembly module (Binaryen) that imports the
 * arena memory and exports `run`, which calls one function per kernel in order.
 */
import binaryen from "binaryen";
import type { Affine, Kernel, Program } from "../lower/kernel-ir";
import type { MemoryPlan } from "../memory/plan";
import { CompileError } from "../errors";
import { FnBuilder, type ExprRef } from "./builder";
import { byteAddr, genScalar, genVector, vectorizable, type GenContext, type LoopIndex } from "./expr";
import "./simd-math-registry";
import { genGemm } from "./gemm";

export interface CodegenResult {
  binary: Uint8Array;
  /** Binaryen's text of the module (for `wax ir --stage wat`), when asked for. */
  text?: string;
}

const PAGE = 65536;

const SAFE_PASSES = ["simplify-locals", "vacuum", "merge-blocks", "remove-unused-brs", "coalesce-locals", "vacuum"];

/** Nested counted loops over `shape`; `body(idx)` builds the innermost statement. */
function loopNest(b: FnBuilder, shape: readonly number[], body: (idx: LoopIndex) => ExprRef, from = 0): ExprRef {
  const m = b.m;
  const locals = shape.map(() => b.local(binaryen.i32));
  const idx: LoopIndex = { dims: locals.map((l) => () => m.local.get(l, binaryen.i32)) };
  let stmt = body(idx);
  for (let d = shape.length - 1; d >= from; d--) {
    const l = locals[d]!;
    const label = `L${l}`;
    stmt = m.block(null, [
      m.local.set(l, m.i32.const(0)),
      m.if(
        m.i32.lt_s(m.i32.const(0), m.i32.const(shape[d]!)),
        m.loop(label, m.block(null, [stmt, m.local.set(l, m.i32.add(m.local.get(l, binaryen.i32), m.i32.const(1))), m.br(label, m.i32.lt_s(m.local.get(l, binaryen.i32), m.i32.const(shape[d]!)))])),
      ),
    ]);
  }
  return stmt;
}

function storeScalar(ctx: GenContext, out: { buf: number; map: Affine }, idx: LoopIndex, value: ExprRef, isF: boolean): ExprRef {
  const m = ctx.b.m;
  const base = ctx.buffers[out.buf]!.offset;
  const addr = byteAddr(ctx, out.map, idx);
  return isF ? m.f32.store(base, 4, addr, value) : m.i32.store(base, 4, addr, value);
}

function genMap(ctx: GenContext, k: Kernel & { kind: "map" }): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  const shape = k.shape;
  if (shape.reduce((p, q) => p * q, 1) === 0) return m.nop();
  const isF = k.expr.dtype === "float32";
  if (shape.length === 0) return storeScalar(ctx, k.out, { dims: [] }, genScalar(ctx, k.expr, { dims: [] }), isF);
  const inner = shape.length - 1;
  const n = shape[inner]!;
  const canVector = n >= 4 && k.out.map.strides[inner] === 1 && vectorizable(k.expr, inner);
  if (!canVector) return loopNest(b, shape, (idx) => storeScalar(ctx, k.out, idx, genScalar(ctx, k.expr, idx), isF));
  // Outer dims as loops; the innermost dim as a vector loop plus a scalar tail.
  const outerShape = shape.slice(0, inner);
  return loopNest(b, outerShape, (outerIdx) => {
    const j = b.local(binaryen.i32);
    const idx: LoopIndex = { dims: [...outerIdx.dims.slice(0, inner), () => m.local.get(j, binaryen.i32)] };
    const base = ctx.buffers[k.out.buf]!.offset;
    let value = genVector(ctx, k.expr, idx, inner);
    if (k.expr.dtype === "bool") value = m.v128.and(value, m.i32x4.splat(m.i32.const(1)));
    const vecBody = m.v128.store(base, 4, byteAddr(ctx, k.out.map, idx), value);
    const scalarBody = storeScalar(ctx, k.out, idx, genScalar(ctx, k.expr, idx), isF);
    const vecEnd = n - (n % 4);
    const jGet = () => m.local.get(j, binaryen.i32);
    const vLabel = `V${j}`;
    const sLabel = `S${j}`;
    const stmts: ExprRef[] = [m.local.set(j, m.i32.const(0))];
    stmts.push(m.loop(vLabel, m.block(null, [vecBody, m.local.set(j, m.i32.add(jGet(), m.i32.const(4))), m.br(vLabel, m.i32.lt_s(jGet(), m.i32.const(vecEnd)))])));
    if (vecEnd < n) {
      stmts.push(m.loop(sLabel, m.block(null, [scalarBody, m.local.set(j, m.i32.add(jGet(), m.i32.const(1))), m.br(sLabel, m.i32.lt_s(jGet(), m.i32.const(n)))])));
    }
    return m.block(null, stmts);
  });
}

/** Multi-index over `shape` of a flat loop counter is avoided: loops are nested per dim. */
function genReduce(ctx: GenContext, k: Kernel & { kind: "reduce" }): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  const keep = k.shape.map((_, i) => i).filter((i) => !k.axes.includes(i));
  const outShape = keep.map((i) => k.shape[i]!);
  const inF = k.expr.dtype === "float32";
  const outBase = ctx.buffers[k.out]!.offset;
  const outMap: Affine = { strides: contiguousStrides(outShape), offset: 0, dyn: [] };
  const isArg = k.fn === "argmax" || k.fn === "argmin";
  // Accumulate float sums/products in f64 (as the interpreter does), max/min in the input type.
  const accType = inF ? (isArg || k.fn === "max" || k.fn === "min" ? binaryen.f32 : binaryen.f64) : binaryen.i32;
  const unsigned = k.expr.dtype === "uint32";
  return loopNest(b, outShape, (outIdx) => {
    const acc = b.local(accType);
    const best = isArg ? b.local(binaryen.i32) : -1;
    const counter = isArg ? b.local(binaryen.i32) : -1;
    const accGet = () => m.local.get(acc, accType);
    const init = (() => {
      if (k.fn === "sum") return accType === binaryen.f64 ? m.f64.const(0) : m.i32.const(0);
      if (k.fn === "prod") return accType === binaryen.f64 ? m.f64.const(1) : m.i32.const(1);
      const lowest = k.fn === "max" || k.fn === "argmax";
      if (inF) return m.f32.const(lowest ? -Infinity : Infinity);
      if (k.expr.dtype === "bool") return m.i32.const(lowest ? 0 : 1);
      if (unsigned) return m.i32.const(lowest ? 0 : -1);
      return m.i32.const(lowest ? -2147483648 : 2147483647);
    })();
    // Full input index: kept dims from the outer loops, reduced dims from inner loops.
    const redShape = k.axes.map((a) => k.shape[a]!);
    const inner = loopNest(b, redShape, (redIdx) => {
      const dims = k.shape.map((_, d) => {
        const ki = keep.indexOf(d);
        return ki >= 0 ? outIdx.dims[ki]! : redIdx.dims[k.axes.indexOf(d)]!;
      });
      const v = genScalar(ctx, k.expr, { dims });
      if (isArg) {
        const [sv, gv] = b.let(inF ? binaryen.f32 : binaryen.i32, v);
        const better = inF
          ? k.fn === "argmax"
            ? m.f32.gt(gv(), accGet())
            : m.f32.lt(gv(), accGet())
          : k.fn === "argmax"
            ? unsigned ? m.i32.gt_u(gv(), accGet()) : m.i32.gt_s(gv(), accGet())
            : unsigned ? m.i32.lt_u(gv(), accGet()) : m.i32.lt_s(gv(), accGet());
        // first element, or (best is not NaN and (v is NaN or v better)) — JAX: first NaN wins
        const cGet = () => m.local.get(counter, binaryen.i32);
        const take = inF
          ? m.i32.or(m.i32.eqz(cGet()), m.i32.and(m.f32.eq(accGet(), accGet()), m.i32.or(m.f32.ne(gv(), gv()), better)))
          : m.i32.or(m.i32.eqz(cGet()), better);
        return m.block(null, [
          sv,
          m.if(take, m.block(null, [m.local.set(acc, gv()), m.local.set(best, cGet())])),
          m.local.set(counter, m.i32.add(cGet(), m.i32.const(1))),
        ]);
      }
      let next: ExprRef;
      if (k.fn === "sum") next = accType === binaryen.f64 ? m.f64.add(accGet(), m.f64.promote(v)) : m.i32.add(accGet(), v);
      else if (k.fn === "prod") next = accType === binaryen.f64 ? m.f64.mul(accGet(), m.f64.promote(v)) : m.i32.mul(accGet(), v);
      else if (inF) next = k.fn === "max" ? m.f32.max(accGet(), v) : m.f32.min(accGet(), v);
      else {
        const [sv, gv] = b.let(binaryen.i32, v);
        const gt = unsigned ? m.i32.gt_u(gv(), accGet()) : m.i32.gt_s(gv(), accGet());
        const lt = unsigned ? m.i32.lt_u(gv(), accGet()) : m.i32.lt_s(gv(), accGet());
        return m.block(null, [sv, m.if(k.fn === "max" ? gt : lt, m.local.set(acc, gv()))]);
      }
      return m.local.set(acc, next);
    });
    const result = isArg ? m.local.get(best, binaryen.i32) : accType === binaryen.f64 ? m.f32.demote(accGet()) : accGet();
    const store = k.dtype === "float32" ? m.f32.store(outBase, 4, byteAddr(ctx, outMap, outIdx), result) : m.i32.store(outBase, 4, byteAddr(ctx, outMap, outIdx), result);
    const pre: ExprRef[] = [m.local.set(acc, init)];
    if (isArg) pre.push(m.local.set(best, m.i32.const(0)), m.local.set(counter, m.i32.const(0)));
    return m.block(null, [...pre, inner, store]);
  });
}

function genScan(ctx: GenContext, k: Kernel & { kind: "scan" }): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  const isF = k.dtype === "float32";
  const type = isF ? binaryen.f32 : binaryen.i32;
  const outBase = ctx.buffers[k.out]!.offset;
  const outMap: Affine = { strides: contiguousStrides(k.shape), offset: 0, dyn: [] };
  const others = k.shape.map((_, i) => i).filter((i) => i !== k.axis);
  const n = k.shape[k.axis]!;
  if (n === 0) return m.nop();
  return loopNest(b, others.map((i) => k.shape[i]!), (oIdx) => {
    const acc = b.local(type);
    const j = b.local(binaryen.i32);
    const pos = () => (k.reverse ? m.i32.sub(m.i32.const(n - 1), m.local.get(j, binaryen.i32)) : m.local.get(j, binaryen.i32));
    const dims = k.shape.map((_, d) => (d === k.axis ? pos : oIdx.dims[others.indexOf(d)]!));
    const idx = { dims };
    const v = genScalar(ctx, k.expr, idx);
    const sum = isF ? m.f32.add(m.local.get(acc, type), v) : m.i32.add(m.local.get(acc, type), v);
    const label = `C${j}`;
    const addr = byteAddr(ctx, outMap, idx);
    return m.block(null, [
      m.local.set(acc, isF ? m.f32.const(0) : m.i32.const(0)),
      m.local.set(j, m.i32.const(0)),
      m.loop(
        label,
        m.block(null, [
          m.local.set(acc, sum),
          isF ? m.f32.store(outBase, 4, addr, m.local.get(acc, type)) : m.i32.store(outBase, 4, addr, m.local.get(acc, type)),
          m.local.set(j, m.i32.add(m.local.get(j, binaryen.i32), m.i32.const(1))),
          m.br(label, m.i32.lt_s(m.local.get(j, binaryen.i32), m.i32.const(n))),
        ]),
      ),
    ]);
  });
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new globalThis.Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * Matmul, i-k-j order: each output row is zeroed, then for every k the row of B is scaled by
 * one element of A (splatted) and accumulated 4 lanes at a time when B's n dims are
 * contiguous. Output is contiguous `[batch..., m..., n...]`.
 */
function genMatmul(ctx: GenContext, k: Kernel & { kind: "matmul" }): ExprRef {
  const m = ctx.b.m;
  const b = ctx.b;
  if (k.dtype !== "float32" && k.dtype !== "int32" && k.dtype !== "uint32") throw new CompileError(`dot_general: dtype ${k.dtype} cannot be compiled`);
  const isF = k.dtype === "float32";
  const nb = k.batch.length;
  const nk = k.kDims.length;
  const nn = k.nDims.length;
  const N = k.nDims.reduce((p, q) => p * q, 1);
  const M = k.mDims.reduce((p, q) => p * q, 1);
  const K = k.kDims.reduce((p, q) => p * q, 1);
  const B = k.batch.reduce((p, q) => p * q, 1);
  const outBase = ctx.buffers[k.out]!.offset;
  if (B * M * N === 0) return m.nop();
  // B's n dims contiguous (so the row is one strided run with stride 1)?
  const bN = k.b.map.strides.slice(nb + nk);
  const nContig = bN.every((s, i) => s === (k.nDims.slice(i + 1).reduce((p, q) => p * q, 1)) || k.nDims[i] === 1);
  const vector = isF && nContig && N >= 4;
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
    const [setRow, row] = b.let(binaryen.i32, m.i32.shl(rowLin(), m.i32.const(2)));
    const j = b.local(binaryen.i32);
    const jGet = () => m.local.get(j, binaryen.i32);
    const zeroLabel = `Z${j}`;
    const zero = m.block(null, [
      m.local.set(j, m.i32.const(0)),
      m.loop(zeroLabel, m.block(null, [
        isF ? m.f32.store(outBase, 4, m.i32.add(row(), m.i32.shl(jGet(), m.i32.const(2))), m.f32.const(0)) : m.i32.store(outBase, 4, m.i32.add(row(), m.i32.shl(jGet(), m.i32.const(2))), m.i32.const(0)),
        m.local.set(j, m.i32.add(jGet(), m.i32.const(1))),
        m.br(zeroLabel, m.i32.lt_s(jGet(), m.i32.const(N))),
      ])),
    ]);
    const kLoop = loopNest(b, k.kDims, (kIdx) => {
      const aIdx: LoopIndex = { dims: [...bmIdx.dims, ...kIdx.dims] };
      const [setA, a] = b.let(isF ? binaryen.f32 : binaryen.i32, aGet(aIdx));
      if (vector) {
        const bRowIdx: LoopIndex = { dims: [...bmIdx.dims.slice(0, nb), ...kIdx.dims, ...k.nDims.map(() => () => m.i32.const(0))] };
        const [setBRow, bRow] = b.let(binaryen.i32, byteAddr(ctx, k.b.map, bRowIdx));
        const [setAv, av] = b.let(binaryen.v128, m.f32x4.splat(a()));
        const bBase = ctx.buffers[k.b.buf]!.offset;
        const jb = () => m.i32.shl(jGet(), m.i32.const(2));
        const vEnd = N - (N % 4);
        const vl = `MV${j}`;
        const sl = `MS${j}`;
        const stmts: ExprRef[] = [setA, setBRow, setAv, m.local.set(j, m.i32.const(0))];
        stmts.push(
          m.loop(vl, m.block(null, [
            m.v128.store(outBase, 4, m.i32.add(row(), jb()), m.f32x4.add(m.v128.load(outBase, 4, m.i32.add(row(), jb())), m.f32x4.mul(av(), m.v128.load(bBase, 4, m.i32.add(bRow(), jb()))))),
            m.local.set(j, m.i32.add(jGet(), m.i32.const(4))),
            m.br(vl, m.i32.lt_s(jGet(), m.i32.const(vEnd))),
          ])),
        );
        if (vEnd < N) {
          stmts.push(
            m.loop(sl, m.block(null, [
              m.f32.store(outBase, 4, m.i32.add(row(), jb()), m.f32.add(m.f32.load(outBase, 4, m.i32.add(row(), jb())), m.f32.mul(a(), m.f32.load(bBase, 4, m.i32.add(bRow(), jb()))))),
              m.local.set(j, m.i32.add(jGet(), m.i32.const(1))),
              m.br(sl, m.i32.lt_s(jGet(), m.i32.const(N))),
            ])),
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
    return m.block(null, [setRow, zero, K > 0 ? kLoop : m.nop()]);
  });
}

export function codegen(prog: Program, plan: MemoryPlan, opts: { text?: boolean; name?: string } = {}): CodegenResult {
  const m = new binaryen.Module();
  try {
    m.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.NontrappingFPToInt);
    const pages = Math.max(1, Math.ceil(plan.arenaBytes / PAGE));
    m.setMemory(pages, pages, null);
    m.addMemoryImport("0", "env", "memory");
    const imports = new Map<string, number>();
    const calls: ExprRef[] = [];
    prog.kernels.forEach((k, i) => {
      const b = new FnBuilder(m, 0);
      const ctx: GenContext = { b, buffers: prog.buffers, imports };
      let body: ExprRef;
      switch (k.kind) {
        case "map":
          body = genMap(ctx, k);
          break;
        case "reduce":
          body = genReduce(ctx, k);
          break;
        case "scan":
          body = genScan(ctx, k);
          break;
        case "matmul":
          body = k.gemm ? genGemm(ctx, k, k.gemm.plan, k.gemm) : genMatmul(ctx, k);
          break;
      }
      m.addFunction(`k${i}`, binaryen.none, binaryen.none, b.vars, body);
      calls.push(m.call(`k${i}`, [], binaryen.none));
    });
    for (const [name, arity] of imports) {
      m.addFunctionImport(`host_${name}`, "env", name, binaryen.createType(globalThis.Array(arity).fill(binaryen.f64)), binaryen.f64);
    }
    m.addFunction("run", binaryen.none, binaryen.none, [], m.block(null, calls.length ? calls : [m.nop()]));
    m.addFunctionExport("run", "run");
    if (!m.validate()) {
      throw new CompileError(`${opts.name ?? "fn"}: Binaryen rejected the generated module — this is a wax bug; please report it with the jaxpr`);
    }
    // Binaryen v132's -O1 pipeline (its coalesce-locals + reorder-locals pair) gives i32x4
    // shifts an i32 local in threefry's rotations; this subset cleans up our code safely
    // (TurboFan does the rest: Binaryen's optimizer brings no kernel speed here).
    m.runPasses(SAFE_PASSES);
    const binary = m.emitBinary();
    return { binary, text: opts.text ? m.emitText() : undefined };
  } finally {
    m.dispose();
  }
}

