/**
 * Structural primitives: `broadcast_in_dim`, `reshape`, `transpose`, `squeeze`, `slice`,
 * `dynamic_slice`, `dynamic_update_slice`, `concatenate`, `pad`, `iota`.
 */
import { Aval, shapeSize, stridesOf } from "../aval";
import { allocate, castScalar, isInteger, type DType, type TypedArray } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { definePrimitive, type ParamValue } from "../primitive";
import { avalsStr, checkAxes, intsParam, numParam, shapeStr } from "./checks";

/**
 * Reads `src` through an affine view: output element at multi-index `i` is
 * `src[offset + Σ i[d]·strides[d]]`. Broadcasts are stride 0, transposes permuted strides.
 */
export function affineGather(
  src: TypedArray,
  outShape: readonly number[],
  strides: readonly number[],
  offset: number,
  dtype: DType,
): TypedArray {
  const n = shapeSize(outShape);
  const out = allocate(dtype, n);
  if (n === 0) return out;
  const nd = outShape.length;
  if (nd === 0) {
    out[0] = src[offset]!;
    return out;
  }
  const idx = new globalThis.Array<number>(nd).fill(0);
  const last = nd - 1;
  const innerN = outShape[last]!;
  const innerS = strides[last]!;
  let base = offset;
  for (let o = 0; o < n; o += innerN) {
    for (let j = 0, p = base; j < innerN; j++, p += innerS) out[o + j] = src[p]!;
    // odometer over the outer dims
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < outShape[d]!) break;
      base -= strides[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`${op}: invalid shape ${shapeStr(shape)} — dimensions must be non-negative integers`);
  }
}

export const broadcastInDim = definePrimitive("broadcast_in_dim", {
  abstractEval([x], params) {
    const shape = intsParam("broadcast_in_dim", params, "shape");
    const bd = intsParam("broadcast_in_dim", params, "broadcast_dimensions");
    checkShape("broadcast_in_dim", shape);
    if (bd.length !== x!.ndim) {
      throw new ShapeError(`broadcast_in_dim: broadcast_dimensions ${shapeStr(bd)} must have one entry per dimension of the operand ${x}`);
    }
    bd.forEach((d, i) => {
      if (d < 0 || d >= shape.length || (i > 0 && d <= bd[i - 1]!)) {
        throw new ShapeError(
          `broadcast_in_dim: broadcast_dimensions ${shapeStr(bd)} must be strictly increasing and within rank ${shape.length} of shape ${shapeStr(shape)}`,
        );
      }
      const s = x!.shape[i]!;
      if (s !== 1 && s !== shape[d]!) {
        throw new ShapeError(
          `broadcast_in_dim: cannot broadcast ${x} to shape ${shapeStr(shape)}: operand dimension ${i} (${s}) must be 1 or equal target dimension ${d} (${shape[d]})`,
        );
      }
    });
    return [new Aval(shape, x!.dtype, x!.weakType)];
  },
  impl([x], params, [out]) {
    const bd = params.broadcast_dimensions;
    const inStrides = stridesOf(x!.shape);
    const strides = out!.shape.map(() => 0);
    bd.forEach((d, i) => (strides[d] = x!.shape[i] === 1 ? 0 : inStrides[i]!));
    return [affineGather(x!.data, out!.shape, strides, 0, out!.dtype)];
  },
  ppParams: (p) => {
    const bd = p.broadcast_dimensions;
    return bd.length > 0 ? [["broadcast_dimensions", bd]] : [];
  },
});

export const reshape = definePrimitive("reshape", {
  abstractEval([x], params) {
    const sizes = intsParam("reshape", params, "new_sizes");
    checkShape("reshape", sizes);
    if (shapeSize(sizes) !== x!.size) {
      throw new ShapeError(
        `reshape: cannot reshape ${x} (${x!.size} elements) to shape ${shapeStr(sizes)} (${shapeSize(sizes)} elements) — the sizes must match`,
      );
    }
    return [new Aval(sizes, x!.dtype, x!.weakType)];
  },
  impl([x]) {
    return [x!.data.slice()];
  },
  ppParams: (p) => [
    ["dimensions", null],
    ["new_sizes", p.new_sizes],
  ],
});

export const transpose = definePrimitive("transpose", {
  abstractEval([x], params) {
    const perm = intsParam("transpose", params, "permutation");
    if (perm.length !== x!.ndim || [...perm].sort((a, b) => a - b).some((v, i) => v !== i)) {
      throw new ShapeError(
        `transpose: permutation ${shapeStr(perm)} is not a permutation of the ${x!.ndim} axes of ${x} — give each axis exactly once`,
      );
    }
    return [
      new Aval(
        perm.map((p) => x!.shape[p]!),
        x!.dtype,
        x!.weakType,
      ),
    ];
  },
  impl([x], params, [out]) {
    const perm = params.permutation;
    const s = stridesOf(x!.shape);
    return [
      affineGather(
        x!.data,
        out!.shape,
        perm.map((p) => s[p]!),
        0,
        out!.dtype,
      ),
    ];
  },
});

export const squeeze = definePrimitive("squeeze", {
  abstractEval([x], params) {
    const dims = intsParam("squeeze", params, "dimensions");
    checkAxes("squeeze", x!, dims);
    for (const d of dims) {
      if (x!.shape[d] !== 1)
        throw new ShapeError(
          `squeeze: cannot squeeze dimension ${d} of ${x}: its size is ${x!.shape[d]}, not 1 — squeeze only size-1 dimensions`,
        );
    }
    return [
      new Aval(
        x!.shape.filter((_, i) => !dims.includes(i)),
        x!.dtype,
        x!.weakType,
      ),
    ];
  },
  impl([x]) {
    return [x!.data.slice()];
  },
});

export const slice = definePrimitive("slice", {
  abstractEval([x], params) {
    const start = intsParam("slice", params, "start_indices");
    const limit = intsParam("slice", params, "limit_indices");
    const strides = params.strides === null ? start.map(() => 1) : intsParam("slice", params, "strides");
    if (start.length !== x!.ndim || limit.length !== x!.ndim || strides.length !== x!.ndim) {
      throw new ShapeError(
        `slice: start_indices ${shapeStr(start)}, limit_indices ${shapeStr(limit)} and strides need one entry per dimension of ${x}`,
      );
    }
    const shape = start.map((s, i) => {
      const l = limit[i]!;
      const st = strides[i]!;
      if (s < 0 || l > x!.shape[i]! || s > l || st < 1) {
        throw new ShapeError(
          `slice: invalid slice ${s}:${l}:${st} of dimension ${i} (size ${x!.shape[i]}) of ${x} — need 0 <= start <= limit <= size and stride >= 1`,
        );
      }
      return Math.ceil((l - s) / st);
    });
    return [new Aval(shape, x!.dtype, x!.weakType)];
  },
  impl([x], params, [out]) {
    const start = params.start_indices;
    const st = params.strides ?? start.map(() => 1);
    const s = stridesOf(x!.shape);
    const offset = start.reduce((acc, v, i) => acc + v * s[i]!, 0);
    return [
      affineGather(
        x!.data,
        out!.shape,
        s.map((v, i) => v * st[i]!),
        offset,
        out!.dtype,
      ),
    ];
  },
});

function checkIndexOperands(op: string, idx: readonly Aval[], rank: number): void {
  if (idx.length !== rank) throw new ShapeError(`${op}: needs ${rank} start indices (one per dimension), got ${idx.length}`);
  for (const a of idx) {
    if (a.ndim !== 0 || !isInteger(a.dtype)) throw new DTypeError(`${op}: start indices must be integer scalars, got ${avalsStr(idx)}`);
  }
}

/** XLA clamps dynamic start indices so the slice stays in bounds. */
function clampStarts(starts: readonly number[], sizes: readonly number[], shape: readonly number[]): number[] {
  return starts.map((s, i) => Math.min(Math.max(s, 0), shape[i]! - sizes[i]!));
}

export const dynamicSlice = definePrimitive("dynamic_slice", {
  abstractEval([x, ...idx], params) {
    const sizes = intsParam("dynamic_slice", params, "slice_sizes");
    checkIndexOperands("dynamic_slice", idx, x!.ndim);
    if (sizes.length !== x!.ndim || sizes.some((v, i) => v < 0 || v > x!.shape[i]!)) {
      throw new ShapeError(
        `dynamic_slice: slice_sizes ${shapeStr(sizes)} must have one entry per dimension of ${x}, each within the dimension`,
      );
    }
    return [new Aval(sizes, x!.dtype, x!.weakType)];
  },
  impl([x, ...idx], params, [out]) {
    const sizes = params.slice_sizes;
    const starts = clampStarts(
      idx.map((a) => a.data[0]!),
      sizes,
      x!.shape,
    );
    const s = stridesOf(x!.shape);
    const offset = starts.reduce((acc, v, i) => acc + v * s[i]!, 0);
    return [affineGather(x!.data, out!.shape, s, offset, out!.dtype)];
  },
});

export const dynamicUpdateSlice = definePrimitive("dynamic_update_slice", {
  abstractEval([x, u, ...idx]) {
    checkIndexOperands("dynamic_update_slice", idx, x!.ndim);
    if (u!.dtype !== x!.dtype || u!.ndim !== x!.ndim || u!.shape.some((v, i) => v > x!.shape[i]!)) {
      throw new ShapeError(`dynamic_update_slice: update ${u} must have the dtype and rank of the operand ${x} and fit inside it`);
    }
    return [new Aval(x!.shape, x!.dtype, x!.weakType)];
  },
  impl([x, u, ...idx]) {
    const starts = clampStarts(
      idx.map((a) => a.data[0]!),
      u!.shape,
      x!.shape,
    );
    const out = x!.data.slice();
    const s = stridesOf(x!.shape);
    const us = stridesOf(u!.shape);
    const n = u!.size;
    for (let k = 0; k < n; k++) {
      let off = 0;
      let r = k;
      for (let d = 0; d < u!.ndim; d++) {
        const i = Math.floor(r / us[d]!);
        r -= i * us[d]!;
        off += (i + starts[d]!) * s[d]!;
      }
      out[off] = u!.data[k]!;
    }
    return [out];
  },
});

export const concatenate = definePrimitive("concatenate", {
  abstractEval(avals, params) {
    const dim = numParam("concatenate", params, "dimension");
    if (avals.length === 0) throw new ShapeError("concatenate: needs at least one operand");
    const a0 = avals[0]!;
    if (dim < 0 || dim >= a0.ndim) throw new ShapeError(`concatenate: dimension ${dim} is out of range for ${a0}`);
    let total = 0;
    for (const a of avals) {
      if (a.dtype !== a0.dtype) throw new DTypeError(`concatenate: operand dtypes differ (${avalsStr(avals)}) — convert them to one dtype`);
      if (a.ndim !== a0.ndim || a.shape.some((d, i) => i !== dim && d !== a0.shape[i])) {
        throw new ShapeError(
          `concatenate: operands ${avalsStr(avals)} must have equal shapes except along dimension ${dim} — broadcast or reshape them first`,
        );
      }
      total += a.shape[dim]!;
    }
    const shape = [...a0.shape];
    shape[dim] = total;
    return [
      new Aval(
        shape,
        a0.dtype,
        avals.every((a) => a.weakType),
      ),
    ];
  },
  impl(args, params, [out]) {
    const dim = params.dimension;
    const res = allocate(out!.dtype, out!.size);
    const outer = shapeSize(out!.shape.slice(0, dim));
    const innerOut = shapeSize(out!.shape.slice(dim));
    let col = 0;
    for (const a of args) {
      const inner = shapeSize(a.shape.slice(dim));
      for (let o = 0; o < outer; o++) {
        res.set(a.data.subarray(o * inner, (o + 1) * inner) as never, o * innerOut + col);
      }
      col += inner;
    }
    return [res];
  },
});

export const pad = definePrimitive("pad", {
  abstractEval([x, v], params) {
    const cfg = params.padding_config;
    if (!globalThis.Array.isArray(cfg) || cfg.length !== x!.ndim || cfg.some((c) => !globalThis.Array.isArray(c) || c.length !== 3)) {
      throw new ShapeError(`pad: padding_config needs one (low, high, interior) triple per dimension of ${x}`);
    }
    if (v!.ndim !== 0 || v!.dtype !== x!.dtype)
      throw new DTypeError(`pad: padding value ${v} must be a scalar of the operand's dtype ${x!.dtype}`);
    const shape = x!.shape.map((d, i) => {
      const [lo, hi, interior] = cfg[i]! as [number, number, number];
      if (interior < 0) throw new ShapeError(`pad: interior padding ${interior} of dimension ${i} must be >= 0`);
      const s = lo + hi + d + Math.max(0, d - 1) * interior;
      if (s < 0) throw new ShapeError(`pad: negative padding (${lo}, ${hi}) removes more than dimension ${i} of ${x} holds`);
      return s;
    });
    return [new Aval(shape, x!.dtype, x!.weakType)];
  },
  impl([x, v], params, [out]) {
    const cfg = params.padding_config;
    const res = allocate(out!.dtype, out!.size);
    res.fill(v!.data[0]! as never);
    const os = stridesOf(out!.shape);
    const xs = stridesOf(x!.shape);
    const n = x!.size;
    for (let k = 0; k < n; k++) {
      let off = 0;
      let r = k;
      let inside = true;
      for (let d = 0; d < x!.ndim; d++) {
        const i = Math.floor(r / xs[d]!);
        r -= i * xs[d]!;
        const [lo, , interior] = cfg[d]!;
        const p = lo + i * (interior + 1);
        if (p < 0 || p >= out!.shape[d]!) {
          inside = false;
          break;
        }
        off += p * os[d]!;
      }
      if (inside) res[off] = x!.data[k]!;
    }
    return [res];
  },
  ppParams: (p) => [["padding_config", p.padding_config]],
});

export const iota = definePrimitive("iota", {
  abstractEval(_avals, params) {
    const shape = intsParam("iota", params, "shape");
    const dim = numParam("iota", params, "dimension");
    checkShape("iota", shape);
    if (dim < 0 || dim >= shape.length) throw new ShapeError(`iota: dimension ${dim} is out of range for shape ${shapeStr(shape)}`);
    return [new Aval(shape, params.dtype)];
  },
  impl(_args, params, [out]) {
    const dim = params.dimension;
    const res = allocate(out!.dtype, out!.size);
    const s = stridesOf(out!.shape);
    const d = out!.shape[dim]!;
    for (let i = 0; i < out!.size; i++) res[i] = castScalar(Math.floor(i / s[dim]!) % d, out!.dtype);
    return [res];
  },
});

export type { ParamValue };
