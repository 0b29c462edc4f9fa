/** `dot_general`: contraction with batch dimensions (matmul, batched matmul, dot, einsum). */
import { Aval, shapeSize, stridesOf } from "../aval";
import { allocate, isFloat, type TypedArray } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { definePrimitive, type ParamValue } from "../primitive";
import { checkDTypeClass } from "./checks";
import { affineGather } from "./structural";

export type { DotDimensionNumbers } from "../catalogue";

function freeDims(ndim: number, used: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < ndim; i++) if (!used.includes(i)) out.push(i);
  return out;
}

const listStr = (xs: readonly number[]) => `[${xs.join(", ")}]`;

export const dotGeneral = definePrimitive("dot_general", {
  abstractEval([a, b], params) {
    const [[lc, rc], [lb, rb]] = params.dimension_numbers;
    checkDTypeClass("dot_general", a!, "numeric", "lhs");
    if (a!.dtype !== b!.dtype) {
      throw new DTypeError(`dot_general: operand dtypes differ (${a} and ${b}) — convert one with astype`);
    }
    const checkList = (dims: readonly number[], x: Aval, which: string) => {
      const seen = new Set<number>();
      for (const d of dims) {
        if (!Number.isInteger(d) || d < 0 || d >= x.ndim || seen.has(d)) {
          throw new ShapeError(
            `dot_general: ${which} dimensions ${listStr(dims)} are invalid for ${x} (rank ${x.ndim}) — use distinct axes in [0, ${x.ndim})`,
          );
        }
        seen.add(d);
      }
    };
    checkList([...lc, ...lb], a!, "lhs contracting/batch");
    checkList([...rc, ...rb], b!, "rhs contracting/batch");
    if (lc.length !== rc.length) {
      throw new ShapeError(
        `dot_general: lhs contracts ${listStr(lc)} but rhs contracts ${listStr(rc)} — give the same number of contracting dimensions`,
      );
    }
    if (lb.length !== rb.length) {
      throw new ShapeError(
        `dot_general: lhs batch dims ${listStr(lb)} and rhs batch dims ${listStr(rb)} differ in number — pair each lhs batch dimension with one rhs batch dimension`,
      );
    }
    lc.forEach((d, i) => {
      const e = rc[i]!;
      if (a!.shape[d] !== b!.shape[e]) {
        throw new ShapeError(
          `dot_general: contracting dimension ${d} of ${a} (${a!.shape[d]}) does not match dimension ${e} of ${b} (${b!.shape[e]}) — transpose or reshape an operand so the contracted sizes agree`,
        );
      }
    });
    lb.forEach((d, i) => {
      const e = rb[i]!;
      if (a!.shape[d] !== b!.shape[e]) {
        throw new ShapeError(
          `dot_general: batch dimension ${d} of ${a} (${a!.shape[d]}) does not match batch dimension ${e} of ${b} (${b!.shape[e]}) — batch dimensions must have equal sizes`,
        );
      }
    });
    const shape = [
      ...lb.map((d) => a!.shape[d]!),
      ...freeDims(a!.ndim, [...lc, ...lb]).map((d) => a!.shape[d]!),
      ...freeDims(b!.ndim, [...rc, ...rb]).map((d) => b!.shape[d]!),
    ];
    const dtype = params.preferred_element_type ?? a!.dtype;
    return [new Aval(shape, dtype, a!.weakType && b!.weakType)];
  },
  impl([a, b], params, [out]) {
    const [[lc, rc], [lb, rb]] = params.dimension_numbers;
    const lf = freeDims(a!.ndim, [...lc, ...lb]);
    const rf = freeDims(b!.ndim, [...rc, ...rb]);
    const B = shapeSize(lb.map((d) => a!.shape[d]!));
    const M = shapeSize(lf.map((d) => a!.shape[d]!));
    const N = shapeSize(rf.map((d) => b!.shape[d]!));
    const K = shapeSize(lc.map((d) => a!.shape[d]!));
    // Bring lhs to [B, M, K] and rhs to [B, K, N] (contiguous), then accumulate in float64.
    const canon = (x: typeof a, order: number[]): TypedArray => {
      const s = stridesOf(x!.shape);
      return affineGather(
        x!.data,
        order.map((d) => x!.shape[d]!),
        order.map((d) => s[d]!),
        0,
        x!.dtype,
      );
    };
    const A = canon(a, [...lb, ...lf, ...lc]);
    const Bm = canon(b, [...rb, ...rc, ...rf]);
    const res = allocate(out!.dtype, out!.size);
    if (!isFloat(out!.dtype)) {
      // Integer products and sums wrap at 32 bits, as the compiled code and XLA do.
      for (let bi = 0; bi < B; bi++) {
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc = (acc + Math.imul(A[bi * M * K + i * K + k]!, Bm[bi * K * N + k * N + j]!)) | 0;
            res[bi * M * N + i * N + j] = acc;
          }
        }
      }
      return [res];
    }
    const acc = new Float64Array(N);
    for (let bi = 0; bi < B; bi++) {
      for (let i = 0; i < M; i++) {
        acc.fill(0);
        const aRow = bi * M * K + i * K;
        for (let k = 0; k < K; k++) {
          const av = A[aRow + k]!;
          const bRow = bi * K * N + k * N;
          for (let j = 0; j < N; j++) acc[j]! += av * Bm[bRow + j]!;
        }
        const o = bi * M * N + i * N;
        for (let j = 0; j < N; j++) res[o + j] = acc[j]!;
      }
    }
    return [res];
  },
  ppParams: (p) => {
    const [[lc, rc], [lb, rb]] = p.dimension_numbers;
    const dn = `((${listStr(lc)}, ${listStr(rc)}), (${listStr(lb)}, ${listStr(rb)}))`;
    const out: [string, ParamValue][] = [["dimension_numbers", dn]];
    if (p.precision != null) out.push(["precision", p.precision]);
    out.push(["preferred_element_type", p.preferred_element_type ?? null]);
    return out;
  },
});
