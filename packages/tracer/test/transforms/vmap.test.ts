/**
 * `vmap`: the defining property (slice i of the batched result = `f` of slice i of the
 * inputs) over random small programs, nested and named axes, pytree prefixes of
 * `inAxes`/`outAxes`, errors, and the collectives against direct computations.
 *
 * The oracle for slicing and for the collectives is host code on the arrays' flat data (no
 * wax op), so a broken `slice`/`reduce_sum` cannot hide a broken batching rule.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allGather,
  array,
  AxisNameError,
  axisIndex,
  lax,
  makeJaxpr,
  nn,
  np,
  pmax,
  pmean,
  pmin,
  psum,
  ShapeError,
  TransformError,
  vmap,
  type Array as WaxArray,
  type DType,
} from "../../index";
import { mulberry32 } from "../../../../test/support/seeded";
import { thrown } from "../support/thrown";

// ---- host-side arrays: the oracle -----------------------------------------------------------

interface Host {
  shape: number[];
  data: number[];
  dtype: DType;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const range = (n: number) => [...globalThis.Array(n).keys()];

function toHost(a: WaxArray): Host {
  return { shape: [...a.shape], data: globalThis.Array.from(a.data, Number), dtype: a.dtype };
}

function fromHost(h: Host): WaxArray {
  const data = h.dtype === "int32" ? Int32Array.from(h.data) : Float32Array.from(h.data);
  return array(data, { dtype: h.dtype, shape: h.shape });
}

/** Index `i` along `axis` (the axis is removed). */
function take(h: Host, axis: number, i: number): Host {
  const outer = sizeOf(h.shape.slice(0, axis));
  const n = h.shape[axis]!;
  const inner = sizeOf(h.shape.slice(axis + 1));
  const data: number[] = [];
  for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) data.push(h.data[(o * n + i) * inner + k]!);
  return { shape: h.shape.filter((_, k) => k !== axis), data, dtype: h.dtype };
}

/** Stacks equal-shaped arrays along a new `axis`. */
function stackHost(hs: readonly Host[], axis: number): Host {
  const shape = [...hs[0]!.shape];
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis));
  const data: number[] = [];
  for (let o = 0; o < outer; o++) for (const h of hs) for (let k = 0; k < inner; k++) data.push(h.data[o * inner + k]!);
  shape.splice(axis, 0, hs.length);
  return { shape, data, dtype: hs[0]!.dtype };
}

/** Concatenates along an existing `axis`. */
function concatHost(hs: readonly Host[], axis: number): Host {
  const s = stackHost(hs, axis);
  const shape = [...hs[0]!.shape];
  shape[axis] = shape[axis]! * hs.length;
  return { ...s, shape };
}

/** Elementwise fold of equal-shaped arrays. */
function foldHost(hs: readonly Host[], f: (a: number, b: number) => number): Host {
  return { ...hs[0]!, data: hs[0]!.data.map((v, k) => hs.slice(1).reduce((acc, h) => f(acc, h.data[k]!), v)) };
}

const close = (got: number, want: number, rtol: number, atol: number) =>
  Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)) || Math.abs(got - want) <= atol + rtol * Math.abs(want);

/** Asserts equal shape and dtype and close values; `what` labels the failure. */
function expectHost(got: Host, want: Host, what: string, rtol = 1e-5, atol = 1e-6): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  expect(got.dtype, `${what}: dtype`).toBe(want.dtype);
  const bad = got.data.findIndex((v, k) => !close(v, want.data[k]!, rtol, atol));
  if (bad >= 0) {
    expect.fail(
      `${what}: element ${bad} is ${got.data[bad]}, expected ${want.data[bad]}\n got  ${got.data.join(", ")}\n want ${want.data.join(", ")}`,
    );
  }
}

const rng = mulberry32;

function randomHost(shape: readonly number[], seed: number, lo = -2, hi = 2): Host {
  const r = rng(seed);
  return { shape: [...shape], data: range(sizeOf(shape)).map(() => Math.fround(lo + (hi - lo) * r())), dtype: "float32" };
}
const randomArray = (shape: readonly number[], seed: number, lo = -2, hi = 2) => fromHost(randomHost(shape, seed, lo, hi));

const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);

// ---- random programs ------------------------------------------------------------------------

/**
 * One step of a program: a menu entry, two register picks and some random integers that the
 * entry turns into axes, slices, shapes and constant seeds *from the per-example shapes*, so
 * the program is the same function whether its inputs are slices or batch tracers.
 */
interface Step {
  op: number;
  a: number;
  b: number;
  r: number[];
}

interface Ctx {
  /** The int32 index argument (a per-example scalar, maybe batched). */
  idx: WaxArray;
  /** Human-readable trace of what the program did (printed on failure). */
  log: string[];
}

/** A closed-over constant (unbatched) of `shape`, the same on every call. */
const constant = (shape: readonly number[], seed: number) => randomArray(shape, seed * 7919 + 17, -1.5, 1.5);

const pick = <T>(xs: readonly T[], r: number): T => xs[r % xs.length]!;

/** numpy-broadcast compatibility of two shapes. */
function broadcastable(s: readonly number[], t: readonly number[]): boolean {
  for (let k = 1; k <= Math.min(s.length, t.length); k++) {
    const a = s[s.length - k]!;
    const b = t[t.length - k]!;
    if (a !== b && a !== 1 && b !== 1) return false;
  }
  return true;
}

/** The numpy broadcast of two compatible shapes. */
function broadcastResult(s: readonly number[], t: readonly number[]): number[] {
  const n = Math.max(s.length, t.length);
  return range(n).map((k) => {
    const a = s[s.length - n + k] ?? 1;
    const b = t[t.length - n + k] ?? 1;
    return a === 1 ? b : a;
  });
}

/** A shape that broadcasts against `s`: some dims set to 1, maybe fewer or one more leading dim. */
function broadcastShape(s: readonly number[], r: number[]): number[] {
  let t = s.map((d, k) => ((r[0]! >> k) & 1 ? 1 : d));
  const mode = r[1]! % 4;
  if (mode === 1 && t.length > 0) t = t.slice(1);
  if (mode === 2 && s.length < 4) t = [1 + (r[2]! % 3), ...t];
  if (mode === 3) t = [];
  return t;
}

/** A permutation of `n` axes derived from `r`. */
function permutation(n: number, r: number): number[] {
  const rest = range(n);
  const out: number[] = [];
  let x = r;
  while (rest.length > 0) {
    out.push(rest.splice(x % rest.length, 1)[0]!);
    x = Math.floor(x / 3) + 7;
  }
  return out;
}

const UNARY: [string, (x: WaxArray) => WaxArray][] = [
  ["neg", (x) => x.neg()],
  ["sin", (x) => np.sin(x)],
  ["cos", (x) => np.cos(x)],
  ["tanh", (x) => x.tanh()],
  ["abs", (x) => x.abs()],
  ["sigmoid", (x) => nn.sigmoid(x)],
  ["exp∘tanh", (x) => x.tanh().exp()],
  ["sqrt(|x|+1)", (x) => x.abs().add(1).sqrt()],
  ["square∘tanh", (x) => x.tanh().square()],
  ["floor", (x) => np.floor(x)],
  ["x*0.5", (x) => x.mul(0.5)],
];

const BINARY: [string, (x: WaxArray, y: WaxArray) => WaxArray][] = [
  ["add", (x, y) => x.add(y)],
  ["sub", (x, y) => x.sub(y)],
  ["mul", (x, y) => x.mul(y)],
  ["maximum", (x, y) => x.maximum(y)],
  ["minimum", (x, y) => x.minimum(y)],
  ["div", (x, y) => x.div(y.abs().add(1))],
  ["pow", (x, y) => x.abs().add(0.5).pow(y.tanh())],
];

/** Index specs for `x.get(...)`: ints (also negative), "start:stop:step" strings, ":", null, "...". */
function indexSpec(shape: readonly number[], r: number[]): (number | string | null)[] {
  const spec: (number | string | null)[] = shape.map((d, k) => {
    const v = r[k % r.length]! + k * 13;
    switch (v % 4) {
      case 0:
        return (v % d) - (v % 2 ? d : 0); // in [-d, d)
      case 1: {
        const start = v % d;
        const stop = start + 1 + ((v >> 2) % (d - start));
        const step = 1 + ((v >> 4) % 2);
        return `${v % 3 === 0 ? start - d : start}:${stop}:${step}`;
      }
      case 2:
        return `${v % 5 === 0 ? "" : -1 - ((v >> 3) % d)}:`;
      default:
        return ":";
    }
  });
  if (r[1]! % 5 === 0) spec.splice(r[2]! % (spec.length + 1), 0, null);
  if (r[3]! % 4 === 0 && spec.length > 0) return [...spec.slice(0, 1), "..."];
  return spec;
}

type Entry = (x: WaxArray, y: WaxArray, r: number[], ctx: Ctx) => WaxArray;

const MENU: [string, Entry][] = [
  [
    "unary",
    (x, _y, r, ctx) => {
      const [name, f] = pick(UNARY, r[0]!);
      ctx.log.push(name);
      return f(x);
    },
  ],
  [
    "binary(reg, reg)",
    (x, y, r, ctx) => {
      const [name, f] = pick(BINARY, r[0]!);
      const other = broadcastable(x.shape, y.shape) ? y : constant(broadcastShape(x.shape, r.slice(1)), r[4]!);
      ctx.log.push(`${name} with ${other === y ? "register" : "constant"} [${other.shape}]`);
      return f(x, other);
    },
  ],
  [
    "binary(reg, constant)",
    (x, _y, r, ctx) => {
      const [name, f] = pick(BINARY, r[0]!);
      const c = r[5]! % 5 === 0 ? array(0.75) : constant(broadcastShape(x.shape, r.slice(1)), r[4]!);
      const swap = r[3]! % 2 === 0;
      ctx.log.push(`${name} ${swap ? `constant [${c.shape}] with x` : `x with constant [${c.shape}]`}`);
      return swap ? f(c, x) : f(x, c);
    },
  ],
  [
    "reshape",
    (x, _y, r, ctx) => {
      const s = x.shape;
      const mode = r[0]! % 5;
      let shape: number[];
      if (mode === 0) shape = [-1];
      else if (mode === 1) shape = [...s].reverse();
      else if (mode === 2) {
        shape = [...s];
        shape.splice(r[1]! % (s.length + 1), 0, 1);
      } else if (mode === 3 && s.length >= 2) {
        const k = r[1]! % (s.length - 1);
        shape = [...s.slice(0, k), s[k]! * s[k + 1]!, ...s.slice(k + 2)];
      } else shape = s.length > 0 ? [...s.slice(0, -1), -1] : [1, 1];
      ctx.log.push(`reshape [${shape}]`);
      return x.reshape(shape);
    },
  ],
  [
    "transpose",
    (x, _y, r, ctx) => {
      if (r[0]! % 4 === 0) {
        ctx.log.push("T");
        return x.T;
      }
      const perm = permutation(x.ndim, r[1]!).map((p, k) => ((r[2]! >> k) & 1 ? p - x.ndim : p));
      ctx.log.push(`transpose (${perm})`);
      return x.transpose(perm);
    },
  ],
  [
    "reduce",
    (x, _y, r, ctx) => {
      const ops = ["sum", "mean", "max", "min", "prod", "var", "argmax", "argmin"] as const;
      const op = pick(ops, r[0]!);
      const keepdims = r[1]! % 2 === 0;
      let axis: number | number[] | null = null;
      if (x.ndim > 0 && r[2]! % 4 !== 0) {
        const axes = range(x.ndim).filter((k) => (r[3]! >> k) & 1);
        const chosen = axes.length > 0 ? axes : [r[3]! % x.ndim];
        const signed = chosen.map((a, k) => ((r[4]! >> k) & 1 ? a - x.ndim : a));
        axis = signed.length === 1 || op === "argmax" || op === "argmin" ? signed[0]! : signed;
      }
      ctx.log.push(`${op}(axis=${JSON.stringify(axis)}, keepdims=${keepdims})`);
      if (op === "argmax" || op === "argmin") {
        const ax = axis as number | null;
        return (op === "argmax" ? x.argmax({ axis: ax, keepdims }) : x.argmin({ axis: ax, keepdims })).astype("float32");
      }
      return x[op]({ axis, keepdims });
    },
  ],
  [
    "matmul(reg, constant)",
    (x, _y, r, ctx) => {
      const m = 1 + (r[1]! % 3);
      if (x.ndim === 0) {
        ctx.log.push("matmul skipped (rank 0): mul");
        return x.mul(constant([m], r[2]!));
      }
      const k = x.shape[x.ndim - 1]!;
      const mode = r[0]! % 4;
      if (mode === 0 && x.ndim >= 2) {
        const w = constant([m, x.shape[x.ndim - 2]!], r[2]!);
        ctx.log.push(`matmul(constant [${w.shape}], x)`);
        return np.matmul(w, x);
      }
      if (mode === 1) {
        ctx.log.push(`dot(x, constant [${k}])`);
        return np.dot(x, constant([k], r[2]!));
      }
      if (mode === 2 && x.ndim >= 2 && x.ndim <= 3) {
        const w = constant([x.ndim === 2 ? 2 : 1, k, m], r[2]!);
        ctx.log.push(`matmul(x, constant [${w.shape}]) (broadcast batch)`);
        return np.matmul(x, w);
      }
      const w = constant([k, m], r[2]!);
      ctx.log.push(`matmul(x, constant [${w.shape}])`);
      return x.matmul(w);
    },
  ],
  [
    "dot_general(reg, reg)",
    (x, y, r, ctx) => {
      const pairs: [number, number][] = [];
      x.shape.forEach((d, i) => y.shape.forEach((e, j) => d === e && pairs.push([i, j])));
      const contract = pairs.length > 0 && r[0]! % 3 !== 0 ? [pick(pairs, r[1]!)] : [];
      const rest = pairs.filter(([i, j]) => contract.every(([p, q]) => p !== i && q !== j));
      const batch = rest.length > 0 && r[2]! % 2 === 0 ? [pick(rest, r[3]!)] : [];
      const dims = [
        [contract.map((p) => p[0]), contract.map((p) => p[1])],
        [batch.map((p) => p[0]), batch.map((p) => p[1])],
      ] as const;
      ctx.log.push(`dot_general [${x.shape}]·[${y.shape}] ${JSON.stringify(dims)}`);
      return lax.dotGeneral(x, y, dims);
    },
  ],
  [
    "concatenate",
    (x, y, r, ctx) => {
      if (x.ndim === 0) {
        ctx.log.push("stack([x, x, y?])");
        return np.stack(y.ndim === 0 ? [x, y, x] : [x, x]);
      }
      const ax = r[0]! % x.ndim;
      const sameBut = y.ndim === x.ndim && y.shape.every((d, k) => k === ax || d === x.shape[k]);
      const other = sameBut
        ? y
        : constant(
            x.shape.map((d, k) => (k === ax ? 1 + (r[1]! % 3) : d)),
            r[2]!,
          );
      const signed = r[3]! % 2 ? ax - x.ndim : ax;
      ctx.log.push(`concatenate(x, ${sameBut ? "register" : "constant"} [${other.shape}], axis=${signed})`);
      return np.concatenate(r[4]! % 2 ? [x, other] : [other, x, other], signed);
    },
  ],
  [
    "index",
    (x, _y, r, ctx) => {
      const spec = indexSpec(x.shape, r);
      ctx.log.push(`get(${JSON.stringify(spec)})`);
      return x.get(...spec);
    },
  ],
  [
    "where",
    (x, y, r, ctx) => {
      const other = broadcastable(x.shape, y.shape) ? y : constant(broadcastShape(x.shape, r.slice(1)), r[4]!);
      if (r[0]! % 3 === 0) {
        ctx.log.push(`select_n(x > 0.1, x, register-or-constant [${other.shape}]) via lax on broadcast operands`);
        const [c, a, b] = np.broadcastArrays(x.gt(0.1), x, other);
        return lax.selectN(c!, b!, a!);
      }
      if (r[0]! % 3 === 1) {
        ctx.log.push(`where([${other.shape}] < 0, x, 0.5)`);
        return np.where(other.lt(0), x, 0.5);
      }
      ctx.log.push(`where(x > constant, x, [${other.shape}])`);
      return np.where(x.gt(constant(broadcastShape(broadcastResult(x.shape, other.shape), r.slice(2)), r[5]!)), x, other);
    },
  ],
  [
    "cumsum",
    (x, _y, r, ctx) => {
      const axis = x.ndim === 0 || r[0]! % 5 === 0 ? null : (r[1]! % x.ndim) - (r[2]! % 2 ? x.ndim : 0);
      const reverse = r[3]! % 2 === 0;
      ctx.log.push(`cumsum(axis=${axis}, reverse=${reverse})`);
      return np.cumsum(x, { axis, reverse });
    },
  ],
  [
    "dynamic index with the int argument",
    (x, _y, r, ctx) => {
      if (x.ndim === 0) {
        ctx.log.push("dynamic index skipped (rank 0): x * idx");
        return x.mul(ctx.idx.astype("float32"));
      }
      const mode = r[0]! % 4;
      if (mode === 0 && x.ndim >= 2) {
        ctx.log.push("get(':', i)");
        return x.get(":", ctx.idx);
      }
      if (mode === 1) {
        ctx.log.push("get('...', i)");
        return x.get("...", ctx.idx);
      }
      if (mode === 2) {
        const sizes = x.shape.map((d, k) => 1 + ((r[1]! >> k) % d));
        const starts = x.shape.map((_, k) => (k === 0 ? ctx.idx : k === 1 ? lax.abs(ctx.idx) : array(0, { dtype: "int32" })));
        ctx.log.push(`lax.dynamicSlice(x, [i, |i|, 0...], [${sizes}])`);
        return lax.dynamicSlice(x, starts, sizes);
      }
      ctx.log.push("get(i)");
      return x.get(ctx.idx);
    },
  ],
];

/** Keeps intermediate arrays small: rank ≤ 4, at most 128 elements. */
function tame(x: WaxArray, ctx: Ctx): WaxArray {
  let t = x;
  while (t.ndim > 4) t = t.sum({ axis: 0 });
  while (t.size > 128) {
    const big = t.shape.indexOf(Math.max(...t.shape));
    t = t.get(...t.shape.map((_, k) => (k === big ? "0:2" : ":")));
  }
  if (t !== x) ctx.log.push(`tamed to [${t.shape}]`);
  return t;
}

/** Runs a program on float arguments and an int index: `{main, side}` outputs. */
function runProgram(steps: readonly Step[], floats: WaxArray[], idx: WaxArray, log: string[]): { main: WaxArray; side: WaxArray } {
  const ctx: Ctx = { idx, log };
  const regs = [...floats];
  for (const s of steps) {
    const [name, f] = MENU[s.op % MENU.length]!;
    log.push(`[${name}]`);
    regs.push(tame(f(regs[s.a % regs.length]!, regs[s.b % regs.length]!, s.r, ctx), ctx));
  }
  return { main: regs[regs.length - 1]!, side: regs[(steps[0]?.a ?? 0) % regs.length]! };
}

const stepArb = fc.record({
  op: fc.nat({ max: MENU.length - 1 }),
  a: fc.nat({ max: 7 }),
  b: fc.nat({ max: 7 }),
  r: fc.array(fc.nat({ max: 1 << 12 }), { minLength: 6, maxLength: 6 }),
});
const perExampleShape = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
/** A batch axis for a per-example rank: null or any axis in [-(rank+1), rank]. */
const axisChoice = fc.tuple(fc.boolean(), fc.nat({ max: 1 << 10 }));

const programArb = fc.record({
  size: fc.integer({ min: 1, max: 4 }),
  shapes: fc.array(perExampleShape, { minLength: 1, maxLength: 3 }),
  // one per float argument (the first is batched unless the 4th entry makes every float argument unbatched)
  inAxes: fc.array(axisChoice, { minLength: 4, maxLength: 4 }),
  idxBatched: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 6 }),
  outAxes: fc.tuple(fc.nat({ max: 1 << 10 }), fc.nat({ max: 1 << 10 }), fc.nat({ max: 2 })),
  seed: fc.nat(),
});

// ---- the defining property ------------------------------------------------------------------

describe("vmap of random programs", () => {
  it("slice i of vmap(f, {inAxes, outAxes})(xs) equals f(slice i of xs)", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const B = p.size;
        // Float arguments: batched along a random axis (maybe negative), or unbatched (null).
        const specs = p.shapes.map((s, k) => {
          const [batched, r] = p.inAxes[k]!;
          return batched || k === 0 ? (r % (2 * (s.length + 1))) - (s.length + 1) : null;
        });
        // With every input unbatched vmap needs axisSize; exercise that too.
        if (!p.inAxes[3]![0] && p.inAxes[3]![1] % 3 === 0) specs[0] = null;
        const hosts = p.shapes.map((s, k) => {
          const ax = specs[k];
          const shape = [...s];
          if (ax !== null && ax !== undefined) shape.splice(normAxis(ax, s.length + 1), 0, B);
          return randomHost(shape, p.seed + 101 * k);
        });
        const idxHost: Host = p.idxBatched
          ? { shape: [B], data: range(B).map((i) => ((p.seed + 5 * i) % 11) - 4), dtype: "int32" }
          : { shape: [], data: [(p.seed % 11) - 4], dtype: "int32" };
        const allNull = specs.every((s) => s === null) && !p.idxBatched;
        const inAxes = [...specs, p.idxBatched ? 0 : null];

        const f = (...args: WaxArray[]) => runProgram(p.steps, args.slice(0, -1), args[args.length - 1]!, []);

        // Reference: f on each slice, eagerly.
        const sliceArgs = (i: number) => [
          ...hosts.map((h, k) => (specs[k] === null ? fromHost(h) : fromHost(take(h, normAxis(specs[k]!, h.shape.length), i)))),
          fromHost(p.idxBatched ? take(idxHost, 0, i) : idxHost),
        ];
        const log: string[] = [];
        const refs = range(B).map((i) => {
          const a = sliceArgs(i);
          return runProgram(p.steps, a.slice(0, -1), a[a.length - 1]!, i === 0 ? log : []);
        });
        const rank = { main: refs[0]!.main.ndim, side: refs[0]!.side.ndim };
        const outAxisFor = (r: number, nd: number) => (r % (2 * (nd + 1))) - (nd + 1);
        const [ra, rb, form] = p.outAxes;
        const outAxes =
          form === 0
            ? outAxisFor(ra, Math.min(rank.main, rank.side))
            : form === 1
              ? { main: outAxisFor(ra, rank.main), side: outAxisFor(rb, rank.side) }
              : outAxisFor(rb, Math.min(rank.main, rank.side));
        const args = [...hosts.map(fromHost), fromHost(idxHost)];
        const opts = { inAxes: form === 2 ? [inAxes] : inAxes, outAxes, ...(allNull ? { axisSize: B } : {}) };
        const vf = form === 2 ? (a: WaxArray[]) => f(...a) : f;
        const where = `program:\n  ${log.join("\n  ")}\ninAxes ${JSON.stringify(opts.inAxes)} outAxes ${JSON.stringify(outAxes)} size ${B}`;
        let out: { main: WaxArray; side: WaxArray };
        try {
          out = (form === 2 ? vmap(vf, opts)(args) : vmap(vf, opts)(...args)) as typeof out;
        } catch (e) {
          throw new Error(`vmap threw ${String(e)}\n${where}`, { cause: e });
        }
        for (const key of ["main", "side"] as const) {
          const spec = typeof outAxes === "number" ? outAxes : outAxes[key];
          const got = toHost(out[key]);
          const ax = normAxis(spec, rank[key] + 1);
          expect(got.shape[ax], `${key}: batch axis size\n${where}`).toBe(B);
          for (let i = 0; i < B; i++) expectHost(take(got, ax, i), toHost(refs[i]![key]), `${key}, instance ${i}\n${where}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("every menu entry runs under vmap on per-example ranks 0–3, against a batched and an unbatched second operand", () => {
    const idx = array([1, -1], { dtype: "int32" });
    for (const [name, f] of MENU) {
      for (const shape of [[], [3], [2, 3], [2, 1, 3]]) {
        for (const r of [
          [1, 2, 3, 4, 5, 6],
          [0, 0, 0, 0, 0, 0],
          [7, 11, 13, 17, 19, 23],
        ]) {
          const xs = randomArray([2, ...shape], 5);
          const y = randomArray(shape, 6);
          const what = `${name} on [${shape}], r = [${r}]`;
          const batched = vmap((x: WaxArray, i: WaxArray) => f(x, x, r, { idx: i, log: [] }))(xs, idx) as WaxArray;
          const mixed = vmap((x: WaxArray, i: WaxArray) => f(x, y, r, { idx: i, log: [] }))(xs, idx) as WaxArray;
          expect(batched.shape[0], what).toBe(2);
          expect(mixed.shape[0], what).toBe(2);
          for (let i = 0; i < 2; i++)
            expectHost(take(toHost(mixed), 0, i), toHost(f(xs.get(i), y, r, { idx: idx.get(i), log: [] })), `${what}, instance ${i}`);
        }
      }
    }
  });
});

// ---- hand-picked behaviours -----------------------------------------------------------------

describe("vmap axes", () => {
  const xs = randomArray([3, 4], 1);
  const w = randomArray([4, 2], 2);

  it("closes over unbatched arrays: each row times a captured matrix plus a captured bias", () => {
    const b = randomArray([2], 3);
    const out = toHost(vmap((x: WaxArray) => x.matmul(w).add(b))(xs) as WaxArray);
    const wh = toHost(w);
    const bh = toHost(b);
    const xh = toHost(xs);
    const want: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 2; j++) want.push(range(4).reduce((acc, k) => acc + xh.data[i * 4 + k]! * wh.data[k * 2 + j]!, bh.data[j]!));
    expectHost(out, { shape: [3, 2], data: want, dtype: "float32" }, "x @ w + b");
  });

  it("moves the batch axis to outAxes, counting negative axes from the end", () => {
    const f = (x: WaxArray) => x.reshape([2, 2]);
    const o0 = toHost(vmap(f)(xs) as WaxArray);
    const o2 = toHost(vmap(f, { outAxes: 2 })(xs) as WaxArray);
    const oNeg = toHost(vmap(f, { outAxes: -2 })(xs) as WaxArray);
    expect(o2.shape).toEqual([2, 2, 3]);
    expect(oNeg.shape).toEqual([2, 3, 2]);
    for (let i = 0; i < 3; i++) {
      expectHost(take(o2, 2, i), take(o0, 0, i), `outAxes 2, instance ${i}`);
      expectHost(take(oNeg, 1, i), take(o0, 0, i), `outAxes -2, instance ${i}`);
    }
  });

  it("reads the batch from a negative inAxes", () => {
    const t = toHost(xs);
    const xsT = fromHost({ shape: [4, 3], data: range(12).map((k) => t.data[(k % 3) * 4 + Math.floor(k / 3)]!), dtype: "float32" });
    expectHost(toHost(vmap((x: WaxArray) => x.mul(2), { inAxes: -1 })(xsT) as WaxArray), toHost(xs.mul(2)), "inAxes -1");
  });

  it("with every inAxes null, axisSize gives the number of instances and unbatched outputs are broadcast", () => {
    const c = array([1, 2, 3]);
    const out = vmap((x: WaxArray) => x.mul(axisIndex("i").astype("float32")).add(psum(1, "i")), {
      inAxes: null,
      axisSize: 4,
      axisName: "i",
    })(c) as WaxArray;
    expectHost(toHost(out), { shape: [4, 3], data: range(4).flatMap((i) => [1, 2, 3].map((v) => v * i + 4)), dtype: "float32" }, "x·i + 4");
    const bcast = vmap((x: WaxArray) => x.sum(), { inAxes: null, axisSize: 2, outAxes: 0 })(c) as WaxArray;
    expectHost(toHost(bcast), { shape: [2], data: [6, 6], dtype: "float32" }, "broadcast unbatched output");
  });

  it("refuses axisSize that disagrees with the batched inputs", () => {
    expect(() => vmap((x: WaxArray) => x, { axisSize: 5 })(xs)).toThrow(ShapeError);
  });

  it("nested vmaps with different names compose: out[i][j] = f(xs[i, :, j])", () => {
    const x3 = randomArray([2, 3, 4], 9);
    const inner = vmap((v: WaxArray) => v.sum().add(v.get(0)), { axisName: "cols", inAxes: 1 });
    const out = toHost(vmap(inner, { axisName: "rows" })(x3) as WaxArray);
    const h = toHost(x3);
    const want: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 4; j++) {
        const col = range(3).map((k) => h.data[i * 12 + k * 4 + j]!);
        want.push(col.reduce((a, b) => a + b, 0) + col[0]!);
      }
    expectHost(out, { shape: [2, 4], data: want, dtype: "float32" }, "vmap(vmap)");
  });

  it("vmap of vmap matches a double loop with the inner batch on a different axis of the outer slice", () => {
    const x3 = randomArray([3, 2, 4], 10);
    const y2 = randomArray([4, 3], 11);
    // inner maps x over axis 1 of the outer slice and y over its axis 0; y is unbatched in the outer vmap
    const f = (x: WaxArray, y: WaxArray) => np.dot(x, y.get("0:2")).tanh();
    const out = toHost(vmap(vmap(f, { inAxes: [1, 0] }), { inAxes: [0, null] })(x3, y2) as WaxArray);
    const xh = toHost(x3);
    const yh = toHost(y2);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++) {
        const xij = fromHost(take(take(xh, 0, i), 1, j));
        const yj = fromHost(take(yh, 0, j));
        expectHost(take(take(out, 0, i), 0, j), toHost(f(xij, yj)), `[${i}][${j}]`);
      }
  });
});

describe("vmap batching rules, hand-picked", () => {
  const xs = randomArray([3, 4], 71);

  it("x.get(i) with a batched int32 index picks per instance, counting negatives from the end and clamping like dynamic_slice", () => {
    const idx = array([0, -2, 7], { dtype: "int32" });
    const out = toHost(vmap((x: WaxArray, i: WaxArray) => x.get(i))(xs, idx) as WaxArray);
    const h = toHost(xs);
    // row 0 → x[0], row 1 → x[-2] = x[2], row 2 → x[7] clamped to x[3]
    expectHost(out, { shape: [3], data: [h.data[0 * 4 + 0]!, h.data[1 * 4 + 2]!, h.data[2 * 4 + 3]!], dtype: "float32" }, "x[i]");
    // the same index into an unbatched (closed-over) array: rows 0, 1 (= -2 + 3) and 2 (7 clamped)
    const rows = toHost(vmap((i: WaxArray) => xs.get(i))(idx) as WaxArray);
    expectHost(rows, h, "xs[i]");
  });

  it("matmul with one or both operands batched", () => {
    const ws = randomArray([3, 4, 2], 72);
    const w = randomArray([4, 2], 73);
    const both = toHost(vmap((x: WaxArray, m: WaxArray) => x.matmul(m))(xs, ws) as WaxArray);
    const right = toHost(vmap((m: WaxArray) => xs.get(0).matmul(m))(ws) as WaxArray);
    const left = toHost(vmap((x: WaxArray) => x.matmul(w))(xs) as WaxArray);
    for (let i = 0; i < 3; i++) {
      expectHost(take(both, 0, i), toHost(xs.get(i).matmul(ws.get(i))), `both, instance ${i}`);
      expectHost(take(right, 0, i), toHost(xs.get(0).matmul(ws.get(i))), `rhs batched, instance ${i}`);
      expectHost(take(left, 0, i), toHost(xs.get(i).matmul(w)), `lhs batched, instance ${i}`);
    }
  });

  // np.where on per-example scalars with a constant branch: the elementwise batching rule keeps
  // the unbatched rank-0 case as a scalar, but select_n needs all cases of one shape.
  it("np.where(x < 0, x, 0.5) over per-example scalars (an unbatched rank-0 select_n case)", () => {
    const v = array([1, -2, 3]);
    expectHost(
      toHost(vmap((x: WaxArray) => np.where(x.lt(0), x, 0.5))(v) as WaxArray),
      { shape: [3], data: [0.5, -2, 0.5], dtype: "float32" },
      "where",
    );
    expectHost(
      toHost(vmap((x: WaxArray) => np.where(x.lt(0), 0.5, x))(v) as WaxArray),
      { shape: [3], data: [1, 0.5, 3], dtype: "float32" },
      "where, swapped",
    );
  });

  it("nn.logsumexp of per-example scalars is the identity (its internal where has a constant case)", () => {
    const v = array([1, -2, 3]);
    expectHost(toHost(vmap((x: WaxArray) => nn.logsumexp(x))(v) as WaxArray), toHost(v), "logsumexp");
  });
});

describe("vmap pytrees", () => {
  const xs = randomArray([3, 2], 21);
  const c = randomArray([2], 22);

  it("inAxes [0, null] batches the first argument only", () => {
    const out = vmap((x: WaxArray, y: WaxArray) => x.mul(y), { inAxes: [0, null] })(xs, c) as WaxArray;
    expectHost(toHost(out), toHost(xs.mul(c)), "x * c");
  });

  it("inAxes [{a: 0, b: null}] is a prefix of an object argument; outAxes {s: null, y: 1} of the output", () => {
    const f = (p: { a: WaxArray; b: WaxArray }) => ({ s: pmean(p.a, "k").add(p.b), y: p.a.mul(p.b).reshape([1, 2]) });
    const out = vmap(f, { inAxes: [{ a: 0, b: null }], outAxes: { s: null, y: 1 }, axisName: "k" })({ a: xs, b: c }) as {
      s: WaxArray;
      y: WaxArray;
    };
    const h = toHost(xs);
    const mean = range(2).map((j) => (h.data[j]! + h.data[2 + j]! + h.data[4 + j]!) / 3 + toHost(c).data[j]!);
    expectHost(toHost(out.s), { shape: [2], data: mean, dtype: "float32" }, "s (unbatched)");
    expect(out.y.shape).toEqual([1, 3, 2]);
    for (let i = 0; i < 3; i++) expectHost(take(toHost(out.y), 1, i), toHost(xs.get(i).mul(c).reshape([1, 2])), `y instance ${i}`);
  });

  it("list outputs take a list of outAxes", () => {
    const [a, b] = vmap((x: WaxArray) => [x.sum(), x.add(1)], { outAxes: [0, 1] })(xs) as [WaxArray, WaxArray];
    expectHost(toHost(a), toHost(xs.sum({ axis: 1 })), "sum");
    expectHost(toHost(b), toHost(xs.add(1).T), "x+1 with outAxes 1");
  });

  it("a leaf of a pytree argument that is batched along a negative axis", () => {
    const t = toHost(xs.T); // [2, 3], batch on the last axis
    const out = vmap((p: { u: WaxArray[] }) => p.u[0]!.mul(p.u[1]!), { inAxes: [{ u: [-1, null] }] })({ u: [fromHost(t), c] }) as WaxArray;
    expectHost(toHost(out), toHost(xs.mul(c)), "u0 * u1");
  });
});

// ---- errors ---------------------------------------------------------------------------------

describe("vmap outAxes as a function of the output", () => {
  it("receives the output and returns its prefix spec", () => {
    const xs = array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    let seen: unknown = null;
    const out = vmap((x: WaxArray) => ({ rows: x.mul(2), total: array(7) }), {
      outAxes: (o: unknown) => ((seen = o), { rows: 1, total: null }),
    })(xs) as { rows: WaxArray; total: WaxArray };
    expect(Object.keys(seen as object).sort()).toEqual(["rows", "total"]);
    expect(out.rows.tolist()).toEqual([
      [2, 6, 10],
      [4, 8, 12],
    ]);
    expect(out.total.tolist()).toEqual(7);
  });
});

describe("vmap errors", () => {
  const xs = randomArray([3, 2], 31);

  it("outAxes null for an output that varies names that output and says what to do", () => {
    const msg = thrown(TransformError, () =>
      vmap((x: WaxArray) => ({ m: pmean(x, "b"), y: x.mul(2) }), { outAxes: null, axisName: "b" })(xs),
    );
    expect(msg).toMatch(/^vmap: output \.y \(f32\[2\]\) varies over the mapped axis "b" but its outAxes is null — /);
    expect(msg).toMatch(/give it an axis/);
    expect(msg).not.toMatch(/\.m\b/);
  });

  it("outAxes null on a single varying output names it once, without a doubled word", () => {
    const msg = thrown(TransformError, () => vmap((x: WaxArray) => x.mul(2), { outAxes: null })(xs));
    expect(msg).toMatch(/f32\[2\]\) varies over the mapped axis but its outAxes is null/);
    expect(msg).not.toMatch(/output output/);
  });

  it("outAxes null is fine for an output made batch-independent by a collective", () => {
    const m = vmap((x: WaxArray) => pmean(x, "b"), { outAxes: null, axisName: "b" })(xs) as WaxArray;
    expectHost(toHost(m), toHost(xs.mean({ axis: 0 })), "pmean");
  });

  it("a collective over an unbound name is an AxisNameError naming the axis and the bound ones", () => {
    const msg = thrown(AxisNameError, () => vmap((x: WaxArray) => psum(x, "batch"), { axisName: "rows" })(xs));
    expect(msg).toMatch(/^psum: unbound axis name "batch"/);
    expect(msg).toMatch(/bound: "rows"/);
    expect(msg).toMatch(/vmap\(f, \{axisName: "batch"\}\)/);
    expect(thrown(AxisNameError, () => pmean(xs, "batch"))).toMatch(/^pmean: unbound axis name "batch" .*bound: none/);
    expect(thrown(AxisNameError, () => makeJaxpr((_x: WaxArray) => axisIndex("i"))(xs))).toMatch(/^axisIndex: unbound axis name "i"/);
    expect(thrown(AxisNameError, () => vmap((x: WaxArray) => allGather(x, ["rows", "cols"]), { axisName: "rows" })(xs))).toMatch(
      /unbound axis name "cols"/,
    );
  });

  it("inconsistent sizes of the mapped axis name both leaves and sizes", () => {
    const msg = thrown(ShapeError, () => vmap((x: WaxArray, y: WaxArray) => x.add(y), { inAxes: [0, 1] })(xs, randomArray([3, 4], 1)));
    expect(msg).toMatch(
      /^vmap: inconsistent sizes for the mapped axis: leaf 0 f32\[3,2\] axis 0 has size 3; leaf 1 f32\[3,4\] axis 1 has size 4 — /,
    );
  });

  it("inAxes out of range for an argument's rank is a ShapeError", () => {
    expect(thrown(ShapeError, () => vmap((x: WaxArray) => x, { inAxes: 2 })(xs))).toMatch(/inAxes 2 is out of range/);
    expect(thrown(ShapeError, () => vmap((x: WaxArray) => x, { outAxes: 3 })(xs))).toMatch(/outAxes 3 is out of range/);
  });

  it("all inAxes null without axisSize asks for axisSize", () => {
    expect(thrown(TransformError, () => vmap((x: WaxArray) => x, { inAxes: null })(xs))).toMatch(/pass axisSize/);
  });
});

// ---- collectives ----------------------------------------------------------------------------

describe("collectives inside vmap(..., {axisName})", () => {
  const collectiveArb = fc.record({
    size: fc.integer({ min: 1, max: 4 }),
    shape: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    axis: fc.nat({ max: 1 << 10 }),
    gatherAxis: fc.nat({ max: 1 << 10 }),
    seed: fc.nat(),
  });

  it("psum, pmean, pmax, pmin, axisIndex and allGather (stacked and tiled) match direct computations", () => {
    fc.assert(
      fc.property(collectiveArb, ({ size: B, shape, axis, gatherAxis, seed }) => {
        const nd = shape.length;
        const inAx = (axis % (2 * (nd + 1))) - (nd + 1);
        const full = [...shape];
        full.splice(normAxis(inAx, nd + 1), 0, B);
        const h = randomHost(full, seed);
        const ga = gatherAxis % (nd + 1);
        const gt = gatherAxis % nd;
        const f = (x: WaxArray) => ({
          sum: psum(x, "b"),
          mean: pmean(x, "b"),
          max: pmax(x, "b"),
          min: pmin(x, "b"),
          index: axisIndex("b"),
          gathered: allGather(x, "b", { axis: ga }),
          tiled: allGather(x, "b", { axis: gt, tiled: true }),
          // varies per instance: collectives compose with ordinary batched ops
          centered: x.sub(pmean(x, "b")).mul(axisIndex("b").astype("float32").add(1)),
        });
        const out = vmap(f, { inAxes: inAx, axisName: "b" })(fromHost(h)) as Record<keyof ReturnType<typeof f>, WaxArray>;
        const slices = range(B).map((i) => take(h, normAxis(inAx, nd + 1), i));
        const sum = foldHost(slices, (a, b) => a + b);
        const want = {
          sum,
          mean: { ...sum, data: sum.data.map((v) => v / B) },
          max: foldHost(slices, Math.max),
          min: foldHost(slices, Math.min),
          gathered: stackHost(slices, ga),
          tiled: concatHost(slices, gt),
        };
        const ctx = `shape [${shape}] inAxes ${inAx} size ${B}`;
        for (const k of ["sum", "mean", "max", "min", "gathered", "tiled"] as const) {
          const got = toHost(out[k]);
          for (let i = 0; i < B; i++) expectHost(take(got, 0, i), want[k], `${k} instance ${i} (${ctx}, axis ${k === "tiled" ? gt : ga})`);
        }
        expectHost(toHost(out.index), { shape: [B], data: range(B), dtype: "int32" }, `axisIndex (${ctx})`);
        const cen = toHost(out.centered);
        for (let i = 0; i < B; i++) {
          expectHost(
            take(cen, 0, i),
            { ...slices[i]!, data: slices[i]!.data.map((v, k) => (v - want.mean.data[k]!) * (i + 1)) },
            `centered ${i} (${ctx})`,
            1e-5,
            1e-5,
          );
        }
      }),
      { numRuns: 100 },
    );
  });

  it("of an unbatched value: psum is size × value, pmean/pmax/pmin are the value, allGather repeats it", () => {
    const c = array([1.5, -2]);
    const xs = randomArray([5, 2], 41);
    // The collectives' results do not vary over "b", so their outAxes may be null; x's may not.
    const [s, m, mx, mn, one, g, x] = vmap(
      (v: WaxArray) => [psum(c, "b"), pmean(c, "b"), pmax(c, "b"), pmin(c, "b"), psum(1, "b"), allGather(c, "b"), v],
      {
        axisName: "b",
        outAxes: [null, null, null, null, null, null, 0],
      },
    )(xs) as WaxArray[];
    expectHost(toHost(x!), toHost(xs), "x passes through");
    expectHost(toHost(s!), { shape: [2], data: [7.5, -10], dtype: "float32" }, "psum");
    expectHost(toHost(m!), toHost(c), "pmean");
    expectHost(toHost(mx!), toHost(c), "pmax");
    expectHost(toHost(mn!), toHost(c), "pmin");
    expect(one!.item()).toBe(5);
    expectHost(toHost(g!), { shape: [5, 2], data: range(5).flatMap(() => [1.5, -2]), dtype: "float32" }, "allGather");
  });

  it("psum over a list of two nested names sums over both; over one name, over that one only", () => {
    const x3 = randomArray([2, 3, 2], 51);
    const h = toHost(x3);
    const f = (x: WaxArray) => ({
      both: psum(x, ["outer", "inner"]),
      outer: psum(x, "outer"),
      inner: pmean(x, "inner"),
      idx: axisIndex("outer").mul(10).add(axisIndex("inner")),
    });
    const out = vmap(vmap(f, { axisName: "inner" }), { axisName: "outer" })(x3) as Record<string, WaxArray>;
    const at = (i: number, j: number) => take(take(h, 0, i), 0, j);
    const total = foldHost(
      range(6).map((k) => at(Math.floor(k / 3), k % 3)),
      (a, b) => a + b,
    );
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) {
        const pick2 = (k: string) => take(take(toHost(out[k]!), 0, i), 0, j);
        expectHost(pick2("both"), total, `both [${i}][${j}]`);
        expectHost(
          pick2("outer"),
          foldHost([at(0, j), at(1, j)], (a, b) => a + b),
          `outer [${i}][${j}]`,
        );
        const rowMean = foldHost([at(i, 0), at(i, 1), at(i, 2)], (a, b) => a + b);
        expectHost(pick2("inner"), { ...rowMean, data: rowMean.data.map((v) => v / 3) }, `inner [${i}][${j}]`);
        expect(pick2("idx").data).toEqual([10 * i + j]);
      }
  });

  it("a name reused by a nested vmap refers to the innermost axis, as JAX's axis environment", () => {
    const x2 = randomArray([2, 3], 62);
    const h = toHost(x2);
    const out = vmap(
      vmap((x: WaxArray) => [psum(x, "a"), axisIndex("a")], { axisName: "a" }),
      { axisName: "a" },
    )(x2) as WaxArray[];
    const rowSums = [0, 1].map((i) => take(h, 0, i).data.reduce((p, q) => p + q, 0));
    expectHost(toHost(out[0]!), { shape: [2, 3], data: rowSums.flatMap((v) => [v, v, v]), dtype: "float32" }, "psum over the inner axis");
    expectHost(toHost(out[1]!), { shape: [2, 3], data: [0, 1, 2, 0, 1, 2], dtype: "int32" }, "inner axisIndex");
  });

  it("nested allGather over both names gathers the outer name outermost", () => {
    const x3 = randomArray([2, 3], 61);
    const out = vmap(
      vmap((x: WaxArray) => allGather(x, ["o", "i"]), { axisName: "i" }),
      { axisName: "o" },
    )(x3) as WaxArray;
    expect(out.shape).toEqual([2, 3, 2, 3]);
    const h = toHost(out);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expectHost(take(take(h, 0, i), 0, j), toHost(x3), `[${i}][${j}]`);
  });
});
