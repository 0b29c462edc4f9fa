/**
 * Lowering of `sort` and `top_k`: one `sort` kernel each (see `SortKernel`), writing all its
 * outputs into one buffer, block after block; each output is a view of its block. Operands
 * stay expressions, evaluated once per element into the kernel's scratch line, so a sort of
 * random bits (a shuffle) computes its bits inside the sort kernel.
 */
import { contiguous, type SortKernel } from "./kernel-ir";
import { sizeOf, type BufVal, type LowerContext, type Val } from "./context";
import { family } from "./rules/family";

function lowerSort(
  ctx: LowerContext,
  ins: readonly Val[],
  kernel: Pick<SortKernel, "dimension" | "numKeys" | "order" | "outLen" | "withIndices" | "label">,
): BufVal[] {
  const shape = [...ins[0]!.shape];
  const n = shape[kernel.dimension]!;
  const outShape = shape.map((d, i) => (i === kernel.dimension ? kernel.outLen : d));
  const block = sizeOf(outShape);
  const dtypes = [...ins.map((v) => v.dtype), ...(kernel.withIndices ? ["int32" as const] : [])];
  const out = ctx.newBuf(block * dtypes.length, dtypes[0]!);
  const scratch = ctx.newBuf((ins.length + kernel.numKeys + 2) * n, "int32");
  ctx.emit({ kind: "sort", shape, operands: ins.map((v) => ctx.exprAt(v, shape)), out, scratch, ...kernel });
  return dtypes.map((dtype, j) => ({ kind: "buf", buf: out, map: contiguous(outShape, j * block), shape: outShape, dtype }));
}

/** Lowering rules of `sort` and `top_k`. */
export const sortRules = family({
  sort: (ctx, _e, ins, p) =>
    lowerSort(ctx, ins, {
      dimension: p.dimension,
      numKeys: p.num_keys,
      order: "ascending",
      outLen: ins[0]!.shape[p.dimension]!,
      withIndices: false,
      label: "sort",
    }),
  top_k: (ctx, _e, ins, p) =>
    lowerSort(ctx, ins, {
      dimension: ins[0]!.shape.length - 1,
      numKeys: 1,
      order: "top_k",
      outLen: p.k,
      withIndices: true,
      label: "top_k",
    }),
});
