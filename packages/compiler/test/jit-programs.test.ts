/**
 * Differential tests of whole programs: `filterJit(f)` against `f` run eagerly by the
 * reference interpreter, for random DAGs of primitives (fast-check), for `grad` of an MLP loss
 * and of a softmax cross-entropy, for `vmap` with `inAxes`/`outAxes`, for `vmap(grad(...))`
 * with a `pmean` inside (BatchNorm-like), for pytree outputs with static leaves and for
 * closures over concrete arrays (the constants of the module).
 *
 * Tolerances. Random programs: every value carries a bound on its magnitude and on how far the
 * compiled value may drift from the interpreter's (`Val.err`), propagated op by op from the
 * per-op tolerances of `jit-primitives.test.ts` — exact ops add no drift of their own,
 * transcendentals up to 4 ulp, matmuls the difference between float32 and float64
 * accumulation, (K + 2)·2^-24·Σ|a||b|, and sums and means of n terms likewise (n + 2)·2^-24·Σ|x|
 * (vectorised reductions accumulate in float32). Any other difference (a wrong element, a wrong
 * broadcast) is of the order of the values themselves, far above these bounds. Transforms
 * (grad, vmap): |got − want| ≤ 1e-4·max|want| + 1e-6 per leaf, since the compiled matmuls
 * accumulate in float32 and the interpreter's in float64 (their relative drift is ~K·2^-24).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Aval, ConcreteArray, array, grad, lax, nn, np, pmean, treeFlatten, valueAndGrad, vmap, type Array } from "@wax/tracer";
import { compileJaxpr, filterJit } from "../index";
import { mulberry32 } from "../../../test/support/seeded";

const QUIET = { warnAfterMisses: Infinity };
const U = 2 ** -24;

const seeded = mulberry32;

/** float32 data uniform in [lo, hi). */
function randomArray(shape: readonly number[], seed: number, lo = -2, hi = 2): ConcreteArray {
  const r = seeded(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new ConcreteArray(
    new Aval([...shape], "float32"),
    Float32Array.from({ length: n }, () => lo + (hi - lo) * r()),
  );
}

const fmt = (v: number): string => (Object.is(v, -0) ? "-0" : String(v));

/**
 * Compares two pytrees: same structure, equal static leaves, arrays of the same aval within
 * `tol(leafIndex, want)` per element (NaN and ±inf positions exactly).
 */
function expectTreesClose(got: unknown, want: unknown, tol: (leaf: number, w: Array) => number, what: string): void {
  const [gl, gt] = treeFlatten(got);
  const [wl, wt] = treeFlatten(want);
  expect(String(gt), `${what}: output structure`).toBe(String(wt));
  wl.forEach((w, i) => {
    const g = gl[i];
    if (!(w instanceof ConcreteArray)) {
      expect(g, `${what}: static leaf ${i}`).toBe(w);
      return;
    }
    expect(g, `${what}: leaf ${i} is an array`).toBeInstanceOf(ConcreteArray);
    const ga = g as ConcreteArray;
    expect(String(ga.aval), `${what}: leaf ${i} aval`).toBe(String(w.aval));
    const t = tol(i, w);
    for (let k = 0; k < w.size; k++) {
      const a: number = ga.data[k]!;
      const b: number = w.data[k]!;
      const ok = Number.isNaN(b) ? Number.isNaN(a) : !Number.isFinite(b) ? a === b : Math.abs(a - b) <= t;
      if (!ok) expect.fail(`${what}: leaf ${i} ${w.aval} element ${k}: want ${fmt(b)}, got ${fmt(a)} (tolerance ${t})`);
    }
  });
}

/** The transform tolerance: 1e-4·max|want| + 1e-6 per leaf. */
const normwise = (_: number, w: Array): number => 1e-4 * Math.max(0, ...globalThis.Array.from(w.data, Math.abs)) + 1e-6;

// ---- random DAG programs -------------------------------------------------------------------

/** A value of a random program: the array, a bound on |value|, a bound on |compiled − eager|. */
interface Val {
  x: Array;
  bound: number;
  err: number;
}

interface Step {
  op: number;
  a: number;
  b: number;
  k: number;
}

interface ProgramSpec {
  base: number[];
  /** Per input: which dims of `base` are 1, and how many leading dims are dropped. */
  inputs: { ones: boolean[]; drop: number }[];
  steps: Step[];
  outPick: number;
  seed: number;
}

const OPS = [
  "add",
  "sub",
  "mul",
  "maximum",
  "where",
  "exp",
  "tanh",
  "sum",
  "max",
  "mean",
  "matmul",
  "transpose",
  "reshape",
  "slice",
  "concatenate",
  "abs",
] as const;

function broadcastShape(...shapes: (readonly number[])[]): number[] | null {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) return null;
      if (v !== 1) d = v;
    }
    out.push(d);
  }
  return out;
}

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const rounding = (err: number, bound: number, u = 2 * U): number => (err > 0 ? err + u * bound : 0);

/**
 * Runs the program on `inputs` (concrete arrays or tracers: every decision depends only on
 * shapes and the spec, so the eager and the traced run build the same program). Returns the
 * output values and a readable listing.
 */
function runProgram(spec: ProgramSpec, inputs: Array[]): { outs: Val[]; listing: string[] } {
  const vals: Val[] = inputs.map((x) => ({ x, bound: 2, err: 0 }));
  const listing = inputs.map((x, i) => `v${i}: ${x.aval} = input ${i}`);
  const push = (v: Val, what: string) => {
    vals.push(v);
    listing.push(`v${vals.length - 1}: ${v.x.aval} = ${what}  (|v| ≤ ${v.bound.toPrecision(3)}, drift ≤ ${v.err.toPrecision(3)})`);
    return v;
  };
  const name = (v: Val) => `v${vals.indexOf(v)}`;
  /** Squashes a value through tanh when it is too large to feed exp, a product or a sum. */
  const tame = (v: Val, limit: number): Val =>
    v.bound <= limit ? v : push({ x: np.tanh(v.x), bound: 1, err: v.err + 8 * U }, `tanh(${name(v)})`);

  for (const s of spec.steps) {
    const op = OPS[s.op % OPS.length]!;
    let a: Val = vals[s.a % vals.length]!;
    let b: Val = vals[s.b % vals.length]!;
    const rank = a.x.ndim;
    switch (op) {
      case "add":
      case "sub":
      case "mul":
      case "maximum": {
        if (op === "mul") {
          a = tame(a, 1e3);
          b = tame(b, 1e3);
        }
        // Not broadcastable: combine with the sum of b (a scalar) instead.
        if (!broadcastShape(a.x.shape, b.x.shape)) {
          const t = tame(b, 1e3);
          const bound = t.x.size * t.bound;
          b = push({ x: np.sum(t.x), bound, err: rounding(t.x.size * t.err, bound) }, `sum(${name(t)})`);
        }
        const x =
          op === "add"
            ? np.add(a.x, b.x)
            : op === "sub"
              ? np.subtract(a.x, b.x)
              : op === "mul"
                ? np.multiply(a.x, b.x)
                : np.maximum(a.x, b.x);
        const bound = op === "mul" ? a.bound * b.bound : op === "maximum" ? Math.max(a.bound, b.bound) : a.bound + b.bound;
        const err =
          op === "mul"
            ? rounding(a.bound * b.err + b.bound * a.err + a.err * b.err, bound)
            : op === "maximum"
              ? Math.max(a.err, b.err)
              : rounding(a.err + b.err, bound);
        push({ x, bound, err }, `${op}(${name(a)}, ${name(b)})`);
        break;
      }
      case "where": {
        // The condition comes from an input (exact on both sides, so no branch flips).
        const c = vals[s.k % inputs.length]!;
        if (!broadcastShape(c.x.shape, a.x.shape, b.x.shape)) b = a;
        if (!broadcastShape(c.x.shape, a.x.shape, b.x.shape)) {
          push({ x: np.abs(a.x), bound: a.bound, err: a.err }, `abs(${name(a)})`);
          break;
        }
        push(
          { x: np.where(np.greater(c.x, 0), a.x, b.x), bound: Math.max(a.bound, b.bound), err: Math.max(a.err, b.err) },
          `where(${name(c)} > 0, ${name(a)}, ${name(b)})`,
        );
        break;
      }
      case "exp": {
        a = tame(a, 8);
        const bound = Math.exp(a.bound);
        push({ x: np.exp(a.x), bound, err: bound * Math.expm1(a.err) + 8 * U * bound }, `exp(${name(a)})`);
        break;
      }
      case "tanh":
        push({ x: np.tanh(a.x), bound: Math.min(1, a.bound), err: a.err + 8 * U }, `tanh(${name(a)})`);
        break;
      case "sum":
      case "max":
      case "mean": {
        if (rank === 0) {
          push({ x: np.abs(a.x), bound: a.bound, err: a.err }, `abs(${name(a)})`);
          break;
        }
        a = tame(a, 1e4);
        const axis = s.k % rank;
        const keepdims = (s.k >> 3) % 2 === 1;
        const n = a.x.shape[axis]!;
        const x =
          op === "sum"
            ? np.sum(a.x, { axis, keepdims })
            : op === "max"
              ? np.max(a.x, { axis, keepdims })
              : np.mean(a.x, { axis, keepdims });
        const bound = op === "sum" ? n * a.bound : a.bound;
        // Vectorised sums accumulate in float32 (the interpreter in float64): (n + 2)·2⁻²⁴·Σ|terms|
        // even for exact operands; a mean divides that by n.
        const err = op === "sum" ? n * a.err + (n + 2) * U * bound : op === "max" ? a.err : a.err + (n + 2) * U * bound;
        push({ x, bound, err }, `${op}(${name(a)}, axis=${axis}, keepdims=${keepdims})`);
        break;
      }
      case "matmul": {
        if (rank === 0) {
          push({ x: np.abs(a.x), bound: a.bound, err: a.err }, `abs(${name(a)})`);
          break;
        }
        a = tame(a, 1e3);
        const K = a.x.shape[rank - 1]!;
        // With a compatible 2-D b: a @ b; otherwise a @ aᵀ (or a·a for vectors).
        const other = b.x.ndim === 2 && b.x.shape[0] === K ? tame(b, 1e3) : null;
        const x = other ? np.matmul(a.x, other.x) : rank === 1 ? np.dot(a.x, a.x) : np.matmul(a.x, np.swapaxes(a.x, -1, -2));
        const o = other ?? a;
        const bound = K * a.bound * o.bound;
        const err = K * (a.bound * o.err + o.bound * a.err + a.err * o.err) + (K + 2) * U * bound;
        push({ x, bound, err }, other ? `matmul(${name(a)}, ${name(other)})` : `matmul(${name(a)}, ${name(a)}ᵀ)`);
        break;
      }
      case "transpose": {
        const perm = a.x.shape.map((_, i) => i).sort((p, q) => ((p * 7 + s.k) % 5) - ((q * 7 + s.k) % 5) || p - q);
        push({ ...a, x: np.transpose(a.x, perm) }, `transpose(${name(a)}, [${perm}])`);
        break;
      }
      case "reshape": {
        const sh = a.x.shape;
        const target =
          s.k % 3 === 0 || rank < 2 ? [sizeOf(sh)] : s.k % 3 === 1 ? [1, ...sh] : [...sh.slice(0, -2), sh[rank - 2]! * sh[rank - 1]!];
        push({ ...a, x: np.reshape(a.x, target) }, `reshape(${name(a)}, [${target}])`);
        break;
      }
      case "slice": {
        const axis = rank === 0 ? -1 : s.k % rank;
        if (axis < 0 || a.x.shape[axis]! < 2) {
          push({ x: np.abs(a.x), bound: a.bound, err: a.err }, `abs(${name(a)})`);
          break;
        }
        const spec1 = (s.k >> 2) % 2 === 0 ? "1:" : "::2";
        const idx = a.x.shape.map((_, i) => (i === axis ? spec1 : ":"));
        push({ ...a, x: a.x.get(...idx) }, `${name(a)}[${idx.join(", ")}]`);
        break;
      }
      case "concatenate": {
        if (rank === 0) {
          push({ x: np.abs(a.x), bound: a.bound, err: a.err }, `abs(${name(a)})`);
          break;
        }
        const axis = s.k % rank;
        const fits = b.x.ndim === rank && b.x.shape.every((d, i) => i === axis || d === a.x.shape[i]);
        const parts = fits ? [a, b] : [a, a];
        push(
          {
            x: np.concatenate(
              parts.map((p) => p.x),
              axis,
            ),
            bound: Math.max(...parts.map((p) => p.bound)),
            err: Math.max(...parts.map((p) => p.err)),
          },
          `concatenate(${parts.map(name).join(", ")}, axis=${axis})`,
        );
        break;
      }
      case "abs":
        push({ x: np.abs(a.x), bound: a.bound, err: a.err }, `abs(${name(a)})`);
        break;
    }
  }
  const last = vals[vals.length - 1]!;
  const extra = vals[spec.outPick % vals.length]!;
  listing.push(`outputs: ${name(last)}, ${name(extra)}`);
  return { outs: [last, extra], listing };
}

const programArb: fc.Arbitrary<ProgramSpec> = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
  .chain(([rank, nInputs]) =>
    fc.record({
      base: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: rank, maxLength: rank }),
      inputs: fc.array(
        fc.record({ ones: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }), drop: fc.integer({ min: 0, max: rank - 1 }) }),
        { minLength: nInputs, maxLength: nInputs },
      ),
      steps: fc.array(fc.record({ op: fc.nat(), a: fc.nat(), b: fc.nat(), k: fc.nat() }), { minLength: 2, maxLength: 10 }),
      outPick: fc.nat(),
      seed: fc.nat(),
    }),
  );

describe("filterJit = interpreter on random programs", () => {
  it("random DAGs of elementwise ops (broadcasting), reductions, matmul, views, where and concatenate", () => {
    fc.assert(
      fc.property(programArb, (spec) => {
        const inputs = spec.inputs.map((inp, i) => {
          const shape = spec.base.map((d, k) => (inp.ones[k] ? 1 : d)).slice(inp.drop);
          return randomArray(shape, spec.seed + i);
        });
        const eager = runProgram(spec, inputs);
        const f = (...xs: Array[]) => runProgram(spec, xs).outs.map((v) => v.x);
        const got = filterJit(f, QUIET)(...inputs);
        expectTreesClose(
          got,
          eager.outs.map((v) => v.x),
          (i) => 2 * eager.outs[i]!.err,
          `program\n    ${eager.listing.join("\n    ")}\n  `,
        );
      }),
      { numRuns: 30 },
    );
  });

  it("programs of exact ops (add, where, slices, concatenate, transposes) match exactly", () => {
    // No rounding can differ here, so the drift bound of such a random program is 0.
    const x = randomArray([3, 5], 1);
    const y = randomArray([1, 5], 2);
    const f = (a: Array, b: Array) => np.where(np.greater(a, 0), np.add(a, b), np.transpose(np.concatenate([a.get("1:"), b], 0)).T);
    expectTreesClose(filterJit(f, QUIET)(x, y), f(x, y), () => 0, "exact program");
  });
});

// ---- grad ----------------------------------------------------------------------------------

interface Mlp {
  w1: Array;
  b1: Array;
  w2: Array;
  b2: Array;
}

const mlpLoss = (p: Mlp, x: Array, y: Array): Array => {
  const h = nn.relu(x.matmul(p.w1).add(p.b1));
  return h.matmul(p.w2).add(p.b2).sub(y).square().mean();
};

const softmaxCrossEntropy = (p: { w: Array; b: Array }, x: Array, labels: Array): Array => {
  const logits = x.matmul(p.w).add(p.b);
  return nn
    .oneHot(labels, p.b.shape[0]!)
    .mul(np.log(nn.softmax(logits)))
    .sum({ axis: -1 })
    .mean()
    .neg();
};

describe("filterJit(grad(...)) = grad(...) eagerly", () => {
  it("MLP loss (matmul + relu + mean of squares): value and gradients", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        (batch, hidden, out, seed) => {
          const din = 5;
          const p: Mlp = {
            w1: randomArray([din, hidden], seed, -1, 1),
            b1: randomArray([hidden], seed + 1, -0.5, 0.5),
            w2: randomArray([hidden, out], seed + 2, -1, 1),
            b2: randomArray([out], seed + 3),
          };
          const x = randomArray([batch, din], seed + 4);
          const y = randomArray([batch, out], seed + 5);
          const vg = valueAndGrad(mlpLoss);
          expectTreesClose(filterJit(vg, QUIET)(p, x, y), vg(p, x, y), normwise, "valueAndGrad(mlpLoss)");
        },
      ),
      { numRuns: 6 },
    );
  });

  it("softmax cross-entropy with int32 labels (custom JVPs inlined)", () => {
    const classes = 7;
    const p = { w: randomArray([6, classes], 11, -1, 1), b: randomArray([classes], 12) };
    const x = randomArray([9, 6], 13, -3, 3);
    const labels = array([0, 6, 3, 3, 1, 5, 2, 4, 6], { dtype: "int32" });
    const vg = valueAndGrad(softmaxCrossEntropy);
    expectTreesClose(filterJit(vg, QUIET)(p, x, labels), vg(p, x, labels), normwise, "valueAndGrad(softmaxCrossEntropy)");
    // The forward pass alone keeps softmax as a custom_jvp_call, which the compiler inlines.
    const forward = filterJit(softmaxCrossEntropy, QUIET);
    expectTreesClose(forward(p, x, labels), softmaxCrossEntropy(p, x, labels), normwise, "softmaxCrossEntropy");
    expect(forward.lastJaxpr()!.jaxpr.eqns.some((e) => e.prim.name === "custom_jvp_call")).toBe(true);
  });
});

// ---- vmap ----------------------------------------------------------------------------------

describe("filterJit(vmap(...)) = vmap(...) eagerly", () => {
  it("inAxes/outAxes move the batch axis: per-example tanh(x @ w) batched on axis 1, out on axis 1", () => {
    const f = vmap((x: Array, w: Array) => np.tanh(x.matmul(w)), { inAxes: [1, null], outAxes: 1 });
    const xs = randomArray([5, 6], 21);
    const w = randomArray([5, 3], 22);
    const got = filterJit(f, QUIET)(xs, w) as Array;
    expect(got.shape).toEqual([3, 6]);
    expectTreesClose(got, f(xs, w), normwise, "vmap(tanh(x @ w))");
  });

  it("pytree inAxes (a dict with an unbatched leaf) and a pytree of outputs with different outAxes", () => {
    const f = vmap((d: { a: Array; b: Array }, s: Array) => ({ prod: d.a.mul(d.b).sum(), shifted: d.a.add(s) }), {
      inAxes: [{ a: 0, b: null }, 0],
      outAxes: { prod: 0, shifted: 1 },
    });
    const d = { a: randomArray([4, 7], 23), b: randomArray([7], 24) };
    const s = randomArray([4], 25);
    expectTreesClose(filterJit(f, QUIET)(d, s), f(d, s), normwise, "vmap(dict)");
  });

  it("vmap(grad(per-example loss), {axisName}) with pmean batch statistics inside (BatchNorm-like)", () => {
    const B = 6;
    const perExample = (p: { w: Array; gamma: Array; beta: Array }, x: Array, target: Array): Array => {
      const h = x.matmul(p.w);
      const mean = pmean(h, "batch");
      const variance = pmean(h.sub(mean).square(), "batch");
      const y = h.sub(mean).div(variance.add(1e-5).sqrt()).mul(p.gamma).add(p.beta);
      return y.sub(target).square().sum().div(B);
    };
    const g = vmap(grad(perExample), { axisName: "batch", inAxes: [null, 0, 0] });
    const p = { w: randomArray([4, 3], 31, -1, 1), gamma: randomArray([3], 32, 0.5, 1.5), beta: randomArray([3], 33, -0.5, 0.5) };
    const xs = randomArray([B, 4], 34);
    const ts = randomArray([B, 3], 35);
    const got = filterJit(g, QUIET)(p, xs, ts) as { w: Array };
    expect(got.w.shape).toEqual([B, 4, 3]);
    expectTreesClose(got, g(p, xs, ts), normwise, "vmap(grad(perExample))");
  });
});

// ---- pytrees, statics and constants --------------------------------------------------------

describe("filterJit: pytrees with static leaves and captured constants", () => {
  it("returns static output leaves (numbers, strings, booleans, null) as they were, and keys the cache on static inputs", () => {
    const f = (x: Array, cfg: { scale: number; label: string }) => ({
      y: x.mul(cfg.scale),
      label: `${cfg.label}!`,
      n: cfg.scale + 1,
      flag: true,
      none: null,
      nested: [x.sum(), "s", { deep: 2.5 }],
    });
    const jitted = filterJit(f, QUIET);
    const x = randomArray([2, 5], 41);
    for (const cfg of [
      { scale: 2, label: "a" },
      { scale: -3, label: "b" },
      { scale: 2, label: "a" },
    ]) {
      const got = jitted(x, cfg);
      expectTreesClose(got, f(x, cfg), () => 0, `static cfg ${JSON.stringify(cfg)}`);
      expect(got.label).toBe(`${cfg.label}!`);
      expect(got.nested[2]).toEqual({ deep: 2.5 });
    }
    expect(jitted.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it("closures over concrete arrays become constants of the module (float32, int32, uint32, bool)", () => {
    const W = randomArray([5, 3], 51);
    const C = array([[1, -0, NaN, Infinity, 2.5]]);
    const I = array([-7, 0, 2147483647, -2147483648, 3], { dtype: "int32" });
    const Uc = array([0, 1, 4294967295, 2147483648, 9], { dtype: "uint32" });
    const Bc = array([true, false, true, true, false], { dtype: "bool" });
    const f = (x: Array) => ({
      affine: x.matmul(W).add(W.sum({ axis: 0 })),
      masked: np.where(Bc, x, C),
      ints: np.add(I, lax.convertElementType(x, "int32")),
      bits: np.bitwiseXor(Uc, lax.convertElementType(lax.abs(x), "uint32")),
      asIs: C,
    });
    const x = randomArray([4, 5], 52, -9, 9);
    const jitted = filterJit(f, QUIET);
    // leaf 0 is `affine` (keys sort): a matmul, the rest is exact
    expectTreesClose(jitted(x), f(x), (i, w) => (i === 0 ? normwise(i, w) : 0), "closures");
    const { layout } = compileJaxpr(jitted.lastJaxpr()!);
    expect(layout.constants.length).toBeGreaterThanOrEqual(4);
  });
});
