/**
 * Lowering: an optimized closed jaxpr → a kernel program. Views (broadcast, transpose,
 * squeeze, slice, contiguous reshape, dynamic_slice) become affine maps; elementwise ops
 * become expression trees that are fused into their consumer and only materialized when
 * used twice, consumed by a non-elementwise kernel (reduction, matmul, scan), or output.
 */
import { ClosedJaxpr, Literal, Var, type Atom, type Eqn, type Params } from "@wax/tracer";
import { CompileError } from "../errors";
import { fuseEpilogues } from "./fuse-epilogues";
import { mergeDims, MR, NR, type GemmPlan } from "../codegen/gemm";
import {
  contiguous,
  isContiguous,
  mapLeaves,
  type Affine,
  type BinaryOp,
  type BufferInfo,
  type Expr,
  type KDType,
  type Kernel,
  type Program,
  type UnaryOp,
} from "./kernel-ir";

type Val = { kind: "buf"; buf: number; map: Affine; shape: number[]; dtype: KDType } | { kind: "expr"; expr: Expr; shape: number[]; dtype: KDType };

const UNARY: Record<string, UnaryOp> = {
  neg: "neg", exp: "exp", log: "log", log1p: "log1p", expm1: "expm1", sin: "sin", cos: "cos", tan: "tan",
  tanh: "tanh", logistic: "logistic", sqrt: "sqrt", rsqrt: "rsqrt", abs: "abs", sign: "sign", floor: "floor",
  ceil: "ceil", erf: "erf", erf_inv: "erf_inv", not: "not", square: "square",
};
const BINARY: Record<string, BinaryOp> = {
  add: "add", sub: "sub", mul: "mul", div: "div", rem: "rem", pow: "pow", max: "max", min: "min", atan2: "atan2",
  eq: "eq", ne: "ne", lt: "lt", le: "le", gt: "gt", ge: "ge", and: "and", or: "or", xor: "xor",
  shift_left: "shl", shift_right_logical: "shr_u", shift_right_arithmetic: "shr_s",
};

function kdtype(op: string, d: string): KDType {
  if (d === "float32" || d === "int32" || d === "uint32" || d === "bool") return d;
  throw new CompileError(`${op}: dtype ${d} cannot be compiled — float64 is for the reference interpreter only; convert to float32`);
}

/** Remaps the index space of an affine map: new strides/offset from a function of old ones. */
function remapAffine(m: Affine, f: (strides: number[], offset: number) => [number[], number]): Affine {
  const [strides, offset] = f(m.strides, m.offset);
  return { strides, offset, dyn: m.dyn };
}

function remapExpr(e: Expr, f: (m: Affine) => Affine): Expr {
  return mapLeaves(e, (leaf) => ({ ...leaf, map: f(leaf.map) }));
}

export function lower(closed: ClosedJaxpr, name = "fn"): Program {
  const j = closed.jaxpr;
  const buffers: BufferInfo[] = [];
  const kernels: Kernel[] = [];
  const vals = new Map<Var, Val>();
  const uses = new Map<Var, number>();
  for (const e of j.eqns) for (const a of e.inputs) if (a instanceof Var) uses.set(a, (uses.get(a) ?? 0) + 1);
  for (const a of j.outvars) if (a instanceof Var) uses.set(a, (uses.get(a) ?? 0) + 1);

  const newBuf = (size: number, dtype: KDType, kind: BufferInfo["kind"], data?: Uint8Array): number => {
    buffers.push({ id: buffers.length, size, dtype, kind, data, offset: -1 });
    return buffers.length - 1;
  };

  const inputs = j.invars.map((v) => {
    const dtype = kdtype(name, v.aval.dtype);
    const buf = newBuf(v.aval.size, dtype, "input");
    vals.set(v, { kind: "buf", buf, map: contiguous(v.aval.shape), shape: [...v.aval.shape], dtype });
    return buf;
  });
  j.constvars.forEach((v, i) => {
    const c = closed.consts[i]!.concreteValue();
    if (!c) throw new CompileError(`${name}: a captured constant is a tracer of an enclosing transform — filterJit must be called outside other transforms or the value passed as an argument`);
    const dtype = kdtype(name, c.dtype);
    const src = c.data;
    const data = new Uint8Array(c.size * 4);
    const dv = new DataView(data.buffer);
    for (let k = 0; k < c.size; k++) {
      if (dtype === "float32") dv.setFloat32(k * 4, src[k]!, true);
      else if (dtype === "uint32") dv.setUint32(k * 4, src[k]!, true);
      else dv.setInt32(k * 4, src[k]!, true);
    }
    const buf = newBuf(c.size, dtype, "const", data);
    vals.set(v, { kind: "buf", buf, map: contiguous(c.shape), shape: [...c.shape], dtype });
  });

  const atomVal = (a: Atom): Val => {
    if (a instanceof Literal) {
      const dtype = kdtype(name, a.aval.dtype);
      return { kind: "expr", expr: { op: "const", value: a.value, dtype }, shape: [], dtype };
    }
    const v = vals.get(a);
    if (!v) throw new CompileError(`${name}: internal error: variable used before definition`);
    return v;
  };

  /** The value as an expression over its own shape. */
  const asExpr = (v: Val): Expr => (v.kind === "expr" ? v.expr : { op: "load", buf: v.buf, map: v.map, dtype: v.dtype });

  /** Broadcasts a rank-0 value's expression to `shape` (stride-0 loads / constants). */
  const exprAt = (v: Val, shape: readonly number[]): Expr => {
    const e = asExpr(v);
    if (v.shape.length === shape.length) return e;
    if (v.shape.length !== 0) throw new CompileError(`${name}: internal error: operand of shape [${v.shape}] used at [${shape}]`);
    return remapExpr(e, (m) => ({ strides: shape.map(() => 0), offset: m.offset, dyn: m.dyn }));
  };

  const materialize = (v: Val, label: string): Val & { kind: "buf" } => {
    if (v.kind === "buf") return v;
    const size = v.shape.reduce((p, q) => p * q, 1);
    const buf = newBuf(size, v.dtype, "temp");
    const map = contiguous(v.shape);
    kernels.push({ kind: "map", shape: [...v.shape], out: { buf, map }, expr: v.expr, label });
    return { kind: "buf", buf, map, shape: [...v.shape], dtype: v.dtype };
  };

  const asBuf = (v: Val, label: string) => materialize(v, label);

  /** A scalar index value as a buffer element (materialized if computed or dynamically placed). */
  const dynIndex = (v: Val, label: string): { buf: number; elem: number; unsigned: boolean } => {
    let b = asBuf(v, label);
    if (b.map.dyn.length > 0) b = materialize({ kind: "expr", expr: asExpr(b), shape: b.shape, dtype: b.dtype }, label);
    return { buf: b.buf, elem: b.map.offset, unsigned: b.dtype === "uint32" };
  };

  /** Applies an index remapping to a value (view op), shape → newShape. */
  const view = (v: Val, newShape: number[], f: (m: Affine) => Affine): Val => {
    if (v.kind === "buf") return { ...v, map: f(v.map), shape: newShape };
    return { kind: "expr", expr: remapExpr(v.expr, f), shape: newShape, dtype: v.dtype };
  };

  for (const e of j.eqns) {
    const out = e.outputs[0]!;
    const outShape = [...out.aval.shape];
    const outDtype = () => kdtype(e.prim.name, out.aval.dtype);
    const ins = e.inputs.map(atomVal);
    const p = e.params;
    let result: Val | Val[];
    const prim = e.prim.name;
    const unary = UNARY[prim];
    const binary = BINARY[prim];
    if (unary) {
      result = { kind: "expr", expr: { op: "unary", fn: unary, x: exprAt(ins[0]!, outShape), dtype: outDtype() }, shape: outShape, dtype: outDtype() };
    } else if (binary) {
      const dtype = outDtype();
      result = { kind: "expr", expr: { op: "binary", fn: binary, x: exprAt(ins[0]!, outShape), y: exprAt(ins[1]!, outShape), dtype }, shape: outShape, dtype };
    } else {
      result = lowerOther(e, ins, outShape, outDtype, p);
    }
    const results = globalThis.Array.isArray(result) ? result : [result];
    e.outputs.forEach((v, i) => {
      let r = results[i]!;
      if (r.kind === "expr" && (uses.get(v) ?? 0) > 1 && !cheap(r.expr)) r = materialize(r, prim);
      vals.set(v, r);
    });
  }

  function lowerOther(e: Eqn, ins: Val[], outShape: number[], outDtype: () => KDType, p: Params): Val | Val[] {
    const prim = e.prim.name;
    switch (prim) {
      case "integer_pow":
        return { kind: "expr", expr: { op: "ipow", x: exprAt(ins[0]!, outShape), y: p["y"] as number, dtype: outDtype() }, shape: outShape, dtype: outDtype() };
      case "round":
        return {
          kind: "expr",
          expr: { op: "unary", fn: p["rounding_method"] === 1 ? "round_even" : "round_away", x: exprAt(ins[0]!, outShape), dtype: outDtype() },
          shape: outShape,
          dtype: outDtype(),
        };
      case "select_n":
        return {
          kind: "expr",
          expr: { op: "select", pred: exprAt(ins[0]!, outShape), cases: ins.slice(1).map((c) => exprAt(c, outShape)), dtype: outDtype() },
          shape: outShape,
          dtype: outDtype(),
        };
      case "convert_element_type":
        return { kind: "expr", expr: { op: "convert", x: exprAt(ins[0]!, outShape), dtype: outDtype() }, shape: outShape, dtype: outDtype() };
      case "bitcast_convert_type":
        return { kind: "expr", expr: { op: "bitcast", x: exprAt(ins[0]!, outShape), dtype: outDtype() }, shape: outShape, dtype: outDtype() };
      case "stop_gradient":
        return ins[0]!;
      case "threefry2x32": {
        const args = ins.map((v) => exprAt(v, outShape)) as [Expr, Expr, Expr, Expr];
        return [0, 1].map((which) => ({
          kind: "expr" as const,
          expr: { op: "threefry" as const, args, which: which as 0 | 1, dtype: "uint32" as const },
          shape: outShape,
          dtype: "uint32" as const,
        }));
      }
      case "iota": {
        const dim = p["dimension"] as number;
        return {
          kind: "expr",
          expr: { op: "index", map: { strides: outShape.map((_, i) => (i === dim ? 1 : 0)), offset: 0, dyn: [] }, dtype: outDtype() },
          shape: outShape,
          dtype: outDtype(),
        };
      }
      case "broadcast_in_dim": {
        const x = ins[0]!;
        const bd = p["broadcast_dimensions"] as number[];
        return view(x, outShape, (m) =>
          remapAffine(m, (s, off) => {
            const ns = outShape.map(() => 0);
            bd.forEach((d, i) => (ns[d] = x.shape[i] === 1 ? 0 : s[i]!));
            return [ns, off];
          }),
        );
      }
      case "transpose": {
        const perm = p["permutation"] as number[];
        return view(ins[0]!, outShape, (m) => remapAffine(m, (s, off) => [perm.map((q) => s[q]!), off]));
      }
      case "squeeze": {
        const dims = p["dimensions"] as number[];
        return view(ins[0]!, outShape, (m) => remapAffine(m, (s, off) => [s.filter((_, i) => !dims.includes(i)), off]));
      }
      case "slice": {
        const start = p["start_indices"] as number[];
        const strides = (p["strides"] as number[] | null) ?? start.map(() => 1);
        return view(ins[0]!, outShape, (m) =>
          remapAffine(m, (s, off) => [s.map((v, i) => v * strides[i]!), off + start.reduce((acc, st, i) => acc + st * s[i]!, 0)]),
        );
      }
      case "reshape": {
        const x = ins[0]!;
        // A non-contiguous view (transpose, broadcast, strided slice) is copied out first.
        const b = x.kind === "buf" && isContiguous(x.map, x.shape) ? x : materialize({ kind: "expr", expr: asExpr(x), shape: x.shape, dtype: x.dtype }, "reshape");
        return { kind: "buf", buf: b.buf, map: contiguous(outShape, b.map.offset), shape: outShape, dtype: b.dtype };
      }
      case "dynamic_slice": {
        const x = asBuf(ins[0]!, "dynamic_slice");
        const sizes = p["slice_sizes"] as number[];
        const idx = ins.slice(1);
        let offset = x.map.offset;
        const dyn = [...x.map.dyn];
        idx.forEach((iv, d) => {
          const max = x.shape[d]! - sizes[d]!;
          if (iv.kind === "expr" && iv.expr.op === "const") offset += Math.min(Math.max(iv.expr.value, 0), max) * x.map.strides[d]!;
          else dyn.push({ ...dynIndex(iv, "dynamic_slice index"), stride: x.map.strides[d]!, max });
        });
        return { kind: "buf", buf: x.buf, map: { strides: [...x.map.strides], offset, dyn }, shape: outShape, dtype: x.dtype };
      }
      case "dynamic_update_slice": {
        const [x, u, ...idx] = ins;
        const size = outShape.reduce((a, b) => a * b, 1);
        const buf = newBuf(size, outDtype(), "temp");
        const map = contiguous(outShape);
        kernels.push({ kind: "map", shape: outShape, out: { buf, map }, expr: asExpr(x!), label: "dynamic_update_slice(copy)" });
        let offset = 0;
        const dyn: Affine["dyn"] = [];
        idx.forEach((iv, d) => {
          const max = outShape[d]! - u!.shape[d]!;
          const stride = contiguousStride(outShape, d);
          if (iv.kind === "expr" && iv.expr.op === "const") offset += Math.min(Math.max(iv.expr.value, 0), max) * stride;
          else dyn.push({ ...dynIndex(iv, "dynamic_update_slice index"), stride, max });
        });
        const full = outShape.map((_, d) => contiguousStride(outShape, d));
        kernels.push({ kind: "map", shape: [...u!.shape], out: { buf, map: { strides: full, offset, dyn } }, expr: asExpr(u!), label: "dynamic_update_slice" });
        return { kind: "buf", buf, map, shape: outShape, dtype: outDtype() };
      }
      case "concatenate": {
        const dim = p["dimension"] as number;
        const size = outShape.reduce((a, b) => a * b, 1);
        const buf = newBuf(size, outDtype(), "temp");
        const full = outShape.map((_, d) => contiguousStride(outShape, d));
        let off = 0;
        for (const x of ins) {
          kernels.push({ kind: "map", shape: [...x.shape], out: { buf, map: { strides: full, offset: off * full[dim]!, dyn: [] } }, expr: asExpr(x), label: "concatenate" });
          off += x.shape[dim]!;
        }
        return { kind: "buf", buf, map: contiguous(outShape), shape: outShape, dtype: outDtype() };
      }
      case "pad": {
        const [x, v] = ins;
        const cfg = p["padding_config"] as [number, number, number][];
        const size = outShape.reduce((a, b) => a * b, 1);
        const buf = newBuf(size, outDtype(), "temp");
        const full = outShape.map((_, d) => contiguousStride(outShape, d));
        kernels.push({ kind: "map", shape: outShape, out: { buf, map: contiguous(outShape) }, expr: exprAt(v!, outShape), label: "pad(fill)" });
        // Crop the operand where low/high padding is negative, then write it strided.
        const lo = cfg.map(([l, , interior], d) => (l < 0 ? Math.ceil(-l / (interior + 1)) : 0));
        const srcShape = x!.shape.map((n, d) => {
          const [l, , interior] = cfg[d]!;
          const first = lo[d]!;
          let last = n - 1;
          const outLen = outShape[d]!;
          while (last >= first && l + last * (interior + 1) >= outLen) last--;
          return Math.max(0, last - first + 1);
        });
        if (srcShape.every((n) => n > 0)) {
          const src = view(x!, srcShape, (m) => remapAffine(m, (s, off) => [s, off + lo.reduce((acc, l, d) => acc + l * s[d]!, 0)]));
          const offset = cfg.reduce((acc, [l, , interior], d) => acc + (l + lo[d]! * (interior + 1)) * full[d]!, 0);
          const strides = cfg.map(([, , interior], d) => full[d]! * (interior + 1));
          kernels.push({ kind: "map", shape: srcShape, out: { buf, map: { strides, offset, dyn: [] } }, expr: asExpr(src), label: "pad" });
        }
        return { kind: "buf", buf, map: contiguous(outShape), shape: outShape, dtype: outDtype() };
      }
      case "reduce_sum":
      case "reduce_max":
      case "reduce_min":
      case "reduce_prod":
      case "argmax":
      case "argmin": {
        const x = ins[0]!;
        const fn = ({ reduce_sum: "sum", reduce_max: "max", reduce_min: "min", reduce_prod: "prod", argmax: "argmax", argmin: "argmin" } as const)[prim];
        const size = outShape.reduce((a, b) => a * b, 1);
        const dtype = outDtype();
        const buf = newBuf(size, dtype, "temp");
        kernels.push({ kind: "reduce", shape: [...x.shape], axes: p["axes"] as number[], fn, expr: asExpr(x), out: buf, dtype, label: prim });
        return { kind: "buf", buf, map: contiguous(outShape), shape: outShape, dtype };
      }
      case "cumsum": {
        const x = ins[0]!;
        const size = outShape.reduce((a, b) => a * b, 1);
        const dtype = outDtype();
        const buf = newBuf(size, dtype, "temp");
        kernels.push({ kind: "scan", shape: outShape, axis: p["axis"] as number, reverse: p["reverse"] === true, expr: asExpr(x), out: buf, dtype, label: "cumsum" });
        return { kind: "buf", buf, map: contiguous(outShape), shape: outShape, dtype };
      }
      case "dot_general": {
        const [[lc, rc], [lb, rb]] = p["dimension_numbers"] as unknown as [[number[], number[]], [number[], number[]]];
        const a = asBuf(ins[0]!, "dot_general lhs");
        const b = asBuf(ins[1]!, "dot_general rhs");
        const lf = a.shape.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i));
        const rf = b.shape.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i));
        const aOrder = [...lb, ...lf, ...lc];
        const bOrder = [...rb, ...rc, ...rf];
        const dtype = outDtype();
        const size = outShape.reduce((x, y) => x * y, 1);
        const buf = newBuf(size, dtype, "temp");
        const kernel: Kernel & { kind: "matmul" } = {
          kind: "matmul",
          batch: lb.map((d) => a.shape[d]!),
          mDims: lf.map((d) => a.shape[d]!),
          nDims: rf.map((d) => b.shape[d]!),
          kDims: lc.map((d) => a.shape[d]!),
          a: { buf: a.buf, map: { strides: aOrder.map((d) => a.map.strides[d]!), offset: a.map.offset, dyn: a.map.dyn } },
          b: { buf: b.buf, map: { strides: bOrder.map((d) => b.map.strides[d]!), offset: b.map.offset, dyn: b.map.dyn } },
          out: buf,
          dtype,
          label: "dot_general",
        };
        const plan = dtype === "float32" ? gemmPlan(kernel) : null;
        if (plan) {
          const aPack = newBuf(plan.Mp * plan.K, "float32", "temp");
          const bPack = newBuf(plan.K * plan.Np, "float32", "temp");
          const tile = newBuf(MR * NR, "float32", "temp");
          kernel.gemm = { plan, aPack, bPack, tile };
        }
        kernels.push(kernel);
        return { kind: "buf", buf, map: contiguous(outShape), shape: outShape, dtype };
      }
      default:
        throw new CompileError(
          `${prim}: cannot be compiled${["psum", "pmax", "pmin", "axis_index", "all_gather", "psum_scatter"].includes(prim) ? " — a collective must be inside vmap with its axis name" : " — no lowering for this primitive yet"}`,
        );
    }
  }

  // Outputs: each gets its own contiguous output buffer (written by a copy kernel unless the
  // value is a fresh contiguous temp that nothing else claims).
  const claimed = new Set<number>();
  const outputs = j.outvars.map((a) => {
    const v = atomVal(a);
    const dtype = v.dtype;
    if (v.kind === "buf" && buffers[v.buf]!.kind === "temp" && isContiguous(v.map, v.shape) && v.map.offset === 0 && !claimed.has(v.buf) && buffers[v.buf]!.size === v.shape.reduce((x, y) => x * y, 1)) {
      claimed.add(v.buf);
      buffers[v.buf]!.kind = "output";
      return { buf: v.buf, shape: v.shape, dtype };
    }
    const size = v.shape.reduce((x, y) => x * y, 1);
    const buf = newBuf(size, dtype, "output");
    kernels.push({ kind: "map", shape: [...v.shape], out: { buf, map: contiguous(v.shape) }, expr: asExpr(v), label: "output" });
    return { buf, shape: [...v.shape], dtype };
  });

  const program: Program = { buffers, kernels, inputs, outputs, inputShapes: j.invars.map((v) => [...v.aval.shape]) };
  fuseEpilogues(program);
  return program;
}

/**
 * Whether a matmul takes the packed GEMM path: f32, big enough for packing to pay, and each
 * of m, n, k (and batch) a single merged dim for both operands.
 */
function gemmPlan(k: Kernel & { kind: "matmul" }): GemmPlan | null {
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
  if ([aBatch, am, ak, bBatch, bk, bn].some((v) => v === null)) return null;
  return {
    M,
    N,
    K,
    am: am!,
    ak: ak!,
    bk: bk!,
    bn: bn!,
    batch: B,
    aBatch: aBatch!,
    bBatch: bBatch!,
    Mp: Math.ceil(M / MR) * MR,
    Np: Math.ceil(N / NR) * NR,
  };
}

/**
 * An expression cheap enough to recompute in each consumer rather than store and reload: a
 * few exact arithmetic ops on loads (`x@w + b` read by both branches of a leaky relu, so the
 * matmul's epilogue can take the whole activation).
 */
function cheap(e: Expr): boolean {
  let nodes = 0;
  const ok = (x: Expr): boolean => {
    if (++nodes > 4) return false;
    switch (x.op) {
      case "const":
      case "load":
        return true;
      case "unary":
        return (x.fn === "neg" || x.fn === "abs") && ok(x.x);
      case "binary":
        return (x.fn === "add" || x.fn === "sub" || x.fn === "mul" || x.fn === "max" || x.fn === "min") && ok(x.x) && ok(x.y);
      default:
        return false;
    }
  };
  return ok(e);
}

/** Row-major stride of dim `d` (not zeroed for size-1 dims: used for writes). */
function contiguousStride(shape: readonly number[], d: number): number {
  let s = 1;
  for (let i = shape.length - 1; i > d; i--) s *= shape[i]!;
  return s;
}
