/** Reductions: `reduce_sum/max/min/prod`, `argmax/argmin`, `cumsum`. */
import { Aval, stridesOf } from "../aval";
import { allocate, isFloat, type DType, type TypedArray } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { definePrimitive, type ParamValue, type Primitive } from "../primitive";
import { checkAxes, checkDTypeClass, intsParam, numParam } from "./checks";

/**
 * Reduces `x` over `axes`: for each output element, calls `step(acc, value, index-along-
 * the-reduced-axes)` starting from `init`, then `finish`.
 */
function reduceLoop(
  data: TypedArray,
  shape: readonly number[],
  axes: readonly number[],
  outDtype: DType,
  init: number,
  step: (acc: number, v: number, k: number) => number,
): TypedArray {
  const strides = stridesOf(shape);
  const keep = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = keep.map((i) => shape[i]!);
  const outN = outShape.reduce((a, b) => a * b, 1);
  const redShape = axes.map((i) => shape[i]!);
  const redN = redShape.reduce((a, b) => a * b, 1);
  const out = allocate(outDtype, outN);
  const outStr = stridesOf(outShape);
  const redStr = stridesOf(redShape);
  // Offsets of the reduced elements relative to the first one.
  const redOff = new Float64Array(redN);
  for (let k = 0; k < redN; k++) {
    let r = k;
    let off = 0;
    for (let j = 0; j < axes.length; j++) {
      const i = Math.floor(r / redStr[j]!);
      r -= i * redStr[j]!;
      off += i * strides[axes[j]!]!;
    }
    redOff[k] = off;
  }
  for (let o = 0; o < outN; o++) {
    let r = o;
    let base = 0;
    for (let j = 0; j < keep.length; j++) {
      const i = Math.floor(r / outStr[j]!);
      r -= i * outStr[j]!;
      base += i * strides[keep[j]!]!;
    }
    let acc = init;
    for (let k = 0; k < redN; k++) acc = step(acc, data[base + redOff[k]!]!, k);
    out[o] = acc;
  }
  return out;
}

function reduceAval(op: string, x: Aval, axes: readonly number[], dtype: DType = x.dtype, weak = x.weakType): Aval {
  checkAxes(op, x, axes);
  return new Aval(
    x.shape.filter((_, i) => !axes.includes(i)),
    dtype,
    weak,
  );
}

interface ReducerOptions {
  allowBool?: boolean;
  /** Step for integer dtypes, when it differs (products wrap at 32 bits, as XLA's). */
  intStep?: (a: number, v: number) => number;
  ppParams?: (params: { readonly axes: readonly number[] }) => [string, ParamValue][];
}

function reducer<N extends "reduce_sum" | "reduce_prod" | "reduce_max" | "reduce_min">(
  name: N,
  initOf: (d: DType) => number,
  step: (a: number, v: number) => number,
  opts: ReducerOptions = {},
): Primitive<N> {
  return definePrimitive(name, {
    abstractEval([x], params) {
      if (!opts.allowBool) checkDTypeClass(name, x!, "numeric");
      return [reduceAval(name, x!, intsParam(name, params, "axes"))];
    },
    impl([x], params, [out]) {
      const f = opts.intStep && !isFloat(out!.dtype) ? opts.intStep : step;
      return [reduceLoop(x!.data, x!.shape, params.axes, out!.dtype, initOf(x!.dtype), f)];
    },
    ppParams: opts.ppParams,
  });
}

const nanMax = (a: number, v: number) => (a !== a || v !== v ? NaN : v > a ? v : a);
const nanMin = (a: number, v: number) => (a !== a || v !== v ? NaN : v < a ? v : a);
const lowest = (d: DType) => (isFloat(d) ? -Infinity : d === "uint32" ? 0 : d === "bool" ? 0 : -2147483648);
const highest = (d: DType) => (isFloat(d) ? Infinity : d === "uint32" ? 4294967295 : d === "bool" ? 1 : 2147483647);

// Current JAX prints reduce_sum with its (here always empty) out_sharding param.
export const reduceSum = reducer(
  "reduce_sum",
  () => 0,
  (a, v) => a + v,
  {
    ppParams: (p) => [
      ["axes", p.axes],
      ["out_sharding", null],
    ],
  },
);
export const reduceProd = reducer(
  "reduce_prod",
  () => 1,
  (a, v) => a * v,
  { intStep: Math.imul },
);
export const reduceMax = reducer("reduce_max", lowest, nanMax, { allowBool: true });
export const reduceMin = reducer("reduce_min", highest, nanMin, { allowBool: true });

function argReducer<N extends "argmax" | "argmin">(name: N, better: (v: number, best: number) => boolean): Primitive<N> {
  return definePrimitive(name, {
    abstractEval([x], params) {
      const axes = intsParam(name, params, "axes");
      if (axes.length !== 1) throw new ShapeError(`${name}: reduces exactly one axis, got axes (${axes.join(", ")})`);
      checkAxes(name, x!, axes);
      if (x!.shape[axes[0]!] === 0) throw new ShapeError(`${name}: cannot reduce over axis ${axes[0]} of ${x}: it has size 0`);
      const idt = params.index_dtype;
      if (idt !== "int32" && idt !== "uint32") throw new DTypeError(`${name}: index_dtype must be int32 or uint32, got ${String(idt)}`);
      return [reduceAval(name, x!, axes, idt, false)];
    },
    impl([x], params, [out]) {
      // JAX: the first NaN wins; otherwise the first extreme value.
      const data = x!.data;
      let bestV = 0;
      let bestK = 0;
      const res = reduceLoop(data, x!.shape, params.axes, "float64", 0, (_acc, v, k) => {
        if (k === 0 || (bestV === bestV && (v !== v || better(v, bestV)))) {
          bestV = v;
          bestK = k;
        }
        return bestK;
      });
      const o = allocate(out!.dtype, out!.size);
      o.set(res as never);
      return [o];
    },
  });
}

export const argmax = argReducer("argmax", (v, b) => v > b);
export const argmin = argReducer("argmin", (v, b) => v < b);

export const cumsum = definePrimitive("cumsum", {
  abstractEval([x], params) {
    const axis = numParam("cumsum", params, "axis");
    checkDTypeClass("cumsum", x!, "numeric");
    checkAxes("cumsum", x!, [axis]);
    return [x!];
  },
  impl([x], params, [out]) {
    const axis = params.axis;
    const reverse = params.reverse === true;
    const res = allocate(out!.dtype, out!.size);
    const s = stridesOf(x!.shape);
    const n = x!.shape[axis]!;
    const st = s[axis]!;
    const data = x!.data;
    for (let base = 0; base < x!.size; base++) {
      // visit each line once: bases whose index along `axis` is 0
      if (Math.floor(base / st) % n !== 0) continue;
      let acc = 0;
      for (let j = 0; j < n; j++) {
        const p = base + (reverse ? n - 1 - j : j) * st;
        acc += data[p]!;
        res[p] = acc;
        acc = res[p]!; // accumulate in the output dtype, as a sequential f32 scan does
      }
    }
    return [res];
  },
});
