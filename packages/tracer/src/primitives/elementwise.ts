/**
 * Elementwise primitives: unary math, binary arithmetic, comparisons, logical/bitwise ops,
 * shifts, `select_n`, `convert_element_type`, `bitcast_convert_type`, `stop_gradient`.
 *
 * The reference implementation computes in float64 and stores into the output's TypedArray,
 * which rounds to float32 (correctly rounded for + - * / sqrt) and wraps integers.
 */
import { Aval } from "../aval";
import type { ConcreteArray } from "../array";
import { allocate, isFloat, type DType, type TypedArray } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { definePrimitive, type PrimName, type Primitive } from "../primitive";
import { erf, erfInv } from "@wax/runtime";
import { allWeak, checkDTypeClass, elementwiseShape, type DTypeClass } from "./checks";

type Fn = (...xs: number[]) => number;

/** Loops `f` over operands, broadcasting rank-0 ones. */
function mapN(args: readonly ConcreteArray[], out: Aval, f: Fn, dtype: DType = out.dtype): TypedArray {
  const n = out.size;
  const res = allocate(dtype, n);
  const ds = args.map((a) => a.data);
  const scalarIn = args.map((a) => a.ndim === 0 && n !== 1);
  if (args.length === 1) {
    const a = ds[0]!;
    for (let i = 0; i < n; i++) res[i] = f(a[scalarIn[0] ? 0 : i]!);
  } else if (args.length === 2) {
    const [a, b] = ds as [TypedArray, TypedArray];
    const [sa, sb] = scalarIn as [boolean, boolean];
    for (let i = 0; i < n; i++) res[i] = f(a[sa ? 0 : i]!, b[sb ? 0 : i]!);
  } else {
    const xs = new globalThis.Array<number>(args.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < ds.length; j++) xs[j] = ds[j]![scalarIn[j] ? 0 : i]!;
      res[i] = f(...xs);
    }
  }
  return res;
}

// ---- unary --------------------------------------------------------------------------------

function unary<N extends PrimName>(name: N, cls: DTypeClass, f: Fn, intF?: Fn): Primitive<N> {
  return definePrimitive(name, {
    abstractEval([x]) {
      checkDTypeClass(name, x!, cls);
      return [x!];
    },
    impl([x], _p, [out]) {
      return [mapN([x!], out!, intF && !isFloat(out!.dtype) ? intF : f)];
    },
  });
}

const signF = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : x); // keeps NaN and -0

export const neg = unary("neg", "numeric", (x) => -x);
export const exp = unary("exp", "float", Math.exp);
export const log = unary("log", "float", Math.log);
export const log1p = unary("log1p", "float", Math.log1p);
export const expm1 = unary("expm1", "float", Math.expm1);
export const sin = unary("sin", "float", Math.sin);
export const cos = unary("cos", "float", Math.cos);
export const tan = unary("tan", "float", Math.tan);
export const tanh = unary("tanh", "float", Math.tanh);
export const logistic = unary("logistic", "float", (x) => 1 / (1 + Math.exp(-x)));
export const sqrt = unary("sqrt", "float", Math.sqrt);
export const rsqrt = unary("rsqrt", "float", (x) => 1 / Math.sqrt(x));
export const abs = unary("abs", "numeric", Math.abs, (x) => Math.abs(x));
export const sign = unary("sign", "numeric", signF);
export const floor = unary("floor", "float", Math.floor);
export const ceil = unary("ceil", "float", Math.ceil);
export const erfP = unary("erf", "float", erf);
export const erfInvP = unary("erf_inv", "float", erfInv);
/** Logical not on bool, bitwise not on integers. */
export const not = definePrimitive("not", {
  abstractEval([x]) {
    checkDTypeClass("not", x!, "intOrBool");
    return [x!];
  },
  impl([x], _p, [out]) {
    return [mapN([x!], out!, out!.dtype === "bool" ? (v) => (v ? 0 : 1) : (v) => ~v)];
  },
});

/** JAX's `lax.RoundingMethod`: 0 = away from zero, 1 = to nearest even. */
export const round = definePrimitive("round", {
  abstractEval([x], params) {
    checkDTypeClass("round", x!, "float");
    const m = params.rounding_method;
    if (m !== 0 && m !== 1)
      throw new ShapeError(`round: rounding_method must be 0 (away from zero) or 1 (to nearest even), got ${String(m)}`);
    return [x!];
  },
  impl([x], params, [out]) {
    const even = params.rounding_method === 1;
    return [
      mapN([x!], out!, (v) => {
        if (!Number.isFinite(v)) return v;
        const r = Math.round(v); // rounds half up
        if (Math.abs(v - Math.trunc(v)) !== 0.5) return r;
        if (even) return 2 * Math.round(v / 2);
        return v < 0 ? Math.floor(v) : Math.ceil(v);
      }),
    ];
  },
});

export const integerPow = definePrimitive("integer_pow", {
  abstractEval([x], params) {
    checkDTypeClass("integer_pow", x!, "numeric");
    const y = params.y;
    if (typeof y !== "number" || !Number.isInteger(y)) throw new ShapeError(`integer_pow: y must be an integer, got ${String(y)}`);
    if (y < 0 && !isFloat(x!.dtype)) throw new DTypeError(`integer_pow: negative power ${y} of integer ${x} — convert to float first`);
    return [x!];
  },
  impl([x], params, [out]) {
    const y = params.y;
    if (!isFloat(out!.dtype)) {
      return [
        mapN([x!], out!, (v) => {
          let r = 1;
          for (let i = 0; i < y; i++) r = Math.imul(r, v);
          return r;
        }),
      ];
    }
    if (out!.dtype === "float32") {
      // float32 as XLA computes it: repeated squaring rounded at each step, then 1/x^|y|.
      const n = Math.abs(y);
      return [
        mapN([x!], out!, (v) => {
          let acc = 1;
          let base = v;
          let first = true;
          for (let k = n; k > 0; k >>= 1) {
            if (k & 1) {
              acc = first ? base : Math.fround(acc * base);
              first = false;
            }
            if (k > 1) base = Math.fround(base * base);
          }
          if (n === 0) acc = 1;
          return y < 0 ? Math.fround(1 / acc) : acc;
        }),
      ];
    }
    return [mapN([x!], out!, (v) => v ** y)];
  },
});

export const square = definePrimitive("square", {
  abstractEval([x]) {
    checkDTypeClass("square", x!, "numeric");
    return [x!];
  },
  impl([x], _p, [out]) {
    return [mapN([x!], out!, isFloat(out!.dtype) ? (v) => v * v : (v) => Math.imul(v, v))];
  },
});

// ---- binary -------------------------------------------------------------------------------

function binary<N extends PrimName>(name: N, cls: DTypeClass, f: Fn, intF?: Fn, outDtype?: DType): Primitive<N> {
  return definePrimitive(name, {
    abstractEval(avals) {
      if (avals.length !== 2) throw new ShapeError(`${name}: takes 2 operands, got ${avals.length}`);
      const shape = elementwiseShape(name, avals);
      checkDTypeClass(name, avals[0]!, cls);
      const dtype = outDtype ?? avals[0]!.dtype;
      return [new Aval(shape, dtype, outDtype ? false : allWeak(avals))];
    },
    impl(args, _p, [out]) {
      const isF = isFloat(args[0]!.dtype);
      return [mapN(args, out!, intF && !isF ? intF : f)];
    },
  });
}

const intDiv = (a: number, b: number) => (b === 0 ? -1 : Math.trunc(a / b));
const intRem = (a: number, b: number) => (b === 0 ? a : a % b);

export const add = binary("add", "numeric", (a, b) => a + b);
export const sub = binary("sub", "numeric", (a, b) => a - b);
export const mul = binary("mul", "numeric", (a, b) => a * b, Math.imul);
export const div = binary("div", "numeric", (a, b) => a / b, intDiv);
export const rem = binary("rem", "numeric", (a, b) => a % b, intRem);
/** C/XLA pow: pow(1, y) = 1 and pow(-1, ±inf) = 1 even for NaN/inf y, unlike JS Math.pow. */
export function cPow(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return Math.pow(x, y);
}
export const pow = binary("pow", "float", cPow);
export const max = binary("max", "numeric", (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)));
export const min = binary("min", "numeric", (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)));
export const atan2 = binary("atan2", "float", Math.atan2);

export const eq = binary("eq", "any", (a, b) => +(a === b), undefined, "bool");
export const ne = binary("ne", "any", (a, b) => +(a !== b), undefined, "bool");
export const lt = binary("lt", "any", (a, b) => +(a < b), undefined, "bool");
export const le = binary("le", "any", (a, b) => +(a <= b), undefined, "bool");
export const gt = binary("gt", "any", (a, b) => +(a > b), undefined, "bool");
export const ge = binary("ge", "any", (a, b) => +(a >= b), undefined, "bool");

export const and = binary(
  "and",
  "intOrBool",
  (a, b) => a & b,
  (a, b) => a & b,
);
export const or = binary(
  "or",
  "intOrBool",
  (a, b) => a | b,
  (a, b) => a | b,
);
export const xor = binary(
  "xor",
  "intOrBool",
  (a, b) => a ^ b,
  (a, b) => a ^ b,
);

// Shift amounts outside [0, 32) give 0 (or the sign fill), as XLA defines them.
const inRange = (b: number) => b >= 0 && b < 32;
export const shiftLeft = binary("shift_left", "int", (a, b) => (inRange(b) ? a << b : 0));
export const shiftRightLogical = binary("shift_right_logical", "int", (a, b) => (inRange(b) ? a >>> b : 0));
export const shiftRightArithmetic = binary("shift_right_arithmetic", "int", (a, b) => (inRange(b) ? (a | 0) >> b : (a | 0) < 0 ? -1 : 0));
// uint32 arithmetic shift treats the bits as signed (XLA); stored back as uint32 by the array.

// ---- select_n -----------------------------------------------------------------------------

/** `select_n(pred, *cases)`: case `pred` of each element (bool pred: false → cases[0]). */
export const selectN = definePrimitive("select_n", {
  abstractEval(avals) {
    const [pred, ...cases] = avals;
    if (!pred || cases.length === 0) throw new ShapeError("select_n: needs a predicate and at least one case");
    if (pred.dtype !== "bool" && pred.dtype !== "int32") {
      throw new DTypeError(`select_n: predicate ${pred} must be bool or int32`);
    }
    if (pred.dtype === "bool" && cases.length > 2) {
      throw new DTypeError(`select_n: a bool predicate selects between at most 2 cases, got ${cases.length}`);
    }
    const c0 = cases[0]!;
    for (const c of cases) {
      if (!c.equals(c0)) throw new ShapeError(`select_n: cases must have one shape and dtype, got ${cases.map(String).join(", ")}`);
    }
    if (pred.ndim !== 0 && !pred.equals(new Aval(c0.shape, pred.dtype))) {
      throw new ShapeError(`select_n: predicate ${pred} must be a scalar or have the cases' shape [${c0.shape.join(",")}]`);
    }
    return [new Aval(c0.shape, c0.dtype, allWeak(cases))];
  },
  impl([pred, ...cases], _p, [out]) {
    const n = out!.size;
    const res = allocate(out!.dtype, n);
    const p = pred!.data;
    const ps = pred!.ndim === 0;
    const cs = cases.map((c) => c.data);
    for (let i = 0; i < n; i++) {
      const k = p[ps ? 0 : i]!;
      res[i] = cs[Math.min(Math.max(k, 0), cs.length - 1)]![i]!;
    }
    return [res];
  },
});

// ---- conversions --------------------------------------------------------------------------

function convertValue(v: number, from: DType, to: DType): number {
  if (to === "bool") return v !== 0 ? 1 : 0;
  if (to === "int32" || to === "uint32") {
    if (!isFloat(from)) return v; // int → int wraps on store
    if (Number.isNaN(v)) return 0;
    const t = Math.trunc(v);
    return to === "int32" ? Math.min(Math.max(t, -2147483648), 2147483647) : Math.min(Math.max(t, 0), 4294967295);
  }
  return v;
}

export const convertElementType = definePrimitive("convert_element_type", {
  abstractEval([x], params) {
    const to = params.new_dtype;
    return [new Aval(x!.shape, to, params.weak_type === true)];
  },
  impl([x], _p, [out]) {
    const from = x!.dtype;
    return [mapN([x!], out!, (v) => convertValue(v, from, out!.dtype))];
  },
  ppParams: (p) => [
    ["new_dtype", p.new_dtype],
    ["weak_type", p.weak_type],
  ],
});

export const bitcastConvertType = definePrimitive("bitcast_convert_type", {
  abstractEval([x], params) {
    const to = params.new_dtype;
    const w = (d: DType) => (d === "float64" ? 8 : d === "bool" ? 1 : 4);
    if (w(to) !== w(x!.dtype) || to === "bool" || x!.dtype === "bool") {
      throw new DTypeError(`bitcast_convert_type: cannot bitcast ${x} to ${to} — only between 32-bit dtypes (float32, int32, uint32)`);
    }
    return [new Aval(x!.shape, to)];
  },
  impl([x], _p, [out]) {
    const src = x!.data;
    const copy = allocate(x!.dtype, src.length);
    copy.set(src as never);
    const view =
      out!.dtype === "float32"
        ? new Float32Array(copy.buffer)
        : out!.dtype === "int32"
          ? new Int32Array(copy.buffer)
          : new Uint32Array(copy.buffer);
    return [view];
  },
});

/** Identity whose derivative is zero. */
export const stopGradient = definePrimitive("stop_gradient", {
  abstractEval([x]) {
    return [x!];
  },
  impl([x]) {
    return [x!.data.slice()];
  },
});
