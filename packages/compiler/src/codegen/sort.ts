/**
 * The `sort` kernel (see `SortKernel`): for each line along the sorted dimension,
 *
 * 1. every operand is evaluated once into the scratch line (raw 4-byte values), the keys are
 *    turned into int32 integers whose integer order is the sort order, and the permutation
 *    is set to the identity;
 * 2. the permutation is sorted by a bottom-up merge sort (stable: on equal keys the left run
 *    wins) that ping-pongs between two index arrays, O(n log n) comparisons;
 * 3. the operands are copied out through the permutation (as raw bits, so NaN payloads and
 *    `-0` survive), followed by the permutation itself for `top_k`'s indices.
 *
 * Keys as integers: floats become `bits ^ 0x7fffffff` when negative (then signed order is
 * XLA's total order); `sort` first makes `±0` one key and every NaN the largest key (JAX's
 * `_canonicalize_float_for_sort`), `top_k` complements the key so that ascending order is
 * largest first. uint32 keys compare unsigned, the others signed.
 */
import binaryen from "binaryen";
import type { KDType, SortKernel } from "../lower/kernel-ir";
import type { ExprRef, GenContext, LoopIndex } from "./builder";
import { byteAddr, genScalar } from "./expr";
import { contiguousStrides, countedLoop, loopNest } from "./loops";

let labels = 0;

export function genSort(ctx: GenContext, k: SortKernel): ExprRef {
  const b = ctx.b;
  const m = b.m;
  const i32 = binaryen.i32;
  const n = k.shape[k.dimension]!;
  const nOps = k.operands.length;
  const others = k.shape.map((_, d) => d).filter((d) => d !== k.dimension);
  if (n === 0 || k.outLen === 0 || others.some((d) => k.shape[d] === 0)) return m.nop();

  const c = (v: number) => m.i32.const(v);
  const get = (l: number) => m.local.get(l, i32);
  const set = (l: number, v: ExprRef) => m.local.set(l, v);
  const times4 = (v: ExprRef) => m.i32.shl(v, c(2));
  // Byte offsets of the scratch line's parts.
  const scratch = ctx.offsets[k.scratch]!;
  const valsAt = (op: number) => scratch + op * n * 4;
  const keysAt = (key: number) => scratch + (nOps + key) * n * 4;
  const permA = scratch + (nOps + k.numKeys) * n * 4;
  const permB = permA + n * 4;
  const outShape = k.shape.map((d, i) => (i === k.dimension ? k.outLen : d));
  const outStrides = contiguousStrides(outShape);
  const block = outShape.reduce((p, q) => p * q, 1);
  const unsigned = k.operands.slice(0, k.numKeys).map((e) => e.dtype === "uint32");

  /** The integer key of the raw bits `raw` of a value of `dtype`. */
  const keyOf = (raw: ExprRef, dtype: KDType): ExprRef => {
    if (dtype !== "float32") return k.order === "top_k" ? m.i32.xor(raw, c(-1)) : raw;
    const [setS, s] = b.let(i32, raw);
    const ordered = m.select(m.i32.lt_s(s(), c(0)), m.i32.xor(s(), c(0x7fffffff)), s());
    const [setMag, mag] = b.let(i32, m.i32.and(s(), c(0x7fffffff)));
    // top_k: every NaN ranks as +NaN (the sign of a computed NaN is unspecified in Wasm).
    if (k.order === "top_k")
      return m.block(null, [setS, setMag, m.i32.xor(m.select(m.i32.gt_u(mag(), c(0x7f800000)), c(0x7fc00000), ordered), c(-1))], i32);
    const canonical = m.select(m.i32.gt_u(mag(), c(0x7f800000)), c(0x7fc00000), m.select(m.i32.eqz(mag()), c(0), ordered));
    return m.block(null, [setS, setMag, canonical], i32);
  };

  /** Whether position `p` sorts strictly before position `q` (lexicographic on the keys). */
  const less = (p: ExprRef, q: ExprRef): ExprRef => {
    const [setP, gp] = b.let(i32, p);
    const [setQ, gq] = b.let(i32, q);
    const sets = [setP, setQ];
    const pairs = unsigned.map((u, key) => {
      const [sa, a] = b.let(i32, m.i32.load(keysAt(key), 4, times4(gp())));
      const [sb, bb] = b.let(i32, m.i32.load(keysAt(key), 4, times4(gq())));
      sets.push(sa, sb);
      return { lt: u ? m.i32.lt_u(a(), bb()) : m.i32.lt_s(a(), bb()), eq: () => m.i32.eq(a(), bb()) };
    });
    let res = pairs[pairs.length - 1]!.lt;
    for (let key = pairs.length - 2; key >= 0; key--) res = m.i32.or(pairs[key]!.lt, m.i32.and(pairs[key]!.eq(), res));
    return m.block(null, [...sets, res], i32);
  };

  return loopNest(
    b,
    others.map((d) => k.shape[d]!),
    (outer) => {
      const at = (pos: () => ExprRef): LoopIndex => ({
        dims: k.shape.map((_, d) => (d === k.dimension ? pos : outer.dims[others.indexOf(d)]!)),
      });
      const [j, q, p, width, lo, mid, hi, i, r, w, src, dst, t] = globalThis.Array.from({ length: 13 }, () => b.local(i32));

      // 1. the line's values, keys and the identity permutation
      const fill: ExprRef[] = k.operands.map((e, op) => {
        const v = genScalar(
          ctx,
          e,
          at(() => get(j!)),
        );
        return e.dtype === "float32" ? m.f32.store(valsAt(op), 4, times4(get(j!)), v) : m.i32.store(valsAt(op), 4, times4(get(j!)), v);
      });
      for (let key = 0; key < k.numKeys; key++) {
        fill.push(m.i32.store(keysAt(key), 4, times4(get(j!)), keyOf(m.i32.load(valsAt(key), 4, times4(get(j!))), k.operands[key]!.dtype)));
      }
      fill.push(m.i32.store(permA, 4, times4(get(j!)), get(j!)));

      // 2. bottom-up merge sort of the permutation: runs of `width` merged from src into dst
      const id = labels++;
      const [done, widths, runs, merge] = [`sdone${id}`, `swidth${id}`, `sruns${id}`, `smerge${id}`];
      const srcAt = (x: number) => m.i32.load(0, 4, m.i32.add(get(src!), times4(get(x))));
      const min = (x: ExprRef, y: () => ExprRef) => {
        const [sx, gx] = b.let(i32, x);
        return m.block(null, [sx, m.select(m.i32.lt_s(gx(), y()), gx(), y())], i32);
      };
      const takeLeft = m.if(
        m.i32.ge_s(get(r!), get(hi!)),
        c(1),
        m.if(m.i32.ge_s(get(i!), get(mid!)), c(0), m.i32.eqz(less(srcAt(r!), srcAt(i!)))),
      );
      const store = (from: number) => m.i32.store(0, 4, m.i32.add(get(dst!), times4(get(w!))), srcAt(from));
      const mergeStep = m.block(null, [
        m.if(
          takeLeft,
          m.block(null, [store(i!), set(i!, m.i32.add(get(i!), c(1)))]),
          m.block(null, [store(r!), set(r!, m.i32.add(get(r!), c(1)))]),
        ),
        set(w!, m.i32.add(get(w!), c(1))),
        m.br(merge, m.i32.lt_s(get(w!), get(hi!))),
      ]);
      const runStep = m.block(null, [
        set(
          mid!,
          min(m.i32.add(get(lo!), get(width!)), () => c(n)),
        ),
        set(
          hi!,
          min(m.i32.add(get(lo!), m.i32.shl(get(width!), c(1))), () => c(n)),
        ),
        set(i!, get(lo!)),
        set(r!, get(mid!)),
        set(w!, get(lo!)),
        m.loop(merge, mergeStep),
        set(lo!, m.i32.add(get(lo!), m.i32.shl(get(width!), c(1)))),
        m.br(runs, m.i32.lt_s(get(lo!), c(n))),
      ]);
      const mergeSort = m.block(null, [
        set(width!, c(1)),
        set(src!, c(permA)),
        set(dst!, c(permB)),
        m.block(done, [
          m.loop(
            widths,
            m.block(null, [
              m.br(done, m.i32.ge_s(get(width!), c(n))),
              set(lo!, c(0)),
              m.loop(runs, runStep),
              set(t!, get(src!)),
              set(src!, get(dst!)),
              set(dst!, get(t!)),
              set(width!, m.i32.shl(get(width!), c(1))),
              m.br(widths),
            ]),
          ),
        ]),
      ]);

      // 3. the first outLen positions of every operand through the permutation (then the indices)
      const outIdx = at(() => get(q!));
      const write: ExprRef[] = [set(p!, srcAt(q!))];
      k.operands.forEach((_, op) => {
        const addr = byteAddr(ctx, { strides: outStrides, offset: op * block, dyn: [] }, outIdx);
        write.push(m.i32.store(ctx.offsets[k.out]!, 4, addr, m.i32.load(valsAt(op), 4, times4(get(p!)))));
      });
      if (k.withIndices)
        write.push(
          m.i32.store(ctx.offsets[k.out]!, 4, byteAddr(ctx, { strides: outStrides, offset: nOps * block, dyn: [] }, outIdx), get(p!)),
        );

      return m.block(null, [
        countedLoop(b, j!, 0, n, 1, m.block(null, fill)),
        mergeSort,
        countedLoop(b, q!, 0, k.outLen, 1, m.block(null, write)),
      ]);
    },
  );
}
