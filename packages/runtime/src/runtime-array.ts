/** `RuntimeArray`: the runtime's own array (data, shape, dtype), with no tracer behind it. */
import type { HostArray, RuntimeDType } from "./executable";

export class RuntimeArray {
  constructor(
    readonly data: HostArray,
    readonly shape: readonly number[],
    readonly dtype: RuntimeDType,
  ) {}

  get size(): number {
    return this.data.length;
  }

  /** Nested JS arrays (numbers, booleans for bool). */
  tolist(): unknown {
    const d = this.data;
    const rec = (dim: number, start: number): unknown => {
      if (dim === this.shape.length) return this.dtype === "bool" ? d[start] !== 0 : d[start];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return globalThis.Array.from({ length: this.shape[dim]! }, (_, i) => rec(dim + 1, start + i * stride));
    };
    return rec(0, 0);
  }

  toString(): string {
    return `RuntimeArray(${JSON.stringify(this.tolist())}, ${this.dtype}[${this.shape.join(",")}])`;
  }
}
