/** Abstract values: the shape and dtype of an array, known at trace time. */
import { shortDtype, type DType } from "./dtype";

/** A shaped array type (JAX's `ShapedArray`): shape, dtype and whether the dtype is weak. */
export class Aval {
  readonly size: number;
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly weakType: boolean = false,
  ) {
    this.size = shapeSize(shape);
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** JAX's short form: `f32[3,4]`, `i32[]`. Weak types are not shown (as in jaxprs). */
  toString(): string {
    return `${shortDtype(this.dtype)}[${this.shape.join(",")}]`;
  }
  equals(other: Aval): boolean {
    return this.dtype === other.dtype && shapeEqual(this.shape, other.shape);
  }
  withWeak(weakType: boolean): Aval {
    return weakType === this.weakType ? this : new Aval(this.shape, this.dtype, weakType);
  }
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Row-major strides (in elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** `f32[3,4]` for an aval given as parts; used in error messages. */
export function avalStr(shape: readonly number[], dtype: DType): string {
  return `${shortDtype(dtype)}[${shape.join(",")}]`;
}
