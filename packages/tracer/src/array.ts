/**
 * The array type. `Array` is abstract, as `jax.Array` is: a concrete array (`ConcreteArray`,
 * data in a host TypedArray) and every tracer are Arrays, so user code written against `Array`
 * runs eagerly and under every transform. Op methods (`add`, `matmul`, ...) are installed by
 * `array-methods.ts`.
 */
import { Aval, stridesOf } from "./aval";
import { allocate, castScalar, type DType, type TypedArray } from "./dtype";
import { ArgumentError, ConcretizationError } from "./errors";

/** A nested JS array of numbers/booleans, as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

export abstract class Array {
  abstract get aval(): Aval;

  get shape(): readonly number[] {
    return this.aval.shape;
  }
  get dtype(): DType {
    return this.aval.dtype;
  }
  get ndim(): number {
    return this.aval.shape.length;
  }
  get size(): number {
    return this.aval.size;
  }
  get weakType(): boolean {
    return this.aval.weakType;
  }

  /**
   * The concrete value behind this array if there is one (always for a `ConcreteArray`; for
   * a tracer, only when its transform has a concrete primal, as `grad` outside `jit` does).
   */
  abstract concreteValue(): ConcreteArray | null;

  /** Throws the ConcretizationError that explains why `what` needs a concrete value. */
  protected abstract concretizationError(what: string): Error;

  private concrete(what: string): ConcreteArray {
    const c = this.concreteValue();
    if (c === null) throw this.concretizationError(what);
    return c;
  }

  /** The flat row-major data (bool as 0/1 bytes). Throws under tracing. */
  get data(): TypedArray {
    return this.concrete("reading .data").data;
  }

  /** Nested JS arrays (numbers, or booleans for bool arrays), like numpy's `tolist()`. */
  toArray(): NestedArray {
    const c = this.concrete("toArray()");
    return nest(c.data, c.shape, c.dtype === "bool");
  }

  /** Alias of `toArray()`, numpy's name. */
  tolist(): NestedArray {
    return this.toArray();
  }

  /** The single element of a size-1 array as a JS number (bool as 0/1). */
  item(): number {
    const c = this.concrete("item()");
    if (c.size !== 1) {
      throw new ArgumentError(
        `item: the array has shape [${c.shape.join(",")}] (${c.size} elements) — only size-1 arrays convert to a number; index it first`,
      );
    }
    return c.data[0]!;
  }

  /** `Number(x)`, `x > 0`, `${x}` on a size-1 concrete array give its value; on a tracer they throw. */
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString();
    this.concrete("converting to a JS number (Number(x), x > 0, comparisons)");
    return this.item();
  }

  toString(): string {
    const c = this.concreteValue();
    if (c === null) return `Traced<${this.aval}>`;
    return formatArray(c);
  }
}

/** An array with its data in host memory: what eager ops produce and consume. */
export class ConcreteArray extends Array {
  readonly #aval: Aval;
  /**
   * For a weak scalar made from a JS number: that number, unrounded, so that promotion to
   * float64 keeps its full precision (as JAX keeps Python floats).
   */
  weakValue: number | undefined = undefined;
  constructor(
    aval: Aval,
    readonly data_: TypedArray,
  ) {
    super();
    if (data_.length !== aval.size) {
      throw new ArgumentError(`array: ${aval} needs ${aval.size} elements but the data has ${data_.length}`);
    }
    this.#aval = aval;
  }
  override get aval(): Aval {
    return this.#aval;
  }
  override get data(): TypedArray {
    return this.data_;
  }
  override concreteValue(): ConcreteArray {
    return this;
  }
  protected override concretizationError(): Error {
    return new ConcretizationError("unreachable: a concrete array is always concrete");
  }
}

/** A concrete scalar of `dtype`; `weakType` marks it as coming from a JS number. */
export function scalar(value: number | boolean, dtype: DType, weakType = false): ConcreteArray {
  const data = allocate(dtype, 1);
  const v = typeof value === "boolean" ? Number(value) : value;
  data[0] = castScalar(v, dtype);
  const c = new ConcreteArray(new Aval([], dtype, weakType), data);
  if (weakType) c.weakValue = v;
  return c;
}

function nest(data: TypedArray, shape: readonly number[], isBool: boolean): NestedArray {
  const conv = (v: number): number | boolean => (isBool ? v !== 0 : v);
  if (shape.length === 0) return conv(data[0]!);
  const strides = stridesOf(shape);
  const build = (dim: number, offset: number): NestedArray[] => {
    const out: NestedArray[] = [];
    for (let i = 0; i < shape[dim]!; i++) {
      const o = offset + i * strides[dim]!;
      out.push(dim === shape.length - 1 ? conv(data[o]!) : build(dim + 1, o));
    }
    return out;
  };
  return build(0, 0);
}

/** numpy-like formatting of a float32 value: shortest round-tripping decimal. */
export function formatElement(v: number, dtype: DType): string {
  if (dtype === "bool") return v ? "true" : "false";
  if (dtype !== "float32" && dtype !== "float64") return String(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  let s: string;
  if (dtype === "float32") {
    s = String(v);
    for (let p = 1; p <= 9; p++) {
      const t = v.toPrecision(p);
      if (Math.fround(Number(t)) === v) {
        s = String(Number(t));
        break;
      }
    }
  } else s = String(v);
  if (Object.is(v, -0)) return "-0.0";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e16 || a < 1e-4)) {
    // numpy style exponent: 1e-05, 1.5e+20
    const [m, e] = Number(s).toExponential().split("e") as [string, string];
    const sign = e.startsWith("-") ? "-" : "+";
    const digits = e.replace(/^[-+]/, "").padStart(2, "0");
    return `${m}e${sign}${digits}`;
  }
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** numpy's print options: arrays of more than `SUMMARY_THRESHOLD` elements show the first and
 * last `EDGE_ITEMS` entries of each long axis around a `...`. */
const SUMMARY_THRESHOLD = 1000;
const EDGE_ITEMS = 3;

function formatArray(c: ConcreteArray): string {
  const shape = c.shape;
  const weak = c.weakType ? " weak" : "";
  // Nothing to show: no walk over the (possibly huge) non-zero axes, as numpy/JAX print it.
  if (c.size === 0) {
    const shapeNote = shape.length === 1 ? "" : `, shape=(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
    return `Array([]${shapeNote}, dtype=${c.dtype}${weak})`;
  }
  const summarise = c.size > SUMMARY_THRESHOLD;
  const strides = stridesOf(shape);
  /** Indices shown along an axis of length n; -1 stands for the `...`. */
  const shown = (n: number): number[] => {
    if (!summarise || n <= 2 * EDGE_ITEMS) return globalThis.Array.from({ length: n }, (_, i) => i);
    const tail = globalThis.Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i);
    return [...globalThis.Array.from({ length: EDGE_ITEMS }, (_, i) => i), -1, ...tail];
  };
  const axes = shape.map(shown);
  // Format the shown elements first: the column width is the widest of them.
  let width = 0;
  const text = new Map<number, string>();
  const visit = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      const t = formatElement(c.data[offset]!, c.dtype);
      text.set(offset, t);
      if (t.length > width) width = t.length;
      return;
    }
    for (const i of axes[dim]!) if (i >= 0) visit(dim + 1, offset + i * strides[dim]!);
  };
  visit(0, 0);
  const rec = (dim: number, offset: number, indent: string): string => {
    if (dim === shape.length) return text.get(offset)!.padStart(width);
    const parts = axes[dim]!.map((i) => (i < 0 ? "..." : rec(dim + 1, offset + i * strides[dim]!, indent + " ")));
    const sep = dim === shape.length - 1 ? ", " : ",\n" + "\n".repeat(shape.length - dim - 2) + indent + " ";
    return "[" + parts.join(sep) + "]";
  };
  const body = rec(0, 0, "");
  return `Array(${body.replace(/\n/g, "\n      ")}, dtype=${c.dtype}${weak})`;
}
