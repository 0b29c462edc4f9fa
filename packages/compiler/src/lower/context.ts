/**
 * The lowering context: what a lowering rule works with. Values are either buffers seen
 * through an affine map (views cost nothing) or lazy elementwise expressions, fused into
 * their consumer and only materialized when used twice, consumed by a non-elementwise
 * kernel, or output. Kernels are emitted into the current region (the program's top level,
 * or the body of a loop or branch being lowered), all over one buffer space.
 */
import { Literal, Var, type ClosedJaxpr, type Eqn, type ParamsOf, type PrimName } from "@wax/tracer";
import { CompileError } from "../errors";
import { contiguous, mapLeaves, type Affine, type BufferInfo, type Expr, type KDType, type Kernel, type Scalar } from "./kernel-ir";

/** A value held in a buffer, read through an affine map over its shape. */
export type BufVal = { kind: "buf"; buf: number; map: Affine; shape: number[]; dtype: KDType };
/** A value not yet stored: an expression over its own shape. */
export type ExprVal = { kind: "expr"; expr: Expr; shape: number[]; dtype: KDType };
/** A lowered value. */
export type Val = BufVal | ExprVal;

/** How primitive `N` lowers: its outputs as values, emitting kernels into `ctx` as needed. */
export type LowerRule<N extends PrimName> = (ctx: LowerContext, eqn: Eqn, ins: Val[], params: ParamsOf<N>) => Val | Val[];

/** A primitive that cannot be compiled, and why (the error's message after `<op>: `). */
export class Unsupported {
  constructor(readonly message: string) {}
}

/** The table entry of a primitive without a lowering; `message` reads `<what is wrong> — <what to do>`. */
export const unsupported = (message: string): Unsupported => new Unsupported(message);

/** Lowering rules of the primitives `K` (one family's share of the table). */
export type LowerRules<K extends PrimName> = { readonly [N in K]: LowerRule<N> | Unsupported };

/** Lowers one equation (the rule table's dispatch, given to the context by `lower.ts`). */
export type LowerEqn = (ctx: LowerContext, eqn: Eqn, ins: Val[]) => Val | Val[];

/** The kernel dtype of a jaxpr dtype; float64 and the like are the interpreter's only. */
export function kdtype(op: string, d: string): KDType {
  if (d === "float32" || d === "int32" || d === "uint32" || d === "bool") return d;
  throw new CompileError(`${op}: dtype ${d} cannot be compiled — float64 is for the reference interpreter only; convert to float32`);
}

/** Number of elements of `shape`. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major stride of dim `d` (not zeroed for size-1 dims: used for writes). */
export function contiguousStride(shape: readonly number[], d: number): number {
  let s = 1;
  for (let i = shape.length - 1; i > d; i--) s *= shape[i]!;
  return s;
}

/** Row-major strides of every dim (for writes; see `contiguousStride`). */
export const writeStrides = (shape: readonly number[]): number[] => shape.map((_, d) => contiguousStride(shape, d));

/** Remaps the index space of an affine map: new strides/offset from a function of old ones. */
export function remapAffine(m: Affine, f: (strides: number[], offset: number) => [number[], number]): Affine {
  const [strides, offset] = f(m.strides, m.offset);
  // An index read at the loop position moves with the loop dims as the address does.
  const dyn = m.dyn.map((t) => {
    if (!t.istrides) return t;
    const [istrides, elem] = f(t.istrides, t.elem);
    return { ...t, istrides, elem };
  });
  return { strides, offset, dyn };
}

function remapExpr(e: Expr, f: (m: Affine) => Affine): Expr {
  return mapLeaves(e, (leaf) => ({ ...leaf, map: f(leaf.map) }));
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

/** Little-endian 4-byte elements of constant data. */
function constBytes(src: ArrayLike<number>, dtype: KDType): Uint8Array {
  const data = new Uint8Array(src.length * 4);
  const dv = new DataView(data.buffer);
  for (let k = 0; k < src.length; k++) {
    if (dtype === "float32") dv.setFloat32(k * 4, src[k]!, true);
    else if (dtype === "uint32") dv.setUint32(k * 4, src[k]!, true);
    else dv.setInt32(k * 4, src[k]!, true);
  }
  return data;
}

/** See the module comment. One context lowers a whole program, nested regions included. */
export class LowerContext {
  /** Every buffer of the program so far. */
  readonly buffers: BufferInfo[] = [];
  private kernels: Kernel[] = [];

  constructor(
    /** The compiled function's name, for error messages. */
    readonly name: string,
    private readonly lowerEqn: LowerEqn,
  ) {}

  /** A new buffer of `size` elements. */
  newBuf(size: number, dtype: KDType, kind: BufferInfo["kind"] = "temp", data?: Uint8Array): number {
    this.buffers.push({ id: this.buffers.length, size, dtype, kind, data });
    return this.buffers.length - 1;
  }

  /** A new contiguous temporary holding a value of `shape`. */
  fresh(shape: readonly number[], dtype: KDType): BufVal {
    return { kind: "buf", buf: this.newBuf(sizeOf(shape), dtype), map: contiguous(shape), shape: [...shape], dtype };
  }

  /** Appends a kernel to the current region. */
  emit(k: Kernel): void {
    this.kernels.push(k);
  }

  /** Runs `f` with a fresh current region and returns the kernels it emitted there. */
  region(f: () => void): Kernel[] {
    const outer = this.kernels;
    this.kernels = [];
    try {
      f();
      return this.kernels;
    } finally {
      this.kernels = outer;
    }
  }

  /** The kernels of the top-level region (once lowering is done). */
  topLevel(): Kernel[] {
    return this.kernels;
  }

  /** The value as an expression over its own shape. */
  asExpr(v: Val): Expr {
    return v.kind === "expr" ? v.expr : { op: "load", buf: v.buf, map: v.map, dtype: v.dtype };
  }

  /** The value's expression at `shape`: itself, or a rank-0 value broadcast (stride-0 loads / constants). */
  exprAt(v: Val, shape: readonly number[]): Expr {
    const e = this.asExpr(v);
    if (v.shape.length === shape.length) return e;
    if (v.shape.length !== 0) throw new CompileError(`${this.name}: internal error: operand of shape [${v.shape}] used at [${shape}]`);
    return remapExpr(e, (m) => ({
      strides: shape.map(() => 0),
      offset: m.offset,
      dyn: m.dyn.map((t) => (t.istrides ? { ...t, istrides: shape.map(() => 0) } : t)),
    }));
  }

  /** The value in a buffer: itself if it is one, else stored to a new contiguous temporary. */
  materialize(v: Val, label: string): BufVal {
    if (v.kind === "buf") return v;
    const out = this.fresh(v.shape, v.dtype);
    this.emit({ kind: "map", shape: [...v.shape], out: { buf: out.buf, map: out.map }, expr: v.expr, label });
    return out;
  }

  /** The value stored to a new contiguous temporary, whatever it is (a copy of a view). */
  copy(v: Val, label: string): BufVal {
    return this.materialize({ kind: "expr", expr: this.asExpr(v), shape: v.shape, dtype: v.dtype }, label);
  }

  /** A scalar value as one buffer element (materialized if computed or dynamically placed). */
  scalar(v: Val, label: string): Scalar & { unsigned: boolean } {
    let b = this.materialize(v, label);
    if (b.map.dyn.length > 0) b = this.copy(b, label);
    return { buf: b.buf, elem: b.map.offset, unsigned: b.dtype === "uint32" };
  }

  /** Applies an index remapping to a value (view op), shape → newShape. */
  view(v: Val, newShape: number[], f: (m: Affine) => Affine): Val {
    if (v.kind === "buf") return { ...v, map: f(v.map), shape: newShape };
    return { kind: "expr", expr: remapExpr(v.expr, f), shape: newShape, dtype: v.dtype };
  }

  /** A constant array as a constant buffer. */
  constant(c: { dtype: string; shape: readonly number[]; data: ArrayLike<number> }): BufVal {
    const dtype = kdtype(this.name, c.dtype);
    const buf = this.newBuf(c.data.length, dtype, "const", constBytes(c.data, dtype));
    return { kind: "buf", buf, map: contiguous(c.shape), shape: [...c.shape], dtype };
  }

  /**
   * Lowers `closed` applied to `args` into the current region; returns its outputs. Each
   * (sub-)jaxpr has its own variables, so a body is lowered in its own scope.
   */
  lowerJaxpr(closed: ClosedJaxpr, args: readonly Val[]): Val[] {
    const j = closed.jaxpr;
    const vals = new Map<Var, Val>();
    const uses = new Map<Var, number>();
    for (const e of j.eqns) for (const a of e.inputs) if (a instanceof Var) uses.set(a, (uses.get(a) ?? 0) + 1);
    for (const a of j.outvars) if (a instanceof Var) uses.set(a, (uses.get(a) ?? 0) + 1);
    if (args.length !== j.invars.length)
      throw new CompileError(`${this.name}: internal error: ${j.invars.length} inputs but ${args.length} arguments`);
    j.invars.forEach((v, i) => vals.set(v, args[i]!));
    j.constvars.forEach((v, i) => {
      const c = closed.consts[i]!.concreteValue();
      if (!c)
        throw new CompileError(
          `${this.name}: a captured constant is a tracer of an enclosing transform — filterJit must be called outside other transforms or the value passed as an argument`,
        );
      vals.set(v, this.constant(c));
    });
    const atom = (a: Var | Literal): Val => {
      if (a instanceof Literal) {
        const dtype = kdtype(this.name, a.aval.dtype);
        return { kind: "expr", expr: { op: "const", value: a.value, dtype }, shape: [], dtype };
      }
      const v = vals.get(a);
      if (!v) throw new CompileError(`${this.name}: internal error: variable used before definition`);
      return v;
    };
    for (const e of j.eqns) {
      const result = this.lowerEqn(this, e, e.inputs.map(atom));
      const results = globalThis.Array.isArray(result) ? result : [result];
      e.outputs.forEach((v, i) => {
        let r = results[i]!;
        if (r.kind === "expr" && (uses.get(v) ?? 0) > 1 && !cheap(r.expr)) r = this.materialize(r, e.prim.name);
        vals.set(v, r);
      });
    }
    return j.outvars.map(atom);
  }
}

/** The shape of an equation's `i`th output. */
export const outShape = (e: Eqn, i = 0): number[] => [...e.outputs[i]!.aval.shape];

/** The kernel dtype of an equation's `i`th output. */
export const outDtype = (e: Eqn, i = 0): KDType => kdtype(e.prim.name, e.outputs[i]!.aval.dtype);
